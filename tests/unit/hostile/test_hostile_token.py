# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Hostile input for the token code: the decoder, the claim checks, the condor_token module and the
token_claims filter.

Whatever they are fed (broken parts, claims of every type, numbers that are huge, negative or not
finite, odd option values and paths), each refuses cleanly or accepts, and:

- a refusal is a ``JwtError``/``ValueError`` (the decoder and the checks), an ``AnsibleFilterError``
  (the filter) or a failed result with a message (the module), never another exception;
- no message or result holds the token or its signature;
- a refused module run leaves the directory exactly as it was;
- what is accepted serializes as plain JSON (no ``NaN`` or ``Infinity``).

The explicit tests at the end pin down one example of each kind of hostile input.
"""

from __future__ import annotations

import grp
import json
import math
import os
import pwd
import stat
import tempfile
import time
import traceback
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.osg_htc.site.plugins.filter.token_claims import token_claims
from ansible_collections.osg_htc.site.plugins.module_utils._jwt import MAX_EPOCH, JwtError, check_claims, decode
from ansible_collections.osg_htc.site.plugins.modules import condor_token
from ansible_collections.osg_htc.site.tests.unit.hostile.strategies import hostile_numbers, hostile_text
from ansible_collections.osg_htc.site.tests.unit.idtokens import HEADER, PAYLOAD, b64url, make_token
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

# The signature of every token built here: base64url characters that hostile_text never produces,
# so finding it in a message means the token leaked.
SIGNATURE = "SECRETSIGNATUREzqKQ" + "B" * 24
USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
NOW = int(time.time())

# ---------------------------------------------------------------- strategies

# JSON text for a number, including what Python reads as infinity or cannot read quickly.
NUMBER_TEXTS = ("1e400", "-1e400", "1E+309", "1" + "0" * 400, "-" + "9" * 401, "-0", "0.0", "1e-400", "NaN")


def number_text(value) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("1e400" if value > 0 else "-1e400")
    return json.dumps(value)


numbers_as_json = st.one_of(hostile_numbers.map(number_text), st.sampled_from(NUMBER_TEXTS))
claim_names = st.one_of(
    st.sampled_from(["iat", "nbf", "exp", "iss", "sub", "scope", "jti", "alg", "kid"]), hostile_text
)
json_scalars = st.one_of(
    hostile_text.map(json.dumps),
    numbers_as_json,
    st.sampled_from(["true", "false", "null", "[]", "{}", '["condor:/READ"]']),
)


@st.composite
def json_objects(draw, base: dict) -> str:
    """JSON text of ``base`` with some members replaced or added, each value hostile."""
    members = {name: json.dumps(value) for name, value in base.items()}
    for name in draw(st.lists(claim_names, max_size=4)):
        members[name] = draw(json_scalars)
    for name in draw(st.lists(st.sampled_from(sorted(base)), max_size=2)):
        members.pop(name, None)
    return "{" + ",".join(f"{json.dumps(name)}:{value}" for name, value in members.items()) + "}"


@st.composite
def hostile_tokens(draw) -> str:
    """A token whose header, payload or shape is hostile; its signature is always SIGNATURE."""
    header = draw(json_objects(HEADER))
    payload = draw(json_objects(PAYLOAD))
    kind = draw(st.sampled_from(["parts", "raw header", "raw payload", "extra text", "lines", "unsigned"]))
    if kind == "raw header":
        return f"{draw(hostile_text)}.{b64url(payload)}.{SIGNATURE}"
    if kind == "raw payload":
        return f"{b64url(header)}.{draw(hostile_text)}.{SIGNATURE}"
    if kind == "extra text":
        return f"{b64url(header)}.{b64url(payload)}.{SIGNATURE}{draw(hostile_text)}"
    if kind == "lines":
        token = f"{b64url(header)}.{b64url(payload)}.{SIGNATURE}"
        cut = draw(st.integers(min_value=1, max_value=len(token) - 1))
        return token[:cut] + draw(st.sampled_from(["\n", "\r\n", "\r", "\u2028", "\x85", "\x0b"])) + token[cut:]
    if kind == "unsigned":
        return f"{b64url(header)}.{b64url(payload)}."
    return f"{b64url(header)}.{b64url(payload)}.{SIGNATURE}"


hostile_seconds = st.one_of(hostile_numbers, hostile_text, st.sampled_from(["1e400", "nan", "-5", "1.5", True, None]))


# ---------------------------------------------------------------- assertions


def assert_no_token(text: str, token: str) -> None:
    assert SIGNATURE not in text
    stripped = token.strip() if isinstance(token, str) else ""
    if len(stripped) >= 8:
        assert stripped not in text
    for part in stripped.split("."):
        if len(part) >= 16:
            assert part not in text


def assert_plain_json(value) -> None:
    json.dumps(value, allow_nan=False)


def snapshot(root: Path) -> dict:
    """Every entry under ``root`` with its type, mode, owner and content."""
    entries = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(directory, name)
            info = path.lstat()
            content = path.read_bytes() if stat.S_ISREG(info.st_mode) else None
            entries[str(path)] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_uid, content)
    return entries


def run(args: dict) -> dict:
    """The module's result (failed or not); any other exception fails the test with its traceback."""
    return run_module(condor_token, dict(args, _ansible_check_mode=args.get("_ansible_check_mode", False)))


