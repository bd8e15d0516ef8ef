"""Run playbooks/preflight.yml with ansible-playbook against this machine.

The DNS checks ask the tests' dnsmasq (the session fixture ``dns_server``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from ..conftest import COLLECTION_ROOT
from .runner import run_playbook

PLAYBOOK = COLLECTION_ROOT / "playbooks" / "preflight.yml"


def run_preflight(*extra_vars: str, check: bool = True) -> subprocess.CompletedProcess:
    # -v prints each task's result as JSON, so the module's return values can be read back.
    options = ["-v", "--check"] if check else ["-v"]
    for extra in extra_vars:
        options += ["-e", extra]
    return run_playbook(PLAYBOOK, *options)


def module_result(stdout: str) -> dict:
    """The host_preflight task's result for localhost, from the -v output."""
    marker = "ok: [localhost] => "
    decoder = json.JSONDecoder()
    for start in (index for index in range(len(stdout)) if stdout.startswith(marker, index)):
        result, _end = decoder.raw_decode(stdout, start + len(marker))
        if "failures" in result and "checks" in result:
            return result
    raise AssertionError(f"no host_preflight result in:\n{stdout}")


def dns_vars(server) -> str:
    return json.dumps(
        {
            "preflight_fqdn": server.consistent,
            "preflight_nameservers": [server.address],
            "preflight_dns_port": server.port,
        }
    )


def table_rows(stdout: str) -> dict[str, str]:
    """The RESULT column of each check in the summary table, by check name."""
    rows = {}
    for match in re.finditer(r'"localhost\s+(\S+(?: \S+)?)\s+(ok|SHORT)\s', stdout):
        rows[match.group(1)] = match.group(2)
    return rows


@pytest.fixture(scope="module")
def default_run(dns_server):
    return run_preflight(dns_vars(dns_server))


def test_audit_reports_every_check_and_changes_nothing(default_run):
    assert default_run.returncode == 0, default_run.stdout + default_run.stderr
    rows = table_rows(default_run.stdout)
    assert set(rows) == {"cores", "memory", "disk", "dns", "port 9618", "os"}
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", default_run.stdout)


@pytest.mark.parametrize("check", [True, False], ids=["check-mode", "normal"])
def test_module_results_reach_the_table(dns_server, check):
    result = run_preflight(dns_vars(dns_server), "preflight_min_cores=100000", check=check)
    assert result.returncode == 0, result.stdout + result.stderr
    measured = module_result(result.stdout)
    assert measured["changed"] is False
    assert measured["checks"] == ["cores", "memory", "disk", "dns", "ports"]
    assert measured["cores"]["logical"] == os.cpu_count()
    assert measured["disk"]["path"] == "/var/lib/condor"
    # The consistent name of the tests' zone: forward and reverse agree with this host.
    assert measured["dns"]["fqdn"] == dns_server.consistent
    assert dns_server.own_ipv4 in [entry["address"] for entry in measured["dns"]["addresses"]]
    assert "dns" not in [failure["check"] for failure in measured["failures"]]
    cores = [failure for failure in measured["failures"] if failure["check"] == "cores"]
    assert cores == [
        {
            "check": "cores",
            "measured": os.cpu_count(),
            "required": 100000,
            "message": f"{os.cpu_count()} logical cores, the required minimum is 100000",
        }
    ]
    rows = table_rows(result.stdout)
    assert (rows["cores"], rows["dns"]) == ("SHORT", "ok")
    assert f"localhost: {os.cpu_count()} logical cores, the required minimum is 100000" in result.stdout


def test_dns_shortfall_reaches_the_table(dns_server):
    extra = json.loads(dns_vars(dns_server)) | {"preflight_fqdn": dns_server.no_ptr, "preflight_checks": ["dns"]}
    result = run_preflight(json.dumps(extra))
    rows = table_rows(result.stdout)
    assert rows["dns"] == "SHORT"
    assert "cores" not in rows and "port 9618" not in rows
    assert f"198.51.100.50 (an address of {dns_server.no_ptr}) has no PTR record" in result.stdout


def test_thresholds_decide_the_result(dns_server):
    low = table_rows(run_preflight(dns_vars(dns_server), "preflight_min_cores=1", "preflight_min_memory_gib=1").stdout)
    assert (low["cores"], low["memory"]) == ("ok", "ok")
    high = table_rows(
        run_preflight(dns_vars(dns_server), "preflight_min_cores=100000", "preflight_min_memory_gib=100000").stdout
    )
    assert (high["cores"], high["memory"]) == ("SHORT", "SHORT")


def test_fail_on_error_names_the_short_host(dns_server):
    result = run_preflight(dns_vars(dns_server), "preflight_fail_on_error=true", "preflight_min_cores=100000")
    assert result.returncode != 0
    assert "Short of the Access Point requirements: localhost" in result.stdout


def test_fail_on_error_passes_a_host_that_meets_the_thresholds(dns_server):
    passing = json.loads(dns_vars(dns_server)) | {
        "preflight_fail_on_error": True,
        "preflight_min_cores": 1,
        "preflight_min_memory_gib": 0.01,
        "preflight_min_disk_gb": 0.001,
    }
    result = run_preflight(json.dumps(passing))
    rows = table_rows(result.stdout)
    if rows.get("os") == "SHORT":  # not a supported OS: the playbook rightly fails
        assert result.returncode != 0
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert set(rows.values()) == {"ok"}


def test_a_threshold_set_in_the_inventory_is_used(dns_server, tmp_path):
    # Set per host, as a site's inventory does: not overridden by the playbook's defaults.
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "localhost.yml").write_text("preflight_min_cores: 100000\npreflight_min_memory_gib: 1\n")
    run = run_playbook(PLAYBOOK, "-v", "--check", "-i", str(tmp_path), "-e", dns_vars(dns_server))
    rows = table_rows(run.stdout)
    assert (rows["cores"], rows["memory"]) == ("SHORT", "ok"), run.stdout + run.stderr
    assert ">= 100000" in run.stdout
