# Developer entry points for the osg_htc.site collection.
#
#   make test    lint, sanity, unit tests, the build, import and docs checks and
#                the Molecule scenarios in VMs (what CI runs)
#   make demo    boot the VM lab (two Access Points, a Bosco CE, an HTCondor-CE
#                and the Slurm cluster behind them), run playbooks/site.yml on
#                it, print what each host now is and what was verified
#   make bench   time site.yml on the lab (converge, re-run, --check --diff)
#                and the modules; save the figures as JSON in build/bench
#
# Every target installs what it needs: a virtualenv in .venv with the pinned
# tools of requirements-dev.txt (constraints.txt pins the rest of the tree),
# and .venv-compat with the oldest supported ansible-core (constraints-compat.txt).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.installed
# The oldest ansible-core of meta/runtime.yml, for the unit tests and sanity.
COMPAT_VENV := .venv-compat
COMPAT_STAMP := $(COMPAT_VENV)/.installed
COMPAT_BIN := $(COMPAT_VENV)/bin
# pytest-xdist workers for the unit tests: one per core by default.
PYTEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 1)

# Playbooks run from this checkout find the collection through ansible.cfg's
# collections_path, where this link makes the checkout osg_htc.site (ansible-lint
# resolves the collection's modules in playbooks/ the same way).
COLLECTION_LINK := .cache/collections/ansible_collections/osg_htc/site
# ansible-test wants the collection at ansible_collections/<ns>/<name>: sanity
# runs on a copy of the tracked and new files laid out that way, one per
# ansible-core (build/sanity/<venv>/ansible_collections/osg_htc/site).
SANITY_ROOT := build/sanity
SANITY_COLLECTION := ansible_collections/osg_htc/site
# Where ansible-test looks for the pip bootstrap script it cannot download here:
# get_pip_<pip version>.py, pip 24.2 for ansible-core 2.19, 23.1.2 for 2.16. The
# two sanity runs go side by side, each with its own HOME (ansible-test keeps its
# virtualenvs in ~/.ansible/test, where the two would race for the same names),
# sharing the user's pip cache. Those HOMEs live in the user's cache, outside
# the checkout, so a fresh clone reuses the virtualenvs (about two minutes of
# pip installs per run); ansible-test names each by a hash of its requirements,
# so a new ansible-core or requirement makes a new one.
ANSIBLE_TEST_GET_PIP := .ansible/test/cache/get_pip_24_2.py .ansible/test/cache/get_pip_23_1_2.py
PIP_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/pip
SANITY_HOME ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/osg-htc-site-sanity
DIST := build/dist
# galaxy-importer on the built tarball: its settings, and where it runs (it
# writes importer_result.json into its working directory).
IMPORTER_CONFIG := tests/galaxy-importer.cfg
IMPORTER_DIR := build/importer
# The Debian packages the tests run on: the VM lab's (tools/lab.py, docs/lab.md);
# rpm, createrepo-c, dnf and gnupg, which build the lab's package mirror and check it
# (tools/lab_mirror.py); and dnsmasq-base, the DNS server the host_preflight
# tests start on loopback. make installs the missing ones with apt-get (through
# sudo unless root).
SYSTEM_PACKAGES := qemu-system-x86 qemu-utils debootstrap vde2 e2fsprogs util-linux openssh-client dnsmasq-base \
	rpm createrepo-c dnf gnupg
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# One Molecule scenario (make molecule SCENARIO=site), or all of them.
SCENARIO ?=
# ansible-test checks module code on every Python version it targets that it
# finds on PATH. Where pyenv provides them, put their real bin directories on
# PATH and drop pyenv's shims, which fail for any version not selected.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
SANITY_PYTHONS := $(wildcard $(PYENV_ROOT)/versions/3.*/bin)
# $(call sanity_path,<venv bin>): that venv's ansible-test first, then the Pythons.
sanity_path = $(subst $(eval) ,:,$(strip $(abspath $(1)) $(SANITY_PYTHONS)))

.PHONY: help test lint unit unit-compat sanity build build-check import-check docs-check molecule lab-image system-deps \
	demo demo-down bench changelog docs constraints clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements-dev.txt requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

$(COMPAT_STAMP): requirements-compat.txt requirements.txt constraints-compat.txt
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(COMPAT_BIN)/python -m pip install --quiet -r requirements-compat.txt -c constraints-compat.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

# make test runs the unit tests without coverage: it gates nothing and costs
# about a minute (make unit measures it).
test: UNIT_COVERAGE :=
test: lint sanity unit unit-compat build-check import-check docs-check molecule  ## Everything CI runs
	@echo "make test: all checks passed"

