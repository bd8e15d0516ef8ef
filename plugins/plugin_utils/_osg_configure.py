# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The osg-configure settings of an HTCondor-CE installed with the OSG packages, from the role's variables.

osg-configure reads every ``/etc/osg/config.d/[!.]*.ini`` in name order into one ``ConfigParser`` with
``%`` interpolation (a later file's value of a key wins), then ``-v`` checks it and ``-c`` writes the
configuration it implies. The role writes one file of its own, sorted last, so the packaged files stay as
packaged. The facts come from opensciencegrid/osg-configure v4.1.1 (2022; the v4 branch's last tag that
could be read here; 4.3.x is current):

- ``modules/configfile.py``: the file order and the parser; ``modules/utilities.py`` ``blank()``: an
  empty value, ``UNAVAILABLE``, ``DEFAULT`` and ``None`` count as unset.
- ``configure_modules/siteinformation.py``: ``[Site Information]`` ``group`` is ``OSG`` or ``OSG-ITB``;
  ``resource`` is required; ``host_name`` and ``resource_group`` are required on a CE; ``host_name`` is
  a host name or an IP address.
- ``configure_modules/gateway.py``: ``[Gateway] htcondor_gateway_enabled`` (true by default); the batch
  modules write to the CE only when it is true.
- ``configure_modules/slurm.py``, ``pbs.py``, ``lsf.py``: ``<batch>_location`` must exist and have a
  ``bin/`` directory, which ``-c`` writes into ``/etc/blah.config`` as ``<batch>_binpath="<location>/bin"``
  with ``blah_disable_wn_proxy_renewal="yes"``, ``blah_delegate_renewed_proxies="no"`` and
  ``blah_disable_limited_proxy="yes"`` (``modules/jobmanagerconfiguration.py``); ``lsf_profile`` must be
  an existing file. ``sge.py``: ``sge_root`` (no default) and ``sge_bin_location`` (the binpath itself).
  ``condor.py``: ``condor_location`` defaults to where the condor package is.
- ``configure_modules/storage.py``: ``[Storage] worker_node_temp`` may be blank (only a warning).
- ``configure_modules/gratia.py``: ``[Gratia] resource`` (blank: the site's resource).
- ``configure_modules/infoservices.py``: ``[Info Services] ce_collectors`` is ``PRODUCTION`` (collector1 and
  collector2.opensciencegrid.org:9619), ``ITB`` (collector-itb.opensciencegrid.org:9619), or a comma-separated
  list of ``host[:port]``; on a CE at least one ``[Pilot ...]``, ``[Subcluster ...]`` or ``[Resource Entry
  ...]`` section is required.
- ``modules/subcluster.py``: the pilot sections (validated in ``module_utils._resource_catalog``); any
  ``[Subcluster ...]``, ``[Resource Entry ...]`` or ``[Pilot ...]`` section given in the extra settings is
  checked by its ``check_section`` and ``resource_catalog_from_config`` (see :func:`catalog_section_problems`).
"""

from __future__ import annotations

import configparser
import io
import ipaddress
import posixpath
import re
from collections.abc import Mapping
from typing import Any, Dict, List, Tuple

from ansible_collections.osg_htc.site.plugins.module_utils._classad import short_repr
from ansible_collections.osg_htc.site.plugins.module_utils._resource_catalog import normalize_pilots, vo_identities

# htcondor_ce_batch -> (section, the key that locates the batch client, how it follows from the binpath).
BATCH_SECTIONS: Dict[str, Tuple[str, str | None, str | None]] = {
    "condor": ("Condor", None, None),
    "slurm": ("SLURM", "slurm_location", "parent"),
    "pbs": ("PBS", "pbs_location", "parent"),
    "lsf": ("LSF", "lsf_location", "parent"),
    "sge": ("SGE", "sge_bin_location", "binpath"),
}
# Keys a batch section needs that the role's variables do not give (htcondor_ce_osg_configure_settings does).
BATCH_REQUIRED = {"lsf": ("lsf_profile",), "sge": ("sge_root",)}
GROUPS = ("OSG", "OSG-ITB")
COLLECTOR_KEYWORDS = {"OSG": "PRODUCTION", "OSG-ITB": "ITB"}
BLANK = ("", "UNAVAILABLE", "DEFAULT", "NONE")
# A section name and an option name as ConfigParser reads them back: one line of printable ASCII (osg-configure
# reads its files as latin-1, so other characters would not read back as written), no "]" in a section, no ":"
# or "=" in an option, not blank at either end.
SECTION_RE = re.compile(r"[\x21-\x5c\x5e-\x7e](?:[\x20-\x5c\x5e-\x7e]*[\x21-\x5c\x5e-\x7e])?\Z")
OPTION_RE = re.compile(r"[A-Za-z0-9_.-]+\Z")
# One line of printable ASCII (a value is one line of the file; none starts or ends blank).
VALUE_RE = re.compile(r"[\x20-\x7e]*\Z")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_RE = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*\Z")
PILOT_SECTION_PREFIXES = ("pilot", "subcluster", "resource entry")
# subcluster.py's ENTRIES (key -> kind), the ones that must be set per kind of section, the template values
# it refuses (BANNED_ENTRIES) and ENTRY_RANGES. Keys are compared lower-cased, as ConfigParser does.
ENTRY_KINDS = {
    **dict.fromkeys(("name", "allowed_vos", "extra_transforms", "queue", "vo_tag", "os"), "text"),
    **dict.fromkeys(("cpu_model", "cpu_platform", "cpu_vendor"), "text"),
    **dict.fromkeys(("cores_per_node", "ram_mb", "max_wall_time", "cpucount", "maxmemory", "gpucount"), "int"),
    **dict.fromkeys(("max_pilots", "cpus_per_node", "node_count", "swap_mb"), "int"),
    **dict.fromkeys(("cpu_speed_mhz", "hepspec", "sf00", "si00"), "float"),
    **dict.fromkeys(("require_singularity", "send_tests", "whole_node", "inbound_network", "outbound_network"), "bool"),
    "subclusters": "list",
}
ENTRY_REQUIRED = {"resource entry": ("queue",), "pilot": ("max_pilots",)}
BANNED_ENTRIES = {
    "name": "SUBCLUSTER_NAME",
    "ram_mb": "MB_OF_RAM",
    "maxmemory": "MAX_MB_OF_RAM_ALLOCATED_TO_JOB",
    "cores_per_node": "#_CORES_PER_NODE",
    "cpucount": "CPUS_ALLOCATED_TO_JOB",
    "max_wall_time": "MAX_MINUTES_OF_RUNTIME",
    "queue": "CHANGEME",
}
ENTRY_RANGES = {
    "ram_mb": (512, 8388608),
    "maxmemory": (512, 8388608),
    "cores_per_node": (1, 8192),
    "cpucount": (1, 8192),
}
FALSE_WORDS = {"f", "false", "no", "n", "disable", "disabled"}
BOOLEANS = {"t", "true", "yes", "y", "enable", "enabled", *FALSE_WORDS}
HEADER = (
    "# Managed by the osg_htc.site htcondor_ce role: changes here are overwritten.\n"
    "# osg-configure reads /etc/osg/config.d/*.ini in name order and the last value of a key wins, so\n"
    "# these values override the packaged files' ones. Then `osg-configure -v` and `osg-configure -c`.\n"
)


def _blank(value: Any) -> bool:
    return value is None or str(value).strip().upper() in BLANK


def _valid_host(host: str) -> bool:
    """A host name or an IP address, as osg-configure's ``valid_domain(host, resolve=False)``."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(HOST_RE.match(host))


def _text(value: Any) -> str:
    """A value as osg-configure reads it back: booleans as True/False, lists comma-separated."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _value_problem(where: str, value: Any) -> str | None:
    items = value if isinstance(value, (list, tuple)) else [value]
    if not all(isinstance(item, (str, int, float, bool)) for item in items):
        return f"{where} is {short_repr(value)}, not a string, number, boolean or list of them"
    text = _text(value)
    if not VALUE_RE.match(text) or text != text.strip():
        return (
            f"{where} is {short_repr(value)}: a value is one line of printable ASCII (osg-configure reads its files "
            "as latin-1), without blanks at its ends"
        )
    return None


def _collectors(value: Any, group: str) -> Tuple[str, List[str]]:
    if value in (None, "", []):
        return COLLECTOR_KEYWORDS.get(group, "PRODUCTION"), []
    if value in ("PRODUCTION", "ITB"):
        return value, []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return "", [
            f"htcondor_ce_ce_collectors is {short_repr(value)}, not a list of host[:port] (or PRODUCTION or ITB)"
        ]
    problems = []
    for item in value:
        host, port = item.rsplit(":", 1) if item.count(":") == 1 else (item, "")
        if not _valid_host(host) or (port and not (port.isdigit() and 0 < int(port) < 65536)):
            problems.append(f"htcondor_ce_ce_collectors: {item!r} is not a host name with an optional :port")
    return ",".join(value), problems


def _kind_of(section: str) -> str | None:
    return next((kind for kind in PILOT_SECTION_PREFIXES if section.strip().lower().startswith(kind)), None)


def _entry_name(section: str, options: Mapping[str, str]) -> str:
    """The entry's name: its ``name`` key, else the section name after the kind (``rce_section_get_name``)."""
    match = re.search(r"(?i:subcluster|resource entry|pilot)\s+(.+)", section)
    return options.get("name", match.group(1) if match else section).strip()


def _entry_value_problem(where: str, key: str, value: str) -> str | None:
    kind = ENTRY_KINDS[key]
    if kind in ("int", "float"):
        try:
            number = int(value) if kind == "int" else float(value)
        except ValueError:
            number = -1
        if number < 0:
            return f"{where} {key} is {value!r}, not a non-negative {'integer' if kind == 'int' else 'number'}"
        low, high = ENTRY_RANGES.get(key, (0, number))
        if not low <= number <= high:
            return f"{where} {key} is {value}, outside {low}-{high}"
    if kind == "bool" and value.lower() not in BOOLEANS:
        return f"{where} {key} is {value!r}, not a boolean ({', '.join(sorted(BOOLEANS))})"
    if BANNED_ENTRIES.get(key) == value:
        return f"{where} {key} is the template's {value!r}: change it"
    return None


def catalog_section_problems(sections: Mapping[str, Mapping[str, str]], names: List[str]) -> List[str]:
    """What osg-configure refuses in the ``names`` sections of ``sections`` that are catalog entries.

    As v4.1.1's ``subcluster.check_section`` and ``resource_catalog_from_config``: no ``changeme`` in the
    section name; each known key of its kind (whole numbers and numbers from 0, booleans among its words,
    ``cpucount``/``cores_per_node`` 1-8192, ``ram_mb``/``maxmemory`` 512-8388608) and not the template's
    placeholder; ``queue`` in a resource entry and ``max_pilots`` in a pilot; ``allowed_vos``; ``os`` when a
    pilot does not require Singularity; ``subclusters`` naming defined subclusters.
    """
    problems = []
    subclusters = {_entry_name(name, options) for name, options in sections.items() if _kind_of(name) == "subcluster"}
    for name in names:
        kind = _kind_of(name)
        if kind is None:
            continue
        options = {key: value.strip() for key, value in sections[name].items()}
        where = f"[{name}]"
        if "changeme" in name.lower():
            problems.append(f"{where}: a section named with 'changeme' is refused by osg-configure; rename it")
        for key in ENTRY_REQUIRED.get(kind, ()):
            if not options.get(key):
                problems.append(f"{where} {key} is required in a {kind} section")
        if not options.get("allowed_vos"):
            problems.append(f"{where} allowed_vos is required (a list of VOs, or *)")
        for key, value in options.items():
            if key in ENTRY_KINDS and value and (problem := _entry_value_problem(where, key, value)) is not None:
                problems.append(problem)
        singularity = options.get("require_singularity", "true").lower() not in FALSE_WORDS
        if kind == "pilot" and not singularity and not options.get("os"):
            problems.append(f"{where} os is required when require_singularity is false")
        for subcluster in (item for item in re.split(r"\s*,\s*", options.get("subclusters", "")) if item):
            if subcluster not in subclusters:
                problems.append(f"{where} subclusters names {subcluster!r}, which no [Subcluster ...] section defines")
    return problems


def osg_configure_sections(ce: Mapping[str, Any]) -> Tuple[List[Tuple[str, Dict[str, str]]], List[str]]:
    """The role's sections in file order, each (name, {key: value}), and every problem of the input.

    ``ce`` holds ``batch``, ``batch_binpath``, ``group``, ``host_name``, ``resource``, ``resource_group``,
    ``worker_node_temp``, ``ce_collectors``, ``gratia``, ``pilots``, ``mappings`` (the SciTokens mappings, whose
    ``vo`` keys name the VOs of ``allowed_vos``) and ``settings`` (``{section: {key: value}}`` added last).
    """
    problems: List[str] = []
    batch = ce.get("batch")
    if batch not in BATCH_SECTIONS:
        problems.append(
            f"osg-configure is managed for the batch systems {', '.join(BATCH_SECTIONS)}, not {batch!r} "
            "(a Bosco CE's [BOSCO] section would run bosco_cluster, which ce_bosco does itself): "
            "set htcondor_ce_osg_configure to false"
        )
        return [], problems
    group = ce.get("group")
    if group not in GROUPS:
        problems.append(f"htcondor_ce_osg_group is {short_repr(group)}, not one of {', '.join(GROUPS)}")
    for key, variable in (
        ("resource", "htcondor_ce_site_name"),
        ("resource_group", "htcondor_ce_resource_group (or topology_resource_group)"),
        ("host_name", "the host's FQDN"),
    ):
        value = ce.get(key)
        if _blank(value) or not isinstance(value, str):
            problems.append(
                f"[Site Information] {key} is {short_repr(value)}: osg-configure requires it on a CE "
                f"(empty, UNAVAILABLE and DEFAULT count as unset); set {variable}"
            )
        elif (problem := _value_problem(f"[Site Information] {key}", value)) is not None:
            problems.append(problem)
    host = ce.get("host_name")
    if isinstance(host, str) and not _blank(host) and not _valid_host(host):
        problems.append(f"[Site Information] host_name {host!r} is not a host name or IP address")

    sections: Dict[str, Dict[str, str]] = {}
    sections["Gateway"] = {"htcondor_gateway_enabled": "True"}
    sections["Site Information"] = {
        key: _text(ce.get(key)) for key in ("group", "host_name", "resource", "resource_group")
    }
    temp = ce.get("worker_node_temp")
    if temp not in (None, ""):
        if not isinstance(temp, str) or not posixpath.isabs(temp) or _value_problem("", temp):
            problems.append(f"htcondor_ce_worker_node_temp is {short_repr(temp)}, not an absolute path")
        else:
            sections["Storage"] = {"worker_node_temp": temp}

    section, key, source = BATCH_SECTIONS[batch]
    sections[section] = {"enabled": "True"}
    if key is not None:
        binpath = ce.get("batch_binpath")
        if not isinstance(binpath, str) or not posixpath.isabs(binpath) or _value_problem("", binpath):
            problems.append(f"htcondor_ce_batch_binpath is {short_repr(binpath)}, not an absolute path")
        elif posixpath.normpath(binpath) != binpath or '"' in binpath:
            problems.append(
                f"htcondor_ce_batch_binpath is {binpath!r}: write it as osg-configure writes it back into "
                f"/etc/blah.config ({posixpath.normpath(binpath)!r}, without double quotes)"
            )
        elif source == "parent":
            if posixpath.basename(binpath) != "bin" or binpath == "/bin":
                problems.append(
                    f"htcondor_ce_batch_binpath is {binpath!r}, but osg-configure takes the directory above the "
                    f"client's bin/ ({key}) and writes {batch}_binpath=<{key}>/bin into /etc/blah.config: "
                    "use a path that ends in /bin (e.g. /usr/bin or /opt/slurm/bin)"
                )
            else:
                sections[section][key] = posixpath.dirname(binpath)
        else:
            sections[section][key] = binpath

    gratia = ce.get("gratia")
    sections["Gratia"] = {"enabled": _text(bool(gratia))}
    if gratia:
        sections["Gratia"]["resource"] = _text(ce.get("resource"))
    collectors, found = _collectors(ce.get("ce_collectors"), group if isinstance(group, str) else "OSG")
    problems.extend(found)
    sections["Info Services"] = {"enabled": "True", "ce_collectors": collectors}

    entries, found = normalize_pilots(ce.get("pilots") or [], sorted(vo_identities(ce.get("mappings"))))
    problems.extend(found)
    raw = ce.get("pilots") if isinstance(ce.get("pilots"), list) else []
    for pilot, entry in zip(raw, entries):
        # As given (allowed_vos ["*"] stays "*", which osg-configure reads as every VO of the CE).
        sections[f"Pilot {entry['name']}"] = {
            str(key): _text(value) for key, value in pilot.items() if key != "name" and value is not None
        }

    settings = ce.get("settings") or {}
    if not isinstance(settings, Mapping):
        problems.append(f"htcondor_ce_osg_configure_settings is {short_repr(settings)}, not a mapping of sections")
        settings = {}
    for name, options in settings.items():
        where = f"htcondor_ce_osg_configure_settings[{name!r}]"
        if not isinstance(name, str) or not SECTION_RE.match(name) or name == "DEFAULT":
            problems.append(f"{where}: not a section name (one line, no ']', not DEFAULT)")
            continue
        if not isinstance(options, Mapping):
            problems.append(f"{where} is {short_repr(options)}, not a mapping of keys to values")
            continue
        for option, value in options.items():
            if not isinstance(option, str) or not OPTION_RE.match(option):
                problems.append(f"{where}: {short_repr(option)} is not a key (letters, digits, '_', '.', '-')")
            elif (problem := _value_problem(f"{where}[{option!r}]", value)) is not None:
                problems.append(problem)
            else:
                sections.setdefault(name, {})[option.lower()] = _text(value)

    given = [name for name in settings if isinstance(name, str) and name in sections]
    problems.extend(catalog_section_problems(sections, given))
    if batch in BATCH_REQUIRED:
        for option in BATCH_REQUIRED[batch]:
            if _blank(sections[section].get(option)):
                problems.append(
                    f"[{section}] {option} is required by osg-configure and has no default: set it in "
                    f"htcondor_ce_osg_configure_settings: {{{section}: {{{option}: ...}}}}"
                )
    if not any(name.strip().lower().startswith(PILOT_SECTION_PREFIXES) for name in sections):
        problems.append(
            "osg-configure requires at least one [Pilot ...], [Subcluster ...] or [Resource Entry ...] section on a "
            "CE (the resource catalog the pilot factories read): set htcondor_ce_pilots"
        )
    return list(sections.items()), problems


def render_ini(sections: List[Tuple[str, Dict[str, str]]]) -> str:
    """The INI text; a ``%`` is doubled, since osg-configure's parser interpolates values."""
    blocks = []
    for name, options in sections:
        lines = [f"[{name}]"] + [f"{key} = {value.replace('%', '%%')}" for key, value in options.items()]
        blocks.append("\n".join(lines) + "\n")
    return HEADER + "\n" + "\n".join(blocks)


def read_ini(text: str) -> Dict[str, Dict[str, str]]:
    """``text``, written as UTF-8, read back as osg-configure reads it (latin-1, universal newlines, ``%``
    interpolation): sections of (lower-cased) keys and values."""
    parser = configparser.ConfigParser(interpolation=configparser.BasicInterpolation())
    data = io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="latin-1")
    parser.read_file(data)
    return {name: dict(parser.items(name)) for name in parser.sections()}


def osg_configure_ini(ce: Mapping[str, Any]) -> str:
    """The role's INI file; ValueError listing every problem when the input is not what osg-configure takes."""
    sections, problems = osg_configure_sections(ce)
    if problems:
        raise ValueError("\n".join(f"- {problem}" for problem in problems))
    text = render_ini(sections)
    # What osg-configure reads back must be what was meant (no value lost to the parser).
    if read_ini(text) != dict(sections):
        raise ValueError("- the settings do not read back unchanged through osg-configure's INI parser")
    return text
