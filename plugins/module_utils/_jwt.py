# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Structural decoding of a compact JWS (an HTCondor IDTOKEN or a SciToken)
WITHOUT verifying its signature, and the claim checks of an HTCondor IDTOKEN.

``decode(token)`` returns ``{"header": {...}, "payload": {...}}`` and never the
signature.  Every problem raises ``JwtError`` with a message that says what is
wrong and where (header, payload or signature part) but never contains the
token or any piece of its text, so the message is safe to log.

``check_claims(decoded, ...)`` is the one place for the claim-level checks an
HTCondor IDTOKEN must pass (signed ``alg``, ``sub``, ``iss``, ``iat``, ``nbf``,
``exp``, issuer, subject, scopes); ``decode`` itself checks only the structure.
It raises ``JwtError`` for a token that fails a check and plain ``ValueError``
for a bad argument (a number of seconds out of range, an empty expected
subject).  ``scope_report`` says which scopes a token carries.

Runs on managed hosts: Python >= 3.9, standard library only.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import json
import math
import re
import time
from typing import Any, Dict, Iterable, List, Tuple

PART_NAMES = ("header", "payload", "signature")

_BASE64URL_RE = re.compile(r"\A[A-Za-z0-9_-]*\Z")
# A decimal number as text, with an exponent of at most four digits (no NaN or Infinity).
_DECIMAL_RE = re.compile(r"\A[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?\Z")

# The latest time a time claim may hold: 9999-12-31 23:59:59 UTC, the last
# second a four-digit year can show.
MAX_EPOCH = 253402300799
# How far ahead of this host's clock a token's iat or nbf may lie: the clocks
# of the host and of the central manager that issued the token differ a little.
DEFAULT_CLOCK_SKEW = 300
MAX_CLOCK_SKEW = 3600
# The largest min_remaining_validity that means something: 100 years.
MAX_VALIDITY = 3155760000
# A JSON integer with more digits than this does not fit a 64-bit float.
_MAX_INT_DIGITS = 309
# Claim values shown in messages are cut to this many characters.
_SHOWN_CHARS = 120


class JwtError(ValueError):
    """The token is not a well-formed or acceptable IDTOKEN; the message never quotes the token."""


class _Unrepresentable:
    """Stands in, while a part is parsed, for a JSON number no float can hold."""


_UNREPRESENTABLE = _Unrepresentable()


def _parse_float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _UNREPRESENTABLE


def _parse_int(text: str) -> Any:
    # Checked before int() runs: Python refuses (or takes long over) very long digit strings.
    return _UNREPRESENTABLE if len(text.lstrip("-")) > _MAX_INT_DIGITS else int(text)


