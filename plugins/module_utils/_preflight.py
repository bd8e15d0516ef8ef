# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""What ``host_preflight`` measures: cores, memory, the file system under a path, listening TCP
sockets, the host's own addresses, and forward and reverse DNS of a name.

These functions measure and report; the module holds the options, judges the measurements against
its thresholds and words the findings.

Runs on managed hosts: Python >= 3.9, standard library plus psutil (every measurement but DNS) and
dnspython (DNS), both optional: a host is measured before anything is installed on it, so without
psutil the same values are read from Linux's /proc and /sys, and without dnspython DNS is asked by
the small client of ``_preflight_fallback`` (``measured_with`` says which).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass, field
from typing import Any, Dict, List, Set, Tuple

from ansible_collections.osg_htc.site.plugins.module_utils import _preflight_fallback as fallback

try:
    import psutil
except ImportError:
    psutil = None

try:
    import dns.exception
    import dns.name
    import dns.resolver
    import dns.reversename
except ImportError:
    dns = None

HAS_PSUTIL = psutil is not None
HAS_DNSPYTHON = dns is not None


def can_measure_hardware() -> bool:
    """psutil, or the Linux files the fallback reads."""
    return HAS_PSUTIL or fallback.available()


def measured_with() -> Dict[str, str]:
    """What measures here: the libraries, or the fallbacks of _preflight_fallback."""
    return dict(
        hardware="psutil" if HAS_PSUTIL else "linux /proc (psutil is not installed)",
        dns="dnspython" if HAS_DNSPYTHON else "built-in DNS client (dnspython is not installed)",
    )


IPAddress = Any  # ipaddress.IPv4Address | ipaddress.IPv6Address, spelled for Python 3.9


class PreflightError(Exception):
    """A measurement that cannot be made; the message says why."""


class NoNameserver(PreflightError):
    """There is no DNS server to ask (no O(nameservers) and nothing usable in /etc/resolv.conf)."""


# --- hardware ---------------------------------------------------------------------------------


def cpu_counts() -> Dict[str, int | None]:
    """Logical CPUs (hyperthreads count) and physical cores (None when the platform does not say)."""
    if not HAS_PSUTIL:
        return fallback.cpu_counts()
    # None when the platform cannot tell: counted as 0, so a minimum fails rather than passes unseen.
    return dict(logical=psutil.cpu_count(logical=True) or 0, physical=psutil.cpu_count(logical=False))


def memory() -> Dict[str, int]:
    """Total memory as the kernel reports it (MemTotal) and what is available to new processes."""
    if not HAS_PSUTIL:
        return fallback.memory()
    measured = psutil.virtual_memory()
    return dict(total_bytes=measured.total, available_bytes=measured.available)


def nearest_existing(path: str) -> str:
    """``path`` or its nearest parent that is an existing directory."""
    path = os.path.abspath(path)
    while not os.path.isdir(path):
        path = os.path.dirname(path)
    return path


def mount_point(path: str) -> str:
    """The mount point of the file system holding ``path``."""
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


def disk(path: str) -> Dict[str, Any]:
    """The file system holding ``path`` (or its nearest existing parent): where, what, size and free space."""
    measured_path = nearest_existing(path)
    mount = mount_point(measured_path)
    if HAS_PSUTIL:
        # The last entry for a mount point is the one on top when file systems are stacked.
        partitions = [part for part in psutil.disk_partitions(all=True) if part.mountpoint == mount]
        entry = (partitions[-1].device, partitions[-1].fstype) if partitions else None
        measured = psutil.disk_usage(measured_path)
        total, free = measured.total, measured.free
    else:
        entry = fallback.mount_entry(mount)
        total, free = fallback.usage(measured_path)
    return dict(
        path=path,
        measured_path=measured_path,
        mount=mount,
        device=entry[0] if entry else None,
        fstype=entry[1] if entry else None,
        total_bytes=total,
        free_bytes=free,
    )


# --- ports ------------------------------------------------------------------------------------


def process_name(pid: int | None) -> str | None:
    """The name of process ``pid``, or None when it is unknown or may not be seen."""
    if pid is None:
        return None
    try:
        return psutil.Process(pid).name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def listeners_by_port() -> Dict[int, List[Dict[str, Any]]]:
    """The listening TCP sockets by port, each with its address, pid and process name (None if unseen).

    Raises PreflightError when the host does not let this process list its sockets.
    """
    if not HAS_PSUTIL:
        try:
            return fallback.listeners_by_port()
        except OSError as exc:
            raise PreflightError(f"Cannot list the listening sockets ({exc})") from None
    try:
        connections = psutil.net_connections(kind="inet")
    except psutil.AccessDenied as exc:
        raise PreflightError(f"Cannot list the listening sockets ({exc})") from None
    listeners: Dict[int, List[Dict[str, Any]]] = {}
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.type == socket.SOCK_STREAM:
            listeners.setdefault(conn.laddr.port, []).append(
                dict(address=conn.laddr.ip, pid=conn.pid, process=process_name(conn.pid))
            )
    for entries in listeners.values():
        entries.sort(key=lambda item: (item["address"], item["pid"] or 0))
    return listeners


