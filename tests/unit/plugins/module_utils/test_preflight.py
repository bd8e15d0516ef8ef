# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Unit tests for _preflight, the measurements behind host_preflight: this host's file systems and
addresses, and a real DNS server (dnsmasq, the session fixture ``dns_server``)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket

import psutil
import pytest

from ansible_collections.osg_htc.site.plugins.module_utils import _preflight


def test_nearest_existing_climbs_to_a_directory(tmp_path):
    assert _preflight.nearest_existing(str(tmp_path / "a" / "b")) == str(tmp_path)
    assert _preflight.nearest_existing(str(tmp_path)) == str(tmp_path)
    (tmp_path / "file").write_text("")
    assert _preflight.nearest_existing(str(tmp_path / "file" / "below")) == str(tmp_path)


def test_mount_point_is_a_mount_holding_the_path(tmp_path):
    mount = _preflight.mount_point(str(tmp_path))
    assert os.path.ismount(mount)
    assert str(tmp_path.resolve()).startswith(mount)
    assert _preflight.mount_point("/") == "/"


def test_disk_reports_the_nearest_existing_directory(tmp_path):
    measured = _preflight.disk(str(tmp_path / "spool"))
    assert measured["path"] == str(tmp_path / "spool")
    assert measured["measured_path"] == str(tmp_path)
    assert measured["total_bytes"] == shutil.disk_usage(tmp_path).total
    assert set(measured) == {"path", "measured_path", "mount", "device", "fstype", "total_bytes", "free_bytes"}


def test_cpu_and_memory_are_what_psutil_says():
    assert _preflight.cpu_counts()["logical"] == os.cpu_count()
    assert _preflight.memory()["total_bytes"] == psutil.virtual_memory().total


def test_listeners_by_port_sees_this_process():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        listeners = _preflight.listeners_by_port()[port]
    assert listeners == [{"address": "127.0.0.1", "pid": os.getpid(), "process": psutil.Process().name()}]


def test_own_addresses_leave_out_loopback_and_link_local():
    mine = _preflight.own_addresses()
    assert not any(address.is_loopback or address.is_link_local for address in mine)
    texts = _preflight.address_texts(mine | {ipaddress.ip_address("2001:db8::1"), ipaddress.ip_address("192.0.2.1")})
    versions = [ipaddress.ip_address(text).version for text in texts]
    assert versions == sorted(versions)


@pytest.mark.parametrize(
    ("text", "canonical"), [("AP.Example.ORG.", "ap.example.org"), ("ap.example.org", "ap.example.org")]
)
def test_canonical_name(text, canonical):
    assert _preflight.canonical_name(text) == canonical
    assert _preflight.dns_name_error(text) is None


@pytest.mark.parametrize("text", ["ap..example.org", "a" * 64 + ".example.org", "x." * 130 + "org"])
def test_dns_name_error_says_why(text):
    assert _preflight.dns_name_error(text)


def test_look_up_a_consistent_name(dns_server):
    answer = _preflight.look_up(dns_server.consistent, [dns_server.address], dns_server.port, 2)
    assert answer.error is None
    assert answer.nameservers == [dns_server.address]
    assert answer.forward == [dns_server.own_ipv4, "2001:db8::10"]
    assert answer.reverse == [(dns_server.own_ipv4, [dns_server.consistent]), ("2001:db8::10", [dns_server.consistent])]


def test_look_up_a_missing_name(dns_server):
    answer = _preflight.look_up(dns_server.missing, [dns_server.address], dns_server.port, 2)
    assert (answer.forward, answer.reverse, answer.error) == ([], [], None)


def test_look_up_a_silent_server_reports_an_error():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never answers
        answer = _preflight.look_up("ap.example.org", ["127.0.0.1"], sock.getsockname()[1], 0.2)
    assert answer.forward == [] and answer.error
