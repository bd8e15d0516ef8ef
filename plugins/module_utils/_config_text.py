# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The one rule for text that goes into an HTCondor configuration file.

Every string the collection writes into a configuration file (names, values,
multi-line values such as job route bodies, comments) passes through these
functions. A string either goes in so that HTCondor's reader reads back exactly
the setting intended and nothing else, or it is refused with a
:class:`ConfigTextError` that names the option and the offending character.

How HTCondor reads a configuration file (htcondor/htcondor
``src/condor_utils/config.cpp``, ``getline_implementation`` and
``Parse_macros``, checked at main 7491a145):

* lines end at ``\\n`` only; each line is trimmed of surrounding whitespace
  (C ``isspace``: also ``\\r``, ``\\v``, ``\\f``); a line that then ends in a
  backslash is joined with the next line (line continuation);
* a line that starts with ``#`` and a blank line are skipped, also inside a
  multi-line ``NAME @=tag`` ... ``@tag`` value, which ends at the first line
  that reads ``@tag``;
* a NUL ends a line early (the C string stops there);
* ``include [ifexist] [command|output [into <file>]] : <target>`` reads
  another file, or runs ``<target>`` as a command when the keyword says so or
  the target contains ``|``; a ``LOCAL_CONFIG_FILE`` that contains ``|`` is run
  the same way.