lint: $(VENV_STAMP) $(COLLECTION_LINK)  ## ruff, yamllint, ansible-lint, argument specs, changelog fragments
	$(BIN)/ruff format --check --diff .
	$(BIN)/ruff check .
	$(BIN)/yamllint --strict .
	$(BIN)/python tools/check_argument_specs.py roles
	$(BIN)/python tools/gen_variables_reference.py --check
	$(BIN)/antsibull-changelog lint
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/ansible-lint

UNIT_COVERAGE ?= --cov=ansible_collections.osg_htc.site.plugins --cov-report=term-missing:skip-covered
unit: $(VENV_STAMP) system-deps  ## pytest unit tests with coverage
	$(BIN)/python -m pytest tests/unit -n $(PYTEST_WORKERS) --durations=10 $(UNIT_COVERAGE)

# tests/unit/tools tests the repository's own scripts, which run in .venv only.
# The hostile-input tests stay out: they drive the collection's own parsers with
# generated input through the same module API the other tests use on 2.16
# already, and cost a minute.
unit-compat: $(COMPAT_STAMP) system-deps  ## The unit tests again on the oldest supported ansible-core (tools/ and hostile/ aside)
	$(COMPAT_VENV)/bin/python -m pytest tests/unit --ignore=tests/unit/tools --ignore=tests/unit/hostile \
		-n $(PYTEST_WORKERS) -q -p no:cacheprovider

# $(call sanity_run,<venv bin>,<name>): ansible-test sanity of that venv's
# ansible-core on a fresh copy of the collection at build/sanity/<name>/<collection>,
# with HOME $(SANITY_HOME)/<name>, its output in build/sanity/<name>.log. One
# shell command, so that two can run in the background side by side.
define sanity_run
	( tree=$(SANITY_ROOT)/$(2)/$(SANITY_COLLECTION) home=$(abspath $(SANITY_HOME)/$(2)) \
	&& rm -rf $$tree && mkdir -p $$tree \
	&& for get_pip in $(ANSIBLE_TEST_GET_PIP); do install -D -m 0644 tools/ansible_test_get_pip.py $$home/$$get_pip; done \
	&& git ls-files --cached --others --exclude-standard --deduplicate -z \
		| tar --null --files-from=- --ignore-failed-read -cf - | tar -xf - -C $$tree \
	&& cd $$tree && git init --quiet && git add --all \
	&& HOME=$$home PIP_CACHE_DIR=$(PIP_CACHE_DIR) \
		PATH="$(call sanity_path,$(1)):$$(tr : '\n' <<<"$$PATH" | grep -v '/shims$$' | paste -sd:)" \
		ansible-test sanity --local --color no ) >$(SANITY_ROOT)/$(2).log 2>&1
endef
# A repository of its own for each copy: inside this checkout's (where build/ is
# ignored) ansible-test would list no files at all.

# Every ansible-core the collection supports (meta/runtime.yml: >=2.16): the
# newest in .venv, the oldest in .venv-compat. tests/config.yml sets the Python
# floor of the modules; tests/sanity/ignore-<version>.txt (reasons in
# tests/sanity/README.md) are read by the matching ansible-test.
sanity: $(VENV_STAMP) $(COMPAT_STAMP)  ## ansible-test sanity on ansible-core 2.19 and 2.16 side by side, each on a copy laid out as ansible_collections/osg_htc/site
	mkdir -p $(SANITY_ROOT)
	$(call sanity_run,$(BIN),main) & main=$$!; \
	$(call sanity_run,$(COMPAT_BIN),compat) & compat=$$!; \
	status=0; \
	for run in main compat; do \
		pid=$$main; [ $$run = main ] || pid=$$compat; \
		if wait $$pid; then result=passed; else result=FAILED; status=1; fi; \
		echo "::: sanity on .venv$$([ $$run = main ] || echo -compat): $$result ($(SANITY_ROOT)/$$run.log)"; \
		cat $(SANITY_ROOT)/$$run.log; \
	done; \
	exit $$status

build: $(VENV_STAMP)  ## Build the collection tarball into build/dist
	rm -rf $(DIST)
	$(BIN)/ansible-galaxy collection build --output-path $(DIST) .

build-check: build  ## Build, then check the tarball holds no test, lab or CI files
	$(BIN)/python tools/check_build.py $(DIST)/osg_htc-site-*.tar.gz

# Galaxy's importer, offline: no container engine, no network (its settings in
# tests/galaxy-importer.cfg); tools/import_check.py prints its warnings and
# fails on any ERROR.
import-check: build-check  ## Run galaxy-importer on the built tarball; fail on any ERROR, print the WARNINGs
	rm -rf $(IMPORTER_DIR)
	mkdir -p $(IMPORTER_DIR)
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python tools/import_check.py --config $(IMPORTER_CONFIG) \
		--workdir $(IMPORTER_DIR) $(DIST)/osg_htc-site-*.tar.gz

