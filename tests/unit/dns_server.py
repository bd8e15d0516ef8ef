"""A real DNS server for the tests: dnsmasq in the foreground on loopback.

The zone ``preflight.test`` (RFC 6761 reserves ``.test`` for testing) holds one
name for each case a preflight must tell apart. dnsmasq answers every name and
reverse name itself (``--local``), so an unknown one gets NXDOMAIN, never a
forwarded query, and nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

import dns.exception
import dns.resolver
import psutil

LISTEN = "127.0.0.1"
ZONE = "preflight.test"
# Addresses that are not this host's: documentation ranges (RFC 5737, RFC 3849).
OTHER_IPV4 = "198.51.100.51"
NO_PTR_IPV4 = "198.51.100.50"
OTHER_IPV6 = "2001:db8::10"
V6_ONLY = "2001:db8::20"

INSTALL_HINT = (
    "dnsmasq is needed by the DNS tests and was not found on PATH or in /usr/sbin: "
    "install Debian's dnsmasq-base package (apt-get install -y dnsmasq-base)"
)


@dataclass
class DnsServer:
    """Where the server answers, and the names it knows."""

    address: str
    port: int
    own_ipv4: str
    consistent: str = f"ap.{ZONE}"  # A (this host) + AAAA, both with PTRs back to it
    mismatch: str = f"alias.{ZONE}"  # A whose PTR names other.preflight.test
    no_ptr: str = f"noptr.{ZONE}"  # A without any PTR
    v6_only: str = f"v6.{ZONE}"  # AAAA only, with a PTR back; not this host
    loopback: str = f"loopback.{ZONE}"  # A 127.0.1.1, the Debian /etc/hosts habit
    missing: str = f"missing.{ZONE}"  # NXDOMAIN

    @property
    def module_args(self) -> dict:
        return {"nameservers": [self.address], "dns_port": self.port, "dns_timeout": 2}


def dnsmasq_binary() -> str | None:
    return shutil.which("dnsmasq") or shutil.which("dnsmasq", path="/usr/sbin:/sbin")


def own_ipv4() -> str:
    """A non-loopback, non-link-local IPv4 address of this host, for the consistent record."""
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            if entry.family == socket.AF_INET:
                address = ipaddress.ip_address(entry.address)
                if not (address.is_loopback or address.is_link_local):
                    return str(address)
    raise RuntimeError("this host has no IPv4 address other than loopback; the DNS tests need one")


def free_port(address: str) -> int:
    """A port free for both UDP and TCP on address (dnsmasq binds both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((address, 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((address, port))
                except OSError:
                    continue
                return port


def dnsmasq_command(binary: str, server: DnsServer) -> list[str]:
    return [
        binary,
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        "--pid-file=",  # no pid file: nothing written outside the test's own files
        f"--listen-address={server.address}",
        f"--port={server.port}",
        "--bind-interfaces",
        "--log-facility=-",
        "--log-queries",
        # Answer everything here; unknown names get NXDOMAIN.
        f"--local=/{ZONE}/",
        "--local=/in-addr.arpa/",
        "--local=/ip6.arpa/",
        # --host-record: A/AAAA plus the matching PTR records.
        f"--host-record={server.consistent},{server.own_ipv4},{OTHER_IPV6}",
        f"--host-record={server.v6_only},{V6_ONLY}",
        f"--host-record={server.loopback},127.0.1.1",
        # --address: A records only, no PTR; --ptr-record: a PTR on its own.
        f"--address=/{server.mismatch}/{OTHER_IPV4}",
        f"--ptr-record={ipaddress.ip_address(OTHER_IPV4).reverse_pointer},other.{ZONE}",
        f"--address=/{server.no_ptr}/{NO_PTR_IPV4}",
    ]


def wait_until_answering(server: DnsServer, process: subprocess.Popen, log, timeout: float = 10) -> None:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.address]
    resolver.port = server.port
    resolver.timeout = resolver.lifetime = 0.5
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"dnsmasq exited with status {process.returncode}: {log.read()}")
        try:
            resolver.resolve(server.consistent, "A", search=False)
            return
        except dns.exception.DNSException:
            time.sleep(0.1)
    log.seek(0)
    raise RuntimeError(f"dnsmasq did not answer on {server.address}:{server.port} within {timeout} s: {log.read()}")


@contextlib.contextmanager
def running(binary: str):
    """dnsmasq answering for the zone while the block runs; always stopped afterwards."""
    server = DnsServer(address=LISTEN, port=free_port(LISTEN), own_ipv4=own_ipv4())
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(dnsmasq_command(binary, server), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_answering(server, process, log)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
