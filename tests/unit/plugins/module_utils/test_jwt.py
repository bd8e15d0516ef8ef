# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for ``module_utils/_jwt.py``: structural decoding of a compact JWS.

Every rejected input has its own test that checks the message and that no
piece of the token shows up in it, or in the formatted traceback.
"""

from __future__ import annotations

import base64
import traceback

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._jwt import (
    MAX_EPOCH,
    JwtError,
    check_claims,
    decode,
    scope_report,
    seconds_option,
    token_list_line,
)
from ansible_collections.osg_htc.site.tests.unit.idtokens import (
    HEADER,
    OLD_HEADER,
    OLD_PAYLOAD,
    PAYLOAD,
    SIGNATURE,
    b64url,
    make_token,
)

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


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_constant(constant):
    message = assert_rejected(make_token(payload=f'{{"exp": {constant}}}'), "a non-finite number constant")
    assert "NaN" not in message and "Infinity" not in message


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
    assert line == (
        'Header: {"alg":"HS256","kid":"flock.opensciencegrid.org"} Payload: {"iat":1,"sub":"a\\/b"} '
        "File: /etc/condor/tokens.d/x"
    )


def test_token_list_line_reproduces_the_token_as_htcondor_wrote_it():
    """The test token is serialized as HTCondor writes it, so the line shows its parts byte for byte."""
    header_json, payload_json = (
        base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode() for part in GOOD.split(".")[:2]
    )
    assert token_list_line(decode(GOOD), "f") == f"Header: {header_json} Payload: {payload_json} File: f"
    assert '"scope":"condor:\\/READ condor:\\/ADVERTISE_MASTER condor:\\/ADVERTISE_SCHEDD"' in payload_json


# ---------------------------------------------------------------- OSPool tokens

OSPOOL_ISSUER = "flock.opensciencegrid.org"
OSPOOL_SUBJECTS = [
    "RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org",
    "RESOURCE-ap.example.edu@flock.opensciencegrid.org",
]


@pytest.mark.parametrize(
    ("header", "payload"), [(HEADER, PAYLOAD), (OLD_HEADER, OLD_PAYLOAD)], ids=["registry", "older-guide-example"]
)
def test_both_ospool_token_shapes_pass_the_access_point_checks(header, payload):
    check_claims(
        claims(payload, header),
        expected_issuer=OSPOOL_ISSUER,
        expected_subject=OSPOOL_SUBJECTS,
        required_scopes=["READ", "ADVERTISE_SCHEDD"],
        now=NOW,
    )


def test_the_issuer_is_the_trust_domain_not_a_central_manager():
    with pytest.raises(JwtError) as info:
        check_claims(claims(), expected_issuer="cm-1.ospool.osg-htc.org", now=NOW)
    assert str(info.value) == (
        "The token was issued by 'flock.opensciencegrid.org'; expected issuer 'cm-1.ospool.osg-htc.org'"
    )


def test_one_subject_as_a_string_still_works():
    check_claims(claims(), expected_subject=PAYLOAD["sub"], now=NOW)
    with pytest.raises(JwtError, match=r"; expected subject 'RESOURCE-other@x'$"):
        check_claims(claims(), expected_subject="RESOURCE-other@x", now=NOW)


def test_a_subject_outside_the_list_is_refused_naming_every_accepted_one():
    with pytest.raises(JwtError) as info:
        check_claims(claims(), expected_subject=["RESOURCE-a@cm-1.ospool.osg-htc.org", "RESOURCE-a@b"], now=NOW)
    assert str(info.value) == (
        "The token is for subject 'RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org'; expected one of the subjects "
        "'RESOURCE-a@cm-1.ospool.osg-htc.org', 'RESOURCE-a@b'"
    )


@pytest.mark.parametrize("subjects", [[], [""], ["  "], [None]])
def test_an_empty_subject_list_or_entry_is_a_bad_argument(subjects):
    with pytest.raises(ValueError, match="expected_subject") as info:
        check_claims(claims(), expected_subject=subjects, now=NOW)
    assert not isinstance(info.value, JwtError)


def test_advertise_master_is_allowed_and_reported_not_required():
    check_claims(claims(), required_scopes=["READ", "ADVERTISE_SCHEDD"], now=NOW)
    assert scope_report(claims(), ["READ", "condor:/ADVERTISE_SCHEDD", "READ"]) == {
        "unrestricted": False,
        "granted": ["condor:/READ", "condor:/ADVERTISE_MASTER", "condor:/ADVERTISE_SCHEDD"],
        "required": ["condor:/READ", "condor:/ADVERTISE_SCHEDD"],
        "found": ["condor:/READ", "condor:/ADVERTISE_SCHEDD"],
        "extra": ["condor:/ADVERTISE_MASTER"],
    }


def test_a_token_without_advertise_schedd_is_refused():
    payload = dict(PAYLOAD, scope="condor:/READ condor:/ADVERTISE_MASTER")
    with pytest.raises(JwtError) as info:
        check_claims(claims(payload), required_scopes=["READ", "ADVERTISE_SCHEDD"], now=NOW)
    assert str(info.value) == (
        "The token lacks the required scope(s) condor:/ADVERTISE_SCHEDD; "
        "its scope claim holds condor:/READ condor:/ADVERTISE_MASTER"
    )


def test_scope_report_of_an_unrestricted_token_and_of_a_bad_scope_claim():
    payload = {key: value for key, value in PAYLOAD.items() if key != "scope"}
    report = scope_report(claims(payload), ["READ"])
    assert report == dict(unrestricted=True, granted=[], required=["condor:/READ"], found=["condor:/READ"], extra=[])
    with pytest.raises(JwtError, match="'scope' claim must be a space-separated string"):
        scope_report(claims(dict(PAYLOAD, scope=7)))


# ---------------------------------------------------------------- unsigned and not yet valid


@pytest.mark.parametrize("alg", ["none", "None", "NONE", " nOnE "])
def test_alg_none_is_an_unsigned_token(alg):
    with pytest.raises(JwtError, match="'alg' is 'none': the token is unsigned"):
        check_claims(claims(header=dict(HEADER, alg=alg)), now=NOW)


@pytest.mark.parametrize("alg", [None, "", "  ", 5, ["HS256"]])
def test_alg_missing_or_not_text(alg):
    with pytest.raises(JwtError, match="no 'alg'"):
        check_claims(claims(header=dict(HEADER, alg=alg)), now=NOW)


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_a_time_in_the_future_within_the_clock_skew_passes(claim):
    check_claims(claims(dict(PAYLOAD, **{claim: NOW + 300})), now=NOW)
    check_claims(claims(dict(PAYLOAD, **{claim: NOW + 10})), now=NOW, clock_skew=10)


def test_iat_beyond_the_clock_skew_is_not_yet_valid():
    with pytest.raises(JwtError) as info:
        check_claims(claims(dict(PAYLOAD, iat=NOW + 301)), now=NOW)
    assert str(info.value) == (
        "The token was issued at 2027-01-15 08:05:01 UTC ('iat'), 301 seconds from now, more than the allowed "
        "clock skew of 300 seconds: check the clock of this host and of the issuer"
    )


def test_nbf_beyond_the_clock_skew_is_not_yet_valid():
    with pytest.raises(JwtError, match=r"is not valid before 2027-01-15 08:00:01 UTC \('nbf'\), 1 seconds from now"):
        check_claims(claims(dict(PAYLOAD, nbf=NOW + 1)), now=NOW, clock_skew=0)


# ---------------------------------------------------------------- numeric claims and options


@pytest.mark.parametrize(
    ("claim", "value", "fragment"),
    [
        ("iat", -1, "it is negative"),
        ("iat", MAX_EPOCH + 1, "it lies after the year 9999"),
        ("exp", 10**300, "it lies after the year 9999"),
        ("exp", 1e308, "it lies after the year 9999"),
        ("nbf", -1e-3, "it is negative"),
        ("nbf", "soon", "it is a JSON string"),
        ("exp", None, "it is a JSON null"),
        ("exp", [1], "it is a JSON array"),
        ("iat", True, "it is a JSON boolean"),
    ],
)
def test_time_claims_must_be_seconds_in_range(claim, value, fragment):
    with pytest.raises(JwtError) as info:
        check_claims(claims(dict(PAYLOAD, **{claim: value})), now=NOW)
    message = str(info.value)
    assert message.startswith(f"The token's '{claim}' claim (")
    assert f"from 0 to {MAX_EPOCH} (the end of the year 9999); {fragment}" in message


def test_time_claims_at_the_bounds_pass():
    check_claims(claims(dict(PAYLOAD, iat=0, nbf=0.5, exp=MAX_EPOCH)), now=NOW)
    check_claims(claims(dict(PAYLOAD, exp=float(NOW + 1))), now=NOW)


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" + "0" * 400, "-" + "9" * 401, "1E+309"])
def test_a_number_no_float_holds_is_refused_naming_the_claim(number):
    token = make_token(payload=f'{{"exp":{number},"iat":1,"iss":"i","sub":"s"}}')
    message = assert_rejected(token, "The JWT payload member 'exp' is a number too large to represent")
    assert "Infinity" not in message and "inf" not in message.split()


def test_a_huge_number_nested_in_a_claim_is_refused_naming_the_claim():
    assert_rejected(make_token(payload='{"x":[1,{"y":1e999}]}'), "payload member 'x' holds a number too large")
    assert_rejected(make_token(payload="[1e999]"), "payload part holds a number too large")


def test_a_very_long_integer_is_refused_before_python_parses_it():
    assert_rejected(make_token(payload='{"exp":' + "7" * 100000 + "}"), "member 'exp' is a number too large")


def test_large_but_representable_numbers_decode():
    payload = '{"big":' + "9" * 309 + ',"tiny":1e-400,"neg":-1.5e308}'
    decoded = decode(make_token(payload=payload))["payload"]
    assert decoded == {"big": int("9" * 309), "tiny": 0.0, "neg": -1.5e308}


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (-1, "it is negative"),
        (10**400, "it is larger"),
        (float("nan"), "not an infinite or NaN value"),
        (float("inf"), "not an infinite or NaN value"),
        (1.5, "not a fraction"),
        (True, "not a boolean"),
        ("five", "not 'five'"),
        ("NaN", "not 'NaN'"),
        ("1e400", "it is larger"),
        ("-0.5", "not a fraction"),
        (None, "not NoneType"),
    ],
)
@pytest.mark.parametrize("option", ["min_remaining_validity", "clock_skew"])
def test_numeric_options_are_whole_seconds_in_range(option, value, fragment):
    with pytest.raises(ValueError) as info:
        check_claims(claims(), now=NOW, **{option: value})
    assert not isinstance(info.value, JwtError)
    assert str(info.value).startswith(f"{option} must be a whole number of seconds from 0 to ")
    assert fragment in str(info.value)


def test_seconds_option_bounds():
    assert seconds_option("x", 5.0, 10) == 5
    assert seconds_option("x", " 5 ", 10) == 5
    assert seconds_option("x", "0.5e1", 10) == 5
    assert seconds_option("x", 10, 10) == 10
    with pytest.raises(ValueError, match="x must be a whole number of seconds from 0 to 10; it is larger"):
        seconds_option("x", 11, 10)
    with pytest.raises(ValueError, match=r"clock_skew .* from 0 to 3600"):
        check_claims(claims(), now=NOW, clock_skew=3601)


def test_claims_built_from_the_registry_shape_round_trip():
    """b64url writes JSON as HTCondor does; decode reads it back unchanged."""
    assert decode(f"{b64url(OLD_HEADER)}.{b64url(OLD_PAYLOAD)}.{SIGNATURE}") == {
        "header": OLD_HEADER,
        "payload": OLD_PAYLOAD,
    }