# antsibull-docs checks what a docsite build would read: the plugins' docs
# through ansible-doc, docs/docsite/links.yml and extra-docs.yml and the
# guides under docs/docsite/rst (generated from docs/*.md by tools/gen_docsite.py).
docs-check: $(VENV_STAMP) $(COLLECTION_LINK)  ## Lint the collection's docsite (antsibull-docs lint-collection-docs), offline
	$(BIN)/python tools/gen_docsite.py --check
	PATH=$(abspath $(BIN)):$$PATH ANSIBLE_COLLECTIONS_PATH=$(abspath .cache/collections) \
		$(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

system-deps:  ## Install the Debian packages the tests need (SYSTEM_PACKAGES) that are missing
	@missing=$$(for package in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || echo $$package; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

lab-image: system-deps  ## Build the VM lab's base image now (cached outside the checkout)
	$(PYTHON) tools/lab.py build

# Scenarios live in molecule/ (the design's layout); MOLECULE_GLOB says so, so
# Molecule does not look for them under extensions/molecule.
# The image is built first, on its own, so its progress shows as it happens
# (inside Molecule's create step it would show only at the end).
# Scenarios named *_online install real packages from the OSG and HTCondor
# repositories into a cloud image of the user's own: they need network access,
# so only SCENARIO=<name> runs them, never make molecule or make test.
OFFLINE_SCENARIOS = $(filter-out %_online,$(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
# A failing scenario's output is long and its cause far from the end: the
# failed tasks and tests are repeated last (from build/molecule-<scenario>.log).
molecule: $(VENV_STAMP) $(COLLECTION_LINK) lab-image  ## Molecule scenarios in VMs, offline ones (SCENARIO=name for one)
	mkdir -p build
	for scenario in $(or $(SCENARIO),$(OFFLINE_SCENARIOS)); do \
		start=$$SECONDS; log=build/molecule-$$scenario.log; \
		PATH=$(abspath $(BIN)):$$PATH MOLECULE_GLOB='molecule/*/molecule.yml' \
			$(BIN)/molecule test --scenario-name $$scenario 2>&1 | tee $$log; \
		if [ $${PIPESTATUS[0]} -ne 0 ]; then \
			echo "::: molecule $$scenario FAILED; its failed tasks and tests ($$log):"; \
			grep -a -n -A 12 -E 'fatal: |failed: \[|FAILED!|^E  |FAILED molecule' $$log | tail -n 120; \
			exit 1; \
		fi; \
		echo "::: molecule $$scenario took $$((SECONDS - start)) s"; \
	done

# The lab is Molecule's `site` scenario; tools/site_lab.py boots it, runs the
# site playbook on it with ansible-playbook and tears it down (DEMO_KEEP=1 keeps it).
demo: $(VENV_STAMP) $(COLLECTION_LINK) lab-image  ## Boot the VM lab, run site.yml on it, print what each host now is
	$(BIN)/python tools/site_lab.py $(if $(DEMO_KEEP),--keep) demo

demo-down: $(VENV_STAMP)  ## Stop a lab left running by DEMO_KEEP=1 make demo
	$(BIN)/python tools/site_lab.py down

bench: $(VENV_STAMP) $(COLLECTION_LINK) lab-image  ## Time site.yml on the lab and the modules; JSON in build/bench
	$(BIN)/python tools/site_lab.py bench

docs: $(VENV_STAMP)  ## Regenerate docs/variables.md (from the argument specs) and docs/docsite/ (from the guides and galaxy.yml)
	$(BIN)/python tools/gen_variables_reference.py
	$(BIN)/python tools/gen_docsite.py

# antsibull-changelog lists new modules and filters through ansible-doc, which
# finds the collection through the link.
changelog: $(VENV_STAMP) $(COLLECTION_LINK)  ## Release: render CHANGELOG.rst from the fragments (version from galaxy.yml)
	PATH=$(abspath $(BIN)):$$PATH ANSIBLE_COLLECTIONS_PATH=$(abspath .cache/collections) $(BIN)/antsibull-changelog release

constraints:  ## Re-pin both tool trees after changing requirements-dev.txt, requirements-compat.txt or requirements.txt
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/python -m pip install --quiet -r requirements-dev.txt
	build/constraints-venv/bin/python -m pip freeze --exclude pip --exclude setuptools > constraints.txt
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/python -m pip install --quiet -r requirements-compat.txt
	build/constraints-venv/bin/python -m pip freeze --exclude pip --exclude setuptools > constraints-compat.txt
	rm -rf build/constraints-venv

clean:  ## Remove build output, caches and the virtualenv
	rm -rf build .cache .venv $(COMPAT_VENV) .pytest_cache .ruff_cache .coverage
