# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""``host_preflight``'s measurements without psutil or dnspython: Linux /proc and the standard library.

A host is measured before anything is installed on it, so the measurements cannot wait for the
packages that bring psutil and dnspython. What psutil reads on Linux is read here from the same
kernel files (``/proc/meminfo``, ``/proc/self/mounts``, ``/proc/net/tcp``, ``/proc/net/fib_trie``,
``/sys/devices/system/cpu``), and DNS is asked with a small DNS client over UDP (TCP when the answer
is truncated) that sends the same questions dnspython would: A, AAAA and PTR, recursion desired,
straight to the name servers (never ``/etc/hosts``). ``_preflight`` uses these only when the
library is missing; the results have the same shape.

Runs on managed hosts: Python >= 3.9, standard library only.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import random
import socket
import struct
import time
from typing import Any, Dict, List, Set, Tuple

PROC = "/proc"
SYS_CPU = "/sys/devices/system/cpu"
RESOLV_CONF = "/etc/resolv.conf"


def available() -> bool:
    """Whether this host has the Linux files the hardware and port measurements read."""
    return os.path.isfile(os.path.join(PROC, "meminfo")) and os.path.isfile(os.path.join(PROC, "self", "mounts"))


# --- hardware ---------------------------------------------------------------------------------


def _read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as handle:
        return handle.read()


def physical_cores() -> int | None:
    """Distinct cores, as psutil counts them on Linux: the sibling lists of sysfs, else /proc/cpuinfo."""
    for name in ("core_cpus_list", "thread_siblings_list"):
        lists = set()
        for path in glob.glob(os.path.join(SYS_CPU, "cpu[0-9]*", "topology", name)):
            try:
                lists.add(_read(path).strip())
            except OSError:
                continue
        if lists:
            return len(lists)
    pairs = set()
    physical_id = None
    try:
        for line in _read(os.path.join(PROC, "cpuinfo")).splitlines():
            key, _sep, value = (part.strip() for part in line.partition(":"))
            if key == "physical id":
                physical_id = value
            elif key == "core id":
                pairs.add((physical_id, value))
    except OSError:
        return None
    return len(pairs) or None


def cpu_counts() -> Dict[str, int | None]:
    return dict(logical=os.cpu_count() or 0, physical=physical_cores())


def memory() -> Dict[str, int]:
    """MemTotal and MemAvailable of /proc/meminfo, in bytes (MemFree where the kernel has no MemAvailable)."""
    fields = {}
    for line in _read(os.path.join(PROC, "meminfo")).splitlines():
        key, _sep, value = line.partition(":")
        words = value.split()
        if words and words[0].isdigit():
            fields[key.strip()] = int(words[0]) * (1024 if words[1:] == ["kB"] else 1)
    return dict(total_bytes=fields["MemTotal"], available_bytes=fields.get("MemAvailable", fields.get("MemFree", 0)))


def _unescape_mount_field(text: str) -> str:
    """/proc/self/mounts writes space, tab, newline and backslash in octal (\\040 ...)."""
    out, index = [], 0
    while index < len(text):
        chunk = text[index + 1 : index + 4]
        if text[index] == "\\" and len(chunk) == 3 and all(c in "01234567" for c in chunk):
            out.append(chr(int(chunk, 8)))
            index += 4
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def mount_entry(mount: str) -> Tuple[str, str] | None:
    """(device, fstype) of the file system mounted last at ``mount``: the one on top when they are stacked."""
    found = None
    for line in _read(os.path.join(PROC, "self", "mounts")).splitlines():
        fields = line.split()
        if len(fields) >= 3 and _unescape_mount_field(fields[1]) == mount:
            found = (_unescape_mount_field(fields[0]), fields[2])
    return found


def usage(path: str) -> Tuple[int, int]:
    """Size and space free to unprivileged users of the file system holding ``path``, as psutil.disk_usage."""
    stat = os.statvfs(path)
    return stat.f_blocks * stat.f_frsize, stat.f_bavail * stat.f_frsize


# --- ports ------------------------------------------------------------------------------------

LISTEN_STATE = "0A"


def _address(hex_address: str) -> str:
    """An address of /proc/net/tcp{,6}: the kernel's words in host (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = struct.unpack("<4I", raw)
    return socket.inet_ntop(socket.AF_INET6, struct.pack(">4I", *words))


def listening_sockets() -> List[Tuple[str, int, int]]:
    """(address, port, inode) of every listening TCP socket, IPv4 and IPv6."""
    found = []
    for name in ("tcp", "tcp6"):
        try:
            lines = _read(os.path.join(PROC, "net", name)).splitlines()[1:]
        except OSError:
            continue  # no IPv6 on this host
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != LISTEN_STATE:
                continue
            hex_address, hex_port = fields[1].split(":")
            found.append((_address(hex_address), int(hex_port, 16), int(fields[9])))
    return found


def socket_owners(inodes: Set[int]) -> Dict[int, int]:
    """The pid holding each socket inode, for the processes this one may look into (all of them as root)."""
    owners: Dict[int, int] = {}
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    for entry in os.listdir(PROC):
        if not entry.isdigit():
            continue
        fd_dir = os.path.join(PROC, entry, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or not ours to see
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target in wanted:
                owners.setdefault(wanted[target], int(entry))
    return owners


def process_name(pid: int | None) -> str | None:
    """The process name as psutil gives it: comm, or the command's base name when comm is cut at 15 characters."""
    if pid is None:
        return None
    try:
        name = _read(os.path.join(PROC, str(pid), "comm")).rstrip("\n")
        if len(name) >= 15:
            with open(os.path.join(PROC, str(pid), "cmdline"), "rb") as handle:
                argv0 = handle.read().split(b"\0")[0].decode("utf-8", "replace")
            if argv0 and os.path.basename(argv0).startswith(name):
                name = os.path.basename(argv0)
        return name
    except OSError:
        return None


