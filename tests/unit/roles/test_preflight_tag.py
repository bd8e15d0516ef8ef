# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""``--tags <role>_preflight`` checks a host and changes nothing on it, for every role.

Each role runs on this machine with only its preflight tag: once for real, with the manage_*
switches that keep a run local (so a preflight task that wrote would write here, and be caught),
and once in check mode with the switches on, as a site audits its hosts before the first run (so a
preflight task that would install a package, as the access_point preflight once installed psutil and
dnspython, reports a change). Both must report changed=0, and the files the roles manage must be as
they were. The preflight also refuses malformed EL repository and nftables names before any change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ..conftest import COLLECTION_ROOT
from ..playbooks import runner

TOKEN_FILE = COLLECTION_ROOT / "tests" / "fixtures" / "tokens" / "ap.lab.test.token"
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx4m6Hq2D7h4y3ZkEo1hb2dBRvCjq0Zl5s9w1H2b3c4 root@login"
CE = {
    "htcondor_ce_site_name": "EXAMPLE_CE",
    # osg-configure's settings are tested in test_htcondor_ce_osg_configure.py.
    "htcondor_ce_osg_configure": False,
    "htcondor_ce_scitokens_mappings": [{"issuer": "https://scitokens.org/osg-connect", "user": "osg"}],
}
# Valid input per role; the manage switches come from each run.
ROLES = {
    "access_point": {
        "access_point_token_file": str(TOKEN_FILE),
        "access_point_fqdn": "ap.lab.test",
        "access_point_gratia_site_name": "OSG_US_LAB_TEST_SUBMIT",
        # This machine is no Access Point: measure, warn, go on (DNS has no record of ap.lab.test here).
        "access_point_preflight_fail": False,
        "access_point_preflight_checks": ["cores", "memory", "disk", "ports"],
    },
    "htcondor_ce": {"htcondor_ce_batch": "slurm", **CE},
    "ce_bosco": {
        # With a proxy_jump the host key is checked at the first login, not probed in preflight.
        "ce_bosco_endpoints": [
            {
                "local_user": "osg01",
                "remote_user": "osg01",
                "host": "login.example.edu",
                "batch": "slurm",
                "host_key": HOST_KEY,
                "proxy_jump": "gw.example.edu",
            }
        ],
        **CE,
    },
}
SWITCHES = {
    "access_point": ["repos", "packages", "firewall", "service", "gratia"],
    # htcondor_ce's repos and packages are EL only: on this machine its preflight refuses them.
    "htcondor_ce": ["firewall", "service", "users"],
    "ce_bosco": ["firewall", "service"],
}
LOCAL_ONLY = {
    "access_point": ["repos", "packages", "firewall", "service"],
    "htcondor_ce": ["repos", "packages", "firewall", "service", "users"],
    "ce_bosco": ["repos", "packages", "firewall", "service"],
}
# What the roles write, install or create, and the package managers' records.
WATCHED = [
    "/etc/condor",
    "/etc/condor-ce",
    "/etc/gratia",
    "/etc/blah.config",
    "/etc/nftables.conf",
    "/etc/nftables.d",
    "/etc/yum.repos.d",
    "/etc/apt/sources.list.d",
    "/etc/apt/keyrings",
    "/var/lib/dpkg/status",
    "/var/lib/rpm",
    "/etc/passwd",
    "/etc/group",
    "/etc/shadow",
    "/var/lib/condor",
    "/home/osg01",
]


def snapshot() -> dict[str, tuple]:
    """Every watched path (directories walked): its kind, size and modification time."""
    found: dict[str, tuple] = {}
    for top in WATCHED:
        paths = [Path(top)]
        if Path(top).is_dir():
            paths += sorted(Path(top).rglob("*"))
        for path in paths:
            try:
                stat = path.lstat()
            except OSError:
                continue
            found[str(path)] = (stat.st_mode, stat.st_size, stat.st_mtime_ns)
    return found


def run_preflight(role: str, tmp_path: Path, managed: list[str], *options: str, **overrides):
    switches = {f"{role}_manage_{name}": name in managed for name in LOCAL_ONLY[role] + SWITCHES[role]}
    return runner.run_role(
        role, {**ROLES[role], **switches, **overrides}, tmp_path, "--tags", f"{role}_preflight", *options
    )


def recap(output: str) -> re.Match:
    found = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)", output)
    assert found, output
    return found


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_real_preflight_run_changes_and_writes_nothing(role, tmp_path):
    before = snapshot()
    # With the repositories left alone, the mirror settings are not looked at.
    run, output = run_preflight(role, tmp_path, managed=[], **{f"{role}_repo_mirror": {"osg_baseurl": "not a URL"}})
    assert run.returncode == 0, output
    ok, changed, failed = (int(value) for value in recap(output).groups())
    assert (changed, failed) == (0, 0), output
    assert ok > 3, output  # the checks ran
    assert snapshot() == before
    # Nothing but the playbook and its variables in the run's own directory.
    assert sorted(os.listdir(tmp_path)) == ["play.yml", "vars.json"]


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_preflight_audit_with_everything_managed_would_change_nothing(role, tmp_path):
    before = snapshot()
    run, output = run_preflight(role, tmp_path, SWITCHES[role], "--check", "--diff")
    assert run.returncode == 0, output
    assert recap(output).group(2) == "0", output
    assert snapshot() == before
    if role == "access_point":
        # Measured with what the host has, nothing installed for it.
        assert "Install the Python libraries" not in output, output


@pytest.mark.parametrize("role", ["access_point", "htcondor_ce", "ce_bosco"])
def test_malformed_repository_mirror_and_nftables_settings_stop_the_preflight(role, tmp_path):
    prefix = "htcondor_ce" if role == "ce_bosco" else role
    bad = {
        f"{role}_el_extra_repo": "crb --enablerepo=*",
        f"{role}_nftables_table": "inet filter\n",
        f"{role}_nftables_chain": "input; flush ruleset",
        f"{role}_repo_mirror": {
            # A line break would add a setting of its own to the .repo file.
            "osg_baseurl": "https://mirror.example.edu/osg/\nmirrorlist=https://attacker.example",
            "osg_release_package": "osg-release --nogpgcheck",
            "epel_gpgkey": "file:///etc/pki/rpm-gpg/LAB-KEY",
        },
    }
    run, output = run_preflight(role, tmp_path, ["firewall"], "--check", **bad, **{f"{role}_manage_repos": True})
    assert run.returncode != 0, output
    assert recap(output).group(2) == "0", output
    assert f"The {prefix} role stops here, before any change" in output, output
    for name in ("el_extra_repo", "nftables_table", "nftables_chain", "repo_mirror.osg_baseurl",
                 "repo_mirror.osg_release_package"):  # fmt: skip
        assert f"{prefix}_{name} is" in output, output
    assert f"{prefix}_repo_mirror.epel_gpgkey is set but {prefix}_repo_mirror.epel_baseurl is not" in output, output
