# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Unit tests for plugins/modules/host_preflight.py: real measurements of this host, real sockets, and
a real DNS server (dnsmasq, the session fixture ``dns_server``)."""

from __future__ import annotations

import math
import os
import shutil
import socket
import time

import psutil
import pytest

from ansible_collections.osg_htc.site.plugins.module_utils import _preflight
from ansible_collections.osg_htc.site.plugins.modules import host_preflight
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

GIB = 2**30
# Thresholds every machine running the tests meets, for the checks that measure hardware.
LOW = {"min_cores": 1, "min_memory_gib": 0.01, "min_disk_gb": 0.001}


def run(**args):
    """main() with args; the module's result, or its failure (which has 'failed': True)."""
    return run_module(host_preflight, args)


def messages(result, check=None):
    return [item["message"] for item in result["failures"] if check in (None, item["check"])]


@pytest.fixture
def listening_socket():
    """A TCP socket listening on 127.0.0.1 in this process; yields its port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- hardware on the real host ---------------------------------------------------------------


def test_real_host_passes_low_thresholds_and_reports_what_it_measured(tmp_path):
    result = run(checks=["cores", "memory", "disk"], disk_path=str(tmp_path), **LOW)
    assert result["changed"] is False
    assert result["passed"] is True, result["failures"]
    assert result["failures"] == []
    assert result["checks"] == ["cores", "memory", "disk"]
    assert result["cores"]["logical"] == os.cpu_count()
    assert result["memory"]["total_bytes"] == psutil.virtual_memory().total
    usage = shutil.disk_usage(tmp_path)
    assert result["disk"]["total_bytes"] == usage.total
    assert result["disk"]["measured_path"] == str(tmp_path)
    assert os.path.ismount(result["disk"]["mount"])
    assert "dns" not in result and "ports" not in result


def test_defaults_are_the_ospool_access_point_minimums():
    spec = host_preflight.argument_spec()
    assert (spec["min_cores"]["default"], spec["min_memory_gib"]["default"], spec["min_disk_gb"]["default"]) == (
        6,
        12,
        1000,
    )
    assert spec["ports"]["default"] == [9618]
    assert spec["fail_on_error"]["default"] is False


def test_four_cores_fall_short_of_the_ospool_minimum(monkeypatch):
    # The host's core count cannot be changed from a test: stand in a 4-core machine.
    monkeypatch.setattr(_preflight.psutil, "cpu_count", lambda logical=True: 4 if logical else 2)
    result = run(checks=["cores"])
    assert result["passed"] is False
    assert result["cores"] == {"logical": 4, "physical": 2}
    assert result["failures"] == [
        {"check": "cores", "measured": 4, "required": 6, "message": "4 logical cores, the OSPool AP minimum is 6"}
    ]


def test_a_threshold_of_ones_own_is_not_called_the_ospool_minimum():
    result = run(checks=["cores"], min_cores=100000)
    assert messages(result) == [f"{os.cpu_count()} logical cores, the required minimum is 100000"]


def test_memory_tolerance_decides_at_the_edge():
    total = psutil.virtual_memory().total
    # The largest minimum this host still meets with a 5% tolerance, and one just above it.
    edge_gib = total / GIB / 0.95
    assert run(checks=["memory"], min_memory_gib=edge_gib * 0.999)["passed"] is True
    short = run(checks=["memory"], min_memory_gib=edge_gib * 1.001)
    assert short["passed"] is False
    (failure,) = short["failures"]
    assert failure["measured"] == total
    assert failure["required"] == int(edge_gib * 1.001 * GIB)
    assert failure["message"].startswith(f"{host_preflight.number(total / GIB)} GiB of memory, the required minimum")
    assert "with the 5% tolerance" in failure["message"]
    # Without tolerance the same host falls short of its own total plus a little.
    assert run(checks=["memory"], min_memory_gib=total / GIB * 1.001, tolerance_percent=0)["passed"] is False


def test_disk_short_names_the_mount_and_the_minimum(tmp_path):
    result = run(checks=["disk"], disk_path=str(tmp_path), min_disk_gb=10**9)
    (failure,) = result["failures"]
    assert failure["check"] == "disk"
    assert failure["measured"] == shutil.disk_usage(tmp_path).total
    assert failure["required"] == 10**18
    assert f"GB of disk on {result['disk']['mount']}, the required minimum is 1000000000 GB" in failure["message"]


def test_default_disk_minimum_is_reported_as_the_ospool_one(tmp_path):
    total = shutil.disk_usage(tmp_path).total
    result = run(checks=["disk"], disk_path=str(tmp_path))
    if total >= 0.95 * 10**12:  # a machine with a 1 TB file system passes
        assert result["passed"] is True
    else:
        assert "the OSPool AP minimum is 1000 GB (950 GB with the 5% tolerance)" in messages(result)[0]


def test_disk_path_that_does_not_exist_yet_measures_its_nearest_parent(tmp_path):
    spool = tmp_path / "var" / "lib" / "condor"
    result = run(checks=["disk"], disk_path=str(spool), **LOW)
    assert result["passed"] is True
    assert result["disk"]["path"] == str(spool)
    assert result["disk"]["measured_path"] == str(tmp_path)
    assert result["disk"]["mount"] == _preflight.mount_point(str(tmp_path))
    assert not spool.exists()


def test_free_space_minimum(tmp_path):
    result = run(checks=["disk"], disk_path=str(tmp_path), min_disk_free_gb=10**9, **LOW)
    (failure,) = result["failures"]
    assert failure["measured"] == result["disk"]["free_bytes"]
    assert "GB free on" in failure["message"]
    assert "the required minimum is 1000000000 GB free" in failure["message"]


# --- ports ---------------------------------------------------------------------------------


def test_free_port_passes():
    port = free_port()
    result = run(checks=["ports"], ports=[port])
    assert result["passed"] is True
    assert result["ports"] == [{"port": port, "state": "free", "listeners": [], "passed": True}]


def test_port_held_by_another_program_falls_short(listening_socket):
    result = run(checks=["ports"], ports=[listening_socket])
    (entry,) = result["ports"]
    me = psutil.Process()
    assert entry["state"] == "listening"
    assert entry["passed"] is False
    assert entry["listeners"] == [{"address": "127.0.0.1", "pid": me.pid, "process": me.name()}]
    assert messages(result) == [
        f"TCP port {listening_socket} is taken by {me.name()} (pid {me.pid}) on 127.0.0.1; "
        "it should be free, or held by condor_*"
    ]


def test_port_held_by_an_allowed_owner_passes(listening_socket):
    name = psutil.Process().name()
    result = run(checks=["ports"], ports=[listening_socket], port_owners=[name[:3] + "*"])
    assert result["passed"] is True
    assert result["ports"][0]["state"] == "listening"


def test_port_expected_free_but_listening(listening_socket):
    result = run(checks=["ports"], ports=[listening_socket], port_expect="free", port_owners=[])
    assert messages(result)[0].endswith("; it should be free")


def test_port_expected_listening_but_free():
    port = free_port()
    result = run(checks=["ports"], ports=[port], port_expect="listening")
    assert messages(result) == [f"nothing listens on TCP port {port}; it should be held by condor_*"]


def test_port_expected_listening_by_any_process(listening_socket):
    result = run(checks=["ports"], ports=[listening_socket], port_expect="listening", port_owners=[])
    assert result["passed"] is True


# --- which checks, and what a shortfall does -----------------------------------------------------


def test_skipped_checks_are_neither_measured_nor_judged():
    result = run(checks=["cores"], min_cores=1, min_memory_gib=10**9, min_disk_gb=10**9)
    assert result["passed"] is True
    assert set(result) >= {"cores", "checks", "failures", "passed"}
    assert not {"memory", "disk", "dns", "ports"} & set(result)


def test_no_checks_at_all_passes():
    result = run(checks=[])
    assert (result["passed"], result["failures"], result["checks"]) == (True, [], [])


def test_fail_on_error_fails_with_every_message_and_the_measurements():
    result = run(checks=["cores", "memory"], min_cores=100000, min_memory_gib=10**9, fail_on_error=True)
    assert result["failed"] is True
    assert result["msg"] == "; ".join(messages(result))
    assert len(result["failures"]) == 2
    assert result["cores"]["logical"] == os.cpu_count()


def test_without_fail_on_error_a_shortfall_is_only_reported():
    result = run(checks=["cores"], min_cores=100000)
    assert "failed" not in result
    assert result["passed"] is False


def test_fail_on_error_does_not_fail_a_passing_host():
    result = run(checks=["cores"], min_cores=1, fail_on_error=True)
    assert "failed" not in result
    assert result["passed"] is True


def test_check_mode_measures_the_same_and_changes_nothing(tmp_path, listening_socket):
    args = dict(checks=["cores", "disk", "ports"], disk_path=str(tmp_path / "spool"), ports=[listening_socket])
    normal = run(**args)
    checked = run(_ansible_check_mode=True, **args)
    assert checked["changed"] is False
    for key in ("cores", "ports", "failures", "passed"):
        assert checked[key] == normal[key]
    assert checked["disk"]["total_bytes"] == normal["disk"]["total_bytes"]
    assert not (tmp_path / "spool").exists()


def test_diff_mode_returns_no_diff():
    result = run(checks=["cores"], min_cores=1, _ansible_diff=True)
    assert "diff" not in result
    assert result["changed"] is False


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"min_cores": -1}, "min_cores must be a number at least 0 and at most 1000000, got -1"),
        ({"min_memory_gib": -0.5}, "min_memory_gib must be a number at least 0 and at most 1000000000 GiB, got -0.5"),
        ({"min_disk_gb": -1}, "min_disk_gb must be a number at least 0 and at most 1000000000 GB, got -1.0"),
        (
            {"tolerance_percent": 100},
            "tolerance_percent must be a number at least 0 and below 100 percent, got 100.0",
        ),
        ({"ports": [9618, 0]}, "ports: 0 is not a TCP port (1-65535)"),
        ({"ports": [70000]}, "ports: 70000 is not a TCP port (1-65535)"),
        ({"dns_port": 65536}, "dns_port must be a port number (1-65535), got 65536"),
        ({"dns_timeout": 0}, "dns_timeout must be a number more than 0 and at most 60 seconds, got 0.0"),
        ({"nameservers": ["192.0.2.53", "ns1.example.org"]}, "nameservers: 'ns1.example.org' is not an IPv4 or IPv6"),
        ({"disk_path": "var/lib/condor"}, "disk_path must be an absolute path, got 'var/lib/condor'"),
        ({"fqdn": "ap..example.org"}, "fqdn 'ap..example.org' is not a valid DNS name"),
        ({"fqdn": "."}, "fqdn must be a host name, got '.'"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(args, message):
    result = run(**args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert "failures" not in result


def test_every_bad_option_is_named_at_once():
    result = run(min_cores=-1, ports=[0])
    assert result["msg"] == (
        "min_cores must be a number at least 0 and at most 1000000, got -1; ports: 0 is not a TCP port (1-65535)"
    )


def test_unknown_check_is_refused():
    result = run(checks=["cores", "gpus"])
    assert "gpus" in result["msg"]
    assert "cores, memory, disk, dns, ports" in result["msg"]


# Numbers outside their range end in a refusal naming the option and the range, never in a
# threshold that passes every host (NaN compares false), a traceback (infinity into int()), or a
# DNS lookup that never times out.
@pytest.mark.parametrize(
    ("option", "value", "valid"),
    [
        ("min_memory_gib", math.nan, "at least 0 and at most 1000000000 GiB, got nan"),
        ("min_memory_gib", math.inf, "at least 0 and at most 1000000000 GiB, got inf"),
        ("min_memory_gib", 1e308, "at least 0 and at most 1000000000 GiB, got 1e+308"),
        ("min_disk_gb", math.inf, "at least 0 and at most 1000000000 GB, got inf"),
        ("min_disk_gb", 1e308, "at least 0 and at most 1000000000 GB, got 1e+308"),
        ("min_disk_free_gb", -math.inf, "at least 0 and at most 1000000000 GB, got -inf"),
        ("min_disk_free_gb", math.nan, "at least 0 and at most 1000000000 GB, got nan"),
        ("tolerance_percent", math.nan, "at least 0 and below 100 percent, got nan"),
        ("min_cores", 10**30, "at least 0 and at most 1000000, got 1000000000000000000000000000000"),
        ("dns_timeout", math.nan, "more than 0 and at most 60 seconds, got nan"),
        ("dns_timeout", math.inf, "more than 0 and at most 60 seconds, got inf"),
        ("dns_timeout", 61, "more than 0 and at most 60 seconds, got 61.0"),
    ],
)
def test_numbers_outside_their_range_are_refused(option, value, valid):
    result = run(checks=["cores", "memory", "disk", "dns"], **{option: value})
    assert result["failed"] is True
    assert result["msg"] == f"{option} must be a number {valid}"
    assert "failures" not in result


# Infinity for an int option, and an integer too large for a float option, overflow in ansible-core's
# own argument checks; they too end in a message naming the option.
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"min_cores": math.inf}, "min_cores must be a number at least 0 and at most 1000000, got inf"),
        ({"min_cores": "-inf"}, "min_cores must be a number at least 0 and at most 1000000, got '-inf'"),
        ({"ports": [9618, math.inf]}, "ports must be TCP ports (1-65535), got [9618, inf]"),
        ({"dns_port": math.inf}, "dns_port must be a port (1-65535), got inf"),
        (
            {"min_memory_gib": 10**400},
            "min_memory_gib must be a number at least 0 and at most 1000000000 GiB, got 1000000000",
        ),
    ],
)
def test_numbers_that_overflow_ansibles_checks_are_refused(args, message):
    result = run(checks=["cores"], **args)
    assert result["failed"] is True
    # ansible-core before 2.19 refuses infinity for an int option itself, also naming the option.
    (option,) = args
    refused = result["msg"].replace("argument", "option")
    assert result["msg"].startswith(message) or f"option '{option}' is of type" in refused, result["msg"]


def test_numbers_at_the_edges_of_their_range_are_taken(tmp_path):
    result = run(
        checks=["cores", "memory", "disk"],
        disk_path=str(tmp_path),
        min_cores=0,
        min_memory_gib=10**9,
        min_disk_gb=0,
        min_disk_free_gb=10**9,
        tolerance_percent=99.99,
        dns_timeout=60,
    )
    assert "failed" not in result
    assert [item["check"] for item in result["failures"]] == ["memory", "disk"]


def test_dns_timeout_bounds_a_silent_server(dns_server):
    silent = dict(dns_server.module_args, dns_port=free_port(), dns_timeout=0.2)
    started = time.monotonic()
    result = run(checks=["dns"], fqdn=dns_server.consistent, **silent)
    assert time.monotonic() - started < 5
    assert messages(result)[0].startswith(f"no DNS answer about {dns_server.consistent}")


def test_a_host_without_psutil_and_dnspython_is_measured_all_the_same(monkeypatch, dns_server, tmp_path):
    """A host is measured before anything is installed on it: Linux's /proc and the built-in DNS client."""
    args = dict(fqdn=dns_server.consistent, disk_path=str(tmp_path), **dns_server.module_args, **LOW)
    with_libraries = run(**args)
    # psutil and dnspython are installed here; stand in a managed host without them.
    monkeypatch.setattr(_preflight, "HAS_PSUTIL", False)
    monkeypatch.setattr(_preflight, "HAS_DNSPYTHON", False)
    without = run(**args)
    assert without["measured_with"] == {
        "hardware": "linux /proc (psutil is not installed)",
        "dns": "built-in DNS client (dnspython is not installed)",
    }
    assert with_libraries["measured_with"] == {"hardware": "psutil", "dns": "dnspython"}
    assert without["passed"] is True, without["failures"]
    assert without["cores"] == with_libraries["cores"]
    assert without["memory"]["total_bytes"] == with_libraries["memory"]["total_bytes"]
    assert {key: without["disk"][key] for key in ("mount", "device", "fstype", "total_bytes")} == {
        key: with_libraries["disk"][key] for key in ("mount", "device", "fstype", "total_bytes")
    }
    assert without["dns"] == with_libraries["dns"]