# ---------------------------------------------------------------- decoder and claim checks


@given(hostile_tokens())
def test_decode_refuses_cleanly_and_never_quotes_the_token(token):
    try:
        decoded = decode(token)
    except JwtError as exc:
        message = "".join(traceback.format_exception_only(type(exc), exc))
        assert_no_token(message, token)
        assert exc.__cause__ is None
        return
    assert set(decoded) == {"header", "payload"}
    assert_plain_json(decoded)
    assert_no_token(repr(decoded), token)


@given(st.one_of(hostile_text, st.text(max_size=40), st.binary(max_size=20), hostile_numbers, st.none()))
def test_decode_of_anything_is_a_result_or_a_jwt_error(value):
    try:
        assert_plain_json(decode(value))
    except JwtError as exc:
        assert str(exc)


@given(
    hostile_tokens(),
    st.one_of(st.none(), hostile_text),
    st.one_of(st.none(), hostile_text, st.lists(hostile_text, max_size=3)),
    st.lists(hostile_text, max_size=3),
    hostile_seconds,
    hostile_seconds,
)
def test_check_claims_refuses_cleanly(token, issuer, subject, scopes, validity, skew):
    try:
        decoded = decode(token)
    except JwtError:
        return
    try:
        check_claims(
            decoded,
            expected_issuer=issuer,
            expected_subject=subject,
            required_scopes=scopes,
            min_remaining_validity=validity,
            clock_skew=skew,
            now=NOW,
        )
    except ValueError as exc:  # JwtError for the token, ValueError for an option
        message = str(exc)
        assert message
        assert_no_token(message, token)
        assert "Infinity" not in message
        return
    payload = decoded["payload"]
    assert str(decoded["header"]["alg"]).strip().lower() != "none"
    for claim in ("iat", "nbf", "exp"):
        if claim in payload:
            value = payload[claim]
            assert isinstance(value, (int, float)) and not isinstance(value, bool)
            assert 0 <= value <= MAX_EPOCH
    assert payload["iat"] <= NOW + 3600


# ---------------------------------------------------------------- the module


@given(
    hostile_tokens(),
    st.fixed_dictionaries(
        {},
        optional={
            "expected_issuer": hostile_text,
            "expected_subject": st.one_of(hostile_text, st.lists(hostile_text, max_size=3)),
            "required_scopes": st.lists(hostile_text, max_size=3),
            "min_remaining_validity": hostile_seconds,
            "clock_skew": hostile_seconds,
            "mode": st.one_of(hostile_text, hostile_numbers, st.sampled_from(["0600", "u=rw,g=,o=", "0644", 0o600])),
            "owner": st.one_of(hostile_text, st.just(USER)),
            "group": st.one_of(hostile_text, st.just(GROUP)),
            "backup": st.booleans(),
            "_ansible_check_mode": st.booleans(),
            "_ansible_diff": st.booleans(),
        },
    ),
)
def test_module_refuses_hostile_tokens_and_options_without_writing(token, options):
    with tempfile.TemporaryDirectory() as root:
        tokens_dir = Path(root, "tokens.d")
        tokens_dir.mkdir(mode=0o700)
        installed = make_token(signature=SIGNATURE)
        (tokens_dir / "ospool.token").write_text(installed + "\n")
        (tokens_dir / "ospool.token").chmod(0o600)
        before = snapshot(Path(root))
        args = dict({"owner": USER, "group": GROUP}, **options)
        result = run(dict(args, name="ospool", directory=str(tokens_dir), token=token))
        shown = repr(result)
        assert_no_token(shown, token)
        assert_no_token(shown, installed)
        assert "Infinity" not in shown
        if result.get("failed"):
            assert isinstance(result["msg"], str) and result["msg"]
            assert "Traceback" not in result["msg"]
            assert snapshot(Path(root)) == before, result["msg"]
            return
        assert_plain_json({key: value for key, value in result.items() if key != "diff"})
        if not args.get("_ansible_check_mode"):
            assert (tokens_dir / "ospool.token").read_text() == token.strip() + "\n"


