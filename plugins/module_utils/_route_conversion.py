# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Conversion of HTCondor-CE job routes from the old ClassAd syntax (``JOB_ROUTER_ENTRIES`` and
``JOB_ROUTER_DEFAULTS``) to the structured routes of :mod:`._job_routes`.

What is read:

* a ``JOB_ROUTER_ENTRIES`` value on its own (text whose first item is ``[``), taken as written;
* configuration (text, a file, and/or the CE's base configuration with the files of its
  ``LOCAL_CONFIG_DIR``), read with HTCondor's own configuration reader through
  :func:`._condor_config.check_config_file`, so ``JOB_ROUTER_ENTRIES`` and ``JOB_ROUTER_DEFAULTS``
  are the values the CE read, with config macros (``$(FULL_HOSTNAME)``, a site's ``$(SomeFlag)``)
  expanded. Nothing is run: a text or file that would run a command when read (``include command``,
  an ``include`` whose target is piped or holds a macro, also in the files it includes) is refused,
  CE files that would are left out with a note, and the reader's wrapper empties
  ``LOCAL_CONFIG_FILE``, so HTCondor-CE's piped ``condor_ce_router_defaults`` never runs.
  ``JOB_ROUTER_DEFAULTS_GENERATED`` (what that script would set) is read as a marker ad, which is
  dropped: the CE's generated defaults are not the site's. A macro the configuration read does not
  define is kept as ``$(NAME)`` for the CE to expand when it reads the converted routes.

How a route converts follows HTCondor's own conversion (``ConvertClassadJobRouterRouteToXForm``,
htcondor/htcondor ``src/condor_utils/xform_utils.cpp``, identical at v24.0.23 and main 7491a145):
the defaults ads are merged in order (a later one wins per attribute, names case-insensitive, only
with ``MERGE_JOB_ROUTER_DEFAULT_ADS`` true), each route starts from the merged defaults and its own
attributes win. Where this conversion deliberately differs (expression text kept as written,
``set_default_*`` as the CE's route variables, ``TARGET.`` in ``eval_set_*``, route names, quoted
route attributes, order) is written down in the collection's docs/job-routes.md.

Each attribute keeps the text the site wrote (comments dropped, line breaks made spaces) when
``classad2`` reads that text as the same expression as the ad holds; otherwise the ClassAd unparser's
text is used and a note says so.

Runs on managed hosts: Python >= 3.9, standard library only; ``classad2`` runs in a child process.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, NamedTuple, Sequence, Tuple

from ansible_collections.osg_htc.site.plugins.module_utils._classad import short_repr
from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import (
    NO_PARSER,
    _check_dir,
    check_config_file,
    check_config_text,
    commands_in_file,
    includable,
    local_config_dir_files,
    placement,
    read_base_config,
    run_classad_script,
)
from ansible_collections.osg_htc.site.plugins.module_utils._config_text import command_lines, include_targets
from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import (
    CE_VARIABLES,
    QUEUE_RE,
    ROUTE_NAME_RE,
    RouteError,
    grid_resource_text,
    render_routes,
)

NEEDS_CLASSAD2 = (
    "converting old routes needs classad2 (python3-condor, the HTCondor Python bindings) for the Ansible interpreter"
)
NEEDS_READER = f"reading the old routes from configuration needs HTCondor's configuration reader: {NO_PARSER}"

ENTRIES, DEFAULTS, MERGE = "JOB_ROUTER_ENTRIES", "JOB_ROUTER_DEFAULTS", "MERGE_JOB_ROUTER_DEFAULT_ADS"
ENTRIES_FILE, ENTRIES_CMD, GENERATED = (
    "JOB_ROUTER_ENTRIES_FILE",
    "JOB_ROUTER_ENTRIES_CMD",
    "JOB_ROUTER_DEFAULTS_GENERATED",
)
ROUTER_SETTINGS = (ENTRIES, DEFAULTS, MERGE, ENTRIES_FILE, ENTRIES_CMD)

# JOB_ROUTER_DEFAULTS_GENERATED as the conversion reads it: one ad holding only this marker.
GENERATED_MARKER = "osg_htc_site_generated_defaults"
_GENERATED_AD = f"[ {GENERATED_MARKER} = true; ]"
# A macro the configuration read does not define is read as this token, then written back as $(NAME).
_UNDEFINED_TOKEN = "osg_htc_site_undefined_macro_"  # noqa: S105 - not a password
_UNDEFINED_RE = re.compile(rf"{_UNDEFINED_TOKEN}(\d+)_")
# $(NAME) and $(NAME:default) config macro references; $$(NAME) is left for later and is not one.
_MACRO_REF_RE = re.compile(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_.]*)(:?)")
_MAX_MACROS = 64

