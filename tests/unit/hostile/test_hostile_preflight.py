# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Hostile input for host_preflight: numbers that are not finite, huge or negative, and odd text.

The rule under test: the module either refuses the options with a message naming one of them, or
measures and returns a well-formed result; it never raises anything else and never waits long. A
threshold that is not a finite number in its range is always refused, never compared (a NaN
threshold compares false and would pass every host).

DNS goes to the tests' dnsmasq, which answers every name at once (unknown ones REFUSED), so a
valid dns_timeout costs nothing; nameservers and dns_port are drawn only from values the module
refuses, so no example waits on a server that does not answer.
"""

from __future__ import annotations

import ipaddress
import math
import time
from unittest import mock

from ansible.module_utils import basic
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.osg_htc.site.plugins.modules import host_preflight
from ansible_collections.osg_htc.site.tests.unit.hostile import strategies as hs
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

CHECKS = ["cores", "memory", "disk", "dns", "ports"]
NUMBERS = ["min_cores", "min_memory_gib", "min_disk_gb", "min_disk_free_gb", "tolerance_percent", "dns_timeout"]
# A whole example (every check, DNS included) takes well under a second; this is far from a hang.
SECONDS = 15


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_port(value) -> bool:
    """Whether Ansible's int conversion could make ``value`` a valid port."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return isinstance(value, (int, float)) and value == int(value) and 1 <= value <= 65535


@st.composite
def options(draw):
    args = {"checks": draw(st.lists(st.sampled_from(CHECKS), unique=True)), "fail_on_error": draw(st.booleans())}
    for name in draw(st.lists(st.sampled_from(NUMBERS), unique=True, max_size=3)):
        args[name] = draw(hs.hostile_numbers)
    if draw(st.booleans()):
        args["ports"] = draw(st.lists(hs.hostile_numbers, max_size=3))
    if draw(st.booleans()):
        args["disk_path"] = draw(st.one_of(hs.hostile_text, hs.hostile_text.map(lambda text: "/" + text)))
    if draw(st.booleans()):
        args["fqdn"] = draw(st.one_of(hs.any_text, hs.hostile_text.map(lambda text: text + ".preflight.test")))
    if draw(st.booleans()):
        args["port_owners"] = draw(st.lists(hs.hostile_text, max_size=3))
    if draw(st.booleans()):
        args["port_expect"] = draw(st.sampled_from(["free", "free_or_listening", "listening"]))
    if draw(st.booleans()):
        args["nameservers"] = draw(st.lists(hs.hostile_text.filter(lambda text: not is_address(text)), min_size=1))
    if draw(st.booleans()):
        args["dns_port"] = draw(hs.hostile_numbers.filter(lambda value: not is_port(value)))
    return args


def in_range(name, value) -> bool:
    """Whether the module must take ``value`` for option ``name`` (min_cores is a whole number)."""
    least, most, least_excluded, most_excluded, _unit = host_preflight.LIMITS[name]
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if name == "min_cores" and value != int(value):
        return False
    return (least < value if least_excluded else least <= value) and (value < most if most_excluded else value <= most)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(args=options())
def test_options_are_refused_naming_one_or_measured(dns_server, args):
    full = {"nameservers": [dns_server.address], "dns_port": dns_server.port, "dns_timeout": 2, **args}
    started = time.monotonic()
    with mock.patch.object(basic.AnsibleModule, "warn", lambda self, msg: None):
        result = run_module(host_preflight, full)
    assert time.monotonic() - started < SECONDS, full
    event("refused" if result.get("failed") and "failures" not in result else "measured")
    if result.get("failed") and "failures" not in result:
        # A refusal: the message names an option that was given.
        assert result["msg"].strip()
        assert "Traceback" not in result["msg"]
        assert any(name in result["msg"] for name in full), result["msg"]
        return
    # Measured: every threshold that was used is a finite number in its range.
    for name in NUMBERS:
        if name in full:
            assert in_range(name, full[name]), (name, full[name])
    if "dns" in result:
        event(f"dns: {len(result['dns']['nameservers'])} servers asked, {len(result['dns']['addresses'])} addresses")
    assert result["changed"] is False
    assert result["checks"] == [check for check in CHECKS if check in full["checks"]]
    assert isinstance(result["passed"], bool)
    assert result["passed"] is not bool(result["failures"])
    for failure in result["failures"]:
        assert set(failure) == {"check", "measured", "required", "message"}
        assert failure["check"] in full["checks"]
        assert failure["message"]
    if result.get("failed"):
        assert full["fail_on_error"] and result["failures"]
        assert result["msg"] == "; ".join(failure["message"] for failure in result["failures"])


@settings(max_examples=100)
@given(name=st.sampled_from(NUMBERS), value=st.sampled_from(hs.HOSTILE_NUMBERS))
def test_each_hostile_number_is_refused_or_in_range(name, value):
    result = run_module(host_preflight, {"checks": ["cores", "memory", "disk"], name: value})
    if in_range(name, value):
        assert "failed" not in result or "failures" in result
    else:
        assert result["failed"] is True and "failures" not in result
        assert name in result["msg"]


fqdns = st.one_of(
    hs.any_text,
    hs.hostile_text.map(lambda text: text + ".preflight.test"),
    hs.hostile_text.map(lambda text: "ap." + text),
    st.sampled_from(["ap.preflight.test", "missing.preflight.test", "v6.preflight.test", "ap.preflight.test."]),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(fqdn=fqdns, timeout=st.one_of(st.just(2), st.just(0.5), st.just(1), hs.hostile_numbers))
def test_dns_names_are_refused_or_looked_up(dns_server, fqdn, timeout):
    args = dict(checks=["dns"], fqdn=fqdn, nameservers=[dns_server.address], dns_port=dns_server.port)
    args["dns_timeout"] = timeout
    started = time.monotonic()
    result = run_module(host_preflight, args)
    assert time.monotonic() - started < SECONDS, args
    if result.get("failed"):
        assert "fqdn" in result["msg"] or "dns_timeout" in result["msg"], result["msg"]
        event("refused")
        return
    asked = bool(result["dns"]["nameservers"])
    event("asked the server" if asked else "not asked (not fully qualified)")
    assert result["dns"]["fqdn"] == fqdn
    assert in_range("dns_timeout", timeout)
    for entry in result["dns"]["addresses"]:
        assert entry["family"] in ("ipv4", "ipv6")
        assert all(isinstance(name, str) for name in entry["ptr"])
    assert all(failure["check"] == "dns" and failure["message"] for failure in result["failures"])


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    disk_path=st.one_of(hs.hostile_text, hs.hostile_text.map(lambda text: "/tmp/" + text)),
    owners=st.lists(hs.any_text, max_size=3),
    expect=st.sampled_from(["free", "free_or_listening", "listening"]),
)
def test_text_options_are_refused_or_measured(disk_path, owners, expect):
    args = dict(checks=["disk", "ports"], disk_path=disk_path, port_owners=owners, port_expect=expect, ports=[22, 9618])
    args.update(min_disk_gb=0, tolerance_percent=0)
    with mock.patch.object(basic.AnsibleModule, "warn", lambda self, msg: None):
        result = run_module(host_preflight, args)
    if result.get("failed"):
        assert result["msg"].startswith("disk_path must be an absolute path"), result["msg"]
        event("refused")
        return
    event("measured")
    assert result["disk"]["path"] == disk_path
    assert disk_path.startswith(result["disk"]["measured_path"].rstrip("/") + "/") or (
        result["disk"]["measured_path"] == disk_path
    )
    assert [entry["port"] for entry in result["ports"]] == [22, 9618]