def show(value: Any) -> str:
    """A claim value for a message: its repr (escapes control characters), cut to a readable length."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _describe_bad_characters(part: str) -> str:
    """Say what kind of character is wrong, without showing any of the part."""
    kinds = []
    if any(char.isspace() for char in part):
        kinds.append("whitespace")
    if "=" in part:
        kinds.append("'=' padding (a JWT uses base64url without padding)")
    if "+" in part or "/" in part:
        kinds.append("'+' or '/' (standard base64, not base64url)")
    if any(not char.isspace() and char not in "=+/" and not _BASE64URL_RE.match(char) for char in part):
        kinds.append("other characters")
    # The position of the first bad character says where to look without showing any of it.
    first = next(index for index, char in enumerate(part) if not _BASE64URL_RE.match(char))
    return f"{', '.join(kinds)} (first at character {first + 1} of the part)"


def _no_duplicate_members(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    result: Dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate member name")
        result[key] = value
    return result


def _reject_constant(name: str) -> None:
    # Python's json reads NaN and Infinity, which are not JSON; the message
    # does not repeat them, so no "Infinity" reaches a result.
    raise ValueError("a non-finite number constant, which standard JSON does not have")


def _holds_unrepresentable(value: Any) -> bool:
    # Iterative, so a deeply nested part cannot exhaust the stack here.
    pending = [value]
    while pending:
        item = pending.pop()
        if item is _UNREPRESENTABLE:
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _decode_json_part(name: str, part: str) -> Dict[str, Any]:
    if not part:
        raise JwtError(f"The JWT {name} part is empty")
    if len(part) % 4 == 1:
        raise JwtError(
            f"The JWT {name} part is not valid base64url: its length is one more than a multiple of 4, "
            "which no encoding produces (the part is probably truncated or has an extra character)"
        )
    try:
        raw = base64.b64decode(part + "=" * (-len(part) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise JwtError(f"The JWT {name} part is not valid base64url") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JwtError(f"The JWT {name} part does not decode to UTF-8 text") from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicate_members,
            parse_constant=_reject_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except json.JSONDecodeError as exc:
        # exc.msg is a fixed description ("Expecting value", ...): it quotes no input.
        raise JwtError(f"The JWT {name} part is not valid JSON: {exc.msg} at character {exc.pos}") from None
    except RecursionError:
        raise JwtError(f"The JWT {name} part is JSON nested too deeply") from None
    except ValueError as exc:
        # Raised by the hooks above, with messages that quote no input.
        raise JwtError(f"The JWT {name} part is not acceptable JSON: {exc}") from None
    if not isinstance(value, dict):
        if _holds_unrepresentable(value):
            raise JwtError(f"The JWT {name} part holds a number too large to represent")
        raise JwtError(f"The JWT {name} part is a JSON {_json_type(value)}; it must be a JSON object")
    for member, item in value.items():
        if _holds_unrepresentable(item):
            raise JwtError(
                f"The JWT {name} member {show(member)} "
                f"{'is' if item is _UNREPRESENTABLE else 'holds'} a number too large to represent "
                "(beyond the range of a 64-bit float)"
            )
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _count_parts(line: str) -> int:
    return len(line.strip().split("."))


def decode(token: str) -> Dict[str, Dict[str, Any]]:
    """Return ``{"header": {...}, "payload": {...}}`` of the compact JWS ``token``.

    Surrounding whitespace (such as the trailing newline of a token file) is
    ignored.  The signature is checked to be present and base64url but is not
    verified and not returned.  A number no 64-bit float can hold (``1e400``,
    an integer of more than 309 digits) is refused, naming its member, so the
    result always serializes as plain JSON.
    """
    if not isinstance(token, str):
        raise JwtError(f"A JWT must be a string, not {type(token).__name__}")
    if not token:
        raise JwtError("The JWT is empty")
    text = token.strip()
    if not text:
        raise JwtError("The JWT is empty: it holds only whitespace")
    lines = text.splitlines()
    if len(lines) > 1:
        filled = [line for line in lines if line.strip()]
        if len(filled) > 1 and all(_count_parts(line) == 3 for line in filled):
            raise JwtError(
                f"The text holds {len(filled)} tokens on {len(filled)} lines; exactly one token was expected"
            )
        raise JwtError(
            f"The JWT is broken across {len(lines)} lines; a token must be on a single line without line breaks"
        )
    parts = text.split(".")
    if len(parts) != 3:
        raise JwtError(f"A JWT has exactly 3 dot-separated parts (header.payload.signature); found {len(parts)}")
    for name, part in zip(PART_NAMES, parts):
        if not _BASE64URL_RE.match(part):
            raise JwtError(
                f"The JWT {name} part has characters outside base64url [A-Za-z0-9_-]: {_describe_bad_characters(part)}"
            )
    header = _decode_json_part("header", parts[0])
    payload = _decode_json_part("payload", parts[1])
    signature = parts[2]
    if not signature:
        raise JwtError("The JWT signature part is empty; the token is unsigned")
    if len(signature) % 4 == 1:
        raise JwtError(
            "The JWT signature part is not valid base64url: its length is one more than a multiple of 4 "
            "(the token is probably truncated)"
        )
    return {"header": header, "payload": payload}


# ---------------------------------------------------------------- claims

SCOPE_PREFIX = "condor:/"


def normalize_scope(scope: str) -> str:
    """``READ`` or ``condor:/READ`` -> ``condor:/READ`` (the form of the ``scope`` claim)."""
    return scope if scope.startswith(SCOPE_PREFIX) else SCOPE_PREFIX + scope


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def seconds_option(name: str, value: Any, maximum: int) -> int:
    """``value`` as a whole number of seconds from 0 to ``maximum``; ValueError naming ``name`` otherwise.

    Takes an integer, a float with no fraction, or their decimal text (as a
    templated option arrives), and refuses anything else, booleans included.
    """
    wanted = f"{name} must be a whole number of seconds from 0 to {maximum}"
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL_RE.match(text):
            raise ValueError(f"{wanted}, not {show(value)}")
        try:
            number = decimal.Decimal(text)
        except decimal.InvalidOperation:
            raise ValueError(f"{wanted}, not {show(value)}") from None
        if number != number.to_integral_value():
            raise ValueError(f"{wanted}, not a fraction")
        if number < 0:
            raise ValueError(f"{wanted}; it is negative")
        if number > maximum:
            raise ValueError(f"{wanted}; it is larger")
        return int(number)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{wanted}, not {'a boolean' if isinstance(value, bool) else type(value).__name__}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{wanted}, not an infinite or NaN value")
        if not value.is_integer():
            raise ValueError(f"{wanted}, not a fraction")
        value = int(value)
    if value < 0:
        raise ValueError(f"{wanted}; it is negative")
    if value > maximum:
        raise ValueError(f"{wanted}; it is larger")
    return value


def subjects_option(expected_subject: str | Iterable[str] | None) -> List[str] | None:
    """The accepted subjects as a list (None: not checked); ValueError for an empty one."""
    if expected_subject is None:
        return None
    subjects = [expected_subject] if isinstance(expected_subject, str) else list(expected_subject)
    if not subjects:
        raise ValueError("expected_subject is an empty list: give at least one subject, or leave it out")
    bad = [subject for subject in subjects if not isinstance(subject, str) or not subject.strip()]
    if bad:
        raise ValueError(f"expected_subject entries must be non-empty strings, not {show(bad)}")
    return subjects


def _time_claim(payload: Dict[str, Any], claim: str, meaning: str) -> int | float | None:
    """The value of time claim ``claim`` if present, checked to be a number of seconds in range."""
    if claim not in payload:
        return None
    value = payload[claim]
    requirement = f"must be a number of seconds since the epoch, from 0 to {MAX_EPOCH} (the end of the year 9999)"
    if not _is_number(value):
        raise JwtError(f"The token's '{claim}' claim ({meaning}) {requirement}; it is a JSON {_json_type(value)}")
    if not math.isfinite(value):
        raise JwtError(f"The token's '{claim}' claim ({meaning}) {requirement}; it is not a finite number")
    if value < 0:
        raise JwtError(f"The token's '{claim}' claim ({meaning}) {requirement}; it is negative")
    if value > MAX_EPOCH:
        raise JwtError(f"The token's '{claim}' claim ({meaning}) {requirement}; it lies after the year 9999")
    return value


def scope_report(decoded: Dict[str, Dict[str, Any]], required_scopes: Iterable[str] = ()) -> Dict[str, Any]:
    """Which scopes the token carries, against ``required_scopes`` (``READ`` or ``condor:/READ``).

    ``granted``: the token's ``scope`` claim as a list; ``required``: the
    required scopes, normalized; ``found``: the required scopes the token
    carries; ``extra``: the token's scopes beyond the required ones;
    ``unrestricted``: true for a token without a ``scope`` claim, which carries
    every authorization its identity is granted (so every required scope is
    found). Raises JwtError when the ``scope`` claim is not a string.
    """
    required: List[str] = []
    for name in map(normalize_scope, required_scopes):
        if name not in required:
            required.append(name)
    payload = decoded["payload"]
    if "scope" not in payload:
        return dict(unrestricted=True, granted=[], required=required, found=list(required), extra=[])
    if not isinstance(payload["scope"], str):
        raise JwtError("The token's 'scope' claim must be a space-separated string")
    granted: List[str] = []
    for name in payload["scope"].split():
        if name not in granted:
            granted.append(name)
    return dict(
        unrestricted=False,
        granted=granted,
        required=required,
        found=[name for name in required if name in granted],
        extra=[name for name in granted if name not in required],
    )


def check_claims(
    decoded: Dict[str, Dict[str, Any]],
    *,
    expected_issuer: str | None = None,
    expected_subject: str | Iterable[str] | None = None,
    required_scopes: Iterable[str] = (),
    min_remaining_validity: int = 0,
    clock_skew: int = DEFAULT_CLOCK_SKEW,
    now: float | None = None,
) -> None:
    """Raise JwtError unless ``decoded`` (from ``decode``) is a usable HTCondor IDTOKEN.

    Required: header ``alg``, not ``none`` (an unsigned token); payload ``sub``
    and ``iss`` (non-empty strings) and ``iat``, as ``condor_token_create``
    always writes them. The time claims ``iat``, ``nbf`` and ``exp`` must be
    numbers of seconds from 0 to ``MAX_EPOCH``. ``iat`` and ``nbf`` may lie at
    most ``clock_skew`` seconds after ``now`` (default: the current time).
    ``exp`` is optional (tokens made without ``-lifetime`` never expire) but
    must lie more than ``min_remaining_validity`` seconds after ``now``.
    ``expected_subject`` is one subject or a list of accepted ones.
    ``required_scopes`` entries may be given as ``READ`` or ``condor:/READ``;
    other scopes the token carries are fine (see ``scope_report``). Claim values
    named in messages are not secret (the signature is what makes a token
    usable, and it is never shown). A bad argument raises ValueError.
    """
    min_remaining_validity = seconds_option("min_remaining_validity", min_remaining_validity, MAX_VALIDITY)
    clock_skew = seconds_option("clock_skew", clock_skew, MAX_CLOCK_SKEW)
    subjects = subjects_option(expected_subject)
    header, payload = decoded["header"], decoded["payload"]
    now = time.time() if now is None else now
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg.strip():
        raise JwtError("The JWT header has no 'alg' (signing algorithm) member; HTCondor writes e.g. HS256")
    if alg.strip().lower() == "none":
        raise JwtError("The JWT header's 'alg' is 'none': the token is unsigned; HTCondor signs its tokens (HS256)")
    for claim, meaning in (("sub", "identity, user@domain"), ("iss", "issuer, the trust domain")):
        value = payload.get(claim)
        if claim not in payload:
            raise JwtError(f"The token payload has no '{claim}' claim ({meaning})")
        if not isinstance(value, str) or not value.strip():
            raise JwtError(f"The token's '{claim}' claim must be a non-empty string ({meaning})")
    if "iat" not in payload:
        raise JwtError("The token payload has no 'iat' claim (issue time); condor_token_create always writes one")
    iat = _time_claim(payload, "iat", "issue time")
    nbf = _time_claim(payload, "nbf", "not before")
    exp = _time_claim(payload, "exp", "expiry time")
    for claim, value, what in (("iat", iat, "was issued at"), ("nbf", nbf, "is not valid before")):
        if value is not None and value > now + clock_skew:
            raise JwtError(
                f"The token {what} {_utc(value)} ('{claim}'), {int(value - now)} seconds from now, more than the "
                f"allowed clock skew of {clock_skew} seconds: check the clock of this host and of the issuer"
            )
    if exp is not None:
        if exp <= now:
            raise JwtError(f"The token expired at {_utc(exp)} ({int(now - exp)} seconds ago)")
        if exp - now < min_remaining_validity:
            raise JwtError(
                f"The token expires at {_utc(exp)}, in {int(exp - now)} seconds; "
                f"at least {min_remaining_validity} seconds of validity are required"
            )
    if expected_issuer is not None and payload["iss"] != expected_issuer:
        raise JwtError(f"The token was issued by {show(payload['iss'])}; expected issuer {show(expected_issuer)}")
    if subjects is not None and payload["sub"] not in subjects:
        expected = (
            f"expected subject {show(subjects[0])}"
            if len(subjects) == 1
            else f"expected one of the subjects {', '.join(show(subject) for subject in subjects)}"
        )
        raise JwtError(f"The token is for subject {show(payload['sub'])}; {expected}")
    # Without a scope claim a token is not restricted: it carries every
    # authorization its identity is granted, so it lacks no scope.
    report = scope_report(decoded, required_scopes)
    missing = [name for name in report["required"] if name not in report["found"]]
    if missing:
        raise JwtError(
            f"The token lacks the required scope(s) {' '.join(missing)}; "
            f"its scope claim holds {' '.join(report['granted']) if report['granted'] else 'nothing'}"
        )


def _condor_json(value: Dict[str, Any]) -> str:
    # condor_token_create serializes with sorted keys, no spaces, and '/'
    # escaped as '\/'; condor_token_list shows the parts as written.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/")


def token_list_line(decoded: Dict[str, Dict[str, Any]], path: str) -> str:
    """The line ``condor_token_list`` prints for a token file (never the signature)."""
    return f"Header: {_condor_json(decoded['header'])} Payload: {_condor_json(decoded['payload'])} File: {path}"
