# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""_preflight_fallback: what host_preflight measures when psutil or dnspython is missing.

psutil and dnspython are installed here, so they are the oracle: each fallback must give what the
library gives on this machine, and the built-in DNS client what dnspython gets from the tests'
dnsmasq (the session fixture ``dns_server``).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import threading

import psutil
import pytest

from ansible_collections.osg_htc.site.plugins.module_utils import _preflight
from ansible_collections.osg_htc.site.plugins.module_utils import _preflight_fallback as fallback


@pytest.fixture
def without_libraries(monkeypatch):
    monkeypatch.setattr(_preflight, "HAS_PSUTIL", False)
    monkeypatch.setattr(_preflight, "HAS_DNSPYTHON", False)


# --- hardware and ports: the same values psutil reads ---------------------------------------


def test_this_host_is_linux():
    assert fallback.available()


def test_cpu_counts_are_psutil_s():
    assert fallback.cpu_counts() == {"logical": psutil.cpu_count(), "physical": psutil.cpu_count(logical=False)}


def test_memory_is_psutil_s():
    assert fallback.memory()["total_bytes"] == psutil.virtual_memory().total


def test_disk_is_psutil_s(tmp_path, monkeypatch):
    with_psutil = _preflight.disk(str(tmp_path / "spool"))
    monkeypatch.setattr(_preflight, "HAS_PSUTIL", False)
    without = _preflight.disk(str(tmp_path / "spool"))
    same = ("path", "measured_path", "mount", "device", "fstype", "total_bytes")
    assert {key: without[key] for key in same} == {key: with_psutil[key] for key in same}


@pytest.mark.parametrize(("family", "address"), [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_listeners_are_psutil_s(family, address, monkeypatch):
    if family == socket.AF_INET6 and not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        sock.listen()
        port = sock.getsockname()[1]
        with_psutil = _preflight.listeners_by_port()[port]
        monkeypatch.setattr(_preflight, "HAS_PSUTIL", False)
        without = _preflight.listeners_by_port()[port]
    assert without == with_psutil == [{"address": address, "pid": os.getpid(), "process": psutil.Process().name()}]


def test_own_addresses_are_psutil_s(monkeypatch):
    with_psutil = _preflight.own_addresses()
    monkeypatch.setattr(_preflight, "HAS_PSUTIL", False)
    assert _preflight.own_addresses() == with_psutil


def test_kernel_address_words_are_decoded():
    assert fallback._address("0100007F") == "127.0.0.1"
    assert fallback._address("00000000000000000000000001000000") == "::1"
    assert fallback._address("B80D0120000000000000000010000000") == "2001:db8::10"


def test_mount_table_escapes_are_undone():
    assert fallback._unescape_mount_field("/mnt/with\\040space\\011tab") == "/mnt/with space\ttab"
    assert fallback._unescape_mount_field("back\\134slash\\04") == "back\\slash\\04"


def test_long_process_names_come_from_the_command(tmp_path, monkeypatch):
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "comm").write_text("condor_shared_p\n")
    (tmp_path / "7" / "cmdline").write_bytes(b"/usr/sbin/condor_shared_port\0-f\0")
    monkeypatch.setattr(fallback, "PROC", str(tmp_path))
    assert fallback.process_name(7) == "condor_shared_port"
    assert fallback.process_name(8) is None


# --- DNS names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("ap.example.org", None),
        ("ap.example.org.", None),
        ("bücher.example", None),
        ("a..b", "a label is empty"),
        ("", "the name is empty"),
        ("x" * 64 + ".org", "longer than 63 bytes"),
        ("a." * 128 + "org", "longer than 255 bytes"),
        ("a\\.b.org", "escapes"),
    ],
)
def test_names_are_checked_like_dnspython(name, error):
    found = fallback.name_error(name)
    assert (found is None) if error is None else (error in found), found
    # Stricter than dnspython in two places no host name reaches: the empty name (the module refuses an
    # empty fqdn first) and backslash escapes.
    if name and "\\" not in name:
        assert (found is None) == (_preflight.dns_name_error(name) is None)


@pytest.mark.parametrize("name", ["AP.Example.ORG.", "bücher.example", "ap.example.org"])
def test_canonical_names_are_dnspython_s(name):
    assert fallback.canonical(name) == _preflight.canonical_name(name)


