"""Build IDTOKEN-shaped test tokens: compact JWS text from JSON parts.

``HEADER`` and ``PAYLOAD`` are shaped exactly like a token the OSPool issues
to an Access Point (tests/fixtures/tokens/README.md says which upstream files
each member comes from): no ``typ``, members in sorted order, the scope string
the registry's request produces, a 32-hexadecimal-character ``jti``, no
``exp``. JSON parts are serialized as HTCondor writes them (sorted members, no
spaces, ``/`` as ``\\/``). The signature is filler (nothing here verifies
signatures).
"""

from __future__ import annotations

import base64
import json

HEADER = {"alg": "HS256", "kid": "flock.opensciencegrid.org"}
PAYLOAD = {
    "iat": 1700000000,
    "iss": "flock.opensciencegrid.org",
    "jti": "c0ffee00c0ffee00c0ffee00c0ffee00",
    "scope": "condor:/READ condor:/ADVERTISE_MASTER condor:/ADVERTISE_SCHEDD",
    "sub": "RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org",
}
# The shape of the OSG installation guide's example: kid POOL, the older
# subject domain, no ADVERTISE_MASTER.
OLD_HEADER = {"alg": "HS256", "kid": "POOL"}
OLD_PAYLOAD = {
    "iat": 1600000000,
    "iss": "flock.opensciencegrid.org",
    "jti": "0123456789abcdef0123456789abcdef",
    "scope": "condor:/READ condor:/ADVERTISE_SCHEDD",
    "sub": "RESOURCE-ap.example.edu@flock.opensciencegrid.org",
}
SIGNATURE = "SECRETSIGNATUREzq" + "A" * 26


def b64url(data) -> str:
    """base64url without padding, of bytes, text, or dicts and lists as HTCondor serializes JSON."""
    if isinstance(data, (dict, list)):
        data = json.dumps(data, separators=(",", ":"), sort_keys=True).replace("/", "\\/")
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def make_token(header=None, payload=None, signature=SIGNATURE) -> str:
    header = HEADER if header is None else header
    payload = PAYLOAD if payload is None else payload
    return f"{b64url(header)}.{b64url(payload)}.{signature}"
