# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""HTCondor-CE job routes in the ClassAd transform syntax: model, validation and rendering.

Conversion from the old ``JOB_ROUTER_ENTRIES`` ClassAd syntax is :mod:`._route_conversion`.

A route is a mapping: ``name`` plus structured keys (rendered in :data:`RENDER_ORDER`) and/or
``commands``, raw transform lines appended after them. Values that are ClassAd expressions are
strings written verbatim (``'"bar"'`` is the string literal ``bar``); ints, floats and booleans
are written as ClassAd literals. References: HTCondor manual, "The HTCondor Job Router" and
"ClassAd Transforms"; HTCondor-CE documentation, "Writing Job Routes".

Runs on managed hosts: Python >= 3.9, standard library only; ClassAd checks run ``classad2`` in a
child process (:mod:`._condor_config`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Dict, List, NamedTuple, Tuple

from ansible_collections.osg_htc.site.plugins.module_utils._classad import (
    is_attribute_name,
    quote,
    quote_string,
    short_repr,
)
from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import (
    NO_CLASSAD_PARSER,
    check_classad_expressions,
)
from ansible_collections.osg_htc.site.plugins.module_utils._config_text import (
    ConfigTextError,
    block_line,
    block_read_value,
)
from ansible_collections.osg_htc.site.plugins.module_utils._grid_resource import BATCH_SYSTEMS, grid_resource

ROUTE_NAME_RE = re.compile(r"\A[A-Za-z0-9_]+\Z")
MACRO_NAME_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_.]*\Z")
QUEUE_RE = re.compile(r"\A(?:[A-Za-z0-9_.@+-]+|\$\([A-Za-z_][A-Za-z0-9_.]*\))\Z")
# A config macro reference kept in a GridResource text: $(NAME), expanded when the CE reads its config.
CONFIG_MACRO_RE = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_.]*\)")
# Transform macro references ($(var), $(MY.attr), $INT(var), $Fq(var), $(var:default)) are
# expanded before the ClassAd parser sees an expression; a placeholder stands in for the check.
TRANSFORM_MACRO_RE = re.compile(r"\$[A-Za-z]*\([^()]*\)")
MACRO_PLACEHOLDER = "osg_htc_macro_value"

UNIVERSES = {"standard": 1, "vanilla": 5, "scheduler": 7, "grid": 9, "java": 10, "parallel": 11, "local": 12, "vm": 13}
KEYWORDS = ("NAME", "UNIVERSE", "REQUIREMENTS", "SET", "DEFAULT", "EVALSET", "EVALMACRO", "COPY", "RENAME", "DELETE")
CONDITIONALS = ("if", "elif", "else", "endif")
INT32_MAX = 2**31 - 1

# Route macro variables of HTCondor-CE's post-route transforms ("Setting a Default..." in the CE docs).
CE_VARIABLES = ("default_queue", "default_xcount", "default_maxMemory", "default_maxWallTime", "default_pilot_job_env")
RENDER_ORDER = (
    "universe",
    "target_universe",
    "grid_resource",
    "requirements",
    "max_jobs",
    "max_idle_jobs",
    *CE_VARIABLES,
    "copy",
    "delete",
    "rename",
    "set",
    "default_CERequirements",
    "default",
    "evalset",
    "commands",
)
"""Structured keys in the order they are rendered: the route settings first, then the attribute
edits in the order the old router applied them (copy, delete, set, eval_set), then raw commands."""
ROUTE_KEYS = ("name", *RENDER_ORDER)

HEADER = (
    "# Managed by Ansible (osg_htc.site.ce_job_route): changes made here are overwritten.\n"
    "# HTCondor-CE job routes in the ClassAd transform syntax; the first route in\n"
    "# JOB_ROUTER_ROUTE_NAMES whose REQUIREMENTS match a job routes it.\n"
)
BLOCK_TAG = "jrt"


