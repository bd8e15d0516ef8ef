# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""OSG Topology registration: the resource group YAML of a site's CEs and Access Points, and downtime entries.

The facts come from opensciencegrid/topology at commit 5270db32f (2026-08-21):

- ``template-resourcegroup.yaml``: ``Production``, ``SupportCenter``, ``GroupDescription``, and per
  resource ``Active`` (false when first registered), ``Description``, ``ContactLists``
  (``Administrative Contact`` and ``Security Contact``, each ``Primary``/``Secondary``/``Tertiary``
  with ``Name`` and ``ID``), ``FQDN``, ``FQDNAliases``, ``DN``, ``Services`` (``<name>: {Description}``),
  ``Tags``, ``VOOwnership``.
- ``topology/services.yaml``: the service names (``CE``; ``Submit Node`` for schedds).
- ``src/tests/verify_resources.py``: the checks a pull request must pass, of which these run offline
  here: resource group and resource names unique, total ``VOOwnership`` at most 100 and naming known
  VOs, every resource with known services, a known support center, ``ContactLists`` present, contact
  IDs of 40 hex digits or ``OSG<digits>``; and, stricter (Topology only warns or has the check
  disabled), an administrative and a security contact on every resource and FQDNs unique (two
  resources with one FQDN misattribute accounting, topology#2980).
- ``template-downtime.yaml`` and ``src/webapp/topology.py`` / ``models.py``: a downtime is ``Class``
  (``SCHEDULED`` when declared at least 48 hours ahead, else ``UNSCHEDULED``), ``ID``, ``Description``,
  ``Severity`` (``Outage``, ``Severe``, ``Intermittent Outage``, ``No Significant Outage Expected``),
  ``StartTime``, ``EndTime``, ``CreatedTime`` (``%b %d, %Y %H:%M %z``, e.g. ``Mar 28, 2017 22:00 -0500``),
  ``ResourceName`` and ``Services``; the web form's ID is tenths of a second since 1,535,000,000.
"""

from __future__ import annotations

import datetime
import glob
import os
import re
from collections.abc import Mapping
from typing import Any, Dict, List, Sequence

import yaml

from ansible_collections.osg_htc.site.plugins.module_utils._classad import short_repr

# topology/services.yaml at 5270db32f, without the entries it marks deprecated or unsupported.
SERVICES = (
    "CE", "SRMv2", "GridFtp", "LFC", "FTS", "Submit Node", "OSG_Display", "Software Cache", "OSG Homepage",
    "OSG DOCDB", "Glidein factory", "Software Repo", "Apache Server", "net.perfSONAR.Bandwidth",
    "net.perfSONAR.Latency", "CVMFS Stratum-1", "Oasis Server", "Software Repo Mirror", "Squid",
    "Condor Collector", "oasis-login", "XRootD component", "Cassandra DB", "perfsonar data store", "Connect",
    "XRootD origin server", "XRootD cache server", "Pelican origin", "Pelican cache", "XRootD HA component",
    "Virtual Machine Host", "Certificate Provider", "Message Bus", "Topology Server", "Execution Endpoint",
    "WebDAV", "WebDAV.disk", "WebDAV.tape", "SRMv2.disk", "SRMv2.tape", "EOS",
)  # fmt: skip
SEVERITIES = ("Outage", "Severe", "Intermittent Outage", "No Significant Outage Expected")
CONTACT_TYPES = {"administrative": "Administrative Contact", "security": "Security Contact"}
CONTACT_LEVELS = ("Primary", "Secondary", "Tertiary")
CONTACT_ID_RE = re.compile(r"(?:[0-9a-f]{40}|OSG\d+)\Z")
# A name in a file name and a YAML key: one line, printable, no path separator, not blank at either end.
NAME_RE = re.compile(r"[^\x00-\x1f\x7f/\\\s](?:[^\x00-\x1f\x7f/\\]*[^\x00-\x1f\x7f/\\\s])?\Z")
FQDN_RE = re.compile(r"(?=.{1,253}\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\Z")
# English month abbreviations whatever the controller's locale (strftime's %b follows LC_TIME).
TOPOLOGY_TIME_RE = re.compile(r"(?P<month>[A-Z][a-z]{2}) (?P<rest>\d{1,2}, \d{4} \d{1,2}:\d{2} [+-]\d{4})\Z")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DOWNTIME_ID_EPOCH = 1_535_000_000
SCHEDULED_NOTICE_HOURS = 48


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as in Topology's templates."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def dump(data: Any) -> str:
    """``data`` as block YAML in its own key order, lists indented, long lines kept whole."""
    return yaml.dump(data, Dumper=_IndentedDumper, sort_keys=False, default_flow_style=False, width=1000,
                     allow_unicode=True)  # fmt: skip


def plain(value: Any) -> Any:
    """``value`` with Ansible's tagged strings and lazy containers made plain Python, for ``yaml.safe_dump``."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


class TopologyError(ValueError):
    """Input that cannot make a resource group or a downtime; the message names the value."""


def _text(where: str, value: Any, problems: List[str], pattern=None, what="a non-empty line") -> str | None:
    if not isinstance(value, str) or not value.strip() or (pattern is not None and not pattern.match(value)):
        problems.append(f"{where} is {short_repr(value)}, not {what}")
        return None
    return value


def _contacts(where: str, contacts: Any, problems: List[str]) -> Dict[str, Any]:
    """``{administrative: [{name, id}], security: [...]}`` to Topology's ``ContactLists``."""
    if not isinstance(contacts, Mapping):
        problems.append(f"{where}: contacts is {short_repr(contacts)}, not a mapping of administrative and security")
        return {}
    lists: Dict[str, Any] = {}
    unknown = sorted(str(key) for key in contacts if key not in CONTACT_TYPES)
    if unknown:
        problems.append(f"{where}: contacts has unknown keys {', '.join(unknown)}; known are administrative, security")
    for key, title in CONTACT_TYPES.items():
        people = contacts.get(key)
        if not isinstance(people, list) or not 1 <= len(people) <= len(CONTACT_LEVELS):
            problems.append(
                f"{where}: contacts.{key} is {short_repr(people)}, not a list of 1 to 3 contacts "
                "(Primary, Secondary, Tertiary); Topology wants an administrative and a security contact"
            )
            continue
        levels = {}
        for level, person in zip(CONTACT_LEVELS, people):
            spot = f"{where}: contacts.{key} {level}"
            if not isinstance(person, Mapping):
                problems.append(f"{spot} is {short_repr(person)}, not a mapping of name and id")
                continue
            name = _text(f"{spot} name", person.get("name"), problems)
            ident = person.get("id")
            if not isinstance(ident, str) or not CONTACT_ID_RE.match(ident):
                problems.append(
                    f"{spot} id is {short_repr(ident)}, not a Topology contact ID (40 lower-case hex digits, or "
                    "OSG followed by digits); find it at https://topology.opensciencegrid.org/contacts"
                )
            levels[level] = {"Name": name, "ID": ident}
        lists[title] = levels
    return lists


def _first(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value


def resource_group(group: Mapping[str, Any], resources: Sequence[Mapping[str, Any]]) -> tuple[Dict, List[str]]:
    """The resource group document and the problems of its input.

    ``group``: ``name``, ``production``, ``support_center``, ``description``, ``contacts``.
    ``resources``: each ``name``, ``fqdn``, ``services`` (``{name: description}``), and optionally
    ``description``, ``active``, ``contacts`` (else the group's), ``dn``, ``fqdn_aliases``, ``tags``,
    ``vo_ownership``, ``host`` (the inventory host, for messages).
    """
    group, resources = plain(group), plain(list(resources))
    problems: List[str] = []
    _text("the resource group name", group.get("name"), problems, NAME_RE, "a name without '/' or line breaks")
    support = _text("the support center", group.get("support_center"), problems)
    description = _text("the resource group description", group.get("description"), problems)
    if not isinstance(group.get("production", True), bool):
        problems.append(f"production is {short_repr(group.get('production'))}, not true or false")
    document: Dict[str, Any] = {
        "Production": group.get("production", True),
        "SupportCenter": support,
        "GroupDescription": description,
        "Resources": {},
    }
    if not resources:
        problems.append("no resources: the resource group has no CE or Access Point host")
    names: Dict[str, str] = {}
    fqdns: Dict[str, str] = {}
    for resource in resources:
        host = resource.get("host") or resource.get("fqdn")
        where = f"host {host}"
        name = _text(f"{where}: the resource name ({resource.get('name_from', 'name')})", resource.get("name"),
                     problems, NAME_RE, "a Topology resource name (one line, no '/')")  # fmt: skip
        if name in ("Generic site",):
            problems.append(f"{where}: the resource name is {name!r}, the packaged placeholder")
        fqdn = _text(f"{where}: the FQDN", resource.get("fqdn"), problems, FQDN_RE, "a fully qualified host name")
        entry: Dict[str, Any] = {
            "Active": resource.get("active", False),
            "Description": resource.get("description") or f"{', '.join(resource.get('services') or {})} {fqdn}",
            "ContactLists": _contacts(where, _first(resource.get("contacts"), group.get("contacts")), problems),
            "FQDN": fqdn,
        }
        if not isinstance(entry["Active"], bool):
            problems.append(f"{where}: active is {short_repr(entry['Active'])}, not true or false")
        aliases = resource.get("fqdn_aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and FQDN_RE.match(a) for a in aliases):
            problems.append(f"{where}: fqdn_aliases is {short_repr(aliases)}, not a list of host names")
        elif aliases:
            entry["FQDNAliases"] = list(aliases)
        if resource.get("dn"):
            entry["DN"] = _text(f"{where}: the DN", resource["dn"], problems, re.compile(r"/[^\x00-\x1f\x7f]+\Z"),
                                "a certificate subject in OpenSSL 1.0 form (/DC=org/...)")  # fmt: skip
        services = resource.get("services") or {}
        if not isinstance(services, Mapping) or not services:
            problems.append(f"{where}: services is {short_repr(services)}, not a mapping of service to description")
            services = {}
        entry["Services"] = {str(key): {"Description": value} for key, value in services.items()}
        tags = resource.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) and NAME_RE.match(tag) for tag in tags):
            problems.append(f"{where}: tags is {short_repr(tags)}, not a list of tags")
        elif tags:
            entry["Tags"] = list(tags)
        ownership = resource.get("vo_ownership") or {}
        if not isinstance(ownership, Mapping) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in ownership.values()
        ):
            problems.append(f"{where}: vo_ownership is {short_repr(ownership)}, not VO names to percentages")
        elif ownership:
            if sum(ownership.values()) > 100:
                problems.append(f"{where}: vo_ownership adds up to {sum(ownership.values())}%; at most 100")
            entry["VOOwnership"] = dict(ownership)
        if name is not None:
            if name in names:
                problems.append(
                    f"{where}: the resource name {name!r} is also host {names[name]}'s; resource names are unique "
                    "(each host is its own resource, and its Gratia SiteName)"
                )
            names[name] = host
            document["Resources"][name] = entry
        if fqdn is not None:
            if fqdn in fqdns:
                problems.append(f"{where}: the FQDN {fqdn} is also host {fqdns[fqdn]}'s; FQDNs are unique")
            fqdns[fqdn] = host
    return document, problems


