# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Validate HTCondor config fragments and ClassAd expressions with HTCondor's own parser.

Every check runs in a child process, so a config syntax error (which makes the
HTCondor library print to stderr and ``exit(1)`` while ``htcondor2`` is being
imported) can never take the Ansible module down, and the bindings are never
imported into the module itself.

Parsers, in order of preference:

* ``htcondor2`` / ``classad2`` (``python3-condor`` or the ``htcondor`` wheel) in
  the interpreter ``python`` (default: ``sys.executable``, the managed host's);
* for config files only, the first of ``config_val`` found on ``PATH``
  (``condor_config_val``), run once per name (several names on one command
  line would run multi-line ``@=`` values together). A tool that ignores
  ``CONDOR_CONFIG`` is detected and skipped: ``condor_ce_config_val`` always
  sets ``CONDOR_CONFIG=/etc/condor-ce/condor_config``, so to check a CE
  fragment use ``condor_config_val`` (``htcondor-ce`` requires ``condor``)
  with ``include_before=["/etc/condor-ce/condor_config"]``.

Both config parsers read the candidate through a generated wrapper file::

    include : <each include_before file>
    include : <path>
    include : <each include_after file>
    LOCAL_CONFIG_DIR =
    LOCAL_CONFIG_FILE =
    OSG_HTC_SITE_CONFIG_CHECK = <random token>

HTCondor reads the ``LOCAL_CONFIG_DIR`` and ``LOCAL_CONFIG_FILE`` of a
configuration only after its top-level file, here the wrapper, which empties
both: the check reads exactly the files it lists, in that order
(:func:`placement` lists a base configuration's ``LOCAL_CONFIG_DIR`` files in
HTCondor's order, so the candidate sits where its name puts it).

Validation never runs a command. HTCondor's reader runs one for
``include command : ...``, an ``include`` whose target ends in ``|`` and a
piped ``LOCAL_CONFIG_FILE``; a candidate with such a line is refused before
any parser sees it, a host file with one (or including one) is left out of the
check with a note, and the wrapper's empty ``LOCAL_CONFIG_FILE`` keeps
HTCondor-CE's piped ``condor_ce_router_defaults`` from running.

With ``readback`` (a mapping of the names a rendered file must define to the
values it must hold) the bindings also load the candidate on its own and prove
that it defines exactly those names with exactly those values: nothing more (a
line break in a value would add a setting), nothing less (a trailing backslash
would swallow one). ``$`` is replaced in that copy, so HTCondor compares the
text as written rather than its macro expansion.

Result shapes:

* config checks return :class:`ConfigCheck` with ``ok`` True (valid), False
  (invalid; ``error`` holds HTCondor's own message) or None (no parser
  available; nothing was checked, callers decide whether that is fatal);
* :func:`check_classad_expressions` returns ``{index: message}`` for the bad
  expressions (``{}`` when all parse), or None when ``classad2`` is absent;
  :func:`check_classad_expression` wraps it for one expression and returns a
  :class:`ConfigCheck` (``values`` stays empty).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Sequence

from ansible_collections.osg_htc.site.plugins.module_utils._config_text import (
    bad_character,
    command_lines,
    include_targets,
)
from ansible_collections.osg_htc.site.plugins.module_utils._files import pid_alive

NO_PARSER = (
    "no HTCondor parser available: install python3-condor (the HTCondor Python bindings) "
    "for the Ansible interpreter, or put condor_config_val on PATH"
)
NO_CLASSAD_PARSER = (
    "no ClassAd parser available: install python3-condor (the HTCondor Python bindings, classad2) "
    "for the Ansible interpreter"
)

# Exit status of the inline scripts when the bindings themselves cannot be
# imported. A config syntax error also surfaces during `import htcondor2`, but
# the C library exits with status 1 before Python can catch anything, so 3
# means "no bindings" and nothing else.
_NO_BINDINGS = 3

# One child loads the empty configuration and each candidate on its own (the
# read-back checks, one per candidate that asks for one), then the wrapper
# (values). After each read-back load, each intended name is put back to its
# value in the empty configuration: if the whole table then equals the empty
# one, the candidate defined nothing else. Built-in defaults that change on
# every lookup ($RANDOM_INTEGER) are told apart by looking them up a few times
# more.
_CONFIG_SCRIPT = """
import json, os, sys
try:
    import htcondor2
except ImportError as err:
    sys.stderr.write("%s\\n" % err)
    sys.exit(3)
request = json.load(sys.stdin)
param = htcondor2.param
out = {}

def load(path):
    os.environ["CONDOR_CONFIG"] = path
    sys.stderr.write("@@osg_htc load %s\\n" % path)
    sys.stderr.flush()
    htcondor2.reload_config()

def table():
    return dict((key.lower(), param.get(key)) for key in param.keys())

readbacks = request.get("readbacks") or []
if readbacks:
    load(request["empty"])
    base = table()
    out["readbacks"] = []
    for readback in readbacks:
        load(readback["twin"])
        names = readback["names"]
        got = dict((name, param.get(name)) for name in names)
        for name in names:
            value = base.get(name.lower())
            if value is None:
                del param[name]
            else:
                # param.get gives typed values for HTCondor's own knobs; param[] takes text.
                if isinstance(value, bool):
                    value = "true" if value else "false"
                param[name] = value if isinstance(value, str) else str(value)
        now = table()
        extra = []
        for key in sorted(set(base) | set(now)):
            if base.get(key) != now.get(key) and len(set(param.get(key) for _ in range(4))) == 1:
                extra.append(key)
        out["readbacks"].append({"readback": got, "extra": extra})
    load(request["config"])
out["values"] = dict((name, param.get(name)) for name in request["names"])
json.dump(out, sys.stdout)
"""

# ExprTree() parses its text as the value of a ClassAd attribute, so it stops
# quietly at `]` or `;` and ignores what follows ("1 + 2 ] junk" parses). Parsing
# the text once more inside parentheses rejects such trailing text, and a text
# that only parses when wrapped ("1) + (2") fails the first parse.
_CLASSAD_SCRIPT = """
import json, sys
try:
    import classad2
except ImportError as err:
    sys.stderr.write("%s\\n" % err)
    sys.exit(3)
bad = {}
for i, text in enumerate(json.load(sys.stdin)):
    for probe, why in ((text, ""), ("(" + text + ")", "text after the end of the expression: ")):
        try:
            classad2.ExprTree(probe)
        except Exception as err:
            bad[i] = why + (str(err) or type(err).__name__)
            break
json.dump(bad, sys.stdout)
"""

_SENTINEL = "OSG_HTC_SITE_CONFIG_CHECK"
# HTCondor's built-in LOCAL_CONFIG_DIR_EXCLUDE_REGEXP (htcondor/htcondor
# src/condor_utils/param_info.in, main 7491a145; 25.x): dot files, editor
# backups, scripts, RPM and dpkg leftovers. Used where the host's own value
# cannot be read (no base configuration yet).
LOCAL_CONFIG_DIR_EXCLUDE_REGEXP = (
    r"^((\..*)|(.*\.pl)|(.*\.py)|(.*\.sh)|(.*~)|(#.*)|(.*\.rpmsave)|(.*\.rpmnew)"
    r"|(.*\.dpkg-old)|(.*\.dpkg-dist)|(.*\.cfsaved))$"
)
_WRAPPER_LABEL = "<validation wrapper>"
_MEANINGFUL = re.compile(r"Config source|Configuration Error|endif|can't open|error|not found|unexpected", re.I)
_LOAD_MARK = "@@osg_htc load "
# Stands for '$' in the read-back copy of a candidate: any text without '$' and line breaks.
_DOLLAR = "OSGHTCSITEDOLLAR"
# How deep host files' own `include : <file>` lines are followed when looking for commands.
_INCLUDE_DEPTH = 8


@dataclass(frozen=True)
class ConfigCheck:
    """Outcome of one check; ``ok`` is None when no parser was available."""

    ok: bool | None
    error: str | None = None
    values: Dict[str, str | None] = field(default_factory=dict)
    parser: str | None = None


def parse_error_summary(stderr: str, labels: Mapping[str, str] | None = None) -> str:
    """Keep HTCondor's meaningful error lines, with temp paths replaced by ``labels``.

    ``labels`` maps a path to the name to show instead. The line that only says
    which ``include`` of the validation wrapper failed is dropped when a more
    specific line (naming the real file and line) survives.
    """
    lines = []
    for raw in stderr.splitlines():
        if raw.startswith(_LOAD_MARK):
            continue
        line = raw.strip().rstrip(":").rstrip()
        for path, label in sorted((labels or {}).items(), key=lambda item: -len(item[0])):
            line = line.replace(path, label)
        if line:
            lines.append(line)
    kept = [line for line in lines if _MEANINGFUL.search(line)] or lines
    specific = [line for line in kept if _WRAPPER_LABEL not in line]
    return "\n".join(specific or kept)


def check_config_file(
    path: str,
    names: Iterable[str] = (),
    *,
    include_before: Sequence[str] = (),
    include_after: Sequence[str] = (),
    readback: Mapping[str, str | None] | None = None,
    python: str | None = None,
    config_val: Sequence[str] = ("condor_config_val",),
    timeout: float = 60,
    label: str | None = None,
) -> ConfigCheck:
    """Load ``path`` with HTCondor's parser, after ``include_before`` and before ``include_after``.

    ``values`` holds the effective, macro-expanded value of each of ``names``
    for the whole stack (None when undefined; built-in defaults count as
    defined). ``readback`` asks for the read-back check described in the module
    docstring. ``label`` is the name shown for ``path`` in error messages.
    A candidate that runs a command when read is refused without being loaded.
    Raises ValueError for a path HTCondor's ``include`` cannot express.
    """
    with _check_dir(None) as workdir:
        files = [*include_before, path, *include_after]
        return _check(files, list(names), [(path, label, readback)], workdir, python, config_val, timeout)


def check_config_text(
    text: str,
    names: Iterable[str] = (),
    *,
    include_before: Sequence[str] = (),
    include_after: Sequence[str] = (),
    readback: Mapping[str, str | None] | None = None,
    tmpdir: str | None = None,
    label: str = "<config text>",
    python: str | None = None,
    config_val: Sequence[str] = ("condor_config_val",),
    timeout: float = 60,
) -> ConfigCheck:
    """Like :func:`check_config_file` for ``text``, via a temp file in ``tmpdir`` that is removed afterwards.

    ``label`` is the name shown for the text in error messages (e.g. its destination path).
    """
    with _check_dir(tmpdir) as workdir:
        path = os.path.join(workdir, "candidate.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        files = [*include_before, path, *include_after]
        return _check(files, list(names), [(path, label, readback)], workdir, python, config_val, timeout)


def check_classad_expressions(
    exprs: Sequence[str], python: str | None = None, timeout: float = 60
) -> Dict[int, str] | None:
    """Parse every expression with ``classad2.ExprTree`` in one child process.

    Returns ``{index: error message}`` for the expressions that do not parse
    (``{}`` when all do), or None when ``classad2`` is not importable there.
    Raises RuntimeError when the child fails in any other way or times out.
    """
    exprs = list(exprs)
    if not exprs:
        return {}
    bad = run_classad_script(_CLASSAD_SCRIPT, exprs, "ClassAd check", python=python, timeout=timeout)
    return None if bad is None else {int(index): message for index, message in bad.items()}


def run_classad_script(script: str, payload, what: str, python: str | None = None, timeout: float = 60):
    """Run an inline ``classad2`` script with ``payload`` as JSON on stdin; return its JSON output.

    The script exits with status 3 when it cannot import the bindings; then, or when the
    interpreter is missing, this returns None. Raises RuntimeError naming ``what`` when the
    child fails in any other way or times out.
    """
    # classad2 reads no config, but an empty one keeps the child independent of the host's.
    try:
        proc = _run_script(script, payload, python, _clean_env(os.devnull), timeout)
    except subprocess.TimeoutExpired as err:
        raise RuntimeError(f"{what} timed out after {timeout} s") from err
    if proc is None:
        return None
    if proc.returncode != 0:
        # The last line says what went wrong (a traceback's last line is the error itself).
        last = next((line.strip() for line in reversed(proc.stderr.splitlines()) if line.strip()), "")
        how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
        raise RuntimeError(f"{what} failed ({how})" + (f": {last[:200]}" if last else ""))
    try:
        return json.loads(proc.stdout)
    except ValueError as exc:
        raise RuntimeError(f"{what} gave no readable answer: {exc}") from None


def check_classad_expression(text: str, python: str | None = None, timeout: float = 60) -> ConfigCheck:
    """Check one ClassAd expression; ``ok`` is None when ``classad2`` is absent."""
    bad = check_classad_expressions([text], python=python, timeout=timeout)
    if bad is None:
        return ConfigCheck(ok=None, error=NO_CLASSAD_PARSER)
    return ConfigCheck(ok=not bad, error=bad.get(0), parser="classad2")


def _run_script(script, payload, python, env, timeout) -> subprocess.CompletedProcess | None:
    """Run an inline bindings script with ``payload`` as JSON on stdin.

    Returns None when the interpreter or its HTCondor bindings are missing;
    lets ``subprocess.TimeoutExpired`` through for the caller to report.
    """
    try:
        proc = subprocess.run(
            [python or sys.executable, "-c", script],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except OSError:  # the interpreter itself is missing
        return None
    return None if proc.returncode == _NO_BINDINGS else proc


def _clean_env(condor_config: str) -> Dict[str, str]:
    # _CONDOR_<NAME> variables override any config file (HTCondor matches the
    # prefix case-insensitively), so a stray one would change what is checked.
    env = {key: value for key, value in os.environ.items() if not key.upper().startswith("_CONDOR_")}
    env["CONDOR_CONFIG"] = condor_config
    return env


def includable(path: str) -> str | None:
    """Why HTCondor's ``include :`` cannot name ``path`` (None when it can).

    ``include :`` takes the rest of the line verbatim, expands ``$(...)`` and
    honours a trailing backslash as a line continuation, so a path with ``$``,
    a control character, surrounding whitespace or a trailing backslash would
    be read as another file.
    """
    if "$" in path:
        return "it contains '$', which HTCondor would expand as a macro"
    if bad_character(path):
        return f"it contains {bad_character(path)}"
    if path != path.strip() or os.path.basename(path) != os.path.basename(path).strip():
        return "it has surrounding whitespace, which HTCondor would strip"
    if path.endswith("\\"):
        return "it ends in a backslash, which HTCondor reads as a line continuation"
    return None


def _include_line(path: str) -> str:
    path = os.path.abspath(path)
    why = includable(path)
    if why:
        raise ValueError(f"cannot include {path!r} in an HTCondor config: {why}")
    return f"include : {path}\n"


def commands_in_file(path: str, depth: int = _INCLUDE_DEPTH) -> List[str]:
    """The lines of ``path`` (and of the files it includes) that run a command while HTCondor reads them.

    A piped ``LOCAL_CONFIG_FILE`` does not count: it runs only after the whole
    configuration is read, and the check's wrapper empties it first. A file
    that cannot be read, or includes more than ``depth`` levels deep, counts as
    one that may: nothing unknown is loaded.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError as exc:
        return [f"{path}: cannot be read ({exc.strerror})"]
    found = [f"{path} line {number}: {line}" for number, line in command_lines(text, local_config_file=False)]
    for target in include_targets(text):
        target = os.path.join(os.path.dirname(path), target)
        found.extend(commands_in_file(target, depth - 1) if depth > 0 else [f"{target}: included too deep"])
    return found


def local_config_dir_files(value: str | None, exclude: str | None = None) -> List[str]:
    """The files a ``LOCAL_CONFIG_DIR`` value names, in the order HTCondor reads them.

    ``value`` is the (expanded) list of directories, separated by commas and/or
    spaces; each directory's files are read in lexicographic order, skipping
    subdirectories and names matching ``exclude`` (default: HTCondor's built-in
    ``LOCAL_CONFIG_DIR_EXCLUDE_REGEXP``). Missing directories are skipped, as
    HTCondor does.
    """
    pattern = re.compile(exclude or LOCAL_CONFIG_DIR_EXCLUDE_REGEXP)
    files = []
    for directory in re.split(r"[\s,]+", value or ""):
        if not directory or not os.path.isdir(directory):
            continue
        for entry in sorted(os.listdir(directory)):
            full = os.path.join(directory, entry)
            if os.path.isfile(full) and not pattern.search(entry):
                files.append(full)
    return files


@dataclass(frozen=True)
class Placement:
    """Where a config file sits among a base config's ``LOCAL_CONFIG_DIR`` files.

    ``before`` is None when the file cannot be placed (``note`` says why) and
    should be checked on its own; ``error`` is set when the base config itself
    does not load; ``unread`` says why HTCondor would never read the file (its
    directory is not a ``LOCAL_CONFIG_DIR``, or its name matches the effective
    ``LOCAL_CONFIG_DIR_EXCLUDE_REGEXP``); ``skipped`` lists host files left out
    of the check (they run commands when read, or their names cannot be included).
    """

    before: Sequence[str] | None = None
    after: Sequence[str] = ()
    note: str | None = None
    error: str | None = None
    unread: str | None = None
    skipped: Sequence[str] = ()


@dataclass(frozen=True)
class BaseConfig:
    """A base configuration's local config directories, their exclude pattern and local files; ``error``: no load."""

    dirs: Sequence[str] = ()
    exclude: str = LOCAL_CONFIG_DIR_EXCLUDE_REGEXP
    local_file: str = ""
    parser: str | None = None
    error: str | None = None


# `warning :` lines print their expanded text while the file is read, before
# the wrapper empties LOCAL_CONFIG_DIR: the only way to see a base config's
# directories without HTCondor reading them (and running what they run).
_PROBES = {"dir": "LOCAL_CONFIG_DIR", "exclude": "LOCAL_CONFIG_DIR_EXCLUDE_REGEXP", "file": "LOCAL_CONFIG_FILE"}
_PROBE_RE = re.compile(r"Warning .*?: OSG_HTC_SITE_PROBE (\w+)=(.*)$", re.M)


def read_base_config(config_root: str, python: str | None = None, timeout: float = 60) -> BaseConfig | None:
    """``LOCAL_CONFIG_DIR``, its exclude pattern and ``LOCAL_CONFIG_FILE`` of ``config_root``, running nothing.

    None when no parser is available. A base config that runs a command itself
    is not read (``error`` says so).
    """
    commands = commands_in_file(config_root)
    if commands:
        return BaseConfig(error=f"{config_root} runs a command when read, so it is not loaded here: {commands[0]}")
    with _check_dir(None) as workdir:
        wrapper = os.path.join(workdir, "base-wrapper.conf")
        with open(wrapper, "w", encoding="utf-8") as handle:
            handle.write(_include_line(config_root))
            handle.writelines(f"warning : OSG_HTC_SITE_PROBE {key}=$({name})\n" for key, name in _PROBES.items())
            handle.write("LOCAL_CONFIG_DIR =\nLOCAL_CONFIG_FILE =\n")
        env = _clean_env(wrapper)
        try:
            proc = _run_script(_CONFIG_SCRIPT, {"names": []}, python, env, timeout)
        except subprocess.TimeoutExpired:
            return BaseConfig(error=f"HTCondor's parser timed out after {timeout} s reading {config_root}")
        parser = "htcondor2"
        if proc is None:
            executable = shutil.which("condor_config_val")
            if executable is None:
                return None
            parser = "condor_config_val"
            try:
                proc = subprocess.run(
                    [executable, _SENTINEL], capture_output=True, text=True, timeout=timeout, env=env, check=False
                )
            except subprocess.TimeoutExpired:
                return BaseConfig(error=f"condor_config_val timed out after {timeout} s reading {config_root}")
        output = proc.stderr + proc.stdout
        found = dict(_PROBE_RE.findall(output))
        if set(found) != set(_PROBES):
            labels = {wrapper: _WRAPPER_LABEL}
            return BaseConfig(error=parse_error_summary(output, labels) or f"exit {proc.returncode}", parser=parser)
    dirs = [d for d in re.split(r"[\s,]+", found["dir"].strip()) if d]
    return BaseConfig(
        dirs=dirs,
        exclude=found["exclude"].strip() or LOCAL_CONFIG_DIR_EXCLUDE_REGEXP,
        local_file=found["file"].strip(),
        parser=parser,
    )


@dataclass(frozen=True)
class Arrangement:
    """Where several config files sit among a base config's ``LOCAL_CONFIG_DIR`` files, in HTCondor's order.

    ``order`` lists every file HTCondor reads, in its order: ``config_root``, then the host's
    ``LOCAL_CONFIG_DIR`` files with each of the given paths at the place its name gives it (whether
    or not it exists yet). It is None when the paths cannot all be placed (``note`` says why) and
    should be checked on their own. ``error``, ``skipped`` as for :class:`Placement`; ``unread``
    maps each path HTCondor would never read to why.
    """

    order: Sequence[str] | None = None
    note: str | None = None
    error: str | None = None
    unread: Mapping[str, str] = field(default_factory=dict)
    skipped: Sequence[str] = ()


def arrange(config_root: str, paths: Sequence[str]) -> Arrangement:
    """Place ``paths`` among the files HTCondor reads for ``config_root``, in HTCondor's order.

    Each candidate takes the place its name gives it in its directory, so files sorting before it
    are read before it and files sorting after it (the other candidates included) override it,
    exactly as on the live host once all of them are written.
    """
    paths = [os.path.abspath(path) for path in paths]
    if not os.path.isfile(config_root):
        why = f"its name matches HTCondor's default LOCAL_CONFIG_DIR_EXCLUDE_REGEXP {LOCAL_CONFIG_DIR_EXCLUDE_REGEXP}"
        unread = {path: why for path in paths if re.search(LOCAL_CONFIG_DIR_EXCLUDE_REGEXP, os.path.basename(path))}
        return Arrangement(note=f"{config_root} does not exist", unread=unread)
    base = read_base_config(config_root)
    if base is None:
        return Arrangement(note=NO_PARSER)
    if base.error:
        return Arrangement(error=f"{config_root} does not load, before any change: {base.error}")
    order = {os.path.abspath(d): i for i, d in enumerate(base.dirs)}
    unread, note = {}, None
    for path in paths:
        directory = os.path.dirname(path)
        if directory not in order:
            note = note or f"{directory} is not in the LOCAL_CONFIG_DIR of {config_root}"
            unread[path] = (
                f"its directory is not in the LOCAL_CONFIG_DIR of {config_root} ({', '.join(base.dirs) or 'empty'})"
            )
        elif re.search(base.exclude, os.path.basename(path)):
            unread[path] = f"its name matches the LOCAL_CONFIG_DIR_EXCLUDE_REGEXP of {config_root}, {base.exclude}"
    if unread:
        return Arrangement(note=note, unread=unread)
    kept, skipped = list(paths), []
    for other in local_config_dir_files(" ".join(base.dirs), base.exclude):
        if os.path.abspath(other) in paths:
            continue
        why = includable(os.path.abspath(other))
        commands = [] if why else commands_in_file(other)
        if why or commands:
            skipped.append(f"{other} ({why or 'runs a command when read: ' + commands[0]})")
        else:
            kept.append(other)

    def key(path):
        return (order[os.path.dirname(os.path.abspath(path))], os.path.basename(path))

    return Arrangement(order=[config_root, *sorted(kept, key=key)], skipped=skipped)


def placement(config_root: str, path: str) -> Placement:
    """Place ``path`` among the files HTCondor reads for ``config_root``, in HTCondor's order.

    The candidate takes the place its name gives it in its directory, so files sorting before it
    are read before it and files sorting after it override it, exactly as on the live host.
    """
    where = arrange(config_root, [path])
    unread = where.unread.get(os.path.abspath(path))
    if where.order is None:
        return Placement(note=where.note, error=where.error, unread=unread, skipped=where.skipped)
    index = where.order.index(os.path.abspath(path))
    return Placement(before=where.order[:index], after=where.order[index + 1 :], skipped=where.skipped)


def check_config_text_in_place(
    text: str, path: str, config_root: str, names: Iterable[str] = (), **kwargs
) -> tuple[ConfigCheck, Placement]:
    """Check ``text`` as the new content of ``path``, in its place among ``config_root``'s files.

    Without a usable ``config_root`` the text is checked on its own; the
    returned :class:`Placement` says why. Keyword arguments go to
    :func:`check_config_text`.
    """
    where = placement(config_root, path)
    if where.error:
        return ConfigCheck(ok=False, error=where.error), where
    if where.before is None:
        return check_config_text(text, names, label=path, **kwargs), where
    check = check_config_text(text, names, include_before=where.before, include_after=where.after, label=path, **kwargs)
    return check, where


@dataclass(frozen=True)
class Candidate:
    """A config file as it is to be: ``text`` None when it is to be removed; ``readback`` as for
    :func:`check_config_text`."""

    path: str
    text: str | None
    readback: Mapping[str, str | None] | None = None


def check_config_texts_in_place(
    candidates: Sequence[Candidate],
    config_root: str,
    names: Iterable[str] = (),
    *,
    tmpdir: str | None = None,
    python: str | None = None,
    config_val: Sequence[str] = ("condor_config_val",),
    timeout: float = 60,
) -> tuple[ConfigCheck, Arrangement]:
    """Check several files as they are to be, all in their places among ``config_root``'s files, in one go.

    HTCondor's parser reads the whole configuration with every candidate in place (a removed one
    left out), so ``values`` are the effective values once all of them are written; each candidate
    with a ``readback`` is also read on its own and must hold exactly those settings. Without a
    usable ``config_root`` the candidates are checked together on their own; the returned
    :class:`Arrangement` says why.
    """
    paths = [os.path.abspath(candidate.path) for candidate in candidates]
    if len(set(paths)) != len(paths):
        raise ValueError(f"the same file is given twice: {', '.join(sorted({p for p in paths if paths.count(p) > 1}))}")
    where = arrange(config_root, paths)
    if where.error:
        return ConfigCheck(ok=False, error=where.error), where
    with _check_dir(tmpdir) as workdir:
        checked, stand_ins = [], {}
        for number, (candidate, path) in enumerate(zip(candidates, paths)):
            if candidate.text is None:
                continue
            stand_in = os.path.join(workdir, f"candidate-{number}.conf")
            with open(stand_in, "w", encoding="utf-8") as handle:
                handle.write(candidate.text)
            stand_ins[path] = stand_in
            checked.append((stand_in, candidate.path, candidate.readback))
        removed = {path for candidate, path in zip(candidates, paths) if candidate.text is None}
        if where.order is None:
            files = [stand_ins[path] for path in paths if path in stand_ins]
        else:
            files = [stand_ins.get(path, path) for path in where.order if path not in removed]
        return _check(files, list(names), checked, workdir, python, config_val, timeout), where


# --- the check itself -----------------------------------------------------------------------


@contextlib.contextmanager
def _check_dir(tmpdir: str | None):
    """A private temporary directory, named after this process so a later run can remove it if it was killed."""
    _remove_stale_check_dirs(tmpdir or tempfile.gettempdir())
    with tempfile.TemporaryDirectory(prefix=f"{_CHECK_DIR_PREFIX}{os.getpid()}-", dir=tmpdir) as workdir:
        yield workdir


_CHECK_DIR_PREFIX = "osg_htc-condor-check-"
_CHECK_DIR_RE = re.compile(rf"\A{_CHECK_DIR_PREFIX}(\d+)-")


def _remove_stale_check_dirs(parent: str) -> None:
    """Remove the check directories of processes that no longer run (a killed module leaves its own behind)."""
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in entries:
        match = _CHECK_DIR_RE.match(entry)
        if not match or pid_alive(int(match.group(1))):
            continue
        full = os.path.join(parent, entry)
        try:
            info = os.lstat(full)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            shutil.rmtree(full, ignore_errors=True)


def _twin(text: str, readback: Mapping[str, str | None]) -> tuple[str, Dict[str, str]]:
    """The read-back copy of a candidate and the values it must read back, with '$' replaced."""
    expected = {name: (value or "").replace("$", _DOLLAR) for name, value in readback.items()}
    return text.replace("$", _DOLLAR), expected


def _readback_problems(got: Mapping, extra: Sequence[str], expected: Mapping[str, str]) -> List[str]:
    problems = []
    wanted = {name.lower() for name in expected}
    for name in extra:
        if name not in wanted:
            problems.append(f"it also defines {name.upper()}, which was not asked for")
    for name, value in expected.items():
        wanted = value.replace(_DOLLAR, "$")
        read = got.get(name)
        if not isinstance(read, str) and read is not None and _typed_equal(read, wanted):
            continue
        read = "" if read is None else str(read).replace(_DOLLAR, "$")
        if read != wanted:
            problems.append(f"{name} reads back as {read!r}, not {wanted!r}")
    return problems


def _typed_equal(read, text: str) -> bool:
    """Whether a value the bindings typed (an HTCondor knob's bool, int or float) is what ``text`` says."""
    text = text.strip()
    if isinstance(read, bool):
        return text.lower() in (("true", "t", "yes", "y", "1") if read else ("false", "f", "no", "n", "0"))
    try:
        return float(text) == float(read)
    except ValueError:
        return False


def _check(files, names, checked, workdir, python, config_val, timeout) -> ConfigCheck:
    """Load ``files`` in order with HTCondor's parser and return the values of ``names``.

    ``checked`` lists the candidates among them as ``(file, label, readback)``: each must not run a
    command when read, and each with a ``readback`` must read back as exactly those settings.
    """
    labels = {os.path.abspath(path): label for path, label, _readback in checked if label}
    include_lines = [_include_line(p) for p in files]
    texts = []
    for path, label, readback in checked:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError as exc:
            return ConfigCheck(ok=False, error=f"cannot read {label or path}: {exc.strerror}")
        commands = command_lines(text)
        if commands:
            listed = "; ".join(f"line {number}: {line}" for number, line in commands)
            return ConfigCheck(
                ok=False,
                error=f"{label or path} runs a command when HTCondor reads it, which is not allowed here: {listed}",
            )
        texts.append((text, label or path, readback))
    token = uuid.uuid4().hex
    wrapper = os.path.join(workdir, "check-wrapper.conf")
    with open(wrapper, "w", encoding="utf-8") as handle:
        handle.writelines(include_lines)
        # Read after the whole wrapper: emptied here, nothing is read twice and no piped LOCAL_CONFIG_FILE runs.
        handle.write("LOCAL_CONFIG_DIR =\nLOCAL_CONFIG_FILE =\n")
        # Read back through condor_config_val to prove the tool really loaded
        # this file: condor_ce_config_val, for one, forces its own CONDOR_CONFIG.
        handle.write(f"{_SENTINEL} = {token}\n")
    labels[wrapper] = _WRAPPER_LABEL
    request = {"names": names, "config": wrapper}
    expected = []
    for number, (text, label, readback) in enumerate(texts):
        if readback is None:
            continue
        twin_text, wanted = _twin(text, readback)
        twin = os.path.join(workdir, f"readback-{number}.conf")
        with open(twin, "w", encoding="utf-8") as handle:
            handle.write(twin_text)
        with open(twin + ".wrapper", "w", encoding="utf-8") as handle:
            handle.write(_include_line(twin) + "LOCAL_CONFIG_DIR =\nLOCAL_CONFIG_FILE =\n")
        request.setdefault("readbacks", []).append({"twin": twin + ".wrapper", "names": list(wanted)})
        expected.append((label, wanted))
        labels[twin] = label
    if expected:
        request["empty"] = os.path.join(workdir, "empty.conf")
        with open(request["empty"], "w", encoding="utf-8") as handle:
            handle.write("LOCAL_CONFIG_DIR =\nLOCAL_CONFIG_FILE =\n")

    result = _check_with_bindings(request, python, timeout, labels, expected)
    if result is not None:
        return result
    skipped = []
    env = _clean_env(wrapper)
    for command in config_val:
        executable = shutil.which(command)
        if executable is None:
            continue
        result = _check_with_config_val(executable, command, names, token, env, timeout, labels)
        if result is not None:
            return result
        skipped.append(command)
    error = NO_PARSER
    if skipped:
        error += f" ({', '.join(skipped)} ignored CONDOR_CONFIG and read another config)"
    return ConfigCheck(ok=None, error=error)


def _check_with_bindings(request, python, timeout, labels, expected) -> ConfigCheck | None:
    """ConfigCheck from htcondor2, or None when the bindings are not importable.

    ``expected`` lists ``(label, settings)`` in the order of the request's read-backs.
    """
    first = request.get("empty") or request["config"]
    try:
        proc = _run_script(_CONFIG_SCRIPT, request, python, _clean_env(first), timeout)
    except subprocess.TimeoutExpired:
        return ConfigCheck(ok=False, error=f"HTCondor parser timed out after {timeout} s", parser="htcondor2")
    if proc is None:
        return None
    if proc.returncode != 0:
        # Fail closed: whatever went wrong, the file was not shown to be valid.
        return ConfigCheck(
            ok=False,
            error=parse_error_summary(proc.stderr + proc.stdout, labels) or f"exit {proc.returncode}",
            parser="htcondor2",
        )
    out = json.loads(proc.stdout)
    failures = []
    for (label, wanted), found in zip(expected, out.get("readbacks", [])):
        problems = _readback_problems(found["readback"], found["extra"], wanted)
        if problems:
            failures.append((label, problems))
    if failures:
        if len(expected) == 1:
            error = "HTCondor does not read back the intended settings: " + "; ".join(failures[0][1])
        else:
            error = "\n".join(
                f"HTCondor does not read back the intended settings of {label}: " + "; ".join(problems)
                for label, problems in failures
            )
        return ConfigCheck(ok=False, error=error, parser="htcondor2")
    return ConfigCheck(ok=True, values=out["values"], parser="htcondor2")


def _check_with_config_val(executable, command, names, token, env, timeout, labels) -> ConfigCheck | None:
    """ConfigCheck from a condor_config_val-like tool, or None if it ignored CONDOR_CONFIG."""
    parser = os.path.basename(command)
    values: Dict[str, str | None] = {}
    try:
        for name in [_SENTINEL, *names]:
            proc = subprocess.run(
                [executable, name], capture_output=True, text=True, timeout=timeout, env=env, check=False
            )
            output = proc.stderr + proc.stdout
            if proc.returncode == 0:
                values[name] = proc.stdout[:-1] if proc.stdout.endswith("\n") else proc.stdout
            elif "Configuration Error" in output or "Config source" in output:
                return ConfigCheck(ok=False, error=parse_error_summary(output, labels), parser=parser)
            elif "Not defined" in output:
                values[name] = None
            else:
                return ConfigCheck(
                    ok=False,
                    error=f"{parser} {name} failed (exit {proc.returncode}): {output.strip()}",
                    parser=parser,
                )
    except subprocess.TimeoutExpired:
        return ConfigCheck(ok=False, error=f"{parser} timed out after {timeout} s", parser=parser)
    if values.pop(_SENTINEL) != token:
        return None
    return ConfigCheck(ok=True, values=values, parser=parser)


__all__ = [
    "LOCAL_CONFIG_DIR_EXCLUDE_REGEXP",
    "NO_CLASSAD_PARSER",
    "NO_PARSER",
    "Arrangement",
    "BaseConfig",
    "Candidate",
    "ConfigCheck",
    "Placement",
    "arrange",
    "check_classad_expression",
    "check_classad_expressions",
    "check_config_file",
    "check_config_text",
    "check_config_text_in_place",
    "check_config_texts_in_place",
    "commands_in_file",
    "includable",
    "local_config_dir_files",
    "parse_error_summary",
    "placement",
    "read_base_config",
]