# Route attributes HTCondor's conversion flattens against the route ad, with TARGET. written as MY.
_ROUTER_FLAGS = frozenset(
    name.lower()
    for name in (
        "EditJobInPlace",
        "FailureRateThreshold",
        "JobFailureTest",
        "JobShouldBeSandboxed",
        "OverrideRoutingEntry",
        "UseSharedX509UserProxy",
        "SharedX509UserProxy",
    )
)
_SET_DEFAULT_VARIABLES = {name.lower(): name for name in CE_VARIABLES}
_INTEGER_RE = re.compile(r"\A[-+]?[0-9]+\Z")


# --- the old ClassAd text ---------------------------------------------------------------------


def _quoted_end(text: str, start: int) -> int | None:
    """Index after the string literal or quoted name starting at ``start``; None when it is not closed."""
    quote, index = text[start], start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
        elif text[index] == quote:
            return index + 1
        else:
            index += 1
    return None


def _end_of_quoted(text: str, start: int) -> int:
    """Index after the string literal or quoted name starting at ``start`` (the end of ``text`` when unclosed)."""
    end = _quoted_end(text, start)
    return len(text) if end is None else end


def split_ads(text: str) -> List[str]:
    """Split old route text into its top-level ``[ ... ]`` ClassAds.

    Skips whitespace, ``# ...`` lines and ``/* ... */`` and ``// ...`` comments between and inside
    ads, and steps over string literals and quoted names; raises ValueError for anything else
    outside an ad or an ad left open.
    """
    text = "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())
    ads, depth, start, i = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        if char in "\"'":
            end = _quoted_end(text, i)
            if end is None:
                raise ValueError(f"the string literal or quoted name at character {i} is not closed")
            i = end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError("a /* comment is not closed")
            i = end + 2
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if char == "[":
            if depth == 0:
                start = i
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ']' at character {i}")
            if depth == 0:
                ads.append(text[start : i + 1])
        elif depth == 0 and not char.isspace():
            raise ValueError(f"unexpected {text[i : i + 20]!r} outside a [ ... ] route")
        i += 1
    if depth:
        raise ValueError("the last route is not closed with ']'")
    return ads


def one_line(text: str) -> str:
    """``text`` with every run of whitespace that holds a line break, outside string literals, made one space."""
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char in "\"'":
            end = _end_of_quoted(text, index)
            out.append(text[index:end])
            index = end
            continue
        if char.isspace():
            end = index
            while end < len(text) and text[end].isspace():
                end += 1
            run = text[index:end]
            out.append(" " if ("\n" in run or "\r" in run) else run)
            index = end
            continue
        out.append(char)
        index += 1
    return "".join(out).strip()


_ATTRIBUTE_RE = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|'((?:[^'\\]|\\.)*)')\s*=(?![=?!])(.*)\Z", re.S)


def split_attributes(ad: str) -> List[Tuple[str, str]]:
    """``(name, expression text)`` of each attribute of one old-syntax ad ``[ name = expr; ... ]``, as written.

    The ad is split at top-level ``;`` (outside string literals, quoted names, brackets and
    comments); comments are dropped and line breaks between tokens become spaces. A piece that is
    not ``name = expr`` is left out. Nothing here is trusted: the text of an attribute is used only
    where ``classad2`` reads it as the same expression as the parsed ad holds.
    """
    body = ad.strip()
    body = body[1:] if body.startswith("[") else body
    body = body[:-1] if body.endswith("]") else body
    pieces, current, depth, index = [], [], 0, 0
    while index < len(body):
        char = body[index]
        if char in "\"'":
            end = _end_of_quoted(body, index)
            current.append(body[index:end])
            index = end
            continue
        if body.startswith("/*", index) or body.startswith("//", index):
            close = "*/" if body[index + 1] == "*" else "\n"
            end = body.find(close, index + 2)
            index = len(body) if end < 0 else end + len(close)
            current.append(" " if close == "*/" else "\n")
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char == ";" and depth == 0:
            pieces.append("".join(current))
            current = []
            index += 1
            continue
        current.append(char)
        index += 1
    pieces.append("".join(current))
    found = []
    for piece in pieces:
        match = _ATTRIBUTE_RE.match(piece)
        if match and match.group(3).strip():
            name = match.group(1) if match.group(1) is not None else re.sub(r"\\(.)", r"\1", match.group(2))
            found.append((name, one_line(match.group(3))))
    return found