def test_labels_are_written_as_dnspython_writes_them():
    assert fallback.label_text(b'a.b"c\\d') == 'a\\.b\\"c\\\\d'
    assert fallback.label_text(b"a b\x00") == "a\\032b\\000"


def test_compression_loops_and_overruns_are_refused():
    looping = b"\0" * 12 + b"\xc0\x0c"
    with pytest.raises(fallback.DnsError, match="loop"):
        fallback.read_name(looping, 12)
    with pytest.raises(fallback.DnsError, match="past the end"):
        fallback.read_name(b"\x05ab", 0)


# --- DNS against dnsmasq: what dnspython gets -----------------------------------------------

CASES = ["consistent", "mismatch", "no_ptr", "v6_only", "loopback", "missing"]


@pytest.mark.parametrize("case", CASES)
def test_answers_are_dnspython_s(dns_server, case, monkeypatch):
    fqdn = getattr(dns_server, case)
    with_dnspython = _preflight.look_up(fqdn, [dns_server.address], dns_server.port, 2)
    monkeypatch.setattr(_preflight, "HAS_DNSPYTHON", False)
    without = _preflight.look_up(fqdn, [dns_server.address], dns_server.port, 2)
    assert without == with_dnspython
    assert without.error is None


def test_a_silent_server_is_an_error_within_the_timeout(without_libraries):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never answers
        answer = _preflight.look_up("ap.example.org", ["127.0.0.1"], silent.getsockname()[1], 0.3)
    assert answer.forward == []
    assert "did not answer in time" in answer.error


def test_servers_are_asked_in_turn(dns_server, without_libraries):
    # Nothing answers on 127.0.0.2 (dnsmasq binds 127.0.0.1 only): the next server is asked.
    answer = _preflight.look_up(dns_server.consistent, ["127.0.0.2", dns_server.address], dns_server.port, 2)
    assert answer.error is None, answer.error
    assert dns_server.own_ipv4 in answer.forward


def test_no_nameserver_is_named(without_libraries, monkeypatch, tmp_path):
    (tmp_path / "resolv.conf").write_text("search example.org\n")
    monkeypatch.setattr(fallback, "RESOLV_CONF", str(tmp_path / "resolv.conf"))
    monkeypatch.setattr(fallback, "system_nameservers", lambda path=None: [])
    with pytest.raises(_preflight.NoNameserver, match="no nameserver in"):
        _preflight.look_up("ap.example.org", None, 53, 1)


def test_resolv_conf_servers_in_order(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("# comment\nnameserver 192.0.2.53\nnameserver not-an-address\nnameserver fe80::1%eth0\n")
    assert fallback.system_nameservers(str(conf)) == ["192.0.2.53", "fe80::1%eth0"]


def _answer(query: bytes, truncated: bool, address: str) -> bytes:
    """An answer to ``query`` (an A question) with one A record, the TC flag as asked."""
    ident = query[:2]
    question = query[12:]
    flags = 0x8180 | (0x0200 if truncated else 0)
    header = ident + struct.pack(">HHHHH", flags, 1, 0 if truncated else 1, 0, 0)
    record = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + ipaddress.ip_address(address).packed
    return header + question + (b"" if truncated else record)


def test_a_truncated_answer_is_asked_again_over_tcp(without_libraries):
    """A server that sets TC over UDP and answers over TCP, as a large answer would be given."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    tcp.bind(("127.0.0.1", port))
    tcp.listen()
    udp.settimeout(5)
    tcp.settimeout(5)

    def serve():
        query, client = udp.recvfrom(512)
        udp.sendto(_answer(query, True, "192.0.2.7"), client)
        connection, _peer = tcp.accept()
        with connection:
            (length,) = struct.unpack(">H", connection.recv(2))
            query = connection.recv(length)
            reply = _answer(query, False, "192.0.2.7")
            connection.sendall(struct.pack(">H", len(reply)) + reply)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        found = fallback.Resolver(["127.0.0.1"], port, 5).records("big.example.org", "A")
    finally:
        server.join(5)
        udp.close()
        tcp.close()
    assert found == ["192.0.2.7"]