def listeners_by_port() -> Dict[int, List[Dict[str, Any]]]:
    sockets = listening_sockets()
    owners = socket_owners({inode for _address_text, _port, inode in sockets})
    listeners: Dict[int, List[Dict[str, Any]]] = {}
    for address, port, inode in sockets:
        pid = owners.get(inode)
        listeners.setdefault(port, []).append(dict(address=address, pid=pid, process=process_name(pid)))
    for entries in listeners.values():
        entries.sort(key=lambda item: (item["address"], item["pid"] or 0))
    return listeners


# --- addresses --------------------------------------------------------------------------------


def interface_addresses() -> Set[Any]:
    """Every address of the host's interfaces: IPv4 from the kernel's local routes, IPv6 from if_inet6."""
    addresses: Set[Any] = set()
    try:
        last = None
        for line in _read(os.path.join(PROC, "net", "fib_trie")).splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "|--":
                last = words[1]
            elif words == ["/32", "host", "LOCAL"] and last is not None:
                addresses.add(ipaddress.ip_address(last))
    except OSError:
        pass
    try:
        for line in _read(os.path.join(PROC, "net", "if_inet6")).splitlines():
            words = line.split()
            if words and len(words[0]) == 32:
                addresses.add(ipaddress.ip_address(bytes.fromhex(words[0])))
    except OSError:
        pass
    return addresses


# --- DNS --------------------------------------------------------------------------------------

TYPES = {"A": 1, "PTR": 12, "AAAA": 28}
CLASS_IN = 1
NOERROR, SERVFAIL, NXDOMAIN, REFUSED = 0, 2, 3, 5
RCODE_NAMES = {1: "FORMERR", 2: "SERVFAIL", 4: "NOTIMP", 5: "REFUSED"}
# Characters dnspython writes with a backslash in a label's text.
ESCAPED = set(b'"().;\\@$')


class DnsError(Exception):
    """The servers gave no usable answer (time-out, SERVFAIL, REFUSED, a malformed reply)."""


def encode_name(text: str) -> bytes:
    """A host name in DNS wire form; raises ValueError saying why it is not one."""
    stripped = text[:-1] if text.endswith(".") else text
    if not stripped:
        raise ValueError("the name is empty")
    wire = b""
    for label in stripped.split("."):
        if not label:
            raise ValueError("a label is empty (two dots in a row, or a leading dot)")
        if "\\" in label:
            raise ValueError("escapes (\\) are not taken here")
        encoded = label.encode("ascii") if label.isascii() else label.encode("idna")
        if len(encoded) > 63:
            raise ValueError(f"the label {label!r} is longer than 63 bytes")
        wire += bytes([len(encoded)]) + encoded
    wire += b"\0"
    if len(wire) > 255:
        raise ValueError("the name is longer than 255 bytes")
    return wire


def name_error(text: str) -> str | None:
    try:
        encode_name(text)
    except (ValueError, UnicodeError) as exc:
        return str(exc) or type(exc).__name__
    return None


def label_text(label: bytes) -> str:
    """One label as dnspython writes it: special characters escaped, bytes outside printable ASCII as \\DDD."""
    out = []
    for byte in label:
        if byte in ESCAPED:
            out.append("\\" + chr(byte))
        elif 0x20 < byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


def canonical(text: str) -> str:
    """A name as compared: its labels in ASCII (IDNA for others), lower case, without the final dot."""
    wire = encode_name(text)
    labels, index = [], 0
    while wire[index]:
        labels.append(label_text(wire[index + 1 : index + 1 + wire[index]]))
        index += 1 + wire[index]
    return ".".join(labels).lower()


def read_name(message: bytes, offset: int) -> Tuple[str, int]:
    """The name at ``offset`` (following compression pointers) and the offset just after it."""
    labels: List[str] = []
    end = None
    jumps = 0
    while True:
        if offset >= len(message):
            raise DnsError("a name runs past the end of the answer")
        length = message[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(message):
                raise DnsError("a compression pointer runs past the end of the answer")
            if end is None:
                end = offset + 2
            jumps += 1
            if jumps > 64:
                raise DnsError("compression pointers loop")
            offset = ((length & 0x3F) << 8) | message[offset + 1]
        elif length & 0xC0:
            raise DnsError("an unknown label type")
        elif length == 0:
            return ".".join(labels), (end if end is not None else offset + 1)
        else:
            labels.append(label_text(message[offset + 1 : offset + 1 + length]))
            offset += 1 + length


def build_query(qname: bytes, rdtype: int) -> Tuple[int, bytes]:
    ident = random.randint(0, 0xFFFF)  # noqa: S311  (a query id, not a secret)
    header = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0)  # recursion desired
    return ident, header + qname + struct.pack(">HH", rdtype, CLASS_IN)


