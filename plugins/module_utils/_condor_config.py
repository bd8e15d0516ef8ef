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
    OSG_HTC_SITE_CONFIG_CHECK = <random token>

HTCondor reads the ``LOCAL_CONFIG_FILE`` / ``LOCAL_CONFIG_DIR`` named by an
``include_before`` file only after the whole wrapper, i.e. after the candidate;
a base config such as ``/etc/condor/condor_config`` therefore pulls in the live
``config.d`` files after the candidate, and a live copy of the file being
replaced overrides the candidate in ``values``. When the order matters, list the
files explicitly (``include_before``, then the candidate, then ``include_after``;
:func:`local_config_dir_files` lists a ``LOCAL_CONFIG_DIR`` in HTCondor's order)
and pass ``read_local_config=False``: the wrapper then ends with empty
``LOCAL_CONFIG_DIR`` and ``LOCAL_CONFIG_FILE``, so nothing is read twice.

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

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Sequence

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

_CONFIG_SCRIPT = """
import json, sys
try:
    import htcondor2
except ImportError as err:
    sys.stderr.write("%s\\n" % err)
    sys.exit(3)
names = json.load(sys.stdin)
json.dump(dict((n, htcondor2.param.get(n)) for n in names), sys.stdout)
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
# HTCondor's default LOCAL_CONFIG_DIR_EXCLUDE_REGEXP (param_info.in).
LOCAL_CONFIG_DIR_EXCLUDE_REGEXP = r"^((\..*)|(.*~)|(#.*)|(.*\.rpmsave)|(.*\.rpmnew))$"
_WRAPPER_LABEL = "<validation wrapper>"
_MEANINGFUL = re.compile(r"Config source|Configuration Error|endif|can't open|error|not found|unexpected", re.I)


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
        line = raw.strip().rstrip(":").rstrip()
        for path, label in (labels or {}).items():
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
    read_local_config: bool = True,
    python: str | None = None,
    config_val: Sequence[str] = ("condor_config_val",),
    timeout: float = 60,
    label: str | None = None,
) -> ConfigCheck:
    """Load ``path`` with HTCondor's parser, after the files in ``include_before``.

    The files are read through a generated wrapper (``include : <file>`` lines)
    so the candidate is checked in the context of e.g. the host's base config
    (and of ``include_after``, read after it),
    and ``values`` holds the effective, macro-expanded value of each of ``names``
    for the whole stack (None when undefined; built-in defaults count as defined).
    ``label`` is the name shown for ``path`` in error messages.
    Raises ValueError for a path HTCondor's ``include`` cannot express.
    """
    with tempfile.TemporaryDirectory(prefix="osg_htc-condor-check-") as workdir:
        layout = _Layout(include_before, include_after, read_local_config)
        return _check(path, list(names), layout, workdir, python, config_val, timeout, label)


def check_config_text(
    text: str,
    names: Iterable[str] = (),
    *,
    include_before: Sequence[str] = (),
    include_after: Sequence[str] = (),
    read_local_config: bool = True,
    tmpdir: str | None = None,
    label: str = "<config text>",
    python: str | None = None,
    config_val: Sequence[str] = ("condor_config_val",),
    timeout: float = 60,
) -> ConfigCheck:
    """Like :func:`check_config_file` for ``text``, via a temp file in ``tmpdir`` that is removed afterwards.

    ``label`` is the name shown for the text in error messages (e.g. its destination path).
    """
    with tempfile.TemporaryDirectory(prefix="osg_htc-condor-check-", dir=tmpdir) as workdir:
        path = os.path.join(workdir, "candidate.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        layout = _Layout(include_before, include_after, read_local_config)
        return _check(path, list(names), layout, workdir, python, config_val, timeout, label)


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
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout)


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


def _include_line(path: str) -> str:
    # `include :` takes the rest of the line verbatim (spaces are fine, quotes
    # are not stripped), expands $(...) and honours a trailing backslash as a
    # line continuation; paths HTCondor would read differently are refused.
    path = os.path.abspath(path)
    if "$" in path or "\n" in path or "\r" in path or path != path.strip() or path.endswith("\\"):
        raise ValueError(
            f"cannot include {path!r} in an HTCondor config: it contains '$', a newline, "
            "surrounding whitespace or a trailing backslash"
        )
    return f"include : {path}\n"


@dataclass(frozen=True)
class _Layout:
    """Where the candidate sits among other config files, and whether LOCAL_CONFIG_* are read."""

    before: Sequence[str] = ()
    after: Sequence[str] = ()
    read_local_config: bool = True


def local_config_dir_files(value: str | None, exclude: str | None = None) -> List[str]:
    """The files a ``LOCAL_CONFIG_DIR`` value names, in the order HTCondor reads them.

    ``value`` is the (expanded) list of directories, separated by commas and/or
    spaces; each directory's files are read in lexicographic order, skipping
    subdirectories and names matching ``exclude`` (default: HTCondor's
    ``LOCAL_CONFIG_DIR_EXCLUDE_REGEXP``, which skips dot files, editor backups
    and RPM leftovers). Missing directories are skipped, as HTCondor does.
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

    ``before`` is None when the file cannot be placed (``note`` says why, for a
    warning) and should be checked on its own; ``error`` is set when the base
    config itself does not load.
    """

    before: Sequence[str] | None = None
    after: Sequence[str] = ()
    note: str | None = None
    error: str | None = None


def placement(config_root: str, path: str) -> Placement:
    """Place ``path`` among the files HTCondor reads for ``config_root``, in HTCondor's order.

    The candidate takes the place its name gives it in its directory, so files
    sorting before it are read before it and files sorting after it override it,
    exactly as on the live host.
    """
    if not os.path.isfile(config_root):
        return Placement(note=f"{config_root} does not exist")
    found = check_config_file(config_root, ["LOCAL_CONFIG_DIR"])
    if found.ok is None:
        return Placement(note=found.error)
    if found.ok is False:
        return Placement(error=f"{config_root} does not load, before any change: {found.error}")
    dirs = [d for d in re.split(r"[\s,]+", found.values.get("LOCAL_CONFIG_DIR") or "") if d]
    directory = os.path.dirname(os.path.abspath(path))
    order = {os.path.abspath(d): i for i, d in enumerate(dirs)}
    if directory not in order:
        return Placement(
            note=f"{directory} is not in the LOCAL_CONFIG_DIR of {config_root} ({', '.join(dirs) or 'empty'}): "
            f"HTCondor will not read {path}"
        )
    key = (order[directory], os.path.basename(path))
    others = [f for f in local_config_dir_files(" ".join(dirs)) if os.path.abspath(f) != os.path.abspath(path)]
    before = [f for f in others if (order[os.path.dirname(os.path.abspath(f))], os.path.basename(f)) < key]
    after = [f for f in others if f not in before]
    return Placement(before=[config_root, *before], after=after)


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
    check = check_config_text(
        text, names, include_before=where.before, include_after=where.after, read_local_config=False,
        label=path, **kwargs,
    )  # fmt: skip
    return check, where


def _check(path, names, layout, workdir, python, config_val, timeout, label) -> ConfigCheck:
    token = uuid.uuid4().hex
    wrapper = os.path.join(workdir, "check-wrapper.conf")
    with open(wrapper, "w", encoding="utf-8") as handle:
        handle.writelines(_include_line(p) for p in [*layout.before, path, *layout.after])
        if not layout.read_local_config:
            # Read after the whole wrapper: emptied here, nothing is read twice.
            handle.write("LOCAL_CONFIG_DIR =\nLOCAL_CONFIG_FILE =\n")
        # Read back through condor_config_val to prove the tool really loaded
        # this file: condor_ce_config_val, for one, forces its own CONDOR_CONFIG.
        handle.write(f"{_SENTINEL} = {token}\n")
    labels = {wrapper: _WRAPPER_LABEL}
    if label:
        labels[os.path.abspath(path)] = label
    env = _clean_env(wrapper)

    result = _check_with_bindings(names, python, env, timeout, labels)
    if result is not None:
        return result
    skipped = []
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


def _check_with_bindings(names, python, env, timeout, labels) -> ConfigCheck | None:
    """ConfigCheck from htcondor2, or None when the bindings are not importable."""
    try:
        proc = _run_script(_CONFIG_SCRIPT, names, python, env, timeout)
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
    return ConfigCheck(ok=True, values=json.loads(proc.stdout), parser="htcondor2")


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
    "NO_CLASSAD_PARSER",
    "NO_PARSER",
    "ConfigCheck",
    "Placement",
    "check_classad_expression",
    "check_classad_expressions",
    "check_config_file",
    "check_config_text",
    "check_config_text_in_place",
    "local_config_dir_files",
    "parse_error_summary",
    "placement",
]
