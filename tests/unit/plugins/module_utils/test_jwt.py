# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for ``module_utils/_jwt.py``: structural decoding of a compact JWS.

Every rejected input has its own test that checks the message and that no
piece of the token shows up in it, or in the formatted traceback.
"""

from __future__ import annotations

import traceback

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._jwt import JwtError, check_claims, decode, token_list_line
from ansible_collections.osg_htc.site.tests.unit.idtokens import HEADER, PAYLOAD, SIGNATURE, make_token

MARKER = "SECRETMARKERzq"  # valid base64url characters, so it survives until decoding
GOOD = make_token()


def assert_rejected(token, *fragments):
    """Decode ``token``, expect a JwtError whose message holds ``fragments`` and no piece of the token."""
    with pytest.raises(JwtError) as info:
        decode(token)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    shown = "".join(traceback.format_exception(info.value))
    for text in (message, shown):
        assert MARKER not in text
        assert "SECRETSIGNATURE" not in text
        if isinstance(token, str):
            cleaned = token.strip()
            for start in range(max(0, len(cleaned) - 7)):
                assert cleaned[start : start + 8] not in text
    return message


# ---------------------------------------------------------------- good tokens


def test_decode_returns_header_and_payload_only():
    result = decode(GOOD)
    assert result == {"header": HEADER, "payload": PAYLOAD}
    assert "SECRETSIGNATURE" not in repr(result)


def test_trailing_newline_and_surrounding_whitespace_are_ignored():
    assert decode(f"  \t{GOOD}\n") == decode(GOOD)
    assert decode(f"{GOOD}\r\n") == decode(GOOD)


def test_htcondor_escaped_slashes_decode():
    payload = '{"scope":"condor:\\/READ","sub":"a@b"}'
    assert decode(make_token(payload=payload))["payload"]["scope"] == "condor:/READ"


def test_claims_are_not_checked_here():
    token = make_token(header={"alg": "none"}, payload={})
    assert decode(token) == {"header": {"alg": "none"}, "payload": {}}


@pytest.mark.parametrize("extra", ["", "x", "xx", "xxx"])
def test_every_unpadded_length_decodes(extra):
    payload = dict(PAYLOAD, pad=extra)
    assert decode(make_token(payload=payload))["payload"]["pad"] == extra


def test_unicode_claims():
    payload = {"sub": "jürgen@例え.jp"}
    assert decode(make_token(payload=payload))["payload"] == payload


def test_str_subclass_is_accepted():
    class Tagged(str):
        pass

    assert decode(Tagged(GOOD))["header"] == HEADER


# ---------------------------------------------------------------- not text


@pytest.mark.parametrize(("value", "kind"), [(None, "NoneType"), (b"abc.def.ghi", "bytes"), (12, "int")])
def test_not_a_string(value, kind):
    assert_rejected(value, "must be a string", kind)


@pytest.mark.parametrize("value", ["", " ", "\n", " \t\r\n "])
def test_empty_or_whitespace(value):
    assert_rejected(value, "empty")


# ---------------------------------------------------------------- lines


def test_line_break_inside_token():
    token = GOOD[:40] + "\n" + GOOD[40:]
    message = assert_rejected(token, "broken across 2 lines", "single line")
    assert "tokens" not in message


def test_line_break_inside_signature():
    token = GOOD[:-10] + "\n" + GOOD[-10:]
    assert_rejected(token, "broken across 2 lines")


def test_two_tokens_on_two_lines():
    other = make_token(payload=dict(PAYLOAD, sub=MARKER))
    assert_rejected(f"{GOOD}\n{other}\n", "2 tokens on 2 lines", "exactly one token")


def test_two_tokens_with_a_blank_line_between():
    assert_rejected(f"{GOOD}\n\n{GOOD}", "2 tokens on 2 lines")


def test_carriage_return_alone_breaks_the_line():
    assert_rejected(GOOD[:30] + "\r" + GOOD[30:], "broken across 2 lines")


# ---------------------------------------------------------------- parts


@pytest.mark.parametrize(
    ("token", "found"),
    [
        (MARKER, "found 1"),
        (f"{MARKER}.{MARKER}", "found 2"),
        (f"{GOOD}.{MARKER}", "found 4"),
        (f"{GOOD} {GOOD}", "found 5"),
        ("..", None),
    ],
)
def test_wrong_number_of_parts(token, found):
    if found is None:
        assert_rejected(token, "header part is empty")
    else:
        assert_rejected(token, "exactly 3 dot-separated parts", found)


def test_space_inside_a_part():
    header, payload, signature = GOOD.split(".")
    assert_rejected(f"{header}.{payload[:10]} {payload[10:]}.{signature}", "payload part", "whitespace")


def test_padding_is_rejected():
    header, payload, signature = GOOD.split(".")
    assert len(header) % 4 != 0
    assert_rejected(f"{header}==.{payload}.{signature}", "header part", "'=' padding")


def test_standard_base64_characters_are_rejected():
    header, payload = GOOD.split(".")[:2]
    assert_rejected(f"{header}.{payload}.{MARKER}+/{MARKER}", "signature part", "standard base64")


def test_other_characters_are_rejected():
    header, _payload, signature = GOOD.split(".")
    assert_rejected(f"{header}.{MARKER}!{MARKER}.{signature}", "payload part", "other characters")


def test_non_ascii_characters_are_rejected():
    header, payload, signature = GOOD.split(".")
    assert_rejected(f"{header}é.{payload}.{signature}", "header part", "outside base64url")


def test_impossible_base64url_length():
    _header, payload, signature = GOOD.split(".")
    assert len(MARKER + "QQQ") % 4 == 1
    assert_rejected(f"{MARKER}QQQ.{payload}.{signature}", "header part is not valid base64url", "length")


def test_empty_payload_part():
    header, _payload, signature = GOOD.split(".")
    assert_rejected(f"{header}..{signature}", "payload part is empty")


def test_empty_signature_part():
    header, payload = GOOD.split(".")[:2]
    assert_rejected(f"{header}.{payload}.", "signature part is empty", "unsigned")


def test_truncated_signature():
    header, payload = GOOD.split(".")[:2]
    assert len(SIGNATURE + "AA") % 4 == 1
    assert_rejected(f"{header}.{payload}.{SIGNATURE}AA", "signature part is not valid base64url")


# ---------------------------------------------------------------- decoded content


def test_header_not_utf8():
    token = make_token(header=b"\xff\xfe" + MARKER.encode())
    assert_rejected(token, "header part does not decode to UTF-8")


def test_payload_not_json():
    token = make_token(payload=f"not json {MARKER}")
    message = assert_rejected(token, "payload part is not valid JSON", "Expecting value")
    assert "character 0" in message


def test_payload_truncated_json():
    token = make_token(payload='{"sub": "' + MARKER)
    assert_rejected(token, "payload part is not valid JSON")


@pytest.mark.parametrize(
    ("payload", "kind"),
    [("[1, 2]", "array"), (f'"{MARKER}"', "string"), ("42", "number"), ("true", "boolean"), ("null", "null")],
)
def test_payload_not_an_object(payload, kind):
    assert_rejected(make_token(payload=payload), f"payload part is a JSON {kind}", "must be a JSON object")


def test_header_not_an_object():
    assert_rejected(make_token(header="[]"), "header part is a JSON array")


def test_duplicate_claims():
    payload = f'{{"sub": "a@b", "sub": "{MARKER}"}}'
    assert_rejected(make_token(payload=payload), "payload part is not acceptable JSON", "duplicate member name")


def test_non_standard_json_constant():
    assert_rejected(make_token(payload='{"exp": NaN}'), "non-standard JSON constant")


def test_deeply_nested_json():
    payload = "[" * 100000 + "]" * 100000
    assert_rejected(make_token(payload=payload), "payload part")


def test_error_is_a_value_error():
    with pytest.raises(ValueError):
        decode("x")


# ---------------------------------------------------------------- claims

NOW = 1_800_000_000


def claims(payload=None, header=None):
    return {"header": HEADER if header is None else header, "payload": PAYLOAD if payload is None else payload}


def test_good_claims_pass():
    check_claims(claims(), expected_issuer=PAYLOAD["iss"], expected_subject=PAYLOAD["sub"], now=NOW)


def test_expiry_uses_the_given_now():
    token = claims(dict(PAYLOAD, exp=NOW + 10))
    check_claims(token, now=NOW)
    check_claims(token, now=NOW, min_remaining_validity=10)
    with pytest.raises(JwtError, match="in 10 seconds; at least 11 seconds"):
        check_claims(token, now=NOW, min_remaining_validity=11)
    with pytest.raises(JwtError, match=r"expired at 2027-01-15 08:00:10 UTC \(0 seconds ago\)"):
        check_claims(token, now=NOW + 10)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (dict(PAYLOAD, sub=""), "'sub' claim must be a non-empty string"),
        (dict(PAYLOAD, iss=7), "'iss' claim must be a non-empty string"),
        (dict(PAYLOAD, iat="now"), "'iat' claim (issue time) must be a number"),
        (dict(PAYLOAD, iat=True), "'iat' claim (issue time) must be a number"),
        (dict(PAYLOAD, exp="later"), "'exp' claim (expiry time) must be a number"),
        (dict(PAYLOAD, scope=["condor:/READ"]), "'scope' claim must be a space-separated string"),
    ],
)
def test_claim_types(payload, fragment):
    with pytest.raises(JwtError) as info:
        check_claims(claims(payload), now=NOW)
    assert fragment in str(info.value)


def test_scopes_accept_both_spellings_and_name_what_is_missing():
    check_claims(claims(), required_scopes=["READ", "condor:/ADVERTISE_SCHEDD"], now=NOW)
    with pytest.raises(JwtError, match="lacks the required scope\\(s\\) condor:/WRITE condor:/DAEMON; its scope"):
        check_claims(claims(), required_scopes=["WRITE", "READ", "condor:/DAEMON"], now=NOW)


def test_a_token_without_scope_claim_is_unrestricted():
    payload = {key: value for key, value in PAYLOAD.items() if key != "scope"}
    check_claims(claims(payload), required_scopes=["ADVERTISE_SCHEDD"], now=NOW)


def test_token_list_line_escapes_slashes_and_sorts_keys():
    line = token_list_line(claims({"sub": "a/b", "iat": 1}), "/etc/condor/tokens.d/x")
    assert line == 'Header: {"alg":"HS256","kid":"POOL"} Payload: {"iat":1,"sub":"a\\/b"} File: /etc/condor/tokens.d/x'