def parse_answer(message: bytes, ident: int, rdtype: int) -> Tuple[int, bool, List[str]]:
    """(rcode, truncated, the record texts of ``rdtype`` in the answer section)."""
    if len(message) < 12:
        raise DnsError("an answer shorter than a DNS header")
    got_id, flags, qdcount, ancount, _nscount, _arcount = struct.unpack(">HHHHHH", message[:12])
    if got_id != ident or not flags & 0x8000:
        raise DnsError("an answer to another question")
    offset = 12
    for _question in range(qdcount):
        _name, offset = read_name(message, offset)
        offset += 4
    records = []
    for _record in range(ancount):
        _name, offset = read_name(message, offset)
        if offset + 10 > len(message):
            raise DnsError("a record runs past the end of the answer")
        got_type, got_class, _ttl, length = struct.unpack(">HHIH", message[offset : offset + 10])
        data_offset = offset + 10
        offset = data_offset + length
        if offset > len(message):
            raise DnsError("a record runs past the end of the answer")
        if got_type != rdtype or got_class != CLASS_IN:
            continue  # a CNAME on the way, or another type
        data = message[data_offset:offset]
        if rdtype == TYPES["A"] and length == 4:
            records.append(socket.inet_ntop(socket.AF_INET, data))
        elif rdtype == TYPES["AAAA"] and length == 16:
            records.append(socket.inet_ntop(socket.AF_INET6, data))
        elif rdtype == TYPES["PTR"]:
            records.append(read_name(message, data_offset)[0] + ".")
    return flags & 0x000F, bool(flags & 0x0200), records


def _exchange_udp(server: str, port: int, query: bytes, ident: int, rdtype: int, timeout: float):
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.connect((server, port))
        sock.send(query)
        deadline = time.monotonic() + timeout
        while True:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            message = sock.recv(65535)
            try:
                return parse_answer(message, ident, rdtype)
            except DnsError:
                if time.monotonic() >= deadline:
                    raise
                # A stray datagram: keep waiting for the answer to this query.


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise DnsError("the server closed the TCP connection")
        data += chunk
    return data


def _exchange_tcp(server: str, port: int, query: bytes, ident: int, rdtype: int, timeout: float):
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect((server, port))
        sock.sendall(struct.pack(">H", len(query)) + query)
        (length,) = struct.unpack(">H", _recv_exactly(sock, 2))
        return parse_answer(_recv_exactly(sock, length), ident, rdtype)


def system_nameservers(path: str = RESOLV_CONF) -> List[str]:
    """The ``nameserver`` lines of resolv.conf, in order."""
    servers = []
    try:
        for line in _read(path).splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] == "nameserver":
                try:
                    ipaddress.ip_address(words[1].split("%")[0])
                except ValueError:
                    continue
                servers.append(words[1])
    except OSError:
        pass
    return servers


class Resolver:
    """Asks ``nameservers`` in turn, each at most ``timeout`` seconds per question, as dnspython's resolver does."""

    def __init__(self, nameservers: List[str], port: int, timeout: float):
        self.nameservers = list(nameservers)
        self.port = port
        self.timeout = timeout

    def records(self, qname: str, rdtype_name: str) -> List[str]:
        """The record texts; [] for NXDOMAIN or no data. Raises DnsError when no server gave an answer."""
        rdtype = TYPES[rdtype_name]
        wire = encode_name(qname)
        deadline = time.monotonic() + self.timeout
        problems = []
        for server in self.nameservers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ident, query = build_query(wire, rdtype)
            try:
                rcode, truncated, found = _exchange_udp(server, self.port, query, ident, rdtype, remaining)
                if truncated:
                    ident, query = build_query(wire, rdtype)
                    rcode, _truncated, found = _exchange_tcp(
                        server, self.port, query, ident, rdtype, max(deadline - time.monotonic(), 0.001)
                    )
            except (OSError, DnsError) as exc:
                problems.append(f"{server}:{self.port} {'did not answer in time' if _is_timeout(exc) else exc}")
                continue
            if rcode == NXDOMAIN:
                return []
            if rcode == NOERROR:
                return found
            problems.append(f"{server}:{self.port} answered {RCODE_NAMES.get(rcode, f'rcode {rcode}')}")
        if not problems:
            problems.append(f"no answer within {self.timeout:g} seconds")
        raise DnsError(f"{qname} {rdtype_name}: " + "; ".join(problems))


def _is_timeout(exc: Exception) -> bool:
    return isinstance(exc, (socket.timeout, TimeoutError))


def reverse_name(address: str) -> str:
    return ipaddress.ip_address(address).reverse_pointer + "."
