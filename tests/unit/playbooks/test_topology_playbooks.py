# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""playbooks/topology.yml and playbooks/downtime.yml on the example inventory; they run on the controller only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from ..conftest import COLLECTION_ROOT, COLLECTIONS_PATH
from .example_inventory import EXAMPLE, VAULT_PASSWORD

RG_FILE = Path("topology", "Example University", "Example Campus", "EXAMPLE_EDU.yaml")
DOWNTIME_FILE = RG_FILE.with_name("EXAMPLE_EDU_downtime.yaml")
DOWNTIME = [
    "-e", "downtime_hosts=ce.example.edu",
    "-e", "downtime_start='2026-12-10 08:00 -0600'",
    "-e", "downtime_end='2026-12-10 17:00 -0600'",
    "-e", "downtime_severity=Outage",
    "-e", "downtime_description='Kernel updates'",
]  # fmt: skip


def play(name: str, cwd: Path, *options: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run playbooks/<name>.yml on the example inventory from ``cwd``; the run and its whole output."""
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(COLLECTION_ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
        ANSIBLE_NOCOLOR="1",
    )
    command = [
        str(Path(sys.executable).with_name("ansible-playbook")),
        "-i", str(EXAMPLE / "hosts.yml"), "-i", str(EXAMPLE),
        "--vault-password-file", str(VAULT_PASSWORD),
        str(COLLECTION_ROOT / "playbooks" / f"{name}.yml"), *options,
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False)
    return run, run.stdout + run.stderr


def test_the_example_site_renders_passes_the_checks_and_converges(tmp_path):
    run, output = play("topology", tmp_path, "--check")
    assert run.returncode == 0, output
    assert not (tmp_path / "topology").exists(), "check mode wrote a file"
    run, output = play("topology", tmp_path)
    assert run.returncode == 0, output
    document = yaml.safe_load((tmp_path / RG_FILE).read_text())
    assert document["SupportCenter"] == "Self Supported"
    resources = document["Resources"]
    # Each host's resource name is its Gratia site name from the example group_vars.
    assert {name: list(r["Services"]) for name, r in resources.items()} == {
        "OSG_US_EXAMPLE_SUBMIT": ["Submit Node"],
        "EXAMPLE_EDU_CE1": ["CE"],
        "EXAMPLE_EDU_HOSTED_CE": ["CE"],
    }
    assert resources["OSG_US_EXAMPLE_SUBMIT"]["Tags"] == ["OSPool"]
    assert all(r["Active"] is False for r in resources.values())
    run, output = play("topology", tmp_path)
    assert run.returncode == 0 and "changed=0" in output, output


def test_a_host_without_a_resource_name_stops_before_writing(tmp_path):
    run, output = play("topology", tmp_path, "-e", "htcondor_ce_site_name=''")
    assert run.returncode != 0
    assert "host ce.example.edu: the resource name (htcondor_ce_site_name) is ''" in output, output
    assert not (tmp_path / "topology").exists()


def test_hosts_of_two_resource_groups_are_refused(tmp_path):
    inventory = tmp_path / "host_vars"
    inventory.mkdir()
    (inventory / "ce.example.edu.yml").write_text("topology_resource_group: OTHER_RG\n")
    run, output = play("topology", tmp_path, "-i", str(tmp_path))
    assert run.returncode != 0
    assert "hosts name other resource groups" in output and "OTHER_RG" in output, output


def test_a_downtime_is_declared_once_with_its_class(tmp_path):
    run, output = play("downtime", tmp_path, *DOWNTIME, "-e", "downtime_created='2026-12-09 20:00 +0000'")
    assert run.returncode == 0, output
    (entry,) = yaml.safe_load((tmp_path / DOWNTIME_FILE).read_text())
    # Declared 18 hours ahead of its start (2026-12-10 14:00 UTC): unscheduled.
    assert entry["Class"] == "UNSCHEDULED"
    assert entry["ResourceName"] == "EXAMPLE_EDU_CE1" and entry["Services"] == ["CE"]
    assert entry["StartTime"] == "Dec 10, 2026 08:00 -0600"
    run, output = play("downtime", tmp_path, *DOWNTIME)
    assert run.returncode == 0 and "changed=0" in output and "nothing added" in output, output
    # Another window is added after the first, which stays as it was.
    before = (tmp_path / DOWNTIME_FILE).read_text()
    run, output = play("downtime", tmp_path, *DOWNTIME[:-4], "-e", "downtime_end='2026-12-11 17:00 -0600'",
                       "-e", "downtime_created='2026-12-01 00:00 +0000'", *DOWNTIME[-4:])  # fmt: skip
    assert run.returncode == 0, output
    after = (tmp_path / DOWNTIME_FILE).read_text()
    assert after.startswith(before)
    assert [e["Class"] for e in yaml.safe_load(after)] == ["UNSCHEDULED", "SCHEDULED"]


def test_a_downtime_without_an_offset_is_refused(tmp_path):
    options = [*DOWNTIME[:2], "-e", "downtime_start='2026-12-10 08:00'", *DOWNTIME[4:]]
    run, output = play("downtime", tmp_path, *options)
    assert run.returncode != 0
    assert "the start is '2026-12-10 08:00', not a time with its UTC offset" in output, output
    assert not (tmp_path / "topology").exists()


def test_a_downtime_without_its_settings_is_refused_first(tmp_path):
    run, output = play("downtime", tmp_path, "-e", "downtime_severity=Outage")
    assert run.returncode != 0
    assert "Set downtime_hosts, downtime_start, downtime_end, downtime_description" in output, output