def site_resources(hosts: Sequence[Mapping[str, Any]], access_points: Sequence[str]) -> List[Dict[str, Any]]:
    """One resource per host, from its inventory variables (``hostvars[host]``).

    The name is the one the roles give the host's Gratia accounting: ``access_point_gratia_site_name``
    on an Access Point (a host in ``access_points``), ``htcondor_ce_site_name`` on a CE or Bosco CE.
    An Access Point is a ``Submit Node`` tagged ``OSPool``, a CE a ``CE``; ``topology_*`` variables
    add to or override that.
    """
    resources = []
    for variables in hosts:
        host = variables.get("inventory_hostname")
        ap = host in access_points
        name_from = "access_point_gratia_site_name" if ap else "htcondor_ce_site_name"
        resources.append({
            "host": host,
            "name_from": name_from,
            "name": variables.get(name_from, ""),
            "fqdn": variables.get("topology_fqdn", host),
            "services": variables.get(
                "topology_services", {"Submit Node": "OSPool Access Point"} if ap else {"CE": "HTCondor-CE"}
            ),
            "description": variables.get("topology_description", ""),
            "active": variables.get("topology_active", False),
            # None: the group's.
            "contacts": variables.get("topology_contacts"),
            "dn": variables.get("topology_dn", ""),
            "fqdn_aliases": variables.get("topology_fqdn_aliases", []),
            "tags": variables.get("topology_tags", ["OSPool"] if ap else []),
            "vo_ownership": variables.get("topology_vo_ownership", {}),
        })  # fmt: skip
    return resources