# --- addresses and DNS ------------------------------------------------------------------------


def own_addresses() -> Set[IPAddress]:
    """The host's interface addresses other hosts could reach: no loopback, no link-local."""
    if not HAS_PSUTIL:
        return {
            address for address in fallback.interface_addresses() if not (address.is_loopback or address.is_link_local)
        }
    addresses = set()
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(entry.address.split("%")[0])
            if not (address.is_loopback or address.is_link_local):
                addresses.add(address)
    return addresses


def address_texts(addresses) -> List[str]:
    """Addresses as text, IPv4 first, each family in numeric order."""
    return [str(address) for address in sorted(addresses, key=lambda a: (a.version, a))]


def dns_name_error(text: str) -> str | None:
    """Why ``text`` is not a valid DNS name, or None when it is one."""
    if not HAS_DNSPYTHON:
        return fallback.name_error(text)
    try:
        dns.name.from_text(text)
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        return str(exc) or type(exc).__name__
    return None


def canonical_name(text: str) -> str:
    """A DNS name as compared: lower case, without the final dot."""
    if not HAS_DNSPYTHON:
        return fallback.canonical(text)
    return dns.name.from_text(text).to_text(omit_final_dot=True).lower()


@dataclass
class DnsAnswer:
    """What the DNS servers said about a name.

    ``forward`` holds the A then AAAA record texts; ``reverse`` the PTR names (canonical) of each
    forward address, in the same order, for as many addresses as were looked up before an error.
    ``error`` says why the servers gave no answer (time-out, SERVFAIL, REFUSED), else None.
    """

    nameservers: List[str]
    port: int
    forward: List[str] = field(default_factory=list)
    reverse: List[Tuple[str, List[str]]] = field(default_factory=list)
    error: str | None = None


def look_up(fqdn: str, nameservers: List[str] | None, port: int, timeout: float) -> DnsAnswer:
    """Forward (A, AAAA) and reverse (PTR) records of ``fqdn``, straight from DNS (not /etc/hosts).

    ``nameservers`` empty or None means those of /etc/resolv.conf. ``timeout`` (seconds) bounds each
    lookup across all the servers. Raises NoNameserver when there is no server to ask.
    """
    if not HAS_DNSPYTHON:
        return _look_up_without_dnspython(fqdn, nameservers, port, timeout)
    try:
        resolver = dns.resolver.Resolver(configure=not nameservers)
    except dns.resolver.NoResolverConfiguration as exc:
        raise NoNameserver(str(exc)) from None
    if nameservers:
        resolver.nameservers = list(nameservers)
    resolver.port = port
    resolver.timeout = resolver.lifetime = timeout
    answer = DnsAnswer(nameservers=[str(server) for server in resolver.nameservers], port=port)
    name = dns.name.from_text(fqdn)

    def records(qname, rdtype):
        """The record texts, [] when there are none (NXDOMAIN or no data); DNS errors propagate."""
        try:
            found = resolver.resolve(qname, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return []
        return [record.to_text() for record in found.rrset] if found.rrset is not None else []

    try:
        answer.forward = records(name, "A") + records(name, "AAAA")
        for text in answer.forward:
            ptr = [canonical_name(target) for target in records(dns.reversename.from_address(text), "PTR")]
            answer.reverse.append((text, ptr))
    except dns.exception.DNSException as exc:
        # Timeouts and SERVFAIL/REFUSED answers: the servers did not say.
        answer.error = str(exc) or type(exc).__name__
    return answer


def _look_up_without_dnspython(fqdn: str, nameservers: List[str] | None, port: int, timeout: float) -> DnsAnswer:
    """look_up with the built-in client: the same questions, answers of the same shape."""
    servers = list(nameservers) if nameservers else fallback.system_nameservers()
    if not servers:
        raise NoNameserver(f"no nameserver in {fallback.RESOLV_CONF}")
    resolver = fallback.Resolver(servers, port, timeout)
    answer = DnsAnswer(nameservers=servers, port=port)
    try:
        answer.forward = resolver.records(fqdn, "A") + resolver.records(fqdn, "AAAA")
        for text in answer.forward:
            # PTR targets come in the text form canonical names have: only the case and final dot remain.
            ptr = [target.rstrip(".").lower() for target in resolver.records(fallback.reverse_name(text), "PTR")]
            answer.reverse.append((text, ptr))
    except fallback.DnsError as exc:
        answer.error = str(exc)
    return answer