def test_without_psutil_off_linux_the_package_is_named(monkeypatch):
    monkeypatch.setattr(_preflight, "HAS_PSUTIL", False)
    monkeypatch.setattr(_preflight.fallback, "available", lambda: False)
    result = run(checks=["cores"])
    assert result["failed"] is True
    assert "psutil" in result["msg"]
    assert "python3-psutil" in result["msg"]


# --- DNS, against dnsmasq ----------------------------------------------------------------------


def test_consistent_host_passes(dns_server):
    result = run(checks=["dns"], fqdn=dns_server.consistent, **dns_server.module_args)
    assert result["passed"] is True, result["failures"]
    dns = result["dns"]
    assert dns["fqdn"] == dns_server.consistent
    assert dns["nameservers"] == [dns_server.address]
    assert dns["port"] == dns_server.port
    assert dns["addresses"] == [
        {
            "address": dns_server.own_ipv4,
            "family": "ipv4",
            "ptr": [dns_server.consistent],
            "ptr_matches": True,
            "own": True,
            "global": False,
        },
        {
            "address": "2001:db8::10",
            "family": "ipv6",
            "ptr": [dns_server.consistent],
            "ptr_matches": True,
            "own": False,
            "global": False,
        },
    ]
    assert dns_server.own_ipv4 in dns["host_addresses"]
    assert not any(address.startswith(("127.", "fe80:")) or address == "::1" for address in dns["host_addresses"])


