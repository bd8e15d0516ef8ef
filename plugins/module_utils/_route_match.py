# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Which HTCondor-CE job route each job would take, decided offline by HTCondor's ClassAd engine.

The routes are the structured routes of :mod:`._job_routes` (rendered and read back with
``build_routes`` / ``parse_managed_file``) or the text of a file ``ce_job_route`` wrote. For every job
the routes are tried in ``JOB_ROUTER_ROUTE_NAMES`` order and the first whose ``REQUIREMENTS``
evaluates to true takes it (HTCondor manual, "The HTCondor Job Router": routes "will be considered in
the order given by this configuration variable"); a route without ``REQUIREMENTS`` takes every job
that reaches it (HTCondor-CE documentation, "Writing Job Routes", "Writing Multiple Routes").

Evaluation follows the job router: the job is the ad the expression is evaluated in, so unscoped
names, ``MY.x`` and ``TARGET.x`` all refer to the job; before matching, the job's ``AuthToken*``
attributes are renamed ``orig_AuthToken*``, as the CE's ``OrigRequests`` pre-route transform does. A
result that is undefined, an error or not true does not match; like HTCondor's ``EvalExprBool`` a
non-zero number counts as true. The values the CE's post-route transforms would give the routed job
(queue, cores, memory, wall time) are computed from the job and the route's ``default_*`` variables.

All jobs against all routes are evaluated by ``classad2`` in one child process
(:func:`._condor_config.run_classad_script`): the bindings are never imported here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Dict, List, Sequence, Tuple

from ansible_collections.osg_htc.site.plugins.module_utils._classad import is_attribute_name, short_repr, type_name
from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import (
    NO_CLASSAD_PARSER,
    run_classad_script,
)
from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import (
    ASSIGNMENT_RE,
    CONDITIONALS,
    CONFIG_MACRO_RE,
    TRANSFORM_MACRO_RE,
    UNIVERSES,
    RouteError,
    build_routes,
    parse_managed_file,
)
from ansible_collections.osg_htc.site.plugins.module_utils._route_conversion import split_ads

# /etc/condor-ce/config.d/01-ce-router.conf of the htcondor-ce package sets ROUTED_JOB_MAX_TIME = 4320 (minutes).
ROUTED_JOB_MAX_TIME = 4320
# RequestMemory (MB) of a routed job when neither the job nor the route names one (CE Memory transform).
DEFAULT_MEMORY = 2000
VARIABLES = ("default_queue", "default_xcount", "default_maxMemory", "default_maxWallTime")
UNROUTED = "(unrouted)"
_VARIABLE_NAMES = {name.lower(): name for name in VARIABLES}
# Job attributes the CE's post-route transforms read.
JOB_ATTRIBUTES = ("queue", "xcount", "RequestCpus", "maxMemory", "maxWallTime", "BatchRuntime")
# ClassAd integers are 64-bit: the range of a number in a job ad given as a mapping.
CLASSAD_INT_MIN, CLASSAD_INT_MAX = -(2**63), 2**63 - 1
# The numbers the CE's transforms compute with are whole counts, megabytes, minutes or seconds: 0 or
# more, and small enough that BatchRuntime (60 x minutes, in seconds) is still a ClassAd integer.
MAX_MINUTES = CLASSAD_INT_MAX // 60
LIMITS = {
    "xcount": CLASSAD_INT_MAX,
    "RequestCpus": CLASSAD_INT_MAX,
    "maxMemory": CLASSAD_INT_MAX,
    "maxWallTime": MAX_MINUTES,
    "BatchRuntime": CLASSAD_INT_MAX,
    "default_xcount": CLASSAD_INT_MAX,
    "default_maxMemory": CLASSAD_INT_MAX,
    "default_maxWallTime": MAX_MINUTES,
}
# How deep lists and mappings may nest in a job ad given as a mapping.
MAX_DEPTH = 32
JOB_KEYS = ("name", "ad", "expect")


class MatchError(Exception):
    """Input that cannot be matched; ``problems`` lists every problem found."""

    def __init__(self, problems: List[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# --- routes -----------------------------------------------------------------------------------


def routes_from_config(routes: Any) -> List[Dict[str, Any]]:
    """Route facts of structured routes (as ``ce_job_route`` takes them), in matching order.

    They are validated and rendered by the same code as ``ce_job_route`` and read back from the
    rendered text, so what is matched is exactly what would be written.
    """
    try:
        text, _names, _warnings = build_routes(routes, check_expressions=False)
    except RouteError as exc:
        raise MatchError([f"invalid routes: {problem}" for problem in exc.problems]) from None
    return routes_from_text(text, "the rendered routes")


def routes_from_text(text: str, source: str) -> List[Dict[str, Any]]:
    """Route facts of a routes file written by ``ce_job_route`` (or the ``job_routes`` filter)."""
    try:
        routes = parse_managed_file(text)
    except ValueError as exc:
        raise MatchError([f"{source}: {exc}"]) from None
    problems: List[str] = []
    facts = [_route_facts(route["name"], route["commands"], problems) for route in routes]
    for route in facts:
        expressions = [("REQUIREMENTS", route["requirements"]), *route["variables"].items()]
        for what, text in expressions:
            overflow = integer_overflow(text) if text is not None and what != "default_queue" else None
            if overflow:
                problems.append(f"route {short_repr(route['name'])}, {what}: {overflow}")
    if problems:
        raise MatchError(problems)
    if not facts:
        raise MatchError([f"{source}: holds no routes"])
    return facts


def _route_facts(name: str, lines: Sequence[str], problems: List[str]) -> Dict[str, Any]:
    """REQUIREMENTS, GridResource, universe and CE variables of one route's transform lines."""
    facts: Dict[str, Any] = {"name": name, "requirements": None, "grid_resource": None, "universe": 9}
    facts["variables"] = {}
    macros: Dict[str, str] = {}
    depth = 0
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        first, _sep, rest = text.partition(" ")
        rest = rest.strip()
        if first.lower() in CONDITIONALS:
            depth += {"if": 1, "endif": -1}.get(first.lower(), 0)
            continue
        assignment = ASSIGNMENT_RE.match(text)
        if first.upper() in ("REQUIREMENTS", "UNIVERSE") and not assignment:
            key, value = first.lower(), rest
        elif assignment:
            key, value = assignment.group(1).lower(), assignment.group(2).strip()
            macros[key] = value
        else:
            continue  # SET, COPY ... edit the routed job; they do not decide the route
        if key not in ("requirements", "universe", "gridresource", "targetuniverse", *_VARIABLE_NAMES):
            continue
        if depth:
            problems.append(
                f"route {name!r}: {short_repr(text, 80)} sits inside an if block; which route a job takes "
                "can be decided offline only from unconditional REQUIREMENTS, GridResource and default_* lines"
            )
            continue
        if key == "requirements":
            facts["requirements"] = _expand(name, value, macros, problems)
        elif key == "gridresource":
            facts["grid_resource"] = value
        elif key in ("universe", "targetuniverse"):
            folded = value.strip().lower()
            facts["universe"] = int(folded) if folded.isdigit() else UNIVERSES.get(folded, facts["universe"])
        else:
            variable = _VARIABLE_NAMES[key]
            facts["variables"][variable] = (
                value if variable == "default_queue" else _expand(name, value, macros, problems)
            )
    return facts


def _expand(route: str, text: str, macros: Mapping[str, str], problems: List[str]) -> str:
    """Expand ``$(name)`` references to the route's own variables, as the transform does before parsing."""
    expanded = CONFIG_MACRO_RE.sub(lambda m: macros.get(m.group(0)[2:-1].lower(), m.group(0)), text)
    left = TRANSFORM_MACRO_RE.findall(expanded)
    if left:
        problems.append(
            f"route {route!r}: {short_repr(text, 80)} refers to {', '.join(left)}, which is not a variable set "
            "earlier in the route; configuration macros and $(MY.attr) cannot be expanded offline"
        )
    return expanded


# --- jobs and expectations --------------------------------------------------------------------


def normalize_jobs(jobs: Any) -> List[Dict[str, Any]]:
    """``[{name, ad[, expect]}]`` -> ``[{name, kind, ad[, expect, where]}]``.

    ``kind`` is ``dict``, ``new`` (``[ ... ]``) or ``long`` text. A job's own ``expect`` (the shape
    of the htcondor_ce role's ``htcondor_ce_route_tests`` items) is kept with ``where`` naming the
    item, for :func:`normalize_expect`.
    """
    if not isinstance(jobs, list) or not jobs:
        raise MatchError([f"jobs must be a non-empty list of {{name, ad}}, not {_shown_input(jobs)}"])
    problems: List[str] = []
    out: List[Dict[str, Any]] = []
    seen: Dict[str, int] = {}
    for index, job in enumerate(jobs):
        where = f"jobs[{index}]"
        if not isinstance(job, Mapping):
            problems.append(f"{where}: {_shown_input(job)} is not a mapping {{name, ad}}")
            continue
        unknown = sorted(short_repr(str(key), 40) for key in job if key not in JOB_KEYS)
        if unknown:
            problems.append(f"{where}: unknown keys {', '.join(unknown)}; a job has name, ad and optionally expect")
        name = job.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}: name {_shown_input(name)} is missing or empty; give every job a unique name")
            continue
        if name in seen:
            problems.append(
                f"{where}: name {short_repr(name)} is also the name of jobs[{seen[name]}]; job names must be unique"
            )
            continue
        seen[name] = index
        normalized = _normalize_ad(where, name, job.get("ad"), problems)
        if "expect" in job:
            normalized.update(expect=job["expect"], where=f"{where} ({short_repr(name)}), expect")
        out.append(normalized)
    if problems:
        raise MatchError(problems)
    return out


def _normalize_ad(where: str, name: str, ad: Any, problems: List[str]) -> Dict[str, Any]:
    where = f"{where} ({short_repr(name)}), ad"
    if isinstance(ad, Mapping):
        _check_mapping(where, ad, 1, problems)
        return {"name": name, "kind": "dict", "ad": dict(ad)}
    if isinstance(ad, str) and ad.strip():
        text = ad.strip()
        overflow = integer_overflow(text)
        if overflow:
            problems.append(f"{where}: {overflow}")
        if text.startswith("["):
            try:
                ads = split_ads(text)
            except ValueError as exc:
                ads = []
                problems.append(f"{where}: {short_repr(text, 60)} is not one ClassAd: {exc}")
            if len(ads) > 1:
                problems.append(f"{where}: holds {len(ads)} ClassAds; give one job per entry")
            return {"name": name, "kind": "new", "ad": text}
        return {"name": name, "kind": "long", "ad": text}
    problems.append(
        f"{where}: {_shown_input(ad)} is not a job ad; give a mapping of attributes or ClassAd text "
        "('[ Owner = \"x\"; ]' or one 'Attr = value' per line, as condor_q -l prints it)"
    )
    return {"name": name, "kind": "dict", "ad": {}}


# ClassAd text without its string literals and quoted attribute names, and the integer literals left.
_QUOTED_RE = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""", re.DOTALL)
_INTEGER_RE = re.compile(r"(?<![\w.])\d+(?![\w.])")


def integer_overflow(text: str) -> str | None:
    """Describe the first integer literal of ClassAd ``text`` outside ClassAd's 64-bit range, or None.

    HTCondor's ClassAd parser reads such a literal as 0 without a word, so a job or route would be
    matched with a value other than the one written.
    """
    unquoted = _QUOTED_RE.sub('""', text)
    for match in _INTEGER_RE.finditer(unquoted):
        digits = match.group().lstrip("0")
        if len(digits) > 19 or (len(digits) == 19 and int(digits) > CLASSAD_INT_MAX):
            line_start = unquoted.rfind("\n", 0, match.start()) + 1
            line_end = unquoted.find("\n", match.end())
            line = unquoted[line_start : line_end if line_end >= 0 else len(unquoted)].strip()
            shown = digits if len(digits) <= 40 else f"{digits[:20]}... ({len(digits)} digits)"
            return (
                f"the integer {shown} in {short_repr(line, 60)} is outside ClassAd's 64-bit range "
                f"({CLASSAD_INT_MIN} to {CLASSAD_INT_MAX}); HTCondor would read it as 0"
            )
    return None


def _check_mapping(where: str, ad: Mapping, depth: int, problems: List[str]) -> None:
    """Attribute names and values of a job ad (or a nested ad) given as a mapping."""
    bad = [short_repr(str(key), 40) for key in ad if not is_attribute_name(key)]
    if bad:
        problems.append(
            f"{where}: {', '.join(bad)} not ClassAd attribute names ([A-Za-z_][A-Za-z0-9_]*, not a reserved word)"
        )
    folded: Dict[str, str] = {}
    for key, value in ad.items():
        if not is_attribute_name(key):
            continue
        if key.lower() in folded:
            problems.append(
                f"{where}: {key!r} and {folded[key.lower()]!r} name one attribute (ClassAd names ignore case)"
            )
        folded[key.lower()] = key
        _check_value(f"{where}.{key}", value, depth, problems)


def _check_value(where: str, value: Any, depth: int, problems: List[str]) -> None:
    """A literal value: a string, boolean, null, finite number in ClassAd's range, or a list or mapping of them."""
    if isinstance(value, (str, bool)) or value is None:
        return
    if isinstance(value, int):
        if not CLASSAD_INT_MIN <= value <= CLASSAD_INT_MAX:
            problems.append(
                f"{where}: {_shown_number(value)} is outside the range of a ClassAd integer "
                f"({CLASSAD_INT_MIN} to {CLASSAD_INT_MAX})"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.append(f"{where}: {value!r} is not a finite number; ClassAd numbers are finite")
        return
    if isinstance(value, (list, tuple, Mapping)):
        if depth >= MAX_DEPTH:
            problems.append(f"{where}: lists and mappings nest more than {MAX_DEPTH} levels deep")
        elif isinstance(value, Mapping):
            _check_mapping(where, value, depth + 1, problems)
        else:
            for index, item in enumerate(value):
                _check_value(f"{where}[{index}]", item, depth + 1, problems)
        return
    problems.append(
        f"{where}: a {type_name(value)} is not a ClassAd value; use a string, number, boolean, null, list or mapping"
    )


def _shown_number(value: Any) -> str:
    """A number for a message; an integer too long to print is described by its size."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * math.log10(2))} digits"
    return repr(value)


def _shown_input(value: Any) -> str:
    """``short_repr`` of any input, also one whose repr is too big or broken to print."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _shown_number(value)
    try:
        return short_repr(value)
    except (ValueError, RecursionError):  # ints too long to print, or lists nested past the stack
        return f"a {type_name(value)}"


def normalize_expect(
    expect: Any,
    job_names: Sequence[str],
    route_names: Sequence[str],
    jobs: Sequence[Mapping[str, Any]] = (),
) -> Dict[str, str | None]:
    """Check ``{job name: route name or None}`` against the jobs and routes; return it with canonical route names.

    The ``expect`` of each of ``jobs`` (normalized jobs that carry one) joins the mapping; a job
    given two different routes is refused.
    """
    if expect is None:
        expect = {}
    if not isinstance(expect, Mapping):
        raise MatchError([f"expect must be a mapping of job name to route name (or null), not {_shown_input(expect)}"])
    routes = {name.lower(): name for name in route_names}
    problems: List[str] = []
    out: Dict[str, str | None] = {}

    def route_of(where: str, route: Any) -> Tuple[bool, str | None]:
        if route is None:
            return True, None
        if isinstance(route, str) and route.lower() in routes:
            return True, routes[route.lower()]
        problems.append(
            f"{where}: {_shown_input(route)} is not a route; use one of {', '.join(route_names)} "
            "or null for a job that no route may take"
        )
        return False, None

    for job, route in expect.items():
        if job not in job_names:
            problems.append(f"expect: {_shown_input(job)} is not the name of a job; jobs are {', '.join(job_names)}")
            continue
        valid, canonical = route_of(f"expect[{short_repr(job)}]", route)
        if valid:
            out[job] = canonical
    for job in jobs:
        if "expect" not in job:
            continue
        valid, canonical = route_of(job["where"], job["expect"])
        if not valid:
            continue
        if job["name"] in expect and job["name"] in out and out[job["name"]] != canonical:
            problems.append(
                f"{job['where']}: {_shown_input(job['expect'])} differs from expect[{short_repr(job['name'])}] "
                f"{_shown_input(expect[job['name']])}; give the route once"
            )
        out[job["name"]] = canonical
    if problems:
        raise MatchError(problems)
    return out


# --- evaluation in the child ------------------------------------------------------------------

# Parses each route's expressions and each job once, then walks the routes in order per job. A job
# is built twice (scope and target) since classad2 does not resolve MY and TARGET in one ad object.
# Every failure is caught where it happens and reported as data naming the route or job (a
# RecursionError or MemoryError included); anything else is reported as "fatal", so the parent never
# has to read a traceback.
_MATCH_SCRIPT = r"""
import json, sys

def cut(text, limit=200):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."

def reason(err):
    return cut(str(err) or type(err).__name__)

def main():
    try:
        import classad2
    except ImportError as err:
        sys.stderr.write("%s\n" % err)
        sys.exit(3)

    try:
        data = json.load(sys.stdin)
    except (ValueError, RecursionError, MemoryError) as err:
        return {"fatal": "cannot read the jobs and routes: %s" % reason(err)}
    errors = []

    def parse(text):
        tree = classad2.ExprTree(text)
        classad2.ExprTree("(" + text + ")")  # rejects text after the end of the expression
        return tree

    def plain(value):
        if isinstance(value, classad2.Value):
            return {"special": value.name.lower()}
        if isinstance(value, (bool, int, float, str)) or value is None:
            return value
        return {"special": "other", "text": cut(value, 1000)}

    def truth(value):
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, classad2.Value):
            return value != 0
        return False

    routes = []
    for index, route in enumerate(data["routes"]):
        parsed = {"requirements": None, "grid_resource": None, "variables": {}}
        for key in ("requirements", "grid_resource"):
            if route[key] is not None:
                try:
                    parsed[key] = parse(route[key])
                except Exception as err:
                    errors.append(["route", index, key, route[key], reason(err)])
        for key, text in route["variables"].items():
            if key == "default_queue":
                continue
            try:
                parsed["variables"][key] = parse(text)
            except Exception as err:
                errors.append(["route", index, key, text, reason(err)])
        routes.append(parsed)

    def build(job):
        if job["kind"] in ("dict", "new"):
            return classad2.ClassAd(job["ad"])
        ad = classad2.ClassAd()
        for number, line in enumerate(job["ad"].splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, text = line.partition("=")
            name = name.strip()
            if not sep or not name.replace("_", "a").isalnum() or not name.isascii() or name[0].isdigit():
                raise ValueError("line %d %r is not 'Attr = value'" % (number, cut(line, 60)))
            try:
                ad[name] = parse(text.strip())
            except Exception as err:
                raise ValueError("line %d %r: %s" % (number, cut(line, 60), reason(err)))
        return ad

    def rename_tokens(ad):
        for key in list(ad.keys()):
            if key.lower().startswith("authtoken"):
                ad["orig_" + key] = ad.lookup(key)
                del ad[key]
        return ad

    jobs = []
    for index, job in enumerate(data["jobs"]):
        try:
            jobs.append((rename_tokens(build(job)), rename_tokens(build(job))))
        except Exception as err:
            text = job["ad"] if job["kind"] != "dict" else None
            errors.append(["job", index, "ad", text, reason(err)])
    if errors:
        return {"errors": errors}

    def evaluate(tree, scope, target):
        return plain(tree.eval(scope, target))

    results = []
    for job_index, ((scope, target), expected) in enumerate(zip(jobs, data["expected"])):
        where = ["requirements", None]
        try:
            matched = None
            for index, route in enumerate(routes):
                where[1] = index
                if route["requirements"] is None or truth(route["requirements"].eval(scope, target)):
                    matched = index
                    break
            result = {"route": matched, "attributes": {}, "variables": {}}
            result.update(grid_resource=None, expected_value=None)
            where[:] = ["attributes", None]
            for name in data["attributes"]:
                result["attributes"][name] = evaluate(classad2.ExprTree(name), scope, target)
            if matched is not None:
                route = routes[matched]
                where[:] = ["grid_resource", matched]
                if route["grid_resource"] is not None:
                    result["grid_resource"] = evaluate(route["grid_resource"], scope, target)
                for key, tree in route["variables"].items():
                    where[:] = [key, matched]
                    result["variables"][key] = evaluate(tree, scope, target)
            if expected is not None and expected != matched and routes[expected]["requirements"] is not None:
                where[:] = ["requirements", expected]
                result["expected_value"] = evaluate(routes[expected]["requirements"], scope, target)
            results.append(result)
        except Exception as err:
            errors.append(["eval", job_index, where[0], where[1], reason(err)])
    if errors:
        return {"errors": errors}
    return {"results": results}

try:
    out = json.dumps(main())
except SystemExit:
    raise
except BaseException as err:
    out = json.dumps({"fatal": "%s: %s" % (type(err).__name__, cut(err))})
sys.stdout.write(out)
"""


def _number(value: Any):
    """A ClassAd number as a Python int/float; None for anything else (undefined, error, strings)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if float(value).is_integer() else value


def _shown(value: Any) -> str:
    """How an evaluation result is shown in messages: true, false, undefined, error, or the value."""
    if isinstance(value, dict):
        return value.get("text") or value.get("special", "?")
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def match_routes(
    routes: List[Dict[str, Any]],
    jobs: List[Dict[str, Any]],
    expect: Mapping[str, str | None] | None = None,
    routed_job_max_time: int = ROUTED_JOB_MAX_TIME,
    python: str | None = None,
    timeout: float = 300,
) -> Dict[str, Any]:
    """Match normalized ``jobs`` against route facts; return ``{matches, unrouted, mismatches}``.

    ``mismatches`` lists the jobs whose route differs from ``expect`` (empty without ``expect``).
    Raises MatchError for a bad expression, job ad or number, and when the child fails or times out.
    """
    expect = dict(expect or {})
    index = {route["name"]: i for i, route in enumerate(routes)}
    payload = {
        "routes": [
            {"requirements": r["requirements"], "grid_resource": r["grid_resource"], "variables": r["variables"]}
            for r in routes
        ],
        "jobs": [{"kind": job["kind"], "ad": job["ad"]} for job in jobs],
        "expected": [index.get(expect[job["name"]]) if expect.get(job["name"]) else None for job in jobs],
        "attributes": list(JOB_ATTRIBUTES),
    }
    what = f"matching {len(jobs)} job(s) against {len(routes)} route(s) with classad2"
    try:
        out = run_classad_script(_MATCH_SCRIPT, payload, what, python=python, timeout=timeout)
    except RuntimeError as exc:  # a RecursionError here too
        raise MatchError([_child_failure(what, exc)]) from None
    except (TypeError, ValueError) as exc:  # output that is not JSON
        raise MatchError([f"{what} gave no readable answer: {_cut(str(exc))}"]) from None
    if out is None:
        raise MatchError([NO_CLASSAD_PARSER])
    if not isinstance(out, dict) or not ("errors" in out or "fatal" in out or "results" in out):
        raise MatchError([f"{what} gave no readable answer: {_shown_input(out)}"])
    if "fatal" in out:
        raise MatchError([f"{what} failed: {out['fatal']}"])
    if "errors" in out:
        raise MatchError([_error_text(error, routes, jobs) for error in out["errors"]])
    problems = []
    for job, result in zip(jobs, out["results"]):
        route = routes[result["route"]] if result["route"] is not None else None
        problems += _range_problems(job["name"], route, result)
    if problems:
        raise MatchError(problems)
    matches, unrouted, mismatches = [], [], []
    for job, result in zip(jobs, out["results"]):
        route = routes[result["route"]] if result["route"] is not None else None
        match = _match(job["name"], route, result, routed_job_max_time)
        matches.append(match)
        if route is None:
            unrouted.append(job["name"])
        if job["name"] in expect and expect[job["name"]] != match["route"]:
            mismatches.append(_mismatch(job["name"], expect[job["name"]], match, routes, index, result))
    return {"matches": matches, "unrouted": unrouted, "mismatches": mismatches}


def _child_failure(what: str, exc: Exception) -> str:
    """A failed or timed-out child as one line (run_classad_script already says its exit or signal and last line)."""
    text = str(exc)
    if isinstance(exc, RecursionError):
        return f"{what} failed: the jobs or routes nest too deeply to be passed on ({text})"
    return _cut(text, 400)


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit]}..."


_WHAT = {"requirements": "REQUIREMENTS", "grid_resource": "GridResource"}


def _error_text(error: list, routes: List[Dict[str, Any]], jobs: List[Dict[str, Any]]) -> str:
    kind, index, key, text, message = error
    if kind == "route":
        what = _WHAT.get(key, key)
        shown = short_repr(text, 80)
        return (
            f"route {short_repr(routes[index]['name'])}, {what}: {shown} is not a valid ClassAd expression: {message}"
        )
    job = short_repr(jobs[index]["name"])
    if kind == "eval":
        # key names what was evaluated; text is the index of its route, or None for the job's own attributes.
        if text is None:
            return f"job {job}: its attributes cannot be evaluated: {message}"
        route = short_repr(routes[text]["name"])
        return f"job {job}: {_WHAT.get(key, key)} of route {route} cannot be evaluated: {message}"
    shown = f" {short_repr(text, 60)}" if text is not None else ""
    return f"job {job}: the ad{shown} is not a valid ClassAd: {message}"


_UNITS = {
    "xcount": " cores",
    "RequestCpus": " cores",
    "maxMemory": " MB",
    "maxWallTime": " minutes, so that BatchRuntime (60 times it, in seconds) is a ClassAd integer",
    "BatchRuntime": " seconds",
}


def _range_problems(job: str, route: Dict[str, Any] | None, result: Dict[str, Any]) -> List[str]:
    """The numbers the CE's transforms would compute with that are not finite or not in LIMITS."""
    values = [(f"job {short_repr(job)}: {name}", name, result["attributes"].get(name)) for name in JOB_ATTRIBUTES]
    if route is not None:
        values += [
            (f"job {short_repr(job)}, route {short_repr(route['name'])}: {name}", name, value)
            for name, value in result["variables"].items()
        ]
    problems = []
    for where, name, value in values:
        if name not in LIMITS or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not (math.isfinite(value) and 0 <= value <= LIMITS[name]):
            unit = _UNITS.get(name.replace("default_", ""), "")
            problems.append(f"{where} is {_shown_number(value)}, not a number from 0 to {LIMITS[name]}{unit}")
    return problems


def _match(name: str, route: Dict[str, Any] | None, result: Dict[str, Any], max_time: int) -> Dict[str, Any]:
    attrs = result["attributes"]
    match: Dict[str, Any] = {
        "job": name,
        "route": None,
        "grid_resource": None,
        "universe": None,
        "queue": None,
        "xcount": None,
        "maxMemory": None,
        "maxWallTime": None,
        "BatchRuntime": None,
        "variables": {},
        "deciding_expression": None,
    }
    if route is None:
        return match
    variables = dict(result["variables"])
    if "default_queue" in route["variables"]:
        variables["default_queue"] = route["variables"]["default_queue"]
    grid = result["grid_resource"]
    match.update(
        route=route["name"],
        grid_resource=grid if isinstance(grid, str) else None,
        universe=route["universe"],
        variables={key: variables[key] for key in VARIABLES if key in variables},
        deciding_expression=route["requirements"],
    )
    # Queue: the job's queue, else the route's default_queue (CE Queue transform).
    queue = attrs.get("queue")
    match["queue"] = queue if isinstance(queue, str) else variables.get("default_queue")
    # Cores: job xcount, else job RequestCpus when > 1, else default_xcount, else 1 (CE Cpus transform).
    cpus = _number(attrs.get("RequestCpus"))
    for value in (_number(attrs.get("xcount")), cpus if cpus is not None and cpus > 1 else None,
                  _number(variables.get("default_xcount")), 1):  # fmt: skip
        if value is not None:
            match["xcount"] = value
            break
    # Memory (MB): job maxMemory, else default_maxMemory, else 2000 (CE Memory transform).
    for value in (_number(attrs.get("maxMemory")), _number(variables.get("default_maxMemory")), DEFAULT_MEMORY):
        if value is not None:
            match["maxMemory"] = value
            break
    # Wall time: BatchRuntime (s) = 60 x job maxWallTime (min), else job BatchRuntime, else
    # 60 x default_maxWallTime, else 60 x ROUTED_JOB_MAX_TIME (CE BatchRuntime transform).
    minutes, runtime = _number(attrs.get("maxWallTime")), _number(attrs.get("BatchRuntime"))
    if minutes is None and runtime is None:
        minutes = _number(variables.get("default_maxWallTime"))
        if minutes is None:
            minutes = max_time
    if minutes is not None:
        runtime = _number(60 * minutes)
    else:
        minutes = _number(runtime / 60)
    match["maxWallTime"], match["BatchRuntime"] = minutes, runtime
    return match


def _mismatch(job, expected, match, routes, index, result) -> Dict[str, Any]:
    """One row of the mismatch table; the deciding expression is the one that settled the job's route.

    That is the REQUIREMENTS of the expected route when it comes first and was not true (the job fell
    through it), else the REQUIREMENTS of the route that took the job first.
    """
    actual = match["route"]
    if expected is not None and (actual is None or index[expected] < index[actual]):
        requirements = routes[index[expected]]["requirements"]
        deciding = f"{expected}: REQUIREMENTS {requirements} is {_shown(result['expected_value'])}"
    else:
        requirements = match["deciding_expression"]
        deciding = f"{actual}: " + (
            f"REQUIREMENTS {requirements} is true" if requirements else "no REQUIREMENTS, takes every job"
        )
    return {"job": job, "expected": expected, "actual": actual, "deciding_expression": deciding}


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table under ``header``, every column but the last padded to its widest cell."""
    rows = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    lines = [" | ".join([*(cell.ljust(width) for cell, width in zip(row, widths)), row[-1]]) for row in rows]
    lines.insert(1, "-+-".join([*("-" * width for width in widths), "-" * len(header[-1])]))
    return "\n".join(line.rstrip() for line in lines)


def mismatch_table(mismatches: Sequence[Mapping[str, Any]]) -> str:
    """A plain-text table: job, expected route, actual route, deciding expression."""
    return text_table(
        ("job", "expected route", "actual route", "deciding expression"),
        [
            (item["job"], item["expected"] or UNROUTED, item["actual"] or UNROUTED, item["deciding_expression"])
            for item in mismatches
        ],
    )


def check_expectations(result: Mapping[str, Any]) -> str | None:
    """The failure message for ``result['mismatches']``, or None when every expectation holds."""
    mismatches = result["mismatches"]
    if not mismatches:
        return None
    return f"{len(mismatches)} job(s) not routed as expected:\n{mismatch_table(mismatches)}"


def route_match(
    jobs: Any,
    routes: Any = None,
    routes_text: str | None = None,
    routes_source: str = "routes_file",
    expect: Any = None,
    routed_job_max_time: int = ROUTED_JOB_MAX_TIME,
    python: str | None = None,
) -> Dict[str, Any]:
    """The whole check, as the module and the filter run it: validate, match, compare with ``expect``.

    Give ``routes`` (structured) or ``routes_text`` (a routes file's text, ``routes_source`` naming it).
    Raises MatchError for bad input; expectations are reported in ``mismatches``, not raised.
    """
    problems = []
    if (routes is None) == (routes_text is None):
        problems.append("give the routes either as routes (structured) or as routes_file, not both and not neither")
    if (
        isinstance(routed_job_max_time, bool)
        or not isinstance(routed_job_max_time, int)
        or not 1 <= routed_job_max_time <= MAX_MINUTES
    ):
        problems.append(
            f"routed_job_max_time {_shown_input(routed_job_max_time)} is not a whole number of minutes "
            f"from 1 to {MAX_MINUTES}"
        )
    if problems:
        raise MatchError(problems)
    facts = routes_from_config(routes) if routes is not None else routes_from_text(routes_text, routes_source)
    normalized = normalize_jobs(jobs)
    wanted = normalize_expect(
        expect, [job["name"] for job in normalized], [route["name"] for route in facts], jobs=normalized
    )
    result = match_routes(facts, normalized, wanted, routed_job_max_time, python=python)
    result["routes"] = [route["name"] for route in facts]
    return result
