#!/usr/bin/python
# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: host_preflight
short_description: Measure a host against the OSPool Access Point requirements without changing it
version_added: 0.1.0
author:
  - Contributors to the osg_htc.site collection (!UNKNOWN)
description:
  - Measures what the OSG documentation requires of an OSPool Access Point (AP) before it is installed,
    and compares it with thresholds whose defaults are the AP minimums of
    U(https://osg-htc.org/docs/submit/install-ospool-ap/) (6 cores, 12 GB of memory, 1 TB of local disk,
    inbound TCP 9618, a public address with forward and reverse DNS).
  - Returns every measured value and a list of O(checks) that fall short (RV(failures)), with messages that
    say what is missing. Whether a shortfall fails the task is up to the caller (O(fail_on_error)), so a
    role can warn on a lab VM and stop on a production host.
  - "Cores: the logical CPUs of the host (C(psutil.cpu_count), hyperthreads included), which is what
    HTCondor counts by default (C(COUNT_HYPERTHREAD_CPUS = True))."
  - "Memory: the total memory the kernel reports (C(MemTotal)), in GiB (2^30 bytes), the unit memory is
    sold in; O(tolerance_percent) allows for what the kernel and firmware keep for themselves."
  - "Disk: the file system holding O(disk_path), or the nearest existing parent when the path does not exist
    yet (before HTCondor is installed); its size in GB (10^9 bytes), the unit disks are sold in, with
    O(tolerance_percent) for file system overhead. The result names the mount point that was measured."
  - "Ports: which TCP O(ports) something listens on, and which process when the module may see it
    (run it as root to see every process)."
  - "DNS: forward (A and AAAA) and reverse (PTR) lookups of O(fqdn) straight from DNS, as other hosts
    will see them, so C(/etc/hosts) entries do not count. The name must resolve, every forward address must
    have a PTR record, every PTR record must name O(fqdn) (case-insensitive, trailing dot ignored), and the
    forward addresses must include one of the host's own addresses. The host's loopback and link-local
    addresses are not counted as its own (no other host reaches them), and a forward address in the loopback
    range is itself a failure."
  - The module only reads the host and changes nothing, so it runs the same way in check mode. It needs
    nothing installed on the host beyond Python, so a host can be measured before anything is installed on it
    (RV(measured_with) says how it measured).
extends_documentation_fragment:
  - osg_htc.site._attributes
  - osg_htc.site._attributes.info_module
