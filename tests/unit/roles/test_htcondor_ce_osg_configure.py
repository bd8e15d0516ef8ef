# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The htcondor_ce role with osg-configure: what it writes agrees with what ``osg-configure -c`` writes.

``osg-configure`` itself cannot be installed here; its test double (tests/fixtures/bin/osg_configure_test_double,
record in tests/fixtures/UPSTREAM.yml) reproduces its checks and what ``-c`` writes into /etc/blah.config and
50-osg-configure.conf (opensciencegrid/osg-configure v4.1.1). The role's own values come from its templates
(defaults/main.yml and vars/main.yml), rendered by ansible-playbook.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import check_config_text
from ansible_collections.osg_htc.site.plugins.module_utils._probe_config import read_attributes, set_attributes

from ..conftest import COLLECTION_ROOT
from ..playbooks import runner
from .test_htcondor_ce import BASE, failed_in_preflight, run_role

ROLE = COLLECTION_ROOT / "roles" / "htcondor_ce"
FIXTURES = COLLECTION_ROOT / "tests" / "fixtures"
DOUBLE = FIXTURES / "bin" / "osg_configure_test_double"
PROBE_CONFIG = FIXTURES / "packaged_state/etc/gratia/htcondor-ce/ProbeConfig"
MAPPINGS = [{"issuer": "https://scitokens.org/osg-connect", "user": "osg01", "vo": "osg"}]
PILOTS = [{"name": "main", "max_pilots": 10, "allowed_vos": ["osg"]}]
CE = {
    **BASE,
    "htcondor_ce_osg_configure": True,
    "htcondor_ce_resource_group": "EXAMPLE",
    "htcondor_ce_batch_binpath": "/opt/slurm/bin",
    "htcondor_ce_scitokens_mappings": MAPPINGS,
    "htcondor_ce_pilots": PILOTS,
}


def role_values(tmp_path: Path, **overrides) -> dict:
    """The role's osg-configure text and blah.config items, rendered from its own defaults and vars."""
    out = tmp_path / "values.json"
    playbook = tmp_path / "values.yml"
    playbook.write_text(
        "- name: Render the htcondor_ce role's values\n  hosts: localhost\n  gather_facts: false\n"
        f"  vars_files: [{ROLE}/defaults/main.yml, {ROLE}/vars/main.yml]\n  tasks:\n"
        "    - name: Write them\n      ansible.builtin.copy:\n"
        "        content: \"{{ {'ini': __htcondor_ce_osg_configure_text, 'blah': __htcondor_ce_blah_items,\n"
        "                    'probe': __htcondor_ce_probe_attributes} | to_json }}\"\n"
        f"        dest: {out}\n        mode: '0600'\n"
    )
    run, output = runner.run_with_vars(playbook, {**CE, **overrides}, tmp_path)
    assert run.returncode == 0, output
    return json.loads(out.read_text())


def host(tmp_path: Path, ini: str) -> Path:
    """A CE's file tree: the role's osg-configure file, the packaged blah.config, the Slurm client."""
    root = tmp_path / "root"
    (root / "etc/osg/config.d").mkdir(parents=True)
    (root / "etc/condor-ce/config.d").mkdir(parents=True)
    (root / "opt/slurm/bin").mkdir(parents=True)
    # As the packaged file has it: unset, which the role's file must override.
    (root / "etc/osg/config.d/40-siteinfo.ini").write_text(
        "[Site Information]\ngroup = OSG\nhost_name = UNAVAILABLE\nresource = UNAVAILABLE\n"
        "resource_group = UNAVAILABLE\n"
    )
    (root / "etc/osg/config.d/99-osg-htc-site.ini").write_text(ini)
    shutil.copyfile(FIXTURES / "packaged_state/etc/blah.config", root / "etc/blah.config")
    (root / "etc/gratia/htcondor-ce").mkdir(parents=True)
    shutil.copyfile(PROBE_CONFIG, root / "etc/gratia/htcondor-ce/ProbeConfig")
    return root


def osg_configure(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OSG_CONFIGURE_TEST_DOUBLE_ROOT=str(root))
    # Run by this Python: its "#!/usr/bin/env python" is for EL, where the lab's package build makes it python3.
    return subprocess.run([sys.executable, str(DOUBLE), *args], env=env, capture_output=True, text=True, check=False)


