"""Run playbooks/preflight.yml with ansible-playbook against this machine, in check mode."""

from __future__ import annotations

import re
import subprocess

import pytest

from ..conftest import COLLECTION_ROOT
from .runner import run_playbook

PLAYBOOK = COLLECTION_ROOT / "playbooks" / "preflight.yml"


def run_preflight(*extra_vars: str) -> subprocess.CompletedProcess:
    options = ["--check"]
    for extra in extra_vars:
        options += ["-e", extra]
    return run_playbook(PLAYBOOK, *options)


def table_rows(stdout: str) -> dict[str, str]:
    """The RESULT column of each check in the summary table, by check name."""
    rows = {}
    for match in re.finditer(r'"localhost\s+(\S+(?: \S+)?)\s+(ok|SHORT)\s', stdout):
        rows[match.group(1)] = match.group(2)
    return rows


@pytest.fixture(scope="module")
def default_run():
    return run_preflight()


def test_audit_reports_every_check_and_changes_nothing(default_run):
    assert default_run.returncode == 0, default_run.stdout + default_run.stderr
    rows = table_rows(default_run.stdout)
    assert set(rows) == {"cores", "memory", "disk", "fqdn", "forward dns", "reverse dns", "port 9618", "os"}
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", default_run.stdout)


def test_thresholds_decide_the_result():
    low = table_rows(run_preflight("preflight_min_cores=1", "preflight_min_memory_gb=1").stdout)
    assert (low["cores"], low["memory"]) == ("ok", "ok")
    high = table_rows(run_preflight("preflight_min_cores=100000", "preflight_min_memory_gb=100000").stdout)
    assert (high["cores"], high["memory"]) == ("SHORT", "SHORT")


def test_fail_on_error_names_the_short_host():
    result = run_preflight("preflight_fail_on_error=true", "preflight_min_cores=100000")
    assert result.returncode != 0
    assert "Short of the Access Point requirements: localhost" in result.stdout