options:
  checks:
    description:
      - The checks to run. Leave out what does not apply, for example V(dns) on a lab VM without DNS,
        or V(disk) on a CE that keeps no large spool.
    type: list
    elements: str
    choices: [cores, memory, disk, dns, ports]
    default: [cores, memory, disk, dns, ports]
  min_cores:
    description: The least number of logical cores, from V(0) to V(1000000).
    type: int
    default: 6
  min_memory_gib:
    description:
      - The least total memory, in GiB (2^30 bytes), less O(tolerance_percent).
      - The OSG documentation asks for 12 GB; a machine or VM built with 12 GiB reports about 11.6 GiB,
        which passes with the default tolerance.
      - A finite number from V(0) to V(1000000000).
    type: float
    default: 12
  min_disk_gb:
    description:
      - The least size of the file system holding O(disk_path), in GB (10^9 bytes), less
        O(tolerance_percent).
      - The OSG documentation asks for 1 TB of local disk; a 1 TB disk formatted with ext4 or XFS reports
        about 98% of that.
      - A finite number from V(0) to V(1000000000).
    type: float
    default: 1000
  min_disk_free_gb:
    description:
      - The least free space (available to unprivileged users) on the file system holding O(disk_path), in
        GB (10^9 bytes). V(0) checks nothing; the free space is reported either way.
      - A finite number from V(0) to V(1000000000).
    type: float
    default: 0
  disk_path:
    description:
      - The directory whose file system is measured; by default the HTCondor spool, where job sandboxes go.
      - It need not exist yet; its nearest existing parent is measured.
    type: path
    default: /var/lib/condor
  tolerance_percent:
    description:
      - How far below O(min_memory_gib) and O(min_disk_gb) a host may measure and still pass, in percent.
        OSG's figures are nominal sizes, while the kernel reports a little less memory than is installed and
        a file system a little less space than its disk.
      - Applies to neither cores nor free space.
      - At least V(0) and below V(100).
    type: float
    default: 5
  ports:
    description:
      - The TCP ports HTCondor needs, 9618 for an Access Point or central manager, 9619 for an HTCondor-CE.
      - Whether the port is open to other hosts (firewalls, security groups) cannot be seen from the host
        itself and is not checked.
      - Each is a port number from V(1) to V(65535).
    type: list
    elements: int
    default: [9618]
  port_expect:
    description:
      - What each of O(ports) should be.
      - V(free_or_listening) (before and after installing) passes when nothing listens on the port, or when a
        process matching O(port_owners) does.
      - V(free) passes only when nothing listens on the port.
      - V(listening) (after installing) passes only when a process matching O(port_owners) listens on it.
    type: str
    choices: [free, free_or_listening, listening]
    default: free_or_listening
  port_owners:
    description:
      - Shell-style patterns (C(fnmatch)) of the process names allowed to hold O(ports). HTCondor and
        HTCondor-CE listen with C(condor_shared_port) (or C(condor_collector)).
      - An empty list accepts any process.
      - When the module may not see which process listens (not run as root), the listener is accepted and a
        warning says so.
    type: list
    elements: str
    default: ['condor_*']
  fqdn:
    description:
      - The name to look up in DNS. Defaults to the host's fully qualified name as Python's
        C(socket.getfqdn) gives it.
      - A name without a dot (such as C(localhost)) fails the V(dns) check.
    type: str
  nameservers:
    description:
      - IP addresses of the DNS servers to ask, instead of those of C(/etc/resolv.conf).
    type: list
    elements: str
  dns_port:
    description: The port the DNS servers answer on, from V(1) to V(65535).
    type: int
    default: 53
  dns_timeout:
    description:
      - How many seconds to wait for each DNS answer, across all the servers; more than V(0) and at most V(60).
      - The V(dns) check asks for the A and AAAA records and then the PTR record of each address, so it takes
        at most this long times two plus the number of addresses.
    type: float
    default: 5
  fail_on_error:
    description:
      - Fail the task when a check falls short. The default only reports, in RV(passed) and RV(failures), so
        the caller decides whether a shortfall is a warning or an error.
      - Bad options always fail the task, and so does a host that is not Linux and lacks psutil. A numeric option
        outside its range, not a number (NaN) or infinite fails the task with a message naming the option and its
        range.
    type: bool
    default: false
requirements:
  - Python 3.9 or newer on the host. psutil (package C(python3-psutil)) and dnspython 2.0 or newer (C(python3-dns)
    on EL, C(python3-dnspython) on Debian and Ubuntu) are used when present.
  - Without psutil, the cores, memory, disk, ports and own addresses are read from Linux's C(/proc) and C(/sys),
    the files psutil reads there (other systems need psutil). Without dnspython, a built-in DNS client asks the same
    questions (A, AAAA, PTR, recursion desired, over UDP, over TCP when an answer is truncated) of the same
    servers.
notes:
  - The own-address check fails behind 1:1 NAT (for example a cloud VM whose public address is not on any
    of its interfaces). HTCondor then needs C(TCP_FORWARDING_HOST); check the NAT mapping by hand and leave
    V(dns) out of O(checks) or ignore that failure.
  - The OSPool also asks for a public address; RV(dns.addresses) says which forward addresses are global,
    but a private address is not counted as a failure, so lab networks pass.
seealso:
  - name: Install an OSPool Access Point
    description: The hardware and network requirements this module checks.
    link: https://osg-htc.org/docs/submit/install-ospool-ap/
  - name: HTCondor networking
    description: Ports and the shared port daemon.
    link: https://htcondor.readthedocs.io/en/latest/admin-manual/networking.html
"""

EXAMPLES = r"""
- name: Audit an Access Point before installing it, and stop if it falls short
  osg_htc.site.host_preflight:
    fail_on_error: true

- name: Audit a small lab VM against its own DNS server, without the hardware minimums
  osg_htc.site.host_preflight:
    checks: [dns, ports]
    fqdn: ap.lab.example.org
    nameservers: [192.0.2.53]
  register: __preflight

- name: Warn about each shortfall
  ansible.builtin.debug:
    msg: "{{ __preflight.failures | map(attribute='message') | list }}"
  when: not __preflight.passed