So a value must not contain a line break or NUL (it would end the line and start
a new setting), must not end in a backslash (it would swallow the next line),
and a line of a multi-line value must not start with ``@`` (it could end the
value). Other control characters and the Unicode line separators are refused
too: they are never part of a real setting, and tools that split lines
differently (editors, Python's ``splitlines``) would disagree about the file.

Runs on managed hosts: Python >= 3.9, standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Dict, Iterator, List, Tuple

NAME_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
"""A configuration name, optionally prefixed by subsystem or local names (``SCHEDD.SEC_...``)."""

_LINE_BREAKS = {
    "\n": "a line feed",
    "\r": "a carriage return",
    "\x0b": "a vertical tab",
    "\x0c": "a form feed",
    "\x1c": "a file separator",
    "\x1d": "a group separator",
    "\x1e": "a record separator",
    "\x85": "a next-line character",
    "\u2028": "a Unicode line separator",
    "\u2029": "a Unicode paragraph separator",
}


class ConfigTextError(ValueError):
    """Text that cannot go into a configuration file as intended; the message names the option."""


def describe_character(char: str) -> str:
    """A readable name for ``char``: ``a line feed (U+000A)``."""
    code = f"U+{ord(char):04X}"
    if char in _LINE_BREAKS:
        return f"{_LINE_BREAKS[char]} ({code})"
    if char == "\0":
        return f"a NUL character ({code})"
    name = unicodedata.name(char, "")
    return f"the control character {name.lower() + ' ' if name else ''}({code})"


def bad_character(text: str) -> str | None:
    """The first character of ``text`` a configuration line cannot hold, described; None when there is none.

    Refused: NUL, the line breaks HTCondor or other tools see (``\\n``, ``\\r``,
    ``\\v``, ``\\f``, U+001C-U+001E, U+0085, U+2028, U+2029), every other C0 and
    C1 control character and DEL. A tab is fine.
    """
    for char in text:
        if char == "\t":
            continue
        if char in _LINE_BREAKS or unicodedata.category(char) == "Cc":
            return describe_character(char)
    return None


def _refuse(option: str, problem: str) -> ConfigTextError:
    return ConfigTextError(f"{option}: {problem}")


def _check_characters(option: str, text: str, what: str = "the value") -> None:
    if not isinstance(text, str):
        raise _refuse(option, f"{what} is a {type(text).__name__}, not a string")
    found = bad_character(text)
    if found:
        raise _refuse(option, f"{what} contains {found}, which HTCondor's configuration reader cannot keep in it")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(option, f"{what} contains a lone surrogate and cannot be written as UTF-8") from None


def config_name(option: str, name) -> str:
    """``name`` when it is an HTCondor configuration name (``[SUBSYS.]NAME``); refuses anything else."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        text = name if isinstance(name, str) else repr(name)
        first = next((c for c in text if not (c.isalnum() or c in "_.")), None) if isinstance(name, str) else None
        why = f" (it contains {describe_character(first) if bad_character(first) else repr(first)})" if first else ""
        raise _refuse(
            option,
            f"{name!r} is not an HTCondor configuration name{why}; use letters, digits and _, "
            "optionally prefixed by SUBSYSTEM. (for example SCHEDD.SEC_CLIENT_AUTHENTICATION)",
        )
    return name


def line_value(option: str, text: str) -> str:
    """``text`` as the value of a one-line ``NAME = value`` setting.

    Surrounding whitespace is removed (HTCondor trims it when reading). Refused:
    the characters of :func:`bad_character` and a trailing backslash.
    """
    _check_characters(option, text)
    value = text.strip()
    if value.endswith("\\"):
        raise _refuse(
            option,
            "the value ends in a backslash, which HTCondor reads as a line continuation that swallows the next "
            "line; remove it or add text after it",
        )
    return value


def block_lines(option: str, text: str, what: str = "the value") -> List[str]:
    """The lines of a multi-line ``NAME @=tag`` ... ``@tag`` value, each passing :func:`block_line`."""
    if not isinstance(text, str):
        raise _refuse(option, f"{what} is a {type(text).__name__}, not a string")
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        block_line(option, line, f"line {number} of {what}" if len(lines) > 1 else what)
    return lines


def block_line(option: str, line: str, what: str = "the line") -> str:
    """``line`` as one line of a multi-line value.

    Refused: the characters of :func:`bad_character` (a line break among them),
    a leading ``@`` (after whitespace), which could end the value early, and a
    trailing backslash, which would join the next line (possibly the end of the
    value) to this one; and a line that reads as one that runs a command (the
    check that loads the file refuses those, data or not).
    """
    _check_characters(option, line, what)
    stripped = line.strip()
    if stripped.startswith("@"):
        raise _refuse(option, f"{what} starts with '@', which HTCondor could read as the end of the value")
    if stripped.endswith("\\"):
        raise _refuse(
            option,
            f"{what} ends in a backslash, which HTCondor reads as a line continuation that joins it with the next line",
        )
    if runs_command(stripped):
        raise _refuse(
            option,
            f"{what} reads as a line that runs a command ({stripped!r}); such lines are never written, even as data",
        )
    return line


def block_read_value(lines: List[str]) -> str:
    """The value HTCondor reads from a multi-line value's lines: each trimmed, blank and ``#`` lines dropped."""
    kept = [line.strip() for line in lines]
    return "\n".join(line for line in kept if line and not line.startswith("#"))


def comment_lines(option: str, text: str) -> List[str]:
    """``text`` as ``# ...`` comment lines; refuses what would make a comment line continue onto the next."""
    lines = []
    for line in (text or "").split("\n"):
        _check_characters(option, line, "the comment")
        body = line.rstrip()
        if body.endswith("\\"):
            raise _refuse(option, "a line of the comment ends in a backslash, which can continue it onto the next line")
        lines.append(f"# {body}".rstrip())
    return lines


def list_item(option: str, item, allow_macros: bool = True) -> str:
    """One item of an HTCondor list value (``a, b, c``): a non-empty word that cannot split or end the list.

    Refused: whitespace, a comma, ``#`` (a comment character to some readers), a
    backslash, the characters of :func:`bad_character` and, unless
    ``allow_macros``, ``$`` (a macro such as ``$(NAME)``).
    """
    if isinstance(item, bool) or not isinstance(item, (str, int, float)):
        raise _refuse(option, f"{item!r} is a {type(item).__name__}; list items are strings or numbers")
    text = str(item)
    _check_characters(option, text, f"the item {text!r}")
    if not text:
        raise _refuse(option, "an item is empty")
    for char, why in (
        (",", "a comma, which would split it into two items"),
        ("#", "'#', which starts a comment"),
        ("\\", "a backslash, which can continue the line"),
    ):
        if char in text:
            raise _refuse(option, f"the item {text!r} contains {why}")
    if any(char.isspace() for char in text):
        raise _refuse(option, f"the item {text!r} contains whitespace, which would split it into two items")
    if not allow_macros and "$" in text:
        raise _refuse(option, f"the item {text!r} contains '$', which starts a configuration macro")
    return text


# --- lines that run commands --------------------------------------------------------------------

_INCLUDE_RE = re.compile(r"\A@?include\b([^:=]*):(.*)\Z", re.I | re.S)
_ASSIGN_RE = re.compile(r"\A([A-Za-z_][A-Za-z0-9_.]*)\s*(?:=|:)(.*)\Z", re.S)
_HEREDOC_RE = re.compile(r"\A([A-Za-z_][A-Za-z0-9_.]*)\s*@=\s*(\S+)\s*\Z")
# Settings HTCondor reads as a list of files to include, or as a command to run when they contain '|'.
_LOCAL_FILE_SETTINGS = ("local_config_file", "local_root_config_file")


def logical_lines(text: str, heredoc_heads: bool = False) -> Iterator[Tuple[int, str]]:
    """``(line number, line)`` of each configuration line as HTCondor's reader sees it.

    Lines are trimmed, continuation lines joined, comments and blank lines
    skipped; the lines inside a multi-line ``@=`` value are skipped too (they
    are data, never directives), and so is its ``NAME @=tag`` line unless
    ``heredoc_heads``. The number is that of the first physical line.
    """
    physical = text.split("\n")
    heredoc_tag = None
    index = 0
    while index < len(physical):
        number = index + 1
        line = physical[index].strip()
        index += 1
        # A comment line does not continue (HTCondor's default since 8.1.3); any other line
        # ending in a backslash takes the next one, inside a multi-line value too.
        while line.endswith("\\") and not line.startswith("#") and index < len(physical):
            line = line[:-1] + physical[index].strip()
            index += 1
        if not line or line.startswith("#"):
            continue
        if heredoc_tag is not None:
            if line == "@" + heredoc_tag:
                heredoc_tag = None
            continue
        match = _HEREDOC_RE.match(line)
        if match:
            heredoc_tag = match.group(2)
            if heredoc_heads:
                yield number, line
            continue
        yield number, line


# Directives that look like `word : text` or `word text`; never a setting's name.
_KEYWORDS = frozenset(("if", "elif", "else", "endif", "error", "warning", "use", "include", "require_version"))
_USE_RE = re.compile(r"\Ause\s+([A-Za-z_]\w*)\s*:\s*(.*)\Z", re.I | re.S)


def assigned_names(text: str) -> Tuple[List[str], List[str], List[str]]:
    """The names ``text`` assigns, its ``use CATEGORY : templates`` lines, and the names it adds to.

    Names are first seen first, as written. Names inside ``if`` blocks count
    whatever the condition; the effective value says what the block did. A name
    "adds to" itself when an assignment refers to its own earlier value
    (``NAME = $(NAME) more``).
    """
    names: Dict[str, str] = {}
    uses: List[str] = []
    adds: Dict[str, str] = {}
    for _number, line in logical_lines(text, heredoc_heads=True):
        use = _USE_RE.match(line)
        if use:
            uses.append(f"use {use.group(1)} : {use.group(2).strip()}")
            continue
        match = _HEREDOC_RE.match(line) or _ASSIGN_RE.match(line)
        if match and match.group(1).lower() not in _KEYWORDS:
            name = match.group(1)
            names.setdefault(name.lower(), name)
            if re.search(r"\$\(\s*" + re.escape(name) + r"\s*[:)]", match.group(2), re.I):
                adds.setdefault(name.lower(), name)
    return list(names.values()), uses, list(adds.values())


def command_lines(text: str, local_config_file: bool = True) -> List[Tuple[int, str]]:
    """The lines of ``text`` that make HTCondor's reader run a command, or that may.

    ``include command|output ... : <target>``, an ``include`` whose target
    contains ``|`` or a ``$`` macro (whose value may), and, with
    ``local_config_file``, a ``LOCAL_CONFIG_FILE`` or ``LOCAL_ROOT_CONFIG_FILE``
    setting that contains ``|`` (run after the whole configuration is read).
    Physical lines are looked at one by one as well as joined, so a
    continuation cannot hide one.
    """
    found = {}
    candidates = list(logical_lines(text))
    candidates += [(n, line.strip()) for n, line in enumerate(text.split("\n"), 1)]
    for number, line in candidates:
        if runs_command(line, local_config_file):
            found.setdefault(number, line)
    return sorted(found.items())


def runs_command(line: str, local_config_file: bool = True) -> bool:
    """True when one trimmed configuration line runs (or may run) a command."""
    include = _INCLUDE_RE.match(line)
    if include:
        keywords = include.group(1).lower().split()
        target = include.group(2)
        return "command" in keywords or "output" in keywords or "|" in target or "$" in target
    assignment = _ASSIGN_RE.match(line)
    if local_config_file and assignment and assignment.group(1).lower().rsplit(".", 1)[-1] in _LOCAL_FILE_SETTINGS:
        return "|" in assignment.group(2)
    return False


def include_targets(text: str) -> List[str]:
    """The literal file targets of the plain ``include : <file>`` lines of ``text`` (no command, no macro)."""
    targets = []
    for _number, line in logical_lines(text):
        include = _INCLUDE_RE.match(line)
        if include and not runs_command(line):
            targets.append(include.group(2).strip())
    return targets


__all__ = [
    "NAME_RE",
    "ConfigTextError",
    "assigned_names",
    "bad_character",
    "block_line",
    "block_lines",
    "block_read_value",
    "command_lines",
    "comment_lines",
    "config_name",
    "describe_character",
    "include_targets",
    "line_value",
    "list_item",
    "logical_lines",
    "runs_command",
]
