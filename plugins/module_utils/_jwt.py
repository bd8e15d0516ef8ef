# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Structural decoding of a compact JWS (an HTCondor IDTOKEN or a SciToken)
WITHOUT verifying its signature.

``decode(token)`` returns ``{"header": {...}, "payload": {...}}`` and never the
signature.  Every problem raises ``JwtError`` with a message that says what is
wrong and where (header, payload or signature part) but never contains the
token or any piece of it, so the message is safe to log.  Claim-level checks
(``alg``, ``kid``, ``sub``, ``iss``, ``exp``) are left to the caller.

Runs on managed hosts: Python >= 3.9, standard library only.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Dict, List, Tuple

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
    return ", ".join(kinds)


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
    text = token.strip()
    if not text:
        raise JwtError("The JWT is empty (or only whitespace)")
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