def test_names_compare_without_case_or_trailing_dot(dns_server):
    fqdn = dns_server.consistent.upper() + "."
    result = run(checks=["dns"], fqdn=fqdn, **dns_server.module_args)
    assert result["passed"] is True, result["failures"]


def test_ptr_naming_another_host_falls_short(dns_server):
    result = run(checks=["dns"], fqdn=dns_server.mismatch, **dns_server.module_args)
    assert f"198.51.100.51 (an address of {dns_server.mismatch}) points back to other.preflight.test, not to " + (
        dns_server.mismatch
    ) in messages(result)
    (failure,) = [item for item in result["failures"] if item["measured"] == ["other.preflight.test"]]
    assert failure["required"] == dns_server.mismatch


def test_address_without_ptr_falls_short(dns_server):
    result = run(checks=["dns"], fqdn=dns_server.no_ptr, **dns_server.module_args)
    assert f"198.51.100.50 (an address of {dns_server.no_ptr}) has no PTR record" in messages(result)
    # Not this host's address either.
    assert any("none of which is an address of this host" in message for message in messages(result))


def test_name_that_does_not_exist_falls_short(dns_server):
    result = run(checks=["dns"], fqdn=dns_server.missing, **dns_server.module_args)
    assert messages(result) == [
        f"{dns_server.missing} does not resolve: no A or AAAA record from {dns_server.address}:{dns_server.port}"
    ]
    assert result["dns"]["addresses"] == []