class RouteError(Exception):
    """Routes that cannot be rendered; ``problems`` lists every problem found."""

    def __init__(self, problems: List[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class _Collector:
    """Problems and ClassAd expressions gathered while rendering, checked all at once."""

    def __init__(self):
        self.problems: List[str] = []
        self.expressions: List[Tuple[str, str]] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def expression(self, where: str, text: str) -> None:
        self.expressions.append((where, text))


def _where(route: str, key: str) -> str:
    return f"route {route!r}, {key}"


# --- values -----------------------------------------------------------------------------------


def expression_text(value: Any) -> str:
    """The ClassAd text of a value: strings verbatim (they are expressions), other scalars quoted."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (bool, int, float)):
        return quote(value)
    raise TypeError(f"{short_repr(value)} is a {type(value).__name__}; give a ClassAd expression as a string")


def _expression(col: _Collector, where: str, value: Any) -> str | None:
    try:
        text = expression_text(value)
    except (TypeError, ValueError) as exc:
        col.problem(where, str(exc))
        return None
    if not text:
        col.problem(where, "the expression is empty")
        return None
    if "\n" in text or "\r" in text:
        col.problem(where, f"the expression {short_repr(text)} spans lines; write it on one line")
        return None
    col.expression(where, text)
    return text


def _integer(col: _Collector, where: str, value: Any, minimum: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        else:
            col.problem(where, f"{short_repr(value)} is not an integer from {minimum} to {INT32_MAX}")
            return None
    if not minimum <= value <= INT32_MAX:
        col.problem(where, f"{value} is out of range; use an integer from {minimum} to {INT32_MAX}")
        return None
    return str(value)


def _universe(col: _Collector, where: str, value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in UNIVERSES.values():
        return value
    if isinstance(value, str) and value.strip().lower() in UNIVERSES:
        return UNIVERSES[value.strip().lower()]
    valid = ", ".join(f"{n} ({i})" for n, i in UNIVERSES.items())
    col.problem(where, f"{short_repr(value)} is not a universe; use one of {valid}")
    return None


def _attr(col: _Collector, where: str, name: Any, what: str = "attribute name") -> bool:
    if is_attribute_name(name):
        return True
    col.problem(
        where, f"{short_repr(name)} is not a valid ClassAd {what} ([A-Za-z_][A-Za-z0-9_]*, not a reserved word)"
    )
    return False


def _attr_or_regex(col: _Collector, where: str, name: Any) -> bool:
    if isinstance(name, str) and len(name) > 2 and name.startswith("/") and name.endswith("/"):
        return True
    if is_attribute_name(name):
        return True
    col.problem(where, f"{short_repr(name)} is neither a ClassAd attribute name nor a /regex/")
    return False


def grid_resource_text(value: Any) -> str:
    """The GridResource text of a route: a string, or ``{batch, user, host, port}``.

    Accepted forms (what HTCondor-CE routes use): ``batch <pbs|slurm|lsf|sge|condor> [[user@]host[:port]]``
    and ``condor <schedd> <collector[:port]>``; each word may be a config macro ``$(NAME)``
    (the packaged Bosco route uses ``batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)``).
    Raises ValueError naming the problem.
    """
    if isinstance(value, Mapping):
        unknown = set(value) - {"batch", "user", "host", "port"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; use batch, user, host and port")
        if value.get("host") is None:
            if value.get("user") is not None or value.get("port") is not None:
                raise ValueError("user and port need a host")
            return grid_resource(value.get("batch"))
        endpoint = str(value["host"])
        if value.get("user") is not None:
            endpoint = f"{value['user']}@{endpoint}"
        if value.get("port") is not None:
            endpoint = f"{endpoint}:{value['port']}"
        return grid_resource(value.get("batch"), endpoint)
    if not isinstance(value, str):
        raise ValueError(f"{short_repr(value)} is neither a string nor a mapping {{batch, user, host, port}}")
    words = value.split()
    if " ".join(words) != value:
        raise ValueError(f"{short_repr(value)} has leading, trailing or repeated whitespace")

    def macro(word):
        return CONFIG_MACRO_RE.fullmatch(word) is not None

    if words and words[0] == "batch" and 2 <= len(words) <= 3:
        if macro(words[1]) or (len(words) == 3 and macro(words[2])):
            return value
        return grid_resource(words[1], words[2] if len(words) == 3 else None)
    if words and words[0] == "condor" and len(words) == 3:
        for word in words[1:]:
            if not (macro(word) or re.fullmatch(r"[A-Za-z0-9_.@:-]+", word)):
                raise ValueError(f"{short_repr(word)} in {short_repr(value)} is not a schedd or collector name")
        return value
    raise ValueError(
        f"{short_repr(value)} is not a GridResource the CE routes to; use 'batch <{'|'.join(BATCH_SYSTEMS)}> "
        "[[user@]host[:port]]' or 'condor <schedd> <collector>'"
    )


def _quote_grid_resource(text: str) -> str:
    # quote_string writes '$' as \044, which would stop $(BOSCO_RMS) from being expanded.
    parts = CONFIG_MACRO_RE.split(text)
    macros = CONFIG_MACRO_RE.findall(text)
    out = quote_string(parts[0])[:-1]
    for ref, part in zip(macros, parts[1:]):
        out += ref + quote_string(part)[1:-1]
    return out + '"'


# --- raw command lines ------------------------------------------------------------------------


ASSIGNMENT_RE = re.compile(r"\A([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)\Z")
_REGEX_ARG_RE = re.compile(r"\A(/(?:\\.|[^\\/])+/)(?:\s+(.*))?\Z")
_SPECIAL_MACROS = {"gridresource", "maxjobs", "maxidlejobs", "targetuniverse", "requirements"}


def _split_attr_value(rest: str) -> Tuple[str, str]:
    """``attr [=] value`` -> (attr, value); the ``=`` is optional, as in the CE documentation."""
    match = re.match(r"\A([^\s=]+)\s*(?:=\s*)?(.*)\Z", rest)
    return (match.group(1), match.group(2).strip()) if match else ("", "")


def check_command(col: _Collector, where: str, line: Any, depth: List[int]) -> None:
    """Check one raw transform line; ``depth`` holds the open if-block count."""
    if not isinstance(line, str):
        col.problem(where, f"{short_repr(line)} is not a string")
        return
    if "\n" in line or "\r" in line:
        col.problem(where, f"{short_repr(line)} contains a line break; give one command per list item")
        return
    text = line.strip()
    if not text or text.startswith("#"):
        return
    if text.startswith("@"):
        col.problem(where, f"{short_repr(text)} starts with '@', which would end the route's @={BLOCK_TAG} block")
        return
    first, _sep, rest = text.partition(" ")
    rest = rest.strip()
    word = first.lower()
    if word in CONDITIONALS:
        if word in ("if", "elif") and not rest:
            col.problem(where, f"'{word}' needs a condition")
        if word in ("else", "endif") and rest:
            col.problem(where, f"'{word}' takes no condition, found {short_repr(rest)}")
        if word in ("elif", "else", "endif") and depth[0] == 0:
            col.problem(where, f"'{word}' without a matching 'if'")
        elif word == "if":
            depth[0] += 1
        elif word == "endif":
            depth[0] -= 1
        return
    keyword = first.upper()
    if keyword == "TRANSFORM":
        col.problem(where, "TRANSFORM belongs to multi-ad transforms (condor_transform_ads), not to a job route")
        return
    if keyword in KEYWORDS and not ASSIGNMENT_RE.match(text):
        _check_keyword(col, where, keyword, rest)
        return
    match = ASSIGNMENT_RE.match(text)
    if match:
        _check_assignment(col, where, match.group(1), match.group(2).strip())
        return
    col.problem(
        where,
        f"{short_repr(text)} is not a transform command; use one of {', '.join(KEYWORDS)}, "
        "if/elif/else/endif, '# comment' or 'name = value'",
    )


def _check_keyword(col: _Collector, where: str, keyword: str, rest: str) -> None:
    if not rest:
        col.problem(where, f"{keyword} needs an argument")
        return
    if keyword == "UNIVERSE":
        _universe(col, where, rest)
    elif keyword == "REQUIREMENTS":
        col.expression(where, rest)
    elif keyword in ("SET", "DEFAULT", "EVALSET", "EVALMACRO"):
        attr, value = _split_attr_value(rest)
        if keyword == "EVALMACRO":
            if not MACRO_NAME_RE.match(attr):
                col.problem(where, f"{short_repr(attr)} is not a macro name")
        else:
            _attr(col, where, attr)
        if not value:
            col.problem(where, f"{keyword} {attr} has no value")
        else:
            col.expression(where, value)
    elif keyword in ("COPY", "RENAME", "DELETE"):
        regex = _REGEX_ARG_RE.match(rest)
        if regex:
            target = (regex.group(2) or "").strip()
        else:
            source, target = _split_attr_value(rest)
            _attr(col, where, source)
        if keyword == "DELETE" and target:
            col.problem(where, f"DELETE takes one attribute or /regex/, found also {short_repr(target)}")
        elif keyword != "DELETE" and not target:
            col.problem(where, f"{keyword} needs a new attribute name (or, after a /regex/, a pattern)")
        elif keyword != "DELETE" and not regex:
            _attr(col, where, target)


def _check_assignment(col: _Collector, where: str, name: str, value: str) -> None:
    folded = name.lower()
    if folded not in _SPECIAL_MACROS:
        return  # a route variable: any text, used through $(name)
    if not value:
        col.problem(where, f"{name} has no value")
    elif folded == "gridresource":
        if not (value.startswith('"') and value.endswith('"')):
            col.problem(where, f"GridResource must be a quoted string, found {short_repr(value)}")
    elif folded in ("maxjobs", "maxidlejobs"):
        _integer(col, where, value, 0)
    elif folded == "targetuniverse":
        _universe(col, where, value)
    else:
        col.expression(where, value)


# --- structured routes ------------------------------------------------------------------------


def _mapping(col: _Collector, where: str, value: Any) -> Mapping:
    if isinstance(value, Mapping):
        return value
    col.problem(where, f"must be a mapping, not {short_repr(value)}")
    return {}


def _no_duplicates(col: _Collector, where: str, names) -> None:
    seen = {}
    for name in names:
        if isinstance(name, str) and name.lower() in seen:
            col.problem(
                where, f"{seen[name.lower()]!r} and {name!r} are the same attribute (names are case-insensitive)"
            )
        elif isinstance(name, str):
            seen[name.lower()] = name


def route_lines(col: _Collector, route: Mapping, label: str) -> List[str]:
    """The transform lines of one route, problems and expressions going to ``col``."""
    lines: List[str] = []
    unknown = [key for key in route if key not in ROUTE_KEYS]
    if unknown:
        col.problem(label, f"unknown keys {sorted(map(str, unknown))}; valid keys are {', '.join(ROUTE_KEYS)}")
    if route.get("universe") is not None and route.get("target_universe") is not None:
        col.problem(label, "give universe or target_universe, not both")

    def given(key):
        return route.get(key) is not None

    if given("universe"):
        number = _universe(col, _where(label, "universe"), route["universe"])
        if number is not None:
            names = {v: k for k, v in UNIVERSES.items()}
            lines.append(f"UNIVERSE {names[number].upper()}")
    if given("target_universe"):
        number = _universe(col, _where(label, "target_universe"), route["target_universe"])
        if number is not None:
            lines.append(f"TargetUniverse = {number}")
    if given("grid_resource"):
        try:
            lines.append(f"GridResource = {_quote_grid_resource(grid_resource_text(route['grid_resource']))}")
        except ValueError as exc:
            col.problem(_where(label, "grid_resource"), str(exc))
    if given("requirements"):
        text = _expression(col, _where(label, "requirements"), route["requirements"])
        if text:
            lines.append(f"REQUIREMENTS {text}")
    for key, attr in (("max_jobs", "MaxJobs"), ("max_idle_jobs", "MaxIdleJobs")):
        if given(key):
            number = _integer(col, _where(label, key), route[key], 0)
            if number is not None:
                lines.append(f"{attr} = {number}")
    for key in CE_VARIABLES:
        if not given(key):
            continue
        value = route[key]
        where = _where(label, key)
        if key == "default_queue":
            if isinstance(value, str) and QUEUE_RE.match(value):
                lines.append(f"{key} = {value}")
            else:
                col.problem(where, f"{short_repr(value)} is not a batch queue name (letters, digits, _ . @ + -)")
        elif key == "default_pilot_job_env":
            text = _expression(col, where, value)
            if text:
                lines.append(f"{key} = {text}")
        elif isinstance(value, str) and not value.strip().isdigit():
            text = _expression(col, where, value)  # an expression the CE evaluates per job
            if text:
                lines.append(f"{key} = {text}")
        else:
            number = _integer(col, where, value, 1)
            if number is not None:
                lines.append(f"{key} = {number}")
    if given("copy"):
        lines.extend(_attribute_pairs(col, label, "copy", route["copy"]))
    if given("delete"):
        items = route["delete"]
        if not isinstance(items, list):
            col.problem(_where(label, "delete"), f"must be a list, not {short_repr(items)}")
            items = []
        for index, attr in enumerate(items):
            if _attr_or_regex(col, _where(label, f"delete[{index}]"), attr):
                lines.append(f"DELETE {attr}")
    if given("rename"):
        lines.extend(_attribute_pairs(col, label, "rename", route["rename"]))
    set_items = dict(_mapping(col, _where(label, "set"), route["set"])) if given("set") else {}
    for key, command in (("set", "SET"), ("default", "DEFAULT"), ("evalset", "EVALSET")):
        if key == "set":
            items = set_items
        elif given(key):
            items = _mapping(col, _where(label, key), route[key])
        else:
            items = {}
        _no_duplicates(col, _where(label, key), items)
        for attr, value in items.items():
            where = _where(label, f"{key}.{attr}")
            if _attr(col, where, attr):
                text = _expression(col, where, value)
                if text:
                    lines.append(f"{command} {attr} {text}")
        if key == "set" and given("default_CERequirements"):
            lines.extend(_ce_requirements(col, label, route["default_CERequirements"], set_items))
    if given("commands"):
        commands = route["commands"]
        if not isinstance(commands, list):
            col.problem(_where(label, "commands"), f"must be a list of lines, not {short_repr(commands)}")
            commands = []
        depth = [0]
        for index, line in enumerate(commands):
            check_command(col, _where(label, f"commands[{index}] {short_repr(line)}"), line, depth)
            if isinstance(line, str):
                lines.append(line.strip())
        if depth[0]:
            col.problem(_where(label, "commands"), f"{depth[0]} 'if' without a matching 'endif'")
    if not lines:
        col.problem(label, "has no commands; give at least universe, target_universe, grid_resource or commands")
    return lines


def _attribute_pairs(col: _Collector, label: str, key: str, value: Any) -> List[str]:
    """``COPY``/``RENAME`` lines of a ``{source: target}`` mapping; a /regex/ source takes a substitution pattern."""
    lines = []
    for source, target in _mapping(col, _where(label, key), value).items():
        where = _where(label, f"{key}.{source}")
        if not _attr_or_regex(col, where, source):
            continue
        if source.startswith("/"):
            if not (isinstance(target, str) and target.strip()):
                col.problem(where, f"{short_repr(target)} is not a substitution pattern; give a non-empty string")
                continue
        elif not _attr(col, where, target):
            continue
        lines.append(f"{key.upper()} {source} {target.strip()}")
    return lines


def _ce_requirements(col: _Collector, label: str, value: Any, set_items: Mapping) -> List[str]:
    where = _where(label, "default_CERequirements")
    names = value if isinstance(value, list) else str(value).split(",") if isinstance(value, str) else None
    if names is None:
        col.problem(where, f"{short_repr(value)} is neither a list of attribute names nor a comma-separated string")
        return []
    names = [str(name).strip() for name in names]
    if not all(_attr(col, where, name) for name in names):
        return []
    if any(key.lower() == "default_cerequirements" for key in set_items):
        col.problem(where, "also given in set; give it once")
        return []
    return [f"SET default_CERequirements {quote_string(','.join(names))}"]


# --- whole files ------------------------------------------------------------------------------


def render_file(routes: List[Tuple[str, List[str]]]) -> str:
    """The config file text for ``[(name, lines), ...]``, in that (matching) order."""
    out = [HEADER]
    for name, lines in routes:
        body = "".join(f"  {line}\n" if line else "\n" for line in lines)
        out.append(f"\nJOB_ROUTER_ROUTE_{name} @={BLOCK_TAG}\n{body}@{BLOCK_TAG}\n")
    out.append(f"\nJOB_ROUTER_ROUTE_NAMES = {' '.join(name for name, _lines in routes)}\n")
    return "".join(out)


class RenderedRoutes(NamedTuple):
    """Routes rendered into a configuration file.

    ``settings`` maps each name the file defines to the value HTCondor must read
    back for it (for ``check_config_text(readback=...)``).
    """

    text: str
    names: List[str]
    warnings: List[str]
    settings: Dict[str, str]


def render_routes(routes: Any, python: str | None = None, check_expressions: bool = True) -> RenderedRoutes:
    """Validate ``routes`` and render them.

    Every problem (names, keys, commands, the configuration-text rule for every
    line, and all ClassAd expressions in one batched ``classad2`` check) is
    collected before RouteError is raised with the whole list. Where
    ``classad2`` is absent, a warning says so and expressions get structural
    checks only.
    """
    col = _Collector()
    rendered: List[Tuple[str, List[str]]] = []
    warnings: List[str] = []
    if not isinstance(routes, list):
        raise RouteError([f"routes must be a list of routes, not {short_repr(routes)}"])
    seen: Dict[str, str] = {}
    for index, route in enumerate(routes):
        if not isinstance(route, Mapping):
            col.problem(f"routes[{index}]", f"must be a mapping with a name, not {short_repr(route)}")
            continue
        name = route.get("name")
        label = f"routes[{index}]" if not isinstance(name, str) else name
        if not isinstance(name, str) or not ROUTE_NAME_RE.match(name):
            col.problem(f"routes[{index}]", f"name {short_repr(name)} is not valid: use letters, digits and _ only")
        elif name.lower() in seen:
            col.problem(f"routes[{index}]", f"name {name!r} is given twice (also as {seen[name.lower()]!r})")
        else:
            seen[name.lower()] = name
        lines = route_lines(col, route, label)
        _check_lines(col, label, lines)
        rendered.append((str(name), lines))
    if check_expressions:
        warning = _check_expressions(col, python)
        if warning:
            warnings.append(warning)
    if col.problems:
        raise RouteError(col.problems)
    names = [name for name, _lines in rendered]
    settings = {f"JOB_ROUTER_ROUTE_{name}": block_read_value(lines) for name, lines in rendered}
    settings["JOB_ROUTER_ROUTE_NAMES"] = " ".join(names)
    return RenderedRoutes(render_file(rendered), names, warnings, settings)


def build_routes(routes: Any, python: str | None = None, check_expressions: bool = True):
    """``(text, names, warnings)`` of :func:`render_routes`, for callers that do not check the file."""
    return render_routes(routes, python=python, check_expressions=check_expressions)[:3]


def _check_lines(col: _Collector, label: str, lines: List[str]) -> None:
    """The configuration-text rule for every line of a route body (see :mod:`._config_text`).

    Whatever key a line came from, it must stay one line of the route's
    ``@=jrt`` block: no line break or control character, no trailing backslash
    (it would join the next line, possibly the block's end), no leading ``@``.
    """
    for index, line in enumerate(lines):
        where = f"route {label!r}, line {index + 1} {short_repr(line)}"
        try:
            block_line(where, line)
        except ConfigTextError as exc:
            col.problems.append(str(exc))


def _check_expressions(col: _Collector, python: str | None) -> str | None:
    texts = [TRANSFORM_MACRO_RE.sub(MACRO_PLACEHOLDER, text) for _where_, text in col.expressions]
    try:
        bad = check_classad_expressions(texts, python=python)
    except RuntimeError as exc:
        col.problems.append(f"the ClassAd expressions could not be checked: {exc}")
        return None
    if bad is None:
        for (where, text), probe in zip(col.expressions, texts):
            problem = structural_problem(probe)
            if problem:
                col.problem(where, f"{short_repr(text)}: {problem}")
        return f"{NO_CLASSAD_PARSER}; ClassAd expressions were only checked for balanced quotes and brackets"
    for index, message in sorted(bad.items()):
        where, text = col.expressions[index]
        col.problem(where, f"{short_repr(text, 80)} is not a valid ClassAd expression: {message}")
    return None


def structural_problem(text: str) -> str | None:
    """A problem with quotes or brackets in ``text``, for when no ClassAd parser is available."""
    stack = []
    pairs = {")": "(", "]": "[", "}": "{"}
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return f"unbalanced {char!r}"
    if in_string:
        return "unterminated string"
    if stack:
        return f"unclosed {stack[-1]!r}"
    return None


_BLOCK_RE = re.compile(r"^JOB_ROUTER_ROUTE_([A-Za-z0-9_]+) @=(\w+)\n(.*?)^@\2[ \t]*$", re.M | re.S)
_NAMES_RE = re.compile(r"^JOB_ROUTER_ROUTE_NAMES[ \t]*=[ \t]*(.*)$", re.M)


def parse_managed_file(text: str) -> List[Dict[str, Any]]:
    """Routes of a file this module wrote, as ``[{name, commands}]`` in JOB_ROUTER_ROUTE_NAMES order.

    Raises ValueError when the file does not look like one this module manages.
    """
    if not text.startswith(HEADER.splitlines()[0]):
        raise ValueError("it does not start with this module's header; it is not managed by ce_job_route")
    blocks = {m.group(1): [line.strip() for line in m.group(3).splitlines()] for m in _BLOCK_RE.finditer(text)}
    names = _NAMES_RE.findall(text)
    order = names[-1].split() if names else []
    if set(order) != set(blocks):
        raise ValueError("its JOB_ROUTER_ROUTE_NAMES does not list exactly its routes")
    return [{"name": name, "commands": blocks[name]} for name in order]