def is_entries_value(text: str) -> bool:
    """True when ``text`` is a bare ``JOB_ROUTER_ENTRIES`` value (its first item is ``[``), not configuration."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped.startswith(("[", "/*", "//"))
    return False


def rewrite_scope(text: str, scope: str, replacement: str) -> str:
    """Replace ``<scope>.`` attribute prefixes outside string literals and quoted names."""
    out, i = [], 0
    pattern = re.compile(rf"(?<![A-Za-z0-9_.]){scope}\.", re.I)
    while i < len(text):
        char = text[i]
        if char in "\"'":
            end = _end_of_quoted(text, i)
            out.append(text[i:end])
            i = end
            continue
        match = pattern.match(text, i)
        if match and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_.")):
            out.append(replacement)
            i = match.end()
            continue
        out.append(char)
        i += 1
    return "".join(out)


def has_scope(text: str, scope: str) -> bool:
    return rewrite_scope(text, scope, "\0") != text


# --- parsing with classad2 --------------------------------------------------------------------

# Parses the defaults ads and the routes, merges them as HTCondor does (ClassAd Update: a later ad
# replaces an attribute of the same name, names case-insensitive), and gives for every attribute of
# each merged route: the text to write, its kind and literal value, where it came from (-1: the
# route; n: defaults ad n), whether the written source was kept, and its internal and external
# references in the merged route ad.
_PARSE_OLD_SCRIPT = r"""
import json, sys
try:
    import classad2
except ImportError as err:
    sys.stderr.write("%s\n" % err)
    sys.exit(3)

def same(text, canon):
    try:
        if str(classad2.ExprTree(text)) != canon:
            return False
        classad2.ExprTree("(" + text + ")")
    except Exception:
        return False
    return True

def written(key, tree, source):
    canon = str(tree)
    if source is not None and same(source, canon):
        return source, "source"
    try:
        one = classad2.ClassAd()
        one[key] = tree
        old = one.printOld()
        prefix = key + " = "
        value = old[len(prefix):-1]
        if old.startswith(prefix) and old.endswith("\n") and "\n" not in value and same(value, canon):
            return value, "unparsed"
    except Exception:
        pass
    return canon, "unparsed"

def parse(entry):
    try:
        ad = classad2.parseOne(entry["ad"], classad2.ParserType.New)
        if ad is None:
            raise ValueError("no ClassAd")
    except Exception as err:
        return None, str(err) or type(err).__name__
    sources = dict((name.lower(), text) for name, text in entry["sources"])
    attrs = {}
    for key in ad.keys():
        tree = ad.lookup(key)
        text, how = written(key, tree, sources.get(key.lower()))
        attrs[key.lower()] = [key, tree, text, how]
    return attrs, None

def kind_of(ad, key, canon):
    try:
        value = ad.eval(key)
    except Exception:
        return "expr", None
    if isinstance(value, bool):
        return ("bool", value) if canon.lower() in ("true", "false") else ("expr", None)
    if isinstance(value, int):
        return ("int", value) if canon.lstrip("-").isdigit() else ("expr", None)
    if isinstance(value, str):
        try:
            if str(classad2.ExprTree(classad2.quote(value))) == canon:
                return "string", value
        except Exception:
            pass
    return "expr", None

def refs(method, tree):
    try:
        return [name for name in method(tree) if name]
    except Exception:
        return []

