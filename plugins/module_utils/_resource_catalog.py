# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The CE's resource catalog (osg-configure's ``[Pilot <name>]`` sections), validated and checked against the routes.

The pilot factories read a CE's ``OSG_ResourceCatalog`` (made by osg-configure from the ``[Pilot <name>]``
sections of ``/etc/osg/config.d/35-pilot.ini``) and submit one kind of pilot per entry. An entry that
no route takes, or that a route sends to another queue or with fewer resources than it advertises,
makes pilots fail or never start.

Validation follows osg-configure (opensciencegrid/osg-configure v4.1.1,
``osg_configure/modules/subcluster.py``): ``max_pilots`` is required; counts are whole numbers from 0;
``cpucount`` is 1 to 8192 and ``ram_mb`` 512 to 8388608; ``os`` is required when
``require_singularity`` is false; ``allowed_vos`` must not be empty (``*`` means every VO with an
account on the CE); ``max_wall_time`` defaults to 1440 minutes, ``cpucount`` to 1, ``ram_mb`` to 2500;
a name containing "changeme" (in any case) is refused. Names are letters, digits, ``-``, ``_`` and ``.``
(``config/35-pilot.ini`` asks for lower-case letters, digits, ``-`` and ``_``).

The route check routes, with :func:`._route_match.route_match`, one pilot job per entry and VO
identity (the SciTokens mappings that name the VO), as the factory would submit it: see
:func:`pilot_job`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Dict, List, Sequence

from ansible_collections.osg_htc.site.plugins.module_utils._classad import short_repr
from ansible_collections.osg_htc.site.plugins.module_utils._route_match import UNROUTED, route_match, text_table

# (kind, default) of each key of a pilot entry; None: no default (absent unless given).
PILOT_KEYS: Dict[str, tuple] = {
    "name": ("name", None),
    "cpucount": ("count", 1),
    "ram_mb": ("count", 2500),
    "whole_node": ("bool", False),
    "gpucount": ("count", 0),
    "max_pilots": ("count", None),
    "max_wall_time": ("count", 1440),
    "queue": ("text", None),
    "require_singularity": ("bool", True),
    "os": ("text", None),
    "send_tests": ("bool", True),
    "allowed_vos": ("vos", None),
}
RANGES = {"cpucount": (1, 8192), "ram_mb": (512, 8388608)}
# Counts are ClassAd integers in the catalog.
MAX_COUNT = 2**63 - 1
# 35-pilot.ini asks for lower-case letters, digits, "-" and "_"; osg-configure itself takes any name, and
# upper case and "." are kept here too. The name is also an INI section header: no "]" or line break.
NAME_RE = re.compile(r"[A-Za-z0-9_.-]+\Z")
# A queue or OS goes into an INI value and a ClassAd string: one line, no quote or backslash.
TEXT_RE = re.compile(r'[^\x00-\x1f\x7f"\\]+\Z')
VO_RE = re.compile(r"[A-Za-z0-9_.-]+\Z")
# What the checked pilot job carries from its entry, as the factory's pilot requests it.
REQUESTS = ("cpus", "memory", "gpus", "wall_time", "whole_node", "queue")
DEFAULT_REQUESTS = ("cpus", "memory", "gpus", "wall_time", "whole_node")


