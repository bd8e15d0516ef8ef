#!/usr/bin/python
# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.gratia_probe`` module: set attributes of a Gratia probe's ProbeConfig."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gratia_probe
short_description: Set attributes of a Gratia probe's ProbeConfig, keeping the rest of the file as shipped
version_added: 0.1.0
author:
  - Contributors to the osg_htc.site collection (!UNKNOWN)
description:
  - Sets attributes of the first C(ProbeConfiguration) element of a Gratia probe's C(ProbeConfig), the
    XML file the probe reads with C(xml.dom.minidom), for example C(SiteName), C(ProbeName) and
    C(EnableProbe) as the OSG documentation asks of an Access Point or a CE.
  - Every other byte of the file stays as it was (comments, attribute order, other attributes, white
    space, quoting). An existing attribute gets its value replaced in place; a missing one is added on
    its own line after the last attribute, indented like its neighbours.
  - The element is found with an XML parser, so a C(<ProbeConfiguration) inside a comment is never taken
    for it. The new file is parsed as the probe parses it and must read back the wanted values before it
    replaces the old one.
  - Values of attributes the probe interprets are checked first, and nothing is written if one is wrong.
options:
  probe:
    description:
      - The probe, for example V(condor-ap) (an Access Point) or V(htcondor-ce) (a CE).
      - Names the default O(path), the package named when the file is missing, and the prefix
        C(ProbeName) must have.
      - Letters, digits, C(.), C(_) and C(-).
    type: str
    required: true
  path:
    description: The ProbeConfig file. Defaults to C(/etc/gratia/<probe>/ProbeConfig).
    type: path
  attributes:
    description:
      - Attribute names and the values to set. V(true)/V(false) become V(1)/V(0) and numbers become
        strings, as the probe expects. Numbers must be finite and from -2^63 to 2^63-1.
      - Names must be XML names (ASCII letters, digits, C(.), C(_), C(-), starting with a letter or C(_)).
        Any attribute may be set, since probes read many; these are checked as the probe reads them.
      - C(EnableProbe) is V(1), V(0), V(true) or V(false) (the probe treats empty, V(0) and V(false) as off).
      - C(SuppressUnknownVORecords), C(SuppressNoDNRecords), C(SuppressGridLocalRecords),
        C(QuarantineUnknownVORecords), C(MapUnknownToGroup) and C(NoCertinfoBatchRecordsAreLocal) are
        V(1), V(0), V(true), V(false), V(t) or V(f) in any case (the probe takes C(True), C(1) or C(t) as
        true and anything else as false, so other words are refused as typos).
      - C(MapGroupToRole), C(UseSSL), C(UseSyslog), C(UseSoapProtocol) and C(UseGratiaCertificates) are
        V(1) or V(0) (the probe compares with C(1) or converts with C(int)).
      - C(DebugLevel), C(LogLevel), C(LogRotate), C(DataFileExpiration), C(QuarantineSize),
        C(MaxPendingFiles), C(MaxStagedArchives), C(BundleSize) and C(ConnectionTimeout) are whole
        numbers from V(0) to V(2147483647).
      - C(CollectorHost), C(SSLHost) and C(SSLRegistrationHost) are C(host:port) with a port from 1 to 65535.
      - C(ProbeName) is C(<probe>:<fully qualified host name>), for example V(condor-ap:ap.example.edu).
      - C(SiteName) is the Topology resource name; empty and the template's C(Generic site) are refused.
    type: dict
    required: true
  backup:
    description: Keep a timestamped copy of the file before it is changed.
    type: bool
    default: false
  missing:
    description:
      - What to do when the ProbeConfig does not exist. V(fail) names the package that provides it; V(skip) changes
        nothing and returns RV(exists=false), for a host where the probe is optional (the Access Point role on
        Debian and Ubuntu, where no probe package exists). The attributes are checked either way.
    type: str
    choices: [fail, skip]
    default: fail
    version_added: 0.2.0
extends_documentation_fragment:
  - osg_htc.site._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff is the old and new text of the file (a ProbeConfig holds no secrets).
notes:
  - Only UTF-8 (or ASCII) files are edited, as packaged ProbeConfig files are. A file in another encoding
    (UTF-16 or UTF-32, told by its byte order mark or its NUL bytes, or bytes that are not UTF-8) is refused with a
    message naming the file and the encoding found, and is left alone.
  - The file's owner, group, mode and SELinux context are kept (the package sets them). The module takes no
    file attribute options, since its O(attributes) option names the XML attributes.
seealso:
  - name: Troubleshooting Gratia accounting
    description: Which ProbeConfig attributes an OSG site sets and where the probe logs.
    link: https://osg-htc.org/docs/other/troubleshooting-gratia/
  - name: gratia-probe
    description: The probe's source, including how it reads ProbeConfig.
    link: https://github.com/opensciencegrid/gratia-probe