- name: After installing an HTCondor-CE, check that it listens on 9619
  osg_htc.site.host_preflight:
    checks: [ports]
    ports: [9619]
    port_expect: listening
    fail_on_error: true
"""

RETURN = r"""
passed:
  description: Whether every check that ran passed.
  returned: always
  type: bool
  sample: false
failures:
  description: The checks that fell short, one entry per finding.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: The check, one of O(checks).
      type: str
      sample: cores
    measured:
      description: What was measured, in the unit of the corresponding return value (a count, bytes, an address list).
      type: raw
      sample: 2
    required:
      description: What the check asked for, in the same unit (nominal, before O(tolerance_percent)).
      type: raw
      sample: 6
    message:
      description: The finding in words.
      type: str
      sample: 2 logical cores, the OSPool AP minimum is 6
  sample:
    - check: cores
      measured: 2
      required: 6
      message: 2 logical cores, the OSPool AP minimum is 6
checks:
  description: The checks that ran.
  returned: always
  type: list
  elements: str
  sample: [cores, memory, disk, dns, ports]
cores:
  description: The host's CPUs.
  returned: when V(cores) is in O(checks)
  type: dict
  contains:
    logical:
      description: Logical CPUs (hyperthreads count), the number that is checked.
      type: int
    physical:
      description: Physical cores, or V(null) when the platform does not say.
      type: int
  sample: {logical: 2, physical: 1}
memory:
  description: The host's memory.
  returned: when V(memory) is in O(checks)
  type: dict
  contains:
    total_bytes:
      description: Total memory as the kernel reports it, the number that is checked.
      type: int
    available_bytes:
      description: Memory available to new processes right now.
      type: int
  sample: {total_bytes: 25276510208, available_bytes: 24579903488}
disk:
  description: The file system holding O(disk_path).
  returned: when V(disk) is in O(checks)
  type: dict
  contains:
    path:
      description: O(disk_path) as given.
      type: str
    measured_path:
      description: The nearest existing directory at or above O(disk_path), which was measured.
      type: str
    mount:
      description: The mount point of the file system that was measured.
      type: str
    device:
      description: The device mounted there, or V(null) if not found in the mount table.
      type: str
    fstype:
      description: The file system type, or V(null) if not found in the mount table.
      type: str
    total_bytes:
      description: The size of the file system, the number that is checked.
      type: int
    free_bytes:
      description: Free space available to unprivileged users.
      type: int
  sample:
    path: /var/lib/condor
    measured_path: /var/lib
    mount: /
    device: /dev/vda
    fstype: ext4
    total_bytes: 270553174016
    free_bytes: 84310933504
ports:
  description: One entry per port of O(ports).
  returned: when V(ports) is in O(checks)
  type: list
  elements: dict
  contains:
    port:
      description: The TCP port.
      type: int
    state:
      description: V(free) or V(listening).
      type: str
    listeners:
      description: The sockets listening on the port, with the process when the module may see it.
      type: list
      elements: dict
      sample: [{address: 0.0.0.0, pid: 1234, process: condor_shared_port}]
    passed:
      description: Whether the port is as O(port_expect) asks.
      type: bool
  sample: [{port: 9618, state: free, listeners: [], passed: true}]
measured_with:
  description: What measured, the libraries or the built-in fallbacks used when one is not installed.
  returned: always
  type: dict
  contains:
    hardware:
      description: V(psutil), or Linux's C(/proc) and C(/sys) when psutil is not installed.
      type: str
    dns:
      description: V(dnspython), or the module's own DNS client when dnspython is not installed.
      type: str
  sample: {hardware: psutil, dns: dnspython}
dns:
  description: What DNS says about O(fqdn).
  returned: when V(dns) is in O(checks)
  type: dict
  contains:
    fqdn:
      description: The name that was looked up.
      type: str
    nameservers:
      description: The servers that were asked (from C(/etc/resolv.conf) unless O(nameservers) was given).
      type: list
      elements: str
    port:
      description: The port they were asked on.
      type: int
    addresses:
      description:
        - The forward (A and AAAA) addresses of O(fqdn), each with its PTR names, whether those all name
          O(fqdn), whether it is one of the host's own addresses, and whether it is a global (public) one.
      type: list
      elements: dict
      sample:
        - {address: 192.0.2.2, family: ipv4, ptr: [ap.example.org], ptr_matches: true, own: true, global: false}
    host_addresses:
      description: The host's own addresses, loopback and link-local left out.
      type: list
      elements: str
      sample: [192.0.2.2, 'fd00::2']