@given(hostile_text, st.sampled_from(["present", "absent"]))
def test_module_refuses_hostile_paths_and_stays_inside_its_directory(name, state):
    token = make_token(signature=SIGNATURE)
    with tempfile.TemporaryDirectory() as root:
        base = Path(root, "base")
        base.mkdir()
        outside = snapshot(Path(root))
        path = f"{base}/t{name}"
        result = run(dict(path=path, token=token, state=state, owner=USER, group=GROUP))
        assert_no_token(repr(result), token)
        after = snapshot(Path(root))
        if result.get("failed"):
            assert result["msg"]
            assert after == outside, result["msg"]
            return
        # Whatever was written is under base, and is the token, private.
        changed = {entry for entry in after if after[entry] != outside.get(entry)}
        assert all(entry.startswith(f"{base}/") for entry in changed)
        if state == "present":
            written = Path(path)
            assert written.read_text() == token + "\n"
            assert stat.S_IMODE(written.stat().st_mode) == 0o600


@given(hostile_text, hostile_text)
def test_module_refuses_hostile_names_and_directories(name, directory):
    token = make_token(signature=SIGNATURE)
    with tempfile.TemporaryDirectory() as root:
        before = snapshot(Path(root))
        result = run(dict(name=name, directory=f"{root}/{directory}", token=token, owner=USER, group=GROUP))
        assert_no_token(repr(result), token)
        if result.get("failed"):
            assert snapshot(Path(root)) == before, result["msg"]


# ---------------------------------------------------------------- the filter


@given(st.one_of(hostile_tokens(), hostile_text, hostile_numbers, st.none(), st.binary(max_size=10)))
def test_filter_refuses_cleanly_and_never_quotes_the_token(token):
    try:
        result = token_claims(token)
    except AnsibleFilterError as exc:
        message = str(exc)
        assert message.startswith("token_claims: ")
        assert exc.__cause__ is None
        if isinstance(token, str):
            assert_no_token(message, token)
            assert_no_token("".join(traceback.format_exception(exc)), token)
        return
    assert_plain_json(result)
    assert SIGNATURE not in repr(result)


# ---------------------------------------------------------------- one explicit test per example


def token_with_payload_text(payload_json: str) -> str:
    return f"{b64url(HEADER)}.{b64url(payload_json)}.{SIGNATURE}"


EXAMPLES = {
    "alg none": (make_token(header={"alg": "none"}, signature=SIGNATURE), "the token is unsigned"),
    "alg None": (make_token(header={"alg": "None", "kid": "POOL"}, signature=SIGNATURE), "the token is unsigned"),
    "alg NONE": (make_token(header={"alg": "NONE"}, signature=SIGNATURE), "the token is unsigned"),
    "empty signature": (make_token(signature=""), "signature part is empty; the token is unsigned"),
    "nbf in the future": (
        make_token(payload=dict(PAYLOAD, nbf=NOW + 86400), signature=SIGNATURE),
        "is not valid before",
    ),
    "iat beyond the clock skew": (
        make_token(payload=dict(PAYLOAD, iat=NOW + 3600), signature=SIGNATURE),
        "more than the allowed clock skew of 300 seconds",
    ),
    "401-digit exp": (
        token_with_payload_text('{"exp":' + "9" * 401 + ',"iat":1,"iss":"i","sub":"s"}'),
        "The JWT payload member 'exp' is a number too large to represent",
    ),
    "exp 1e400": (
        token_with_payload_text('{"exp":1e400,"iat":1,"iss":"i","sub":"s"}'),
        "The JWT payload member 'exp' is a number too large to represent",
    ),
    "exp after the year 9999": (
        make_token(payload=dict(PAYLOAD, exp=MAX_EPOCH + 1), signature=SIGNATURE),
        "'exp' claim (expiry time) must be a number of seconds since the epoch",
    ),
    "negative iat": (
        make_token(payload=dict(PAYLOAD, iat=-1), signature=SIGNATURE),
        "'iat' claim (issue time) must be a number of seconds since the epoch",
    ),
}


