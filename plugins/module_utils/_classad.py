# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Turn Python values into ClassAd literal text that is safe to write into an
HTCondor (or HTCondor-CE) configuration file.

``quote(value)`` maps ``str`` to a double-quoted ClassAd string, ``bool`` to
``true``/``false``, ``int`` to a decimal literal, ``float`` to its ``repr``,
``None`` to ``undefined``, ``list``/``tuple`` to ``{ a, b }`` and mappings to
``[ k = v; ... ]``.  The result is always a single line, and it never contains
a ``$``, so HTCondor's configuration macro expansion (``$(NAME)``,
``$ENV(NAME)``, ``$$(NAME)``, ...) can never see it: inside a string ``$`` is
written as the octal escape ``\\044``, which the ClassAd lexer turns back into
``$`` only when the expression is parsed, after macro expansion is over.

Runs on managed hosts: Python >= 3.9, standard library only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, List

ATTRIBUTE_NAME_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
"""A ClassAd attribute name that needs no quoting (before the reserved-word check)."""

RESERVED_WORDS = frozenset(("true", "false", "undefined", "error", "is", "isnt", "parent"))
"""ClassAd keywords (case-insensitive) that cannot be used as a bare attribute name."""

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

# Characters with a short backslash escape in the ClassAd lexer.
_NAMED_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\b": "\\b",
    "\f": "\\f",
}

_REPR_LIMIT = 40


def short_repr(value: Any, limit: int = _REPR_LIMIT) -> str:
    """``repr`` of ``value`` for an error message; long strings are cut after ``limit`` characters."""
    if isinstance(value, str) and len(value) > limit:
        return f"{str.__repr__(value[:limit])}... ({len(value)} characters)"
    text = repr(value)
    if len(text) > limit + 20:
        return f"{text[: limit + 20]}..."
    return text


def type_name(value: Any) -> str:
    """Plain name of ``value``'s type (``str`` rather than the name of a subclass Ansible uses)."""
    if value is None:
        return "None"
    for kind in (bool, int, float, str, bytes, bytearray, dict, list, tuple, set, frozenset):
        if isinstance(value, kind):
            return kind.__name__
    return type(value).__name__


def is_attribute_name(name: Any) -> bool:
    """True if ``name`` is a string usable as a bare ClassAd attribute name.

    That is ``[A-Za-z_][A-Za-z0-9_]*`` and not a ClassAd reserved word
    (``true``, ``false``, ``undefined``, ``error``, ``is``, ``isnt``, ``parent``,
    in any case).
    """
    return isinstance(name, str) and bool(ATTRIBUTE_NAME_RE.match(name)) and name.lower() not in RESERVED_WORDS


def _needs_octal(char: str) -> bool:
    code = ord(char)
    return (
        code < 0x20  # C0 control characters
        or code == 0x7F  # DEL
        or 0x80 <= code <= 0x9F  # C1 control characters (U+0085 is a line break to some tools)
        or code in (0x2028, 0x2029)  # Unicode line and paragraph separators
        or char == "$"  # configuration macro expansion
    )


def _octal(char: str) -> str:
    # Always three digits, so a following digit is never taken into the escape.
    return "".join(f"\\{byte:03o}" for byte in char.encode("utf-8"))


def quote_string(text: str) -> str:
    """Return ``text`` as a one-line, double-quoted ClassAd string literal without any ``$``."""
    if not isinstance(text, str):
        raise TypeError(f"Expected a string, got {type_name(text)} {short_repr(text)}")
    if "\0" in text:
        raise ValueError(
            f"String {short_repr(text)} contains a NUL character (\\0), which neither a ClassAd string "
            "nor an HTCondor configuration file can hold"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"String {short_repr(text)} contains a lone surrogate and cannot be written as UTF-8"
        ) from None
    out: List[str] = ['"']
    for char in text:
        escaped = _NAMED_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif _needs_octal(char):
            out.append(_octal(char))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _quote(value: Any, active: List[int]) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        number = int(value)
        if not INT_MIN <= number <= INT_MAX:
            raise ValueError(
                f"Integer {number} is outside the ClassAd integer range {INT_MIN} to {INT_MAX} "
                "(HTCondor would silently read it as another number)"
            )
        return str(number)
    if isinstance(value, float):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise ValueError(f"Float {number!r} cannot be written as a ClassAd literal; only finite numbers can")
        return repr(number)
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, (list, tuple, Mapping)):
        if id(value) in active:
            raise ValueError(f"A {type_name(value)} contains itself and cannot be written as a ClassAd literal")
        active.append(id(value))
        try:
            if isinstance(value, Mapping):
                return _quote_record(value, active)
            items = [_quote(item, active) for item in value]
            return ("{ " + ", ".join(items) + " }") if items else "{ }"
        finally:
            active.pop()
    raise TypeError(
        f"Cannot write a {type_name(value)} as a ClassAd literal: {short_repr(value)}; valid types are "
        "str, bool, int, float, None, list, tuple and dict"
    )


def _quote_record(value: Mapping, active: List[int]) -> str:
    seen = {}
    parts = []
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(f"ClassAd attribute name {short_repr(key)} is a {type_name(key)}; it must be a string")
        if not ATTRIBUTE_NAME_RE.match(key):
            raise ValueError(f"Invalid ClassAd attribute name {short_repr(key)}: it must match [A-Za-z_][A-Za-z0-9_]*")
        folded = key.lower()
        if folded in RESERVED_WORDS:
            raise ValueError(
                f"Invalid ClassAd attribute name {short_repr(key)}: it is a ClassAd reserved word "
                f"({', '.join(sorted(RESERVED_WORDS))}, in any case)"
            )
        if folded in seen:
            raise ValueError(
                f"ClassAd attribute names {short_repr(seen[folded])} and {short_repr(key)} are the same "
                "attribute: ClassAd attribute names are case-insensitive"
            )
        seen[folded] = key
        parts.append(f"{key} = {_quote(item, active)}")
    return ("[ " + "; ".join(parts) + " ]") if parts else "[ ]"


def quote(value: Any) -> str:
    """Return ``value`` as ClassAd literal text on one line.

    ``str`` -> ``"..."`` (backslash, double quote and control characters
    escaped; ``$`` as ``\\044``), ``bool`` -> ``true``/``false``, ``int`` ->
    decimal (64-bit range), ``float`` -> ``repr`` (finite only), ``None`` ->
    ``undefined``, ``list``/``tuple`` -> ``{ a, b }``, mapping ->
    ``[ k = v; ... ]``.

    Raises ``ValueError`` for values that have no faithful ClassAd form (NUL
    in a string, NaN, out-of-range integers, bad or duplicate attribute
    names, self-containing containers) and ``TypeError`` for other types.
    """
    return _quote(value, [])