"""

import fnmatch
import ipaddress
import math
import os
import socket

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.osg_htc.site.plugins.module_utils._arguments import fail_overflowing
from ansible_collections.osg_htc.site.plugins.module_utils._preflight import (
    NoNameserver,
    PreflightError,
    address_texts,
    can_measure_hardware,
    canonical_name,
    cpu_counts,
    disk,
    dns_name_error,
    listeners_by_port,
    look_up,
    measured_with,
    memory,
    own_addresses,
)

ALL_CHECKS = ["cores", "memory", "disk", "dns", "ports"]
# The OSPool Access Point minimums of https://osg-htc.org/docs/submit/install-ospool-ap/
OSPOOL_AP = {"min_cores": 6, "min_memory_gib": 12, "min_disk_gb": 1000}
GIB = 2**30
GB = 10**9
PSUTIL_PACKAGES = "python3-psutil; needed on systems other than Linux"

# The valid range of each numeric option, as DOCUMENTATION gives it: (least, most, least excluded,
# most excluded, unit). Thresholds stop at sizes no host reaches, so every product stays finite.
LIMITS = {
    "min_cores": (0, 10**6, False, False, ""),
    "min_memory_gib": (0, 10**9, False, False, " GiB"),
    "min_disk_gb": (0, 10**9, False, False, " GB"),
    "min_disk_free_gb": (0, 10**9, False, False, " GB"),
    "tolerance_percent": (0, 100, False, True, " percent"),
    # Each DNS lookup waits at most this long; the module makes 2 plus one per address.
    "dns_timeout": (0, 60, True, False, " seconds"),
}


def argument_spec():
    return dict(
        checks=dict(type="list", elements="str", choices=ALL_CHECKS, default=list(ALL_CHECKS)),
        min_cores=dict(type="int", default=OSPOOL_AP["min_cores"]),
        min_memory_gib=dict(type="float", default=OSPOOL_AP["min_memory_gib"]),
        min_disk_gb=dict(type="float", default=OSPOOL_AP["min_disk_gb"]),
        min_disk_free_gb=dict(type="float", default=0),
        disk_path=dict(type="path", default="/var/lib/condor"),
        tolerance_percent=dict(type="float", default=5),
        ports=dict(type="list", elements="int", default=[9618]),
        port_expect=dict(type="str", choices=["free", "free_or_listening", "listening"], default="free_or_listening"),
        port_owners=dict(type="list", elements="str", default=["condor_*"]),
        fqdn=dict(type="str"),
        nameservers=dict(type="list", elements="str"),
        dns_port=dict(type="int", default=53),
        dns_timeout=dict(type="float", default=5),
        fail_on_error=dict(type="bool", default=False),
    )


def in_range(value, least, most, least_excluded=False, most_excluded=False) -> bool:
    """Whether ``value`` is a finite number within the bounds (ints of any size are compared exactly)."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    above = least < value if least_excluded else least <= value
    below = value < most if most_excluded else value <= most
    return above and below


def range_text(name):
    """The valid range of a numeric option of LIMITS, in words."""
    least, most, least_excluded, most_excluded, unit = LIMITS[name]
    low = f"more than {least}" if least_excluded else f"at least {least}"
    high = f"below {most}" if most_excluded else f"at most {most}"
    return f"a number {low} and {high}{unit}"


def range_error(name, value):
    """The message for an option outside LIMITS, naming the option, the value and the valid range."""
    if in_range(value, *LIMITS[name][:4]):
        return None
    return f"{name} must be {range_text(name)}, got {value}"


def input_errors(params):
    """Everything wrong with the options, each naming the option, the value and what is valid."""
    errors = [message for message in (range_error(name, params[name]) for name in LIMITS) if message]
    if "\x00" in params["disk_path"] or not os.path.isabs(params["disk_path"]):
        errors.append(f"disk_path must be an absolute path, got {params['disk_path']!r}")
    for port in params["ports"]:
        if not 1 <= port <= 65535:
            errors.append(f"ports: {port} is not a TCP port (1-65535)")
    if not 1 <= params["dns_port"] <= 65535:
        errors.append(f"dns_port must be a port number (1-65535), got {params['dns_port']}")
    for server in params["nameservers"] or []:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            errors.append(f"nameservers: {server!r} is not an IPv4 or IPv6 address")
    if params["fqdn"] is not None and not params["fqdn"].strip(". "):
        errors.append(f"fqdn must be a host name, got {params['fqdn']!r}")
    return errors