request = json.load(sys.stdin)
out = {"defaults": [], "routes": []}
merged = {}
for index, entry in enumerate(request["defaults"]):
    attrs, err = parse(entry)
    if err is not None:
        out["defaults"].append({"error": err})
        continue
    out["defaults"].append({"keys": [rec[0] for rec in attrs.values()]})
    for lower, rec in attrs.items():
        merged.pop(lower, None)
        merged[lower] = rec + [index]
for entry in request["routes"]:
    attrs, err = parse(entry)
    if err is not None:
        out["routes"].append({"error": err})
        continue
    full = dict(merged)
    for lower, rec in attrs.items():
        full.pop(lower, None)
        full[lower] = rec + [-1]
    ad = classad2.ClassAd()
    for key, tree, text, how, origin in full.values():
        ad[key] = tree
    rows = []
    for key, tree, text, how, origin in full.values():
        expr = ad.lookup(key)
        kind, value = kind_of(ad, key, str(expr))
        rows.append([key, text, kind, value, origin, how, refs(ad.internalRefs, expr), refs(ad.externalRefs, expr)])
    out["routes"].append({"attrs": rows})
json.dump(out, sys.stdout)
"""


def parse_old_ads(routes: Sequence[str], defaults: Sequence[str] = (), python: str | None = None, timeout: float = 60):
    """Parse and merge old route ads with classad2 in a child process; None when classad2 is absent.

    Returns ``{"defaults": [{"keys"} | {"error"}], "routes": [{"attrs": rows} | {"error"}]}``; each
    row is ``[name, text, kind, value, origin, how, internal_refs, external_refs]`` of an attribute of
    the route merged over the defaults (``origin`` -1 for the route's own, n for defaults ad n).
    """
    payload = {
        "defaults": [{"ad": ad, "sources": split_attributes(ad)} for ad in defaults],
        "routes": [{"ad": ad, "sources": split_attributes(ad)} for ad in routes],
    }
    return run_classad_script(_PARSE_OLD_SCRIPT, payload, "parsing the old routes", python=python, timeout=timeout)


# --- reading the configuration ----------------------------------------------------------------


class RouterConfig(NamedTuple):
    """The old router's settings as HTCondor's configuration reader expands them (None: undefined)."""

    values: Dict[str, str | None]
    notes: List[str]


def _macro_references(text: str) -> List[str]:
    """Names referenced as ``$(NAME)`` in ``text`` and never as ``$(NAME:default)``, first seen first."""
    plain, with_default = [], set()
    for match in _MACRO_REF_RE.finditer(text):
        name = match.group(1)
        if match.group(2):
            with_default.add(name.lower())
        elif name not in plain:
            plain.append(name)
    skip = {name.lower() for name in (*ROUTER_SETTINGS, GENERATED)} | with_default
    return [name for name in plain if name.lower() not in skip][:_MAX_MACROS]


def _refuse_commands(text: str | None, path: str | None) -> None:
    """Raise ValueError when reading ``path`` (or ``text``) would make HTCondor run a command, also via includes."""
    if path is not None:
        found = commands_in_file(path)
    else:
        found = [f"line {number}: {line}" for number, line in command_lines(text or "")]
        for target in include_targets(text or ""):
            if not os.path.isabs(target):
                found.append(f"include of {target!r}, a relative path (give an absolute one)")
            else:
                found.extend(commands_in_file(target))
    if found:
        raise ValueError(
            "it would run a command when HTCondor reads it, which the conversion never does: " + "; ".join(found)
        )


def _ce_files(config_root: str, path: str | None, python: str | None, notes: List[str]) -> Tuple[List[str], List[str]]:
    """The files to read before and after ``path`` for the CE of ``config_root``, in HTCondor's order."""
    if not os.path.isfile(config_root):
        raise ValueError(f"convert_config_root {config_root} does not exist or is not a file")
    reason = None
    if path is not None:
        where = placement(config_root, path)
        if where.error:
            raise ValueError(where.error)
        if where.before is not None:
            notes.extend(f"left out of the reading of the CE's configuration: {skipped}" for skipped in where.skipped)
            return list(where.before), list(where.after)
        if where.note == NO_PARSER:
            raise RuntimeError(NEEDS_READER)
        reason = where.unread or where.note
    base = read_base_config(config_root, python=python)
    if base is None:
        raise RuntimeError(NEEDS_READER)
    if base.error:
        raise ValueError(f"{config_root} does not load: {base.error}")
    files = []
    for other in local_config_dir_files(" ".join(base.dirs), base.exclude):
        if path is not None and os.path.abspath(other) == os.path.abspath(path):
            continue
        why = includable(os.path.abspath(other))
        commands = [] if why else commands_in_file(other)
        if why or commands:
            notes.append(
                "left out of the reading of the CE's configuration: "
                f"{other} ({why or 'runs a command when read: ' + commands[0]})"
            )
        else:
            files.append(other)
    if path is not None:
        notes.append(f"{path} is not one of the files the CE reads ({reason}); it was read after all of them")
    return [config_root, *files], []


def read_router_config(
    text: str | None = None,
    path: str | None = None,
    config_root: str | None = None,
    python: str | None = None,
    timeout: float = 60,
) -> RouterConfig:
    """The old router's settings from configuration, read and expanded by HTCondor's configuration reader.

    ``text`` is configuration (``path`` names the file it came from, read in place); ``config_root``
    adds the CE's base configuration and its ``LOCAL_CONFIG_DIR`` files (the text or file goes in its
    place among them, or after them all). Raises ValueError when the configuration does not load or
    would run a command, RuntimeError when no configuration reader is available.
    """
    notes: List[str] = []
    before, after = _ce_files(config_root, path, python, notes) if config_root is not None else ([], [])
    if text is not None or path is not None:
        _refuse_commands(text, path)
    # Macros the routes may use: referenced in the text and in the CE files read with it.
    texts = [text or ""]
    for other in [*before, *after]:
        try:
            with open(other, encoding="utf-8", errors="replace") as handle:
                texts.append(handle.read())
        except OSError:
            continue
    # The files that set the router's settings first: at most _MAX_MACROS names are looked up.
    texts.sort(key=lambda other: not any(name in other for name in (ENTRIES, DEFAULTS)))
    macros = _macro_references("\n".join(texts))
    names = [*ROUTER_SETTINGS, *macros]
    label = path or ("convert_from" if text is not None else config_root)
    with _check_dir(None) as workdir:
        generated = os.path.join(workdir, "generated-defaults.conf")
        with open(generated, "w", encoding="utf-8") as handle:
            handle.write(f"{GENERATED} = {_GENERATED_AD}\n")

        def read(first: Sequence[str]):
            if path is not None and includable(os.path.abspath(path)) is None:
                return check_config_file(
                    path,
                    names,
                    include_before=[*first, *before],
                    include_after=[*after, generated],
                    python=python,
                    timeout=timeout,
                )
            if text is not None:
                return check_config_text(
                    text,
                    names,
                    include_before=[*first, *before],
                    include_after=[*after, generated],
                    label=label,
                    python=python,
                    timeout=timeout,
                )
            return check_config_file(generated, names, include_before=[*first, *before], python=python, timeout=timeout)

        result = read([])
        values = dict(result.values)
        undefined = [name for name in macros if result.ok and values.get(name) is None]
        if undefined:
            stub = os.path.join(workdir, "undefined-macros.conf")
            with open(stub, "w", encoding="utf-8") as handle:
                handle.writelines(f"{name} = {_UNDEFINED_TOKEN}{i}_\n" for i, name in enumerate(undefined))
            result = read([stub])
            values = dict(result.values)
    if result.ok is None:
        raise RuntimeError(NEEDS_READER)
    if result.ok is False:
        raise ValueError(f"HTCondor's configuration reader does not load {label}: {result.error}")
    kept = set()

    def restore(match):
        name = undefined[int(match.group(1))]
        kept.add(name)
        return f"$({name})"

    for name in ROUTER_SETTINGS:
        if values.get(name) is not None and undefined:
            values[name] = _UNDEFINED_RE.sub(restore, values[name])
    for name in sorted(kept, key=str.lower):
        notes.append(
            f"$({name}) is not defined in the configuration read; it is kept as written, for the CE to expand "
            "when it reads the converted routes"
        )
    return RouterConfig({name: values.get(name) for name in ROUTER_SETTINGS}, notes)


def _boolean(value: str | None) -> bool | None:
    """HTCondor's literal config boolean (``true``/``1``/``false``/``0``, any case); None for anything else."""
    text = (value or "false").strip().lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(text)


def _defaults_ads(value: str | None, merge_value: str | None, notes: List[str], problems: List[str]) -> List[str]:
    """The ``JOB_ROUTER_DEFAULTS`` ads the old router used, in merge order, without the CE's generated ones."""
    if value is None or not value.strip():
        return []
    merge = _boolean(merge_value)
    if merge is None:
        problems.append(
            f"{MERGE} = {short_repr(merge_value)} is neither true nor false; the old router evaluated it as an "
            "expression, which this conversion does not: set it to true or false"
        )
        merge = False
    text = value.strip()
    if not text.startswith("["):
        text, merge = f"[{text}]", False
    try:
        ads = split_ads(text)
    except ValueError as exc:
        problems.append(f"{DEFAULTS}: {exc}; the old router turned routing off when it could not parse it")
        return []
    if not merge and len(ads) > 1:
        notes.append(
            f"{DEFAULTS} holds {len(ads)} ads but {MERGE} is not true: the old router used the first one only, "
            "and so does this conversion"
        )
        ads = ads[:1]
    kept = [ad for ad in ads if re.sub(r"\s", "", ad) != re.sub(r"\s", "", _GENERATED_AD)]
    if len(kept) < len(ads):
        notes.append(
            f"HTCondor-CE's generated defaults ($({GENERATED}), written by condor_ce_router_defaults) are not "
            "merged into the routes: they are the CE's own, and with routes in the transform syntax the CE applies "
            "its packaged transforms (JOB_ROUTER_PRE_ROUTE_TRANSFORM_NAMES, JOB_ROUTER_POST_ROUTE_TRANSFORM_NAMES) "
            "instead"
        )
    return kept


# --- conversion -------------------------------------------------------------------------------


def convert_old_routes(
    text: str | None,
    python: str | None = None,
    *,
    path: str | None = None,
    config_root: str | None = None,
    timeout: float = 60,
):
    """Convert old-syntax routes to structured routes.

    ``text`` is a ``JOB_ROUTER_ENTRIES`` value (taken as written) or configuration that sets it
    (read with HTCondor's configuration reader, macros expanded, ``JOB_ROUTER_DEFAULTS`` merged);
    ``path`` names the file ``text`` came from; ``config_root`` adds the CE's configuration (alone,
    its effective ``JOB_ROUTER_ENTRIES`` is converted). Returns ``(routes, notes, problems)``:
    ``notes`` say what changed in form only, ``problems`` what could not be converted faithfully
    (the routes render without error when it is empty). Raises ValueError for input that holds no
    old routes or does not load, RuntimeError when classad2 or a configuration reader is absent.
    """
    notes: List[str] = []
    problems: List[str] = []
    if text is None and config_root is None:
        raise ValueError("nothing to convert: give the old routes, a file, or the CE's configuration")
    if text is not None and not text.strip():
        raise ValueError("no [ ... ] routes found (expected JOB_ROUTER_ENTRIES in the old ClassAd syntax)")
    settings: Dict[str, str | None] = {}
    if text is not None and is_entries_value(text):
        entries = text
        if "$(" in text:
            notes.append(
                "the text is a JOB_ROUTER_ENTRIES value, not configuration, so its config macros are not "
                "expanded; give the configuration file that sets it to have them read as the CE read them"
            )
        if config_root is not None:
            config = read_router_config(None, None, config_root, python=python, timeout=timeout)
            settings, notes = config.values, notes + config.notes
    else:
        config = read_router_config(text, path, config_root, python=python, timeout=timeout)
        settings, notes = config.values, notes + config.notes
        entries = settings.get(ENTRIES)
        for name in (ENTRIES_FILE, ENTRIES_CMD):
            if settings.get(name):
                problems.append(
                    f"{name} = {short_repr(settings[name], 80)}: the routes it gives are not converted here "
                    + (
                        "(give that file as convert_from_file, with convert_config_root for the defaults)"
                        if name == ENTRIES_FILE
                        else "(the conversion runs no command; convert its output instead)"
                    )
                )
        if not entries or not entries.strip():
            raise ValueError(
                f"the configuration read sets no {ENTRIES}: no [ ... ] routes found "
                "(expected JOB_ROUTER_ENTRIES in the old ClassAd syntax)"
            )
    chunks = split_ads(entries)
    if not chunks:
        raise ValueError("no [ ... ] routes found (expected JOB_ROUTER_ENTRIES in the old ClassAd syntax)")
    defaults = _defaults_ads(settings.get(DEFAULTS), settings.get(MERGE), notes, problems)
    parsed = parse_old_ads(chunks, defaults, python=python, timeout=timeout)
    if parsed is None:
        raise RuntimeError(NEEDS_CLASSAD2)
    merged_names = {}
    for index, (ad, result) in enumerate(zip(defaults, parsed["defaults"])):
        if "error" in result:
            problems.append(
                f"{DEFAULTS} ad #{index + 1} {short_repr(ad, 60)}: not a valid ClassAd: {result['error']}; "
                "the old router turned routing off on it"
            )
        else:
            merged_names.update({key.lower(): key for key in result["keys"]})
    if merged_names:
        notes.append(
            f"the site's {DEFAULTS} attributes {', '.join(sorted(merged_names.values(), key=str.lower))} are merged "
            "into every route (a route's own attribute of the same name wins), as the old router did"
        )
    routes, used = [], set()
    for index, (chunk, result) in enumerate(zip(chunks, parsed["routes"])):
        if "error" in result:
            problems.append(f"route #{index + 1} {short_repr(chunk, 60)}: not a valid ClassAd: {result['error']}")
            continue
        route, route_notes, route_problems = _convert_ad(index, result["attrs"], used)
        routes.append(route)
        notes.extend(route_notes)
        problems.extend(route_problems)
    if routes:
        try:
            render_routes(routes, python=python)
        except RouteError as exc:
            problems.extend(f"as converted, {problem}" for problem in exc.problems)
    return routes, notes, problems


def _unscoped(reference: str) -> str:
    """An attribute reference without a ``MY.``/``TARGET.`` scope, lower case."""
    folded = reference.lower()
    for scope in ("my.", "target."):
        if folded.startswith(scope):
            return folded[len(scope) :]
    return folded


def _convert_ad(index: int, rows: List[list], used: set):
    """One merged old route (rows of :func:`parse_old_ads`) as a structured route, with its notes and problems."""
    notes: List[str] = []
    problems: List[str] = []
    by_name = {row[0].lower(): row for row in rows}
    raw_name = by_name.get("name")
    name = raw_name[3] if raw_name and raw_name[2] == "string" else None
    if not name:
        name = f"Route_{index + 1}"
        notes.append(f"route #{index + 1} has no name; named {name}")
    elif not ROUTE_NAME_RE.match(name):
        clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
        notes.append(f"route {name!r}: renamed {clean!r} (route names are letters, digits and _ only)")
        name = clean
    while name.lower() in used:
        name += "_"
        notes.append(f"route #{index + 1}: name already used; renamed {name!r}")
    used.add(name.lower())
    route: Dict[str, Any] = {"name": name}
    copy: Dict[str, str] = {}
    delete: List[str] = []
    set_: Dict[str, str] = {}
    evalset: Dict[str, str] = {}
    extra: List[str] = []
    variables: Dict[str, str] = {}
    reads: Dict[str, List[str]] = {}
    unparsed: List[str] = []

    def problem(attr, message):
        problems.append(f"route {name!r}, {attr}: {message}")

    def route_references(attr, internal):
        refs = sorted({ref for ref in internal if ref.lower() != attr.lower()}, key=str.lower)
        if refs:
            many = len(refs) > 1
            problem(
                attr,
                f"refers to the route attribute{'s' if many else ''} {', '.join(refs)}: the old router used "
                f"{'their values' if many else 'its value'} there, which the converted route does not hold as a "
                "job attribute; write the value into the expression",
            )

    def integer(attr, text, kind, value, what):
        if kind != "int":
            problem(attr, f"{text} is not {what}")
            return None
        if _INTEGER_RE.match(text) and int(text) != value:
            problem(attr, f"{text} is outside ClassAd's 64-bit integer range; HTCondor reads it as {value}")
            return None
        return value

    for key, text, kind, value, _origin, how, internal, external in sorted(rows, key=lambda row: row[0].lower()):
        text = one_line(text)
        folded = key.lower()
        if folded == "name":
            continue
        if how != "source":
            unparsed.append(key)
        if folded == "targetuniverse":
            number = integer(key, text, kind, value, "an integer universe")
            if number is not None:
                route["target_universe"] = number
        elif folded == "gridresource":
            if kind == "string":
                try:
                    route["grid_resource"] = grid_resource_text(value)
                except ValueError:
                    extra.append(f"GridResource = {text}")
                    notes.append(f"route {name!r}: GridResource {value!r} kept as written (not a batch route)")
            else:
                problem(key, f"{text} is an expression; the new syntax takes a string")
        elif folded == "requirements":
            route_references(key, internal)
            if has_scope(text, "MY"):
                problem(key, "refers to MY. (the route ad), which the new syntax does not have")
            route["requirements"] = rewrite_scope(text, "TARGET", "")
        elif folded in ("maxjobs", "maxidlejobs"):
            number = integer(key, text, kind, value, "an integer")
            if number is not None:
                route["max_jobs" if folded == "maxjobs" else "max_idle_jobs"] = number
        elif folded.startswith("copy_"):
            if kind == "string":
                copy[key[5:]] = value
            else:
                problem(key, f"{text} is not a string naming the new attribute")
        elif folded.startswith("delete_"):
            delete.append(key[7:])
        elif folded.startswith("set_default_") and folded[4:] in _SET_DEFAULT_VARIABLES:
            variable = _SET_DEFAULT_VARIABLES[folded[4:]]
            if _convert_default(route, variable, text, kind, value, problem):
                variables[variable] = text
        elif folded == "set_default_cerequirements" and kind == "string":
            route["default_CERequirements"] = value
        elif folded.startswith("set_"):
            set_[key[4:]] = text
            reads[key] = external
        elif folded.startswith("eval_set_"):
            route_references(key, internal)
            if has_scope(text, "MY"):
                problem(key, "refers to MY. (the route ad); check the converted EVALSET by hand")
            evalset[key[9:]] = rewrite_scope(text, "TARGET", "MY.")
            reads[key] = external
        elif folded in _ROUTER_FLAGS:
            route_references(key, internal)
            extra.append(f"{key} = {rewrite_scope(text, 'TARGET', 'MY.')}")
        else:
            extra.append(f"{key} = {text}")
    for variable, source in variables.items():
        readers = sorted(
            (attr for attr, refs in reads.items() if any(_unscoped(ref) == variable.lower() for ref in refs)),
            key=str.lower,
        )
        if readers:
            set_[variable] = source
            set_ = dict(sorted(set_.items(), key=lambda item: item[0].lower()))
            notes.append(
                f"route {name!r}: set_{variable} is the CE's route variable {variable}, and is also SET as the job "
                f"attribute {variable}, which {', '.join(readers)} {'reads' if len(readers) == 1 else 'read'} "
                "(the old router set the attribute only)"
            )
    for key, items in (("copy", copy), ("delete", delete), ("set", set_), ("evalset", evalset)):
        if items:
            route[key] = items
    if extra:
        route["commands"] = extra
    if unparsed:
        notes.append(
            f"route {name!r}: {', '.join(sorted(unparsed, key=str.lower))} written as HTCondor's ClassAd unparser "
            f"prints {'it' if len(unparsed) == 1 else 'them'} (the text as written could not be taken apart "
            "from the rest of the ad)"
        )
    if "target_universe" not in route and "grid_resource" not in route:
        notes.append(f"route {name!r}: no TargetUniverse; the router's default, grid universe (9), applies")
    return route, notes, problems


def _convert_default(route, key, text, kind, value, problem) -> bool:
    """Set the CE route variable ``key`` from ``set_<key>``; False (and a problem) when it cannot be."""
    if key == "default_queue":
        if kind == "string" and QUEUE_RE.match(value):
            route[key] = value
            return True
        problem(f"set_{key}", f"{text} is not a plain queue name; set default_queue by hand")
        return False
    if kind == "int" and key != "default_pilot_job_env":
        if _INTEGER_RE.match(text) and int(text) != value:
            problem(f"set_{key}", f"{text} is outside ClassAd's 64-bit integer range; HTCondor reads it as {value}")
            return False
        route[key] = value
        return True
    route[key] = rewrite_scope(text, "TARGET", "")
    return True