@pytest.fixture
def tokens_dir(tmp_path):
    directory = tmp_path / "tokens.d"
    directory.mkdir(mode=0o700)
    return directory


@pytest.mark.parametrize("case", sorted(EXAMPLES))
def test_module_example(tokens_dir, case):
    token, fragment = EXAMPLES[case]
    result = run(dict(name="ospool", directory=str(tokens_dir), token=token, owner=USER, group=GROUP))
    assert result.get("failed"), result
    assert result["msg"].startswith(f"Refusing the token for {tokens_dir / 'ospool.token'}: ")
    assert fragment in result["msg"]
    assert "Infinity" not in repr(result)
    assert_no_token(repr(result), token)
    assert list(tokens_dir.iterdir()) == []


@pytest.mark.parametrize("case", ["401-digit exp", "exp 1e400"])
def test_filter_example(case):
    token, fragment = EXAMPLES[case]
    with pytest.raises(AnsibleFilterError) as info:
        token_claims(token)
    assert fragment in str(info.value)
    assert_no_token(str(info.value), token)


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("min_remaining_validity", float("nan"), "not an infinite or NaN value"),
        ("min_remaining_validity", float("inf"), "not an infinite or NaN value"),
        ("min_remaining_validity", 10**400, "it is larger"),
        ("min_remaining_validity", "1e400", "it is larger"),
        ("min_remaining_validity", -1, "it is negative"),
        ("clock_skew", 10**6, "clock_skew must be a whole number of seconds from 0 to 3600; it is larger"),
        ("clock_skew", float("-inf"), "not an infinite or NaN value"),
    ],
)
def test_numeric_option_example(tokens_dir, option, value, fragment):
    token = make_token(signature=SIGNATURE)
    result = run({"name": "ospool", "directory": str(tokens_dir), "token": token, option: value})
    assert result.get("failed"), result
    assert result["msg"].startswith(f"{option} must be a whole number of seconds from 0 to ")
    assert fragment in result["msg"]
    assert list(tokens_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (dict(owner="no_such_user", group=GROUP), "owner 'no_such_user': no such user on this host"),
        (dict(owner=USER, group="no_such_group"), "group 'no_such_group': no such group on this host"),
        (dict(owner=USER, group=GROUP, mode="0999"), "mode must be octal"),
        (dict(owner=USER, group=GROUP, mode="u=rwq"), "mode must be octal"),
        (dict(owner=USER, group=GROUP, mode=0o17777), "mode must be octal"),
    ],
)
def test_owner_group_and_mode_examples_fail_before_anything_is_written(tokens_dir, options, fragment):
    old = make_token(payload=dict(PAYLOAD, jti="0" * 32), signature=SIGNATURE)
    (tokens_dir / "ospool.token").write_text(old + "\n")
    (tokens_dir / "ospool.token").chmod(0o600)
    before = snapshot(tokens_dir)
    result = run(dict(options, name="ospool", directory=str(tokens_dir), token=make_token(signature=SIGNATURE)))
    assert result.get("failed"), result
    assert fragment in result["msg"]
    assert result["msg"].endswith("nothing was written")
    assert snapshot(tokens_dir) == before


def test_symlink_example(tmp_path):
    """A token path that links to a 0644 copy of the same token is refused; the copy stays as it was."""
    token = make_token(signature=SIGNATURE)
    copy = tmp_path / "readable.token"
    copy.write_text(token + "\n")
    copy.chmod(0o644)
    link = tmp_path / "ospool.token"
    link.symlink_to(copy)
    result = run(dict(path=str(link), token=token, owner=USER, group=GROUP))
    assert result.get("failed"), result
    assert "is a symbolic link" in result["msg"]
    assert stat.S_IMODE(copy.stat().st_mode) == 0o644
    assert link.is_symlink()
    assert_no_token(repr(result), token)
