"""playbooks/site.yml: its example inventory (groups, vaulted secrets) and its summary of the site.

The roles themselves run in the lab (molecule/site); here the playbook runs on the controller only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from ..conftest import COLLECTION_ROOT, COLLECTIONS_PATH
from .example_inventory import EXAMPLE, VAULT_PASSWORD, vaulted
from .runner import run_playbook

PLAYBOOK = COLLECTION_ROOT / "playbooks" / "site.yml"


def ansible(tool: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR="1")
    command = [str(Path(sys.executable).with_name(tool)), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


def test_example_inventory_has_the_three_groups_and_opens_its_vaults():
    result = ansible("ansible-inventory", "-i", str(EXAMPLE), "--vault-password-file", str(VAULT_PASSWORD), "--list")
    assert result.returncode == 0, result.stderr
    inventory = json.loads(result.stdout)
    assert inventory["ospool_access_points"]["hosts"] == ["ap.example.edu"]
    assert inventory["htcondor_ces"]["hosts"] == ["ce.example.edu"]
    assert inventory["ce_bosco"]["hosts"] == ["hosted-ce.example.edu"]
    hostvars = inventory["_meta"]["hostvars"]
    assert vaulted("ce_bosco", "vault_osg01_bosco_key").startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert hostvars["hosted-ce.example.edu"]["ce_bosco_endpoints"][0]["ssh_private_key"] == (
        "{{ vault_osg01_bosco_key }}"
    )
    assert hostvars["ap.example.edu"]["access_point_token"] == "{{ vault_access_point_token }}"


def test_site_playbook_syntax_with_the_example_inventory():
    result = ansible(
        "ansible-playbook",
        "-i",
        str(EXAMPLE),
        "--vault-password-file",
        str(VAULT_PASSWORD),
        "--syntax-check",
        str(PLAYBOOK),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def summary_inventory(tmp_path: Path, hostvars: dict) -> Path:
    """Hosts in none of the three groups (no role runs), carrying the summaries the roles record."""
    inventory = {"all": {"hosts": {name: {"ansible_connection": "local", **v} for name, v in hostvars.items()}}}
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def run_summary(tmp_path: Path, hostvars: dict, *options: str) -> tuple[subprocess.CompletedProcess, Path]:
    summary = tmp_path / "summary.txt"
    inventory = summary_inventory(tmp_path, hostvars)
    result = run_playbook(PLAYBOOK, "-i", str(inventory), "-e", f"site_summary_file={summary}", *options)
    return result, summary


def test_summary_lists_each_host_with_what_was_verified(tmp_path):
    result, summary = run_summary(
        tmp_path,
        {
            "zz-ap": {"access_point_summary": {"is": "OSPool Access Point, flocking", "verified": ["token: x"]}},
            "bosco": {
                "ce_bosco_summary": {"is": "HTCondor-CE-Bosco for u@h", "verified": ["u@h: key login"]},
                "htcondor_ce_summary": {"is": "HTCondor-CE for bosco", "verified": ["routes: R"]},
            },
            "idle": {},
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary.read_text().splitlines() == [
        "bosco: HTCondor-CE-Bosco for u@h",
        "    u@h: key login",
        "    routes: R",
        "zz-ap: OSPool Access Point, flocking",
        "    token: x",
    ]


def test_summary_is_written_in_check_mode_and_says_when_nothing_ran(tmp_path):
    result, summary = run_summary(tmp_path, {"idle": {}}, "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary.read_text() == (
        "No host of ospool_access_points, htcondor_ces or ce_bosco was configured in this run.\n"
    )


def site_inventory(tmp_path: Path) -> Path:
    """One host per group, all on this machine, with the valid input of the preflight tag tests and nothing
    managed that would reach beyond it."""
    from ..roles.test_preflight_tag import LOCAL_ONLY, ROLES

    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ansible_become": False}
    groups = {"access_point": "ospool_access_points", "htcondor_ce": "htcondor_ces", "ce_bosco": "ce_bosco"}
    inventory = {
        "all": {
            "children": {
                group: {
                    "hosts": {
                        f"{role}-host": {
                            **local,
                            **ROLES[role],
                            **{f"{role}_manage_{name}": False for name in LOCAL_ONLY[role]},
                        }
                    }
                }
                for role, group in groups.items()
            }
        }
    }
    path = tmp_path / "site.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def ran(output: str, host: str) -> set[str]:
    """The roles whose tasks reported a result for ``host``."""
    roles = set()
    task = None
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif task and (f"[{host}]" in line) and line.split(":")[0] in ("ok", "changed", "skipping", "fatal"):
            found = re.match(r"TASK \[osg_htc\.site\.(\w+) :", task)
            if found:
                roles.add(found[1])
    return roles


def test_groups_converge_side_by_side_and_tags_choose_each_roles_tasks(tmp_path):
    inventory = site_inventory(tmp_path)
    tags = "access_point_preflight,htcondor_ce_preflight,ce_bosco_preflight"
    result = run_playbook(PLAYBOOK, "-i", str(inventory), "--tags", tags, "--check")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for host in ("access_point-host", "htcondor_ce-host", "ce_bosco-host"):
        assert re.search(rf"{host}\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", output), output
    # Each host ran its own role (a Bosco CE runs the CE's checks too), and only its preflight.
    assert ran(output, "access_point-host") == {"access_point"}
    assert ran(output, "htcondor_ce-host") == {"htcondor_ce"}
    assert ran(output, "ce_bosco-host") == {"ce_bosco", "htcondor_ce"}
    assert "Check the OSPool token on the controller" in output
    assert "Install the OSPool token" not in output and "Create the local users" not in output


def test_limit_and_skip_tags_work_across_the_groups(tmp_path):
    inventory = site_inventory(tmp_path)
    result = run_playbook(
        PLAYBOOK,
        "-i",
        str(inventory),
        "--limit",
        "htcondor_ce-host",
        "--tags",
        "htcondor_ce_preflight,ce_bosco_preflight",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert ran(output, "htcondor_ce-host") == {"htcondor_ce"}
    assert "access_point-host" not in output and "ce_bosco-host" not in output
    skipped = run_playbook(
        PLAYBOOK,
        "-i",
        str(inventory),
        "--limit",
        "access_point-host",
        "--tags",
        "access_point",
        "--skip-tags",
        "access_point_install,access_point_configure,access_point_firewall,access_point_service,access_point_verify",
    )
    output = skipped.stdout + skipped.stderr
    assert skipped.returncode == 0, output
    assert ran(output, "access_point-host") == {"access_point"}
    assert "Measure the host against the OSPool Access Point minimums" in output
    assert "Install the OSPool token" not in output
