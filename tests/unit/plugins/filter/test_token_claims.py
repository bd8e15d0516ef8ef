# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ``osg_htc.site.token_claims`` filter, including that errors never echo the token."""

from __future__ import annotations

import base64
import traceback

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.token_claims import FilterModule, token_claims
from ansible_collections.osg_htc.site.tests.unit.idtokens import HEADER, PAYLOAD, b64url

MARKER = "HOSTILEMARKERzq"  # base64url characters, so the marker survives until decoding


NOT_UTF8 = b"\xff" + MARKER.encode()
GOOD = f"{b64url(HEADER)}.{b64url(PAYLOAD)}.{MARKER}AAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def test_filter_is_registered():
    assert FilterModule().filters() == {"token_claims": token_claims}


def test_decodes_header_and_payload_without_signature():
    result = token_claims(GOOD + "\n")
    assert result == {"header": HEADER, "payload": PAYLOAD}
    assert MARKER not in repr(result)


HOSTILE = {
    "marker only": MARKER,
    "marker in every part": f"{MARKER}.{MARKER}.{MARKER}",
    "marker with bad characters": f"{MARKER}!.{MARKER}.{MARKER}",
    "marker as JSON text": f"{b64url(HEADER)}.{b64url(MARKER)}.{MARKER}",
    "marker in non-UTF-8": f"{b64url(NOT_UTF8)}.{b64url(PAYLOAD)}.{MARKER}",
    "marker in a JSON array": f"{b64url(HEADER)}.{b64url([MARKER])}.{MARKER}",
    "marker after a line break": f"{GOOD[:30]}\n{GOOD[30:]}",
    "two tokens": f"{GOOD}\n{GOOD}",
    "marker with padding": f"{b64url(HEADER)}==.{b64url(PAYLOAD)}.{MARKER}",
    "marker with spaces": f"{b64url(HEADER)}.{b64url(PAYLOAD)}.{MARKER} {MARKER}",
    "empty signature": f"{b64url({'marker': MARKER})}.{b64url(PAYLOAD)}.",
    "marker with quotes": f"\"'{MARKER}'\"",
}


@pytest.mark.parametrize("token", list(HOSTILE.values()), ids=list(HOSTILE))
def test_errors_never_echo_the_token(token):
    with pytest.raises(AnsibleFilterError) as info:
        token_claims(token)
    message = str(info.value)
    assert message.startswith("token_claims: ")
    shown = "".join(traceback.format_exception(info.value))
    for text in (message, shown, repr(info.value)):
        assert MARKER not in text
        assert "HOSTILE" not in text
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


@pytest.mark.parametrize(
    ("token", "fragment"),
    [
        (None, "must be a string"),
        ("", "empty"),
        ("a.b", "found 2"),
        (f"{GOOD}\n{GOOD}", "2 tokens on 2 lines"),
        (f"{GOOD[:30]}\n{GOOD[30:]}", "broken across 2 lines"),
        (f"{b64url(HEADER)}.{b64url([1])}.{MARKER}", "payload part is a JSON array"),
    ],
)
def test_error_messages_say_what_is_wrong(token, fragment):
    with pytest.raises(AnsibleFilterError, match="token_claims: ") as info:
        token_claims(token)
    assert fragment in str(info.value)


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" + "0" * 400])
def test_a_number_no_float_holds_is_an_error_naming_the_claim(number):
    payload = '{"exp":' + number + "}"
    token = f"{b64url(HEADER)}.{b64url(payload)}.{MARKER}"
    with pytest.raises(AnsibleFilterError) as info:
        token_claims(token)
    assert str(info.value) == (
        "token_claims: The JWT payload member 'exp' is a number too large to represent "
        "(beyond the range of a 64-bit float)"
    )
    assert MARKER not in str(info.value)


def test_the_registry_shape_decodes_with_escaped_slashes():
    """HTCondor writes the scope as condor:\\/READ ...; the filter gives the plain text."""
    assert "\\/" in base64.urlsafe_b64decode(b64url(PAYLOAD) + "==").decode()
    assert token_claims(GOOD)["payload"]["scope"] == "condor:/READ condor:/ADVERTISE_MASTER condor:/ADVERTISE_SCHEDD"


def test_an_unexpected_error_is_reported_by_kind_only(monkeypatch):
    from ansible_collections.osg_htc.site.plugins.filter import token_claims as module

    def broken(token):
        raise RuntimeError(f"cannot read {token}")

    monkeypatch.setattr(module, "decode", broken)
    with pytest.raises(AnsibleFilterError) as info:
        token_claims(GOOD)
    assert str(info.value) == "token_claims: cannot decode the token (RuntimeError)"
    assert info.value.__cause__ is None
    assert MARKER not in "".join(traceback.format_exception(info.value))