def lineinfile(text: str, regexp: str, line: str) -> str:
    """ansible.builtin.lineinfile's edit: the last line matching ``regexp`` becomes ``line``, else it is appended."""
    lines = text.splitlines()
    matches = [index for index, old in enumerate(lines) if re.search(regexp, old)]
    if matches:
        lines[matches[-1]] = line
    else:
        lines.append(line)
    return "\n".join(lines) + "\n"


def non_blank(text: str) -> list:
    return [line for line in text.splitlines() if line.strip()]


def test_osg_configure_accepts_the_role_file_and_records_the_call(tmp_path):
    root = host(tmp_path, role_values(tmp_path)["ini"])
    run = osg_configure(root, "-v")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "Configuration verified successfully\n"
    (call,) = [
        json.loads(line) for line in (root / "var/log/osg/osg-configure-test-double.log").read_text().splitlines()
    ]
    assert call["argv"] == ["-v"]
    assert sorted(call["files"]) == ["40-siteinfo.ini", "99-osg-htc-site.ini"]


def test_without_the_role_file_osg_configure_refuses_the_packaged_one(tmp_path):
    root = host(tmp_path, "")
    run = osg_configure(root, "-v")
    assert run.returncode == 1
    assert "Can't get value for resource in Site Information section" in run.stderr
    assert "No Subcluster, Resource Entry, or Pilot sections" in run.stderr
    assert "Invalid attributes found, exiting" in run.stderr


def test_a_batch_location_without_bin_is_refused(tmp_path):
    root = host(tmp_path, role_values(tmp_path)["ini"])
    shutil.rmtree(root / "opt/slurm/bin")
    run = osg_configure(root, "-c")
    assert run.returncode == 1
    assert "Given slurm_location '/opt/slurm' has no bin/ directory" in run.stderr
    assert (root / "etc/blah.config").read_bytes() == (FIXTURES / "packaged_state/etc/blah.config").read_bytes()


@pytest.mark.parametrize("first", ["osg-configure", "role"])
def test_osg_configure_and_the_role_write_the_same_blah_config(tmp_path, first):
    values = role_values(tmp_path)
    root = host(tmp_path, values["ini"])
    blah = root / "etc/blah.config"

    def role_writes() -> bool:
        """The role's lineinfile items on blah.config; whether any changed it."""
        before = text = blah.read_text()
        for item in values["blah"]:
            text = lineinfile(text, item["regexp"], item["line"])
        blah.write_text(text)
        return text != before

    if first == "role":
        assert role_writes()
        before = blah.read_text()
        assert osg_configure(root, "-c").returncode == 0
        # A later osg-configure -c changes nothing the role set. (Its pattern, ^\s*key\s*= in multi-line
        # mode, also swallows the blank lines just above a key it replaces: only those may go.)
        assert non_blank(blah.read_text()) == non_blank(before)
        assert not role_writes()
    else:
        assert osg_configure(root, "-c").returncode == 0
        assert not role_writes()
    assert {item["line"] for item in values["blah"]} == {
        'slurm_binpath="/opt/slurm/bin"',
        'blah_disable_wn_proxy_renewal="yes"',
        'blah_delegate_renewed_proxies="no"',
        'blah_disable_limited_proxy="yes"',
    }
    assert (root / "etc/condor-ce/config.d/50-osg-configure.conf").read_text().endswith("OSG_CONFIGURED=true\n")


def test_without_osg_configure_the_binpath_is_written_shell_quoted(tmp_path):
    values = role_values(tmp_path, htcondor_ce_packages_style="htcondor_ce")
    assert [item["line"] for item in values["blah"]] == ["slurm_binpath=/opt/slurm/bin"]


def test_a_value_osg_configure_would_refuse_stops_the_role_before_any_write(tmp_path):
    run, output = run_role(
        tmp_path, **{**CE, "htcondor_ce_resource_group": "", "htcondor_ce_worker_node_temp": "scratch"}
    )
    assert run.returncode != 0
    assert "osg-configure settings are not valid" in output, output
    assert "[Site Information] resource_group is ''" in output, output
    assert "htcondor_ce_worker_node_temp is 'scratch', not an absolute path" in output, output
    failed_in_preflight(output)