def test_aaaa_only_name_resolves_but_is_not_this_host(dns_server):
    result = run(checks=["dns"], fqdn=dns_server.v6_only, **dns_server.module_args)
    assert [entry["address"] for entry in result["dns"]["addresses"]] == ["2001:db8::20"]
    assert result["dns"]["addresses"][0]["ptr_matches"] is True
    assert messages(result) == [
        f"{dns_server.v6_only} resolves to 2001:db8::20, none of which is an address of this host "
        f"({', '.join(result['dns']['host_addresses'])})"
    ]


def test_loopback_address_falls_short(dns_server):
    result = run(checks=["dns"], fqdn=dns_server.loopback, **dns_server.module_args)
    assert (
        f"{dns_server.loopback} resolves to the loopback address 127.0.1.1, which other hosts cannot reach"
        in messages(result)
    )
    # The host's own loopback addresses do not count as its own.
    assert result["dns"]["addresses"][0]["own"] is False


def test_unqualified_name_falls_short_without_asking_dns(dns_server):
    result = run(checks=["dns"], fqdn="localhost", **dns_server.module_args)
    assert messages(result) == [
        "the host name 'localhost' is not fully qualified; give the host its DNS name or set fqdn"
    ]


def test_server_that_does_not_answer_is_reported(dns_server):
    silent = dict(dns_server.module_args, dns_port=free_port(), dns_timeout=1)
    result = run(checks=["dns"], fqdn=dns_server.consistent, **silent)
    assert result["passed"] is False
    (message,) = messages(result)
    assert message.startswith(f"no DNS answer about {dns_server.consistent} from 127.0.0.1:{silent['dns_port']}: ")


def test_dns_failure_with_fail_on_error_fails(dns_server):
    result = run(checks=["dns"], fqdn=dns_server.missing, fail_on_error=True, **dns_server.module_args)
    assert result["failed"] is True
    assert result["msg"] == messages(result)[0]