def checkout_problems(document: Mapping[str, Any], group_name: str, path: str, checkout: str) -> List[str]:
    """What Topology's own tests would find against a clone of opensciencegrid/topology at ``checkout``.

    ``path`` is where the file goes, relative to the clone's ``topology/`` (``<Facility>/<Site>/<RG>.yaml``).
    """
    problems: List[str] = []
    root = os.path.join(checkout, "topology")
    if not os.path.isdir(root):
        return [
            f"topology_checkout {checkout} has no topology/ directory: it is not a clone of opensciencegrid/topology"
        ]
    services = _load(os.path.join(root, "services.yaml"), problems)
    support_centers = _load(os.path.join(root, "support-centers.yaml"), problems)
    if isinstance(support_centers, Mapping) and document["SupportCenter"] not in support_centers:
        problems.append(
            f"the support center {document['SupportCenter']!r} is not in topology/support-centers.yaml of the checkout"
        )
    vos = {
        os.path.basename(fn)[: -len(".yaml")]
        for fn in glob.glob(os.path.join(checkout, "virtual-organizations", "*.yaml"))
    }
    mine = os.path.normpath(os.path.join(root, path))
    for name, resource in document["Resources"].items():
        unknown = [svc for svc in resource["Services"] if isinstance(services, Mapping) and svc not in services]
        if unknown:
            problems.append(f"resource {name}: services {unknown} are not in topology/services.yaml of the checkout")
        unknown_vos = sorted(set(resource.get("VOOwnership", {})) - vos)
        if unknown_vos:
            problems.append(f"resource {name}: VOOwnership names VOs the checkout does not have: {unknown_vos}")
    for fn in sorted(glob.glob(os.path.join(root, "*", "*", "*.yaml"))):
        if fn.endswith("_downtime.yaml") or fn.endswith(os.sep + "SITE.yaml") or os.path.normpath(fn) == mine:
            continue
        shown = os.path.relpath(fn, checkout)
        if os.path.basename(fn)[: -len(".yaml")] == group_name:
            problems.append(
                f"the resource group {group_name!r} already exists as {shown}; resource group names are unique"
            )
        other = _load(fn, problems)
        if not isinstance(other, Mapping):
            continue
        for name, resource in (other.get("Resources") or {}).items():
            if name in document["Resources"]:
                problems.append(f"the resource name {name!r} is already in {shown}; resource names are unique")
            fqdn = resource.get("FQDN") if isinstance(resource, Mapping) else None
            for mine_name, mine_resource in document["Resources"].items():
                if fqdn and fqdn == mine_resource["FQDN"] and name != mine_name:
                    problems.append(
                        f"resource {mine_name}: the FQDN {fqdn} is already the FQDN of resource {name!r} in {shown}; "
                        "two resources with one FQDN misattribute accounting (disable the old one instead)"
                    )
    # Only for a file placed in its <Facility>/<Site>/ directory.
    site_dir = os.path.dirname(mine)
    placed = len(os.path.normpath(path).split(os.sep)) == 3
    if placed and os.path.isdir(site_dir) and not os.path.exists(os.path.join(site_dir, "SITE.yaml")):
        problems.append(
            f"{os.path.relpath(site_dir, checkout)} has no SITE.yaml, which Topology requires of a site directory"
        )
    return problems