class Findings:
    """The failures list of the result, and the wording of minimums in its messages."""

    def __init__(self):
        self.failures = []

    def add(self, check, measured, required, message):
        self.failures.append(dict(check=check, measured=measured, required=required, message=message))

    @staticmethod
    def minimum(option, value):
        """'the OSPool AP minimum' when the threshold is OSG's own, else 'the required minimum'."""
        return "the OSPool AP minimum" if OSPOOL_AP.get(option) == value else "the required minimum"


def tolerated(minimum, tolerance_percent):
    return minimum * (100 - tolerance_percent) / 100


def number(value):
    """12.0 -> '12', 11.56 -> '11.6': sizes in messages without needless decimals."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def check_cores(params, findings):
    measured = cpu_counts()
    logical, required = measured["logical"], params["min_cores"]
    if logical < required:
        findings.add(
            "cores",
            logical,
            required,
            f"{logical} logical cores, {findings.minimum('min_cores', required)} is {required}",
        )
    return measured


def check_memory(params, findings):
    measured = memory()
    total, required_gib = measured["total_bytes"], params["min_memory_gib"]
    if total < tolerated(required_gib * GIB, params["tolerance_percent"]):
        findings.add(
            "memory",
            total,
            int(required_gib * GIB),
            f"{number(total / GIB)} GiB of memory, {findings.minimum('min_memory_gib', required_gib)} "
            f"is {number(required_gib)} GiB ({number(tolerated(required_gib, params['tolerance_percent']))} GiB "
            f"with the {number(params['tolerance_percent'])}% tolerance)",
        )
    return measured


def check_disk(params, findings):
    measured = disk(params["disk_path"])
    mount, total, free = measured["mount"], measured["total_bytes"], measured["free_bytes"]
    where = (
        f"on {mount}"
        if measured["measured_path"] == params["disk_path"]
        else f"on {mount} (holding {params['disk_path']})"
    )
    required_gb = params["min_disk_gb"]
    if total < tolerated(required_gb * GB, params["tolerance_percent"]):
        findings.add(
            "disk",
            total,
            int(required_gb * GB),
            f"{number(total / GB)} GB of disk {where}, {findings.minimum('min_disk_gb', required_gb)} "
            f"is {number(required_gb)} GB ({number(tolerated(required_gb, params['tolerance_percent']))} GB "
            f"with the {number(params['tolerance_percent'])}% tolerance)",
        )
    required_free_gb = params["min_disk_free_gb"]
    if free < required_free_gb * GB:
        findings.add(
            "disk",
            free,
            int(required_free_gb * GB),
            f"{number(free / GB)} GB free {where}, the required minimum is {number(required_free_gb)} GB free",
        )
    return measured


def check_ports(module, params, findings):
    try:
        listening = listeners_by_port()
    except PreflightError as exc:
        module.fail_json(msg=f"{exc}; run as root or leave ports out of checks")
    owners = params["port_owners"]
    expect = params["port_expect"]
    wanted = {
        "free": "free",
        "free_or_listening": "free, or held by " + (" or ".join(owners) if owners else "any process"),
        "listening": "held by " + (" or ".join(owners) if owners else "any process"),
    }[expect]
    results = []
    for port in params["ports"]:
        listeners = listening.get(port, [])
        entry = dict(port=port, state="listening" if listeners else "free", listeners=listeners, passed=True)
        results.append(entry)
        unknown = [item for item in listeners if item["process"] is None]
        if unknown and owners and expect != "free":
            module.warn(
                f"Cannot see which process listens on TCP port {port} (run as root to find out); counting it as "
                f"one of {', '.join(owners)}"
            )
        strangers = [
            item
            for item in listeners
            if item["process"] is not None and not any(fnmatch.fnmatchcase(item["process"], glob) for glob in owners)
        ]
        held_by = ", ".join(
            f"{item['process'] or 'an unknown process'}"
            + (f" (pid {item['pid']})" if item["pid"] is not None else "")
            + f" on {item['address']}"
            for item in listeners
        )
        if expect == "free" and listeners:
            message = f"TCP port {port} is taken by {held_by}; it should be free"
        elif expect == "listening" and not listeners:
            message = f"nothing listens on TCP port {port}; it should be {wanted}"
        elif expect != "free" and owners and strangers:
            message = f"TCP port {port} is taken by {held_by}; it should be {wanted}"
        else:
            continue
        entry["passed"] = False
        findings.add("ports", listeners, wanted, message)
    return results


def check_dns(params, findings):
    fqdn = params["fqdn"] or socket.getfqdn()
    result = dict(fqdn=fqdn, nameservers=[], port=params["dns_port"], addresses=[], host_addresses=[])
    mine = own_addresses()
    result["host_addresses"] = address_texts(mine)
    if "." not in fqdn.strip("."):
        findings.add(
            "dns",
            fqdn,
            "a fully qualified domain name",
            f"the host name {fqdn!r} is not fully qualified; give the host its DNS name or set fqdn",
        )
        return result
    try:
        answer = look_up(fqdn, params["nameservers"], params["dns_port"], params["dns_timeout"])
    except NoNameserver as exc:
        findings.add("dns", None, "a nameserver", f"no DNS server to ask: {exc}; set nameservers")
        return result
    result["nameservers"] = answer.nameservers
    servers = ", ".join(f"{server}:{answer.port}" for server in answer.nameservers)
    wanted = canonical_name(fqdn)
    for text, ptr in answer.reverse:
        address = ipaddress.ip_address(text)
        entry = dict(
            address=text,
            family=f"ipv{address.version}",
            ptr=ptr,
            ptr_matches=bool(ptr) and all(target == wanted for target in ptr),
            own=address in mine,
            **{"global": address.is_global},
        )
        result["addresses"].append(entry)
        if address.is_loopback:
            findings.add(
                "dns",
                text,
                "an address other hosts can reach",
                f"{fqdn} resolves to the loopback address {text}, which other hosts cannot reach",
            )
        if not ptr:
            findings.add("dns", [], fqdn, f"{text} (an address of {fqdn}) has no PTR record")
        elif not entry["ptr_matches"]:
            findings.add(
                "dns", ptr, fqdn, f"{text} (an address of {fqdn}) points back to {', '.join(ptr)}, not to {fqdn}"
            )
    if answer.error is not None:
        findings.add("dns", None, "an answer", f"no DNS answer about {fqdn} from {servers}: {answer.error}")
        return result
    if not answer.forward:
        findings.add("dns", [], "an A or AAAA record", f"{fqdn} does not resolve: no A or AAAA record from {servers}")
        return result
    if not any(entry["own"] for entry in result["addresses"]):
        findings.add(
            "dns",
            answer.forward,
            result["host_addresses"],
            f"{fqdn} resolves to {', '.join(answer.forward)}, none of which is an address of this host "
            f"({', '.join(result['host_addresses']) or 'none but loopback and link-local'})",
        )
    return result


def main():
    try:
        module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    except OverflowError:  # infinity for an int option, on some ansible-core releases
        valid = {name: range_text(name) for name in LIMITS}
        valid.update(ports="TCP ports (1-65535)", dns_port="a port (1-65535)")
        fail_overflowing(argument_spec(), valid, supports_check_mode=True)
    params = module.params
    errors = input_errors(params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    checks = [check for check in ALL_CHECKS if check in params["checks"]]
    if checks and not can_measure_hardware():
        module.fail_json(msg=missing_required_lib(f"psutil ({PSUTIL_PACKAGES})"))
    if "dns" in checks and params["fqdn"] is not None:
        error = dns_name_error(params["fqdn"])
        if error is not None:
            module.fail_json(msg=f"fqdn {params['fqdn']!r} is not a valid DNS name: {error}")

    findings = Findings()
    result = dict(changed=False, checks=checks, measured_with=measured_with())
    if "cores" in checks:
        result["cores"] = check_cores(params, findings)
    if "memory" in checks:
        result["memory"] = check_memory(params, findings)
    if "disk" in checks:
        result["disk"] = check_disk(params, findings)
    if "dns" in checks:
        result["dns"] = check_dns(params, findings)
    if "ports" in checks:
        result["ports"] = check_ports(module, params, findings)
    result.update(failures=findings.failures, passed=not findings.failures)
    if findings.failures and params["fail_on_error"]:
        module.fail_json(msg="; ".join(item["message"] for item in findings.failures), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