"""

EXAMPLES = r"""
- name: Report this Access Point's jobs to OSG accounting
  osg_htc.site.gratia_probe:
    probe: condor-ap
    attributes:
      SiteName: OSG_US_EXAMPLE_SUBMIT
      ProbeName: "condor-ap:{{ ansible_facts['fqdn'] }}"
      EnableProbe: true

- name: Drop records without a DN on a Slurm CE shared with local users
  osg_htc.site.gratia_probe:
    probe: htcondor-ce
    attributes:
      SuppressNoDNRecords: true
    backup: true
"""

RETURN = r"""
path:
  description: The ProbeConfig file.
  returned: always
  type: str
  sample: /etc/gratia/condor-ap/ProbeConfig
exists:
  description: Whether the ProbeConfig exists; false only with O(missing=skip).
  returned: always
  type: bool
  version_added: 0.2.0
attributes:
  description: Every attribute of the C(ProbeConfiguration) element after the change, as the probe reads them.
  returned: success
  type: dict
  sample:
    CollectorHost: gratia-osg-prod.opensciencegrid.org:80
    EnableProbe: "1"
    SiteName: OSG_US_EXAMPLE_SUBMIT
backup_file:
  description: The backup copy of the old file.
  returned: when O(backup=true) and the file changed
  type: str
  sample: /etc/gratia/condor-ap/ProbeConfig.12345.2026-01-01@00:00:00~
"""

import math
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osg_htc.site.plugins.module_utils._files import (
    FileError,
    ensure_file,
    exit_with_outcome,
    read_bytes,
)
from ansible_collections.osg_htc.site.plugins.module_utils._probe_config import (
    ProbeConfigError,
    read_attributes,
    set_attributes,
    unrepresentable,
)

PROBE_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]*\Z")
XML_NAME_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9._-]*\Z")
HOSTNAME_RE = re.compile(
    r"\A(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\Z"
)
IPV6_RE = re.compile(r"\A\[[0-9A-Fa-f:.]+\]\Z")
PACKAGES = {"condor-ap": "gratia-probe-condor-ap", "htcondor-ce": "gratia-probe-htcondor-ce"}

# How the probe reads its attributes (gratia-probe common/gratia/common/probe_config.py).
ENABLE_VALUES = ("0", "1", "true", "false")
REGEX_BOOLEANS = (
    "SuppressUnknownVORecords",
    "SuppressNoDNRecords",
    "SuppressGridLocalRecords",
    "QuarantineUnknownVORecords",
    "MapUnknownToGroup",
    "NoCertinfoBatchRecordsAreLocal",
)
REGEX_BOOLEAN_VALUES = ("1", "0", "true", "false", "t", "f")
INTEGER_FLAGS = ("MapGroupToRole", "UseSSL", "UseSyslog", "UseSoapProtocol", "UseGratiaCertificates")
COUNTS = (
    "DebugLevel",
    "LogLevel",
    "LogRotate",
    "DataFileExpiration",
    "QuarantineSize",
    "MaxPendingFiles",
    "MaxStagedArchives",
    "BundleSize",
    "ConnectionTimeout",
)
# The largest count: what a C int holds, far above any sensible level, size, timeout or number of files.
MAX_COUNT = 2**31 - 1
HOST_PORTS = ("CollectorHost", "SSLHost", "SSLRegistrationHost")


def as_text(name, value) -> str:
    """The attribute text for an option value: booleans as 1/0, numbers as decimal."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        # The range of a 64-bit integer, also for reals: enough for any setting, and printable.
        if not ((isinstance(value, int) or math.isfinite(value)) and -(2**63) <= value <= 2**63 - 1):
            shown = repr(value) if isinstance(value, float) or value.bit_length() <= 200 else "a very large integer"
            raise ValueError(
                f"attribute {name} value {shown} is not valid: numbers must be finite and from "
                f"{-(2**63)} to {2**63 - 1}"
            )
        return str(value)
    if isinstance(value, str):
        return value
    # Named apart: a line with "or" before type( reads as a type comparison to ansible-test 2.16.
    kind = type(value).__name__
    raise ValueError(f"attribute {name} must be a string, number or boolean, not a {kind}")


def is_host_port(value: str) -> bool:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
        return False
    return bool(HOSTNAME_RE.match(host) or IPV6_RE.match(host))


