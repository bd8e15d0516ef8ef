# Developer entry points for the osg_htc.site collection.
#
#   make test    lint, sanity, unit tests, the build check and the Molecule
#                scenarios in VMs (what CI runs)
#   make demo    boot the VM lab (an Access Point, a Bosco CE, a Slurm cluster
#                with a CE), run playbooks/site.yml on it, print what each host
#                now is and what was verified
#   make bench   time site.yml on the lab (converge, re-run, --check --diff)
#                and the modules; save the figures as JSON in build/bench
#
# Every target installs what it needs: a virtualenv in .venv with the pinned
# tools of requirements-dev.txt (constraints.txt pins the rest of the tree).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.installed
# The oldest ansible-core of meta/runtime.yml, for the unit tests.
COMPAT_VENV := .venv-compat
COMPAT_STAMP := $(COMPAT_VENV)/.installed

# Playbooks run from this checkout find the collection through ansible.cfg's
# collections_path, where this link makes the checkout osg_htc.site (ansible-lint
# resolves the collection's modules in playbooks/ the same way).
COLLECTION_LINK := .cache/collections/ansible_collections/osg_htc/site
# ansible-test wants the collection at ansible_collections/<ns>/<name>: sanity
# runs on a copy of the tracked and new files laid out that way.
SANITY_ROOT := build/sanity
SANITY_TREE := $(SANITY_ROOT)/ansible_collections/osg_htc/site
# Where ansible-test looks for the pip bootstrap script it cannot download here.
ANSIBLE_TEST_GET_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py
DIST := build/dist
# The Debian packages the tests run on: the VM lab's (tools/lab.py, docs/lab.md)
# and dnsmasq-base, the DNS server the host_preflight tests start on loopback.
# make installs the missing ones with apt-get (through sudo unless root).
SYSTEM_PACKAGES := qemu-system-x86 qemu-utils debootstrap vde2 e2fsprogs util-linux openssh-client dnsmasq-base
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# One Molecule scenario (make molecule SCENARIO=lab), or all of them.
SCENARIO ?=
# ansible-test checks module code on every Python version it targets that it
# finds on PATH. Where pyenv provides them, put their real bin directories on
# PATH and drop pyenv's shims, which fail for any version not selected.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
SANITY_PATH := $(subst $(eval) ,:,$(strip $(abspath $(BIN)) $(wildcard $(PYENV_ROOT)/versions/3.*/bin)))

.PHONY: help test lint unit unit-compat sanity build build-check molecule lab-image system-deps demo demo-down bench changelog docs \
	constraints clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements-dev.txt requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

$(COMPAT_STAMP): requirements-compat.txt requirements.txt
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --upgrade pip==25.3
	$(COMPAT_VENV)/bin/python -m pip install --quiet -r requirements-compat.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

test: lint sanity unit unit-compat build-check molecule  ## Everything CI runs
	@echo "make test: all checks passed"

lint: $(VENV_STAMP) $(COLLECTION_LINK)  ## ruff, yamllint, ansible-lint, argument specs, changelog fragments
	$(BIN)/ruff format --check --diff .
	$(BIN)/ruff check .
	$(BIN)/yamllint --strict .
	$(BIN)/python tools/check_argument_specs.py roles
	$(BIN)/python tools/gen_variables_reference.py --check
	$(BIN)/antsibull-changelog lint
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/ansible-lint

unit: $(VENV_STAMP) system-deps  ## pytest unit tests with coverage
	$(BIN)/python -m pytest tests/unit \
		--cov=ansible_collections.osg_htc.site.plugins --cov-report=term-missing:skip-covered

unit-compat: $(COMPAT_STAMP) system-deps  ## The unit tests again on the oldest supported ansible-core
	$(COMPAT_VENV)/bin/python -m pytest tests/unit -q -p no:cacheprovider

sanity: $(VENV_STAMP)  ## ansible-test sanity on a copy laid out as ansible_collections/osg_htc/site
	rm -rf $(SANITY_ROOT)
	mkdir -p $(SANITY_TREE)
	git ls-files --cached --others --exclude-standard --deduplicate -z \
		| tar --null --files-from=- --ignore-failed-read -cf - | tar -xf - -C $(SANITY_TREE)
	# A repository of its own: inside this checkout's (where build/ is ignored)
	# ansible-test would list no files at all.
	cd $(SANITY_TREE) && git init --quiet && git add --all
	install -D -m 0644 tools/ansible_test_get_pip.py $(ANSIBLE_TEST_GET_PIP)
	cd $(SANITY_TREE) && PATH="$(SANITY_PATH):$$(tr : '\n' <<<"$$PATH" | grep -v '/shims$$' | paste -sd:)" \
		ansible-test sanity --local --color no

build: $(VENV_STAMP)  ## Build the collection tarball into build/dist
	rm -rf $(DIST)
	$(BIN)/ansible-galaxy collection build --output-path $(DIST) .

build-check: build  ## Build, then check the tarball holds no test, lab or CI files
	$(BIN)/python tools/check_build.py $(DIST)/osg_htc-site-*.tar.gz

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
molecule: $(VENV_STAMP) $(COLLECTION_LINK) lab-image  ## Molecule scenarios in VMs, offline ones (SCENARIO=name for one)
	for scenario in $(or $(SCENARIO),$(OFFLINE_SCENARIOS)); do \
		PATH=$(abspath $(BIN)):$$PATH MOLECULE_GLOB='molecule/*/molecule.yml' \
			$(BIN)/molecule test --scenario-name $$scenario || exit 1; \
	done

# The lab is Molecule's `site` scenario; tools/site_lab.py boots it, runs the
# site playbook on it with ansible-playbook and tears it down (DEMO_KEEP=1 keeps it).
demo: $(VENV_STAMP) $(COLLECTION_LINK) lab-image  ## Boot the VM lab, run site.yml on it, print what each host now is
	$(BIN)/python tools/site_lab.py $(if $(DEMO_KEEP),--keep) demo

demo-down: $(VENV_STAMP)  ## Stop a lab left running by DEMO_KEEP=1 make demo
	$(BIN)/python tools/site_lab.py down

bench: $(VENV_STAMP) $(COLLECTION_LINK) lab-image  ## Time site.yml on the lab and the modules; JSON in build/bench
	$(BIN)/python tools/site_lab.py bench

docs: $(VENV_STAMP)  ## Regenerate docs/variables.md from the roles' meta/argument_specs.yml
	$(BIN)/python tools/gen_variables_reference.py

# antsibull-changelog lists new modules and filters through ansible-doc, which
# finds the collection through the link.
changelog: $(VENV_STAMP) $(COLLECTION_LINK)  ## Release: render CHANGELOG.rst from the fragments (version from galaxy.yml)
	PATH=$(abspath $(BIN)):$$PATH ANSIBLE_COLLECTIONS_PATH=$(abspath .cache/collections) $(BIN)/antsibull-changelog release

constraints:  ## Re-pin the whole tool tree after changing requirements-dev.txt
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/python -m pip install --quiet -r requirements-dev.txt
	build/constraints-venv/bin/python -m pip freeze --exclude pip --exclude setuptools > constraints.txt
	rm -rf build/constraints-venv

clean:  ## Remove build output, caches and the virtualenv
	rm -rf build .cache .venv $(COMPAT_VENV) .pytest_cache .ruff_cache .coverage