def _count_problem(where: str, value: Any, key: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{where}: {key} is {short_repr(value)}, not a whole number"
    low, high = RANGES.get(key, (0, MAX_COUNT))
    if not low <= value <= high:
        return f"{where}: {key} is {value}, not from {low} to {high}"
    return None


def normalize_pilots(pilots: Any, vos: Sequence[str]) -> tuple[List[Dict[str, Any]], List[str]]:
    """The entries with their defaults filled in, and the problems found (empty when all are valid).

    ``vos`` are the VOs that have an identity on the CE; ``allowed_vos: ["*"]`` becomes them.
    """
    if not isinstance(pilots, list):
        return [], [f"the pilot entries are {short_repr(pilots)}, not a list"]
    entries, problems, seen = [], [], set()
    for index, pilot in enumerate(pilots):
        where = f"pilot entry {index + 1}"
        if not isinstance(pilot, Mapping):
            problems.append(f"{where} is {short_repr(pilot)}, not a mapping")
            continue
        name = pilot.get("name")
        if isinstance(name, str) and NAME_RE.match(name):
            where = f"pilot {name}"
        unknown = sorted(str(key) for key in pilot if key not in PILOT_KEYS)
        if unknown:
            problems.append(f"{where}: unknown keys {', '.join(unknown)}; known are {', '.join(PILOT_KEYS)}")
        entry = {key: pilot.get(key, default) for key, (_kind, default) in PILOT_KEYS.items()}
        for key, (kind, _default) in PILOT_KEYS.items():
            value = entry[key]
            if value is None:
                if key in ("name", "max_pilots", "allowed_vos"):
                    problems.append(f"{where}: {key} is required")
                continue
            problem = None
            if kind == "name":
                if not isinstance(value, str) or not NAME_RE.match(value):
                    problem = (
                        f"{where}: name {short_repr(value)} is not letters, digits, '-', '_' and '.' "
                        "(osg-configure's 35-pilot.ini asks for names such as 'gpu' or 'main')"
                    )
                elif "changeme" in value.lower():
                    problem = f"{where}: name {value!r} contains 'changeme', which osg-configure refuses"
            elif kind == "count":
                problem = _count_problem(where, value, key)
            elif kind == "bool" and not isinstance(value, bool):
                problem = f"{where}: {key} is {short_repr(value)}, not true or false"
            elif kind == "text" and (not isinstance(value, str) or not TEXT_RE.match(value)):
                problem = (
                    f"{where}: {key} is {short_repr(value)}, not a non-empty line without quotes, "
                    "backslashes or control characters"
                )
            elif kind == "vos":
                problem = _vos_problem(where, value, vos)
                if problem is None and value == ["*"]:
                    entry[key] = list(vos)
            if problem:
                problems.append(problem)
        if entry["require_singularity"] is False and entry["os"] is None:
            problems.append(f"{where}: os is required when require_singularity is false (as osg-configure says)")
        if isinstance(entry["name"], str):
            if entry["name"] in seen:
                problems.append(f"{where}: the name is used by another pilot entry; names are unique")
            seen.add(entry["name"])
        entries.append(entry)
    return entries, problems


def _vos_problem(where: str, value: Any, vos: Sequence[str]) -> str | None:
    if not isinstance(value, list) or not value or not all(isinstance(vo, str) for vo in value):
        return f"{where}: allowed_vos is {short_repr(value)}, not a non-empty list of VO names (or ['*'])"
    if value == ["*"]:
        if not vos:
            return (
                f"{where}: allowed_vos is ['*'], every VO with an identity on the CE, but no SciTokens mapping "
                "names a vo"
            )
        return None
    bad = [vo for vo in value if not VO_RE.match(vo)]
    if bad:
        return f"{where}: allowed_vos {short_repr(bad)} are not VO names (letters, digits, '.', '_', '-')"
    missing = [vo for vo in value if vo not in vos]
    if missing:
        known = ", ".join(vos) if vos else "none"
        return (
            f"{where}: allowed_vos {short_repr(missing)} have no SciTokens mapping with that vo (mappings with a vo: "
            f"{known}); their pilots could not authenticate: add a mapping with 'vo' or remove the VO"
        )
    return None


def vo_identities(mappings: Any) -> Dict[str, List[Dict[str, Any]]]:
    """VO name -> the job attributes its pilots arrive with, one per (not banned) SciTokens mapping naming it."""
    identities: Dict[str, List[Dict[str, Any]]] = {}
    for mapping in mappings if isinstance(mappings, list) else []:
        if not isinstance(mapping, Mapping) or mapping.get("banned") or not isinstance(mapping.get("vo"), str):
            continue
        ad = {"Owner": mapping.get("user"), "AuthTokenIssuer": mapping.get("issuer")}
        if mapping.get("subject") is not None:
            ad["AuthTokenSubject"] = mapping["subject"]
        identities.setdefault(mapping["vo"], []).append(ad)
    return identities


def pilot_job(entry: Mapping[str, Any], identity: Mapping[str, Any], requests: Sequence[str]) -> Dict[str, Any]:
    """The job ad of one pilot of ``entry`` from one VO identity, as it reaches the CE.

    The owner is the local user the token maps to and the token's issuer and subject are
    ``AuthTokenIssuer`` and ``AuthTokenSubject``; of the entry's resources, those named in
    ``requests``: cores as ``xcount`` and ``RequestCpus``, memory as ``maxMemory`` (MB), wall time
    as ``maxWallTime`` (minutes), GPUs as ``RequestGPUs``, a whole-node entry as
    ``WantWholeNode = true`` (then without cores and memory, which the node decides), the queue as
    ``queue``. These are the attributes HTCondor-CE's router transforms read.
    """
    ad = dict(identity)
    whole = entry["whole_node"]
    if "whole_node" in requests and whole:
        ad["WantWholeNode"] = True
    if "cpus" in requests and not whole:
        ad["xcount"] = ad["RequestCpus"] = entry["cpucount"]
    if "memory" in requests and not whole:
        ad["maxMemory"] = entry["ram_mb"]
    if "wall_time" in requests:
        ad["maxWallTime"] = entry["max_wall_time"]
    if "gpus" in requests and entry["gpucount"]:
        ad["RequestGPUs"] = entry["gpucount"]
    if "queue" in requests and entry["queue"] is not None:
        ad["queue"] = entry["queue"]
    return ad


def _shortfalls(entry: Mapping[str, Any], match: Mapping[str, Any]) -> List[str]:
    """How the routed job falls short of the entry: queue, cores, memory, wall time."""
    found = []
    if entry["queue"] is not None and match["queue"] != entry["queue"]:
        sent = f"queue {match['queue']!r}" if match["queue"] is not None else "the batch system's default queue"
        found.append(f"sends it to {sent}, not to queue {entry['queue']!r}")
    if not entry["whole_node"]:
        if match["xcount"] is not None and match["xcount"] < entry["cpucount"]:
            found.append(f"gives it {match['xcount']} cores, fewer than cpucount {entry['cpucount']}")
        if match["maxMemory"] is not None and match["maxMemory"] < entry["ram_mb"]:
            found.append(f"gives it {match['maxMemory']} MB, less than ram_mb {entry['ram_mb']}")
    if match["maxWallTime"] is not None and match["maxWallTime"] < entry["max_wall_time"]:
        found.append(f"gives it {match['maxWallTime']} minutes, less than max_wall_time {entry['max_wall_time']}")
    return found


def catalog_problems(
    pilots: Any,
    mappings: Any,
    routes: Any,
    requests: Any = DEFAULT_REQUESTS,
    routed_job_max_time: int | None = None,
    python: str | None = None,
) -> List[str]:
    """Every problem of the pilot entries, then of their routing; empty when the catalog and routes agree."""
    if (
        not isinstance(requests, (list, tuple))
        or not all(isinstance(item, str) for item in requests)
        or set(requests) - set(REQUESTS)
    ):
        return [f"the pilot requests {short_repr(requests)} are not a list of {', '.join(REQUESTS)}"]
    identities = vo_identities(mappings)
    entries, problems = normalize_pilots(pilots, sorted(identities))
    if problems or not entries:
        return problems
    jobs, cases = [], {}
    for entry in entries:
        for vo in entry["allowed_vos"]:
            for number, identity in enumerate(identities[vo], start=1):
                label = vo if len(identities[vo]) == 1 else f"{vo} #{number}"
                name = f"{entry['name']}/{label}"
                jobs.append({"name": name, "ad": pilot_job(entry, identity, requests)})
                cases[name] = (entry, label)
    options = {} if routed_job_max_time is None else {"routed_job_max_time": routed_job_max_time}
    result = route_match(jobs, routes=routes, python=python, **options)
    rows = []
    for match in result["matches"]:
        entry, label = cases[match["job"]]
        if match["route"] is None:
            rows.append((entry["name"], label, UNROUTED, "no route takes this pilot"))
            continue
        rows.extend((entry["name"], label, match["route"], problem) for problem in _shortfalls(entry, match))
    if rows:
        return [
            f"{len(rows)} resource catalog problem(s): the routes do not serve the pilots as advertised:\n"
            + text_table(("pilot", "VO identity", "route", "problem"), rows)
        ]
    return []