def check_attribute(probe: str, name: str, value: str) -> None:
    """Raise ValueError naming the attribute, its value and what is valid."""
    if not XML_NAME_RE.match(name):
        raise ValueError(
            f"attribute name {name!r} is not an XML name: use ASCII letters, digits, '.', '_' and '-', "
            "starting with a letter or '_'"
        )
    bad = unrepresentable(value)
    if bad is not None:
        raise ValueError(f"attribute {name} value {value!r} holds {bad}, a character XML 1.0 cannot represent")
    if name == "EnableProbe" and value.lower() not in ENABLE_VALUES:
        raise ValueError(f"attribute EnableProbe value {value!r} is not valid: use 1 or 0 (true or false)")
    if name in REGEX_BOOLEANS and value.lower() not in REGEX_BOOLEAN_VALUES:
        raise ValueError(
            f"attribute {name} value {value!r} is not a boolean the probe reads: use 1 or 0 "
            "(true/false or t/f also work)"
        )
    if name in INTEGER_FLAGS and value not in ("0", "1"):
        raise ValueError(f"attribute {name} value {value!r} is not valid: use 1 or 0")
    if name in COUNTS and not (value.isascii() and value.isdigit() and len(value) <= 10 and int(value) <= MAX_COUNT):
        raise ValueError(f"attribute {name} value {value!r} is not valid: use a whole number from 0 to {MAX_COUNT}")
    if name in HOST_PORTS and not is_host_port(value):
        raise ValueError(
            f"attribute {name} value {value!r} is not host:port: use e.g. gratia-osg-prod.opensciencegrid.org:443 "
            "(a host name, IPv4 address or [IPv6] address and a port from 1 to 65535)"
        )
    if name == "ProbeName":
        prefix, sep, host = value.partition(":")
        if prefix != probe or not sep or not HOSTNAME_RE.match(host) or "." not in host:
            raise ValueError(
                f"attribute ProbeName value {value!r} is not valid: use {probe}:<fully qualified host name>, "
                f"e.g. {probe}:ap.example.edu"
            )
    if name == "SiteName" and value.strip().lower() in ("", "generic site"):
        raise ValueError(
            f"attribute SiteName value {value!r} is not valid: use the site's Topology resource name, "
            "e.g. OSG_US_EXAMPLE_SUBMIT (empty and the template's 'Generic site' are refused)"
        )


def wanted_values(probe: str, attributes: dict) -> dict:
    values = {}
    for name, value in attributes.items():
        text = as_text(name, value)
        check_attribute(probe, name, text)
        values[name] = text
    return values


def verify_candidate(expected: dict):
    """A validate hook for ensure_file: the candidate must read back ``expected`` as the probe reads it."""

    def verify(candidate_path: str) -> None:
        with open(candidate_path, "rb") as f:
            got = read_attributes(f.read())
        wrong = sorted(name for name, value in expected.items() if got.get(name) != value)
        if wrong:
            raise FileError(f"The new ProbeConfig does not read back the wanted values of {', '.join(wrong)}")

    return verify


def main():
    module = AnsibleModule(
        argument_spec=dict(
            probe=dict(type="str", required=True),
            path=dict(type="path"),
            attributes=dict(type="dict", required=True),
            backup=dict(type="bool", default=False),
            missing=dict(type="str", choices=["fail", "skip"], default="fail"),
        ),
        supports_check_mode=True,
    )
    probe = module.params["probe"]
    if not PROBE_RE.match(probe):
        module.fail_json(
            msg=f"probe {probe!r} is not a probe name: use letters, digits, '.', '_' and '-', e.g. condor-ap"
        )
    path = module.params["path"] or f"/etc/gratia/{probe}/ProbeConfig"
    result = dict(changed=False, path=path, exists=True)
    try:
        values = wanted_values(probe, module.params["attributes"])
    except ValueError as exc:
        module.fail_json(msg=f"{path}: {exc}", **result)

    try:
        current = read_bytes(path)
    except FileError as exc:
        module.fail_json(msg=str(exc), **result)
    if current is None and module.params["missing"] == "skip":
        result["exists"] = False
        module.exit_json(msg=f"{path} does not exist: nothing to configure", **result)
    if current is None:
        package = PACKAGES.get(probe, f"gratia-probe-{probe}")
        module.fail_json(msg=f"{path} does not exist: install the package {package}, which provides it", **result)

    try:
        content = set_attributes(current, values)
        before_attributes = read_attributes(current)
        after_attributes = read_attributes(content)
    except ProbeConfigError as exc:
        module.fail_json(msg=f"{path} {exc}", **result)
    # Everything else must read back as before: a guard on the byte-level edit.
    untouched = {name: value for name, value in before_attributes.items() if name not in values}
    if {name: after_attributes.get(name) for name in untouched} != untouched:
        module.fail_json(
            msg=f"Refusing to write {path}: the edit would change attributes it was not asked to", **result
        )

    try:
        outcome = ensure_file(
            module,
            path,
            content,
            backup=module.params["backup"],
            validate=verify_candidate(values),
            # Its "attributes" option is the XML attributes, not file attributes (chattr).
            file_params={},
        )
    except FileError as exc:
        module.fail_json(msg=str(exc), **result)
    result["attributes"] = after_attributes
    exit_with_outcome(module, result, outcome)


if __name__ == "__main__":
    main()
