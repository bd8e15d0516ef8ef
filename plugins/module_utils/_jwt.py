# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Structural decoding of a compact JWS (an HTCondor IDTOKEN or a SciToken)
WITHOUT verifying its signature.

``decode(token)`` returns ``{"header": {...}, "payload": {...}}`` and never the
signature.  Every problem raises ``JwtError`` with a message that says what is
wrong and where (header, payload or signature part) but never contains the
token or any piece of it, so the message is safe to log.

``check_claims(decoded, ...)`` is the one place for the claim-level checks an
HTCondor IDTOKEN must pass (``alg``, ``sub``, ``iss``, ``iat``, ``exp``, issuer,
subject, scopes); ``decode`` itself checks only the structure.

Runs on managed hosts: Python >= 3.9, standard library only.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from typing import Any, Dict, Iterable, List, Tuple

PART_NAMES = ("header", "payload", "signature")

_BASE64URL_RE = re.compile(r"\A[A-Za-z0-9_-]*\Z")


class JwtError(ValueError):
    """The text is not a well-formed compact JWS; the message never quotes the token."""


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
    raise ValueError(f"non-standard JSON constant {name}")


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
        value = json.loads(text, object_pairs_hook=_no_duplicate_members, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        # exc.msg is a fixed description ("Expecting value", ...): it quotes no input.
        raise JwtError(f"The JWT {name} part is not valid JSON: {exc.msg} at character {exc.pos}") from None
    except RecursionError:
        raise JwtError(f"The JWT {name} part is JSON nested too deeply") from None
    except ValueError as exc:
        # Raised by the hooks above, with messages that quote no input.
        raise JwtError(f"The JWT {name} part is not acceptable JSON: {exc}") from None
    if not isinstance(value, dict):
        raise JwtError(f"The JWT {name} part is a JSON {_json_type(value)}; it must be a JSON object")
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
    verified and not returned.
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


def check_claims(
    decoded: Dict[str, Dict[str, Any]],
    *,
    expected_issuer: str | None = None,
    expected_subject: str | None = None,
    required_scopes: Iterable[str] = (),
    min_remaining_validity: int = 0,
    now: float | None = None,
) -> None:
    """Raise JwtError unless ``decoded`` (from ``decode``) is a usable HTCondor IDTOKEN.

    Required: header ``alg``; payload ``sub`` and ``iss`` (non-empty strings) and
    ``iat`` (a number), as ``condor_token_create`` always writes them. ``exp`` is
    optional (tokens made without ``-lifetime`` never expire) but must lie more
    than ``min_remaining_validity`` seconds after ``now`` (default: the current
    time). ``required_scopes`` entries may be given as ``READ`` or
    ``condor:/READ``. Claim values named in messages are not secret (the
    signature is what makes a token usable, and it is never shown).
    """
    header, payload = decoded["header"], decoded["payload"]
    now = time.time() if now is None else now
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise JwtError("The JWT header has no 'alg' (signing algorithm) member; HTCondor writes e.g. HS256")
    for claim, meaning in (("sub", "identity, user@domain"), ("iss", "issuer, the trust domain")):
        value = payload.get(claim)
        if claim not in payload:
            raise JwtError(f"The token payload has no '{claim}' claim ({meaning})")
        if not isinstance(value, str) or not value.strip():
            raise JwtError(f"The token's '{claim}' claim must be a non-empty string ({meaning})")
    if "iat" not in payload:
        raise JwtError("The token payload has no 'iat' claim (issue time); condor_token_create always writes one")
    if not _is_number(payload["iat"]):
        raise JwtError("The token's 'iat' claim (issue time) must be a number of seconds since the epoch")
    if "exp" in payload:
        exp = payload["exp"]
        if not _is_number(exp):
            raise JwtError("The token's 'exp' claim (expiry time) must be a number of seconds since the epoch")
        if exp <= now:
            raise JwtError(f"The token expired at {_utc(exp)} ({int(now - exp)} seconds ago)")
        if exp - now < min_remaining_validity:
            raise JwtError(
                f"The token expires at {_utc(exp)}, in {int(exp - now)} seconds; "
                f"at least {min_remaining_validity} seconds of validity are required"
            )
    if expected_issuer is not None and payload["iss"] != expected_issuer:
        raise JwtError(f"The token was issued by {payload['iss']!r}; expected issuer {expected_issuer!r}")
    if expected_subject is not None and payload["sub"] != expected_subject:
        raise JwtError(f"The token is for subject {payload['sub']!r}; expected subject {expected_subject!r}")
    if "scope" in payload and not isinstance(payload["scope"], str):
        raise JwtError("The token's 'scope' claim must be a space-separated string")
    # Without a scope claim a token is not restricted: it carries every
    # authorization its identity is granted, so it lacks no scope.
    if "scope" in payload:
        present = payload["scope"].split()
        missing = [name for name in map(normalize_scope, required_scopes) if name not in present]
        if missing:
            raise JwtError(
                f"The token lacks the required scope(s) {' '.join(missing)}; "
                f"its scope claim holds {' '.join(present) if present else 'nothing'}"
            )


def _condor_json(value: Dict[str, Any]) -> str:
    # condor_token_create serializes with sorted keys, no spaces, and '/'
    # escaped as '\/'; condor_token_list shows the parts as written.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/")


def token_list_line(decoded: Dict[str, Dict[str, Any]], path: str) -> str:
    """The line ``condor_token_list`` prints for a token file (never the signature)."""
    return f"Header: {_condor_json(decoded['header'])} Payload: {_condor_json(decoded['payload'])} File: {path}"