def _load(fn: str, problems: List[str]) -> Any:
    try:
        with open(fn, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(f"cannot read {fn}: {exc}")
        return None


def parse_time(where: str, value: Any) -> datetime.datetime:
    """An aware datetime from ISO 8601 with an offset (``2026-12-05 08:00 -06:00``) or Topology's own format."""
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = None
        topology = TOPOLOGY_TIME_RE.match(value.strip())
        if topology and topology["month"] in MONTHS:
            try:
                parsed = datetime.datetime.strptime(
                    f"{MONTHS.index(topology['month']) + 1} {topology['rest']}", "%m %d, %Y %H:%M %z"
                )
            except ValueError:
                parsed = None
        for fmt in ("%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z"):
            if parsed is not None:
                break
            try:
                parsed = datetime.datetime.strptime(value.strip(), fmt)
            except ValueError:
                continue
        if parsed is None:
            raise TopologyError(
                f"{where} is {short_repr(value)}, not a time with its UTC offset, such as '2026-12-05 08:00 -0600' "
                "or 'Dec 05, 2026 08:00 -0600'"
            )
    else:
        raise TopologyError(f"{where} is {short_repr(value)}, not a time")
    if parsed.tzinfo is None:
        raise TopologyError(f"{where} is {short_repr(value)}: give its UTC offset (for example -0600 or +0000)")
    return parsed


def format_time(moment: datetime.datetime) -> str:
    """Topology's preferred form, ``Mar 28, 2017 22:00 -0500``, in the time's own offset."""
    return f"{MONTHS[moment.month - 1]} {moment.strftime('%d, %Y %H:%M %z')}"


def downtime_class(start: datetime.datetime, created: datetime.datetime, notice_hours: int) -> str:
    """``SCHEDULED`` when declared at least ``notice_hours`` ahead of the start, else ``UNSCHEDULED``."""
    return "SCHEDULED" if start - created >= datetime.timedelta(hours=notice_hours) else "UNSCHEDULED"


def downtime_id(created: datetime.datetime) -> int:
    """Topology's web form's ID: tenths of a second since 1,535,000,000 (Unix time)."""
    return int((created.timestamp() - DOWNTIME_ID_EPOCH) * 10)


def downtimes(
    resources: Sequence[Mapping[str, Any]],
    start: Any,
    end: Any,
    severity: Any,
    description: Any,
    created: Any,
    notice_hours: Any = SCHEDULED_NOTICE_HOURS,
    existing: Any = None,
) -> List[Dict[str, Any]]:
    """The new downtime entries, one per resource (``{name, services}``), in the template's key order.

    A resource that ``existing`` (the entries already in the file) has a downtime for with the same
    start, end and services gets none: running again adds nothing.
    """
    resources, existing = plain(list(resources)), plain(existing)
    if isinstance(existing, str):
        try:
            existing = yaml.safe_load(existing) if existing.strip() else []
        except yaml.YAMLError as exc:
            raise TopologyError(f"the downtime file is not valid YAML: {exc}") from None
    if existing is not None and not isinstance(existing, list):
        raise TopologyError(f"the downtime file holds {type(existing).__name__}, not a list of downtime entries")
    description, severity = plain(description), plain(severity)
    start_time = parse_time("the start", start)
    end_time = parse_time("the end", end)
    created_time = parse_time("the creation time", created)
    if end_time <= start_time:
        raise TopologyError(f"the end ({end}) is not after the start ({start})")
    if severity not in SEVERITIES:
        raise TopologyError(f"the severity is {short_repr(severity)}, not one of {', '.join(SEVERITIES)}")
    if not isinstance(description, str) or not description.strip():
        raise TopologyError(f"the description is {short_repr(description)}, not a non-empty text")
    if isinstance(notice_hours, bool) or not isinstance(notice_hours, int) or notice_hours < 0:
        raise TopologyError(f"the scheduled notice is {short_repr(notice_hours)} hours, not a whole number from 0")
    known = set()
    for entry in existing if isinstance(existing, list) else []:
        if isinstance(entry, Mapping):
            try:
                known.add((entry.get("ResourceName"), parse_time("", entry.get("StartTime")),
                           parse_time("", entry.get("EndTime")), tuple(entry.get("Services") or ())))  # fmt: skip
            except TopologyError:
                continue
    entries = []
    first_id = downtime_id(created_time)
    for resource in resources:
        if not isinstance(resource.get("name"), str) or not NAME_RE.match(resource["name"]):
            raise TopologyError(
                f"the resource name of {resource.get('host') or 'a resource'} is {short_repr(resource.get('name'))}, "
                "not a Topology resource name"
            )
        services = list(resource.get("services") or [])
        if not services or not all(isinstance(s, str) and s in SERVICES for s in services):
            raise TopologyError(
                f"resource {resource.get('name')}: services {short_repr(services)} are not Topology services"
            )
        if (resource["name"], start_time, end_time, tuple(services)) in known:
            continue
        entries.append({
            "Class": downtime_class(start_time, created_time, notice_hours),
            "ID": first_id + len(entries),
            "Description": description,
            "Severity": severity,
            "StartTime": format_time(start_time),
            "EndTime": format_time(end_time),
            "CreatedTime": format_time(created_time),
            "ResourceName": resource["name"],
            "Services": services,
        })  # fmt: skip
    return entries


def render_downtimes(entries: Sequence[Mapping[str, Any]]) -> str:
    """The entries as YAML list items, each followed by the template's separator line, to append to a file."""
    text = ""
    for entry in entries:
        text += dump([dict(entry)])
        text += "# ---------------------------------------------------------\n"
    return text