def test_the_resource_group_defaults_to_topology_resource_group(tmp_path):
    values = role_values(
        tmp_path,
        htcondor_ce_resource_group="{{ topology_resource_group | default('') }}",
        topology_resource_group="EXAMPLE_GROUP",
    )
    assert "resource_group = EXAMPLE_GROUP\n" in values["ini"]


def run_osg_configure_tasks(tmp_path: Path, root: Path, monkeypatch, **overrides):
    """The role's tasks/osg_configure.yml alone on localhost, with the double as osg-configure on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    command = bin_dir / "osg-configure"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{DOUBLE}" "$@"\n')
    command.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("OSG_CONFIGURE_TEST_DOUBLE_ROOT", str(root))
    playbook = tmp_path / "osg_configure.yml"
    playbook.write_text(
        "- name: Run the htcondor_ce role's osg-configure tasks\n  hosts: localhost\n  gather_facts: false\n"
        f"  vars_files: [{ROLE}/defaults/main.yml, {ROLE}/vars/main.yml]\n  tasks:\n"
        f"    - name: The tasks\n      ansible.builtin.import_tasks: {ROLE}/tasks/osg_configure.yml\n"
        "  handlers:\n    - name: Reconfigure HTCondor-CE\n      ansible.builtin.debug:\n        msg: reconfigured\n"
    )
    variables = {**CE, "htcondor_ce_osg_configure_file": str(root / "etc/osg/config.d/99-osg-htc-site.ini")}
    return runner.run_with_vars(playbook, {**variables, **overrides}, tmp_path)


def calls(root: Path) -> list:
    log = root / "var/log/osg/osg-configure-test-double.log"
    return [json.loads(line)["argv"] for line in log.read_text().splitlines()] if log.exists() else []


def test_the_tasks_verify_and_configure_once_and_put_a_refused_file_back(tmp_path, monkeypatch):
    root = host(tmp_path, "")
    target = root / "etc/osg/config.d/99-osg-htc-site.ini"
    target.unlink()

    run, output = run_osg_configure_tasks(tmp_path, root, monkeypatch)
    assert run.returncode == 0, output
    assert calls(root) == [["-v"], ["-c"]]
    assert "RUNNING HANDLER [Reconfigure HTCondor-CE]" in output, output
    written = target.read_text()
    assert "slurm_location = /opt/slurm" in written

    run, output = run_osg_configure_tasks(tmp_path, root, monkeypatch)
    assert run.returncode == 0 and "changed=0" in output, output
    assert calls(root) == [["-v"], ["-c"]]

    # A location osg-configure finds no bin/ under: -v refuses it, the previous file comes back, no backup stays.
    run, output = run_osg_configure_tasks(tmp_path, root, monkeypatch, htcondor_ce_batch_binpath="/opt/other/bin")
    assert run.returncode != 0
    assert "osg-configure refused the settings" in output and "Non-existent location given: /opt/other" in output
    assert calls(root) == [["-v"], ["-c"], ["-v"]]
    assert target.read_text() == written
    assert sorted(path.name for path in target.parent.iterdir()) == ["40-siteinfo.ini", "99-osg-htc-site.ini"]


def test_a_first_file_osg_configure_refuses_is_removed(tmp_path, monkeypatch):
    root = host(tmp_path, "")
    target = root / "etc/osg/config.d/99-osg-htc-site.ini"
    target.unlink()
    run, output = run_osg_configure_tasks(tmp_path, root, monkeypatch, htcondor_ce_batch_binpath="/opt/other/bin")
    assert run.returncode != 0, output
    assert not target.exists()
    assert calls(root) == [["-v"]]


def test_osg_configure_advertises_the_role_resource_and_catalog(tmp_path):
    classad2 = pytest.importorskip("classad2")
    pilots = [
        {"name": "main", "queue": "osg", "ram_mb": 2000, "max_pilots": 10, "allowed_vos": ["osg"]},
        {"name": "gpu", "gpucount": 2, "whole_node": True, "max_pilots": 4, "allowed_vos": ["*"]},
    ]
    root = host(tmp_path, role_values(tmp_path, htcondor_ce_pilots=pilots)["ini"])
    assert osg_configure(root, "-c").returncode == 0
    text = (root / "etc/condor-ce/config.d/10-osg-attributes-generated.conf").read_text()
    # What v4.1.1 makes of the role's file: entries sorted by name, attributes by key; "*" left empty.
    assert text == (
        "# Do not edit - file generated by osg-configure\n"
        'OSG_Resource = "EXAMPLE_CE"\n'
        'OSG_ResourceGroup = "EXAMPLE"\n'
        'OSG_BatchSystems = "SLURM"\n'
        "OSG_ResourceCatalog = { \\\n"
        "  [ \\\n"
        "    AllowedVOs = {  }; \\\n"
        "    GPUs = 2; \\\n"
        "    IsPilotEntry = True; \\\n"
        "    MaxPilots = 4; \\\n"
        "    MaxWallTime = 1440; \\\n"
        '    Name = "gpu"; \\\n'
        "    RequireSingularity = True; \\\n"
        "    SendTests = True; \\\n"
        "    WholeNode = True; \\\n"
        "  ], \\\n"
        "  [ \\\n"
        '    AllowedVOs = { "osg" }; \\\n'
        "    CPUs = 1; \\\n"
        "    IsPilotEntry = True; \\\n"
        "    MaxPilots = 10; \\\n"
        "    MaxWallTime = 1440; \\\n"
        "    Memory = 2000; \\\n"
        '    Name = "main"; \\\n'
        "    RequireSingularity = True; \\\n"
        "    SendTests = True; \\\n"
        "    WholeNode = False; \\\n"
        "  ] \\\n"
        "}\n"
        "SCHEDD_ATTRS = $(SCHEDD_ATTRS), OSG_Resource, OSG_ResourceGroup, OSG_BatchSystems, OSG_ResourceCatalog\n"
    )
    # HTCondor's parser reads it, and the catalog is a ClassAd list of the two entries.
    value = check_config_text(text, ["OSG_ResourceCatalog"]).values["OSG_ResourceCatalog"]
    entries = classad2.ExprTree(value).eval()
    assert [(entry["Name"], entry["MaxPilots"]) for entry in entries] == [("gpu", 4), ("main", 10)]
    view = (root / "etc/condor-ce/config.d/10-ce-collector-generated.conf").read_text()
    assert view.endswith("CONDOR_VIEW_HOST = collector1.opensciencegrid.org:9619,collector2.opensciencegrid.org:9619\n")


@pytest.mark.parametrize("first", ["osg-configure", "role"])
def test_osg_configure_and_the_role_write_the_same_probe_config(tmp_path, first):
    values = role_values(tmp_path)
    root = host(tmp_path, values["ini"])
    probe_config = root / "etc/gratia/htcondor-ce/ProbeConfig"
    # What osg_htc.site.gratia_probe writes for the role's attributes (the module's own value checks skipped:
    # the host name here is localhost, not a FQDN).
    role = {name: "1" if value is True else str(value) for name, value in values["probe"].items()}
    assert role == {
        "SiteName": "EXAMPLE_CE",
        "ProbeName": "htcondor-ce:localhost",
        "EnableProbe": "1",
        "SuppressNoDNRecords": "1",
    }

    def role_writes() -> bool:
        before = probe_config.read_bytes()
        probe_config.write_bytes(set_attributes(before, role))
        return probe_config.read_bytes() != before

    if first == "role":
        assert role_writes()
        assert osg_configure(root, "-c").returncode == 0
        # osg-configure -c rewrites ProbeName, SiteName and EnableProbe every run, with the role's values.
        assert {name: read_attributes(probe_config.read_bytes())[name] for name in role} == role
    else:
        assert osg_configure(root, "-c").returncode == 0
        assert role_writes()  # only SuppressNoDNRecords, which osg-configure does not set
    assert not role_writes()
    written = read_attributes(probe_config.read_bytes())
    assert written["Grid"] == "OSG" and written["SuppressGridLocalRecords"] == "1"
    assert written["CollectorHost"] == written["SOAPHost"] == "gratia-osg-prod.opensciencegrid.org:80"
