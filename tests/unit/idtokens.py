"""Build IDTOKEN-shaped test tokens: compact JWS text from JSON parts.

The header and payload follow what ``condor_token_create`` writes for an OSPool
Access Point; the signature is filler (nothing here verifies signatures).
"""

from __future__ import annotations

import base64
import json

HEADER = {"alg": "HS256", "kid": "POOL"}
PAYLOAD = {
    "iat": 1700000000,
    "iss": "cm-1.ospool.osg-htc.org",
    "jti": "c0ffee",
    "scope": "condor:/READ condor:/ADVERTISE_SCHEDD",
    "sub": "RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org",
}
SIGNATURE = "SECRETSIGNATUREzq" + "A" * 26


def b64url(data) -> str:
    """base64url without padding, of bytes, text, or JSON-encoded dicts and lists."""
    if isinstance(data, (dict, list)):
        data = json.dumps(data, separators=(",", ":"))
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def make_token(header=None, payload=None, signature=SIGNATURE) -> str:
    header = HEADER if header is None else header
    payload = PAYLOAD if payload is None else payload
    return f"{b64url(header)}.{b64url(payload)}.{signature}"
