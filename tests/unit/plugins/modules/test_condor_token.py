# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the condor_token module, on real files under tmp_path."""

from __future__ import annotations

import grp
import os
import pwd
import stat
import time
from pathlib import Path

import pytest

from ansible_collections.osg_htc.site.plugins.modules import condor_token
from ansible_collections.osg_htc.site.tests.unit.idtokens import (
    HEADER,
    OLD_HEADER,
    OLD_PAYLOAD,
    PAYLOAD,
    b64url,
    make_token,
)
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

TOKEN = make_token()
USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run(args, *, check=False, diff=False):
    args = dict(args, owner=USER, group=GROUP)
    args.setdefault("_ansible_check_mode", check)
    args.setdefault("_ansible_diff", diff)
    return run_module(condor_token, args)


def assert_no_token_text(result, token=TOKEN):
    shown = repr(result)
    for part in token.split("."):
        if part:
            assert part not in shown
    assert "SECRETSIGNATURE" not in shown


@pytest.fixture
def tokens_dir(tmp_path):
    return tmp_path / "tokens.d"


def install(tokens_dir, token=TOKEN, **extra):
    return run(dict(name="ospool", directory=str(tokens_dir), token=token, **extra))


# ---------------------------------------------------------------- success paths


def test_installs_token_as_one_line_with_private_directory(tokens_dir):
    result = install(tokens_dir)
    path = tokens_dir / "ospool.token"
    assert result["changed"] is True
    assert result["path"] == str(path)
    assert path.read_text() == TOKEN + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(tokens_dir.stat().st_mode) == 0o700
    assert result["claims"]["header"] == HEADER
    assert result["claims"]["payload"] == PAYLOAD
    assert result["claims"]["file"] == str(path)
    assert_no_token_text(result)


def test_claims_line_is_the_condor_token_list_line(tokens_dir):
    line = install(tokens_dir)["claims"]["line"]
    assert line == (
        'Header: {"alg":"HS256","kid":"flock.opensciencegrid.org"} Payload: {"iat":1700000000,'
        '"iss":"flock.opensciencegrid.org","jti":"c0ffee00c0ffee00c0ffee00c0ffee00",'
        '"scope":"condor:\\/READ condor:\\/ADVERTISE_MASTER condor:\\/ADVERTISE_SCHEDD",'
        '"sub":"RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org"} File: ' + str(tokens_dir / "ospool.token")
    )


def test_surrounding_whitespace_is_dropped(tokens_dir):
    install(tokens_dir, token=f"  {TOKEN}\n\n")
    assert (tokens_dir / "ospool.token").read_text() == TOKEN + "\n"


def test_second_run_changes_nothing(tokens_dir):
    install(tokens_dir)
    before = (tokens_dir / "ospool.token").stat()
    result = install(tokens_dir)
    assert result["changed"] is False
    assert (tokens_dir / "ospool.token").stat().st_mtime_ns == before.st_mtime_ns


def test_mode_drift_is_corrected(tokens_dir):
    install(tokens_dir)
    (tokens_dir / "ospool.token").chmod(0o644)
    assert install(tokens_dir)["changed"] is True
    assert stat.S_IMODE((tokens_dir / "ospool.token").stat().st_mode) == 0o600


def test_path_option(tmp_path):
    path = tmp_path / "my.token"
    result = run(dict(path=str(path), token=TOKEN))
    assert result["changed"] is True
    assert path.read_text() == TOKEN + "\n"


def test_checks_that_pass(tokens_dir):
    result = install(
        tokens_dir,
        expected_issuer=PAYLOAD["iss"],
        expected_subject=PAYLOAD["sub"],
        required_scopes=["READ", "condor:/ADVERTISE_SCHEDD"],
        min_remaining_validity=3600,
    )
    assert result["changed"] is True


def test_replacing_a_token_backs_up_and_diffs_claims(tokens_dir):
    install(tokens_dir)
    new = make_token(payload=dict(PAYLOAD, jti="beef"))
    result = install(tokens_dir, token=new, backup=True, _ansible_diff=True)
    assert result["changed"] is True
    assert (tokens_dir / "ospool.token").read_text() == new + "\n"
    assert Path(result["backup_file"]).read_text() == TOKEN + "\n"
    assert '"jti":"c0ffee00c0ffee00c0ffee00c0ffee00"' in result["diff"]["before"]
    assert '"jti":"beef"' in result["diff"]["after"]
    assert_no_token_text(result)
    assert_no_token_text(result, new)


# ---------------------------------------------------------------- check and diff mode


def test_check_mode_creates_nothing(tokens_dir):
    result = run(dict(name="ospool", directory=str(tokens_dir), token=TOKEN), check=True, diff=True)
    assert result["changed"] is True
    assert not tokens_dir.exists()
    assert result["diff"]["before"] == ""
    assert result["diff"]["after"] == result["claims"]["line"] + "\n"
    assert_no_token_text(result)


def test_check_mode_leaves_existing_token(tokens_dir):
    install(tokens_dir)
    new = make_token(payload=dict(PAYLOAD, jti="beef"))
    result = run(dict(name="ospool", directory=str(tokens_dir), token=new), check=True)
    assert result["changed"] is True
    assert (tokens_dir / "ospool.token").read_text() == TOKEN + "\n"


def test_diff_of_an_invalid_existing_file_does_not_show_it(tokens_dir):
    tokens_dir.mkdir()
    (tokens_dir / "ospool.token").write_text("not-a-SECRETSIGNATURE-token\n")
    result = install(tokens_dir, _ansible_diff=True)
    assert result["diff"]["before"].startswith("(the file does not hold a valid token: ")
    assert "not-a-SECRETSIGNATURE" not in repr(result)


# ---------------------------------------------------------------- absent


def test_absent_removes_with_backup_and_is_idempotent(tokens_dir):
    install(tokens_dir)
    result = run(dict(name="ospool", directory=str(tokens_dir), state="absent", backup=True), diff=True)
    assert result["changed"] is True
    assert not (tokens_dir / "ospool.token").exists()
    assert Path(result["backup_file"]).read_text() == TOKEN + "\n"
    assert result["diff"]["after"] == ""
    assert result["claims"]["payload"] == PAYLOAD
    assert_no_token_text(result)
    assert run(dict(name="ospool", directory=str(tokens_dir), state="absent"))["changed"] is False


def test_absent_in_check_mode_keeps_the_file(tokens_dir):
    install(tokens_dir)
    result = run(dict(name="ospool", directory=str(tokens_dir), state="absent"), check=True)
    assert result["changed"] is True
    assert (tokens_dir / "ospool.token").exists()


# ---------------------------------------------------------------- refused input


def now():
    return int(time.time())


BAD_TOKENS = {
    "empty": ("", "is empty"),
    "whitespace only": (" \n\t ", "only whitespace"),
    "two tokens": (f"{TOKEN}\n{make_token(payload=dict(PAYLOAD, jti='x'))}", "2 tokens on 2 lines"),
    "line break inside": (TOKEN[:30] + "\n" + TOKEN[30:], "broken across 2 lines"),
    "two parts": (TOKEN.rsplit(".", 1)[0], "found 2"),
    "four parts": (TOKEN + ".SECRETSIGNATURE", "found 4"),
    "non-base64url": (
        TOKEN.replace(".", ".SECRETSIGNATURE!", 1),
        "payload part has characters outside base64url",
    ),
    "header not JSON": (
        f"{b64url('SECRETSIGNATURE')}.{b64url(PAYLOAD)}.SECRETSIGNATURE",
        "header part is not valid JSON",
    ),
    "no alg": (make_token(header={"kid": "POOL"}), "no 'alg'"),
    "no sub": (make_token(payload={k: v for k, v in PAYLOAD.items() if k != "sub"}), "no 'sub' claim"),
    "no iss": (make_token(payload={k: v for k, v in PAYLOAD.items() if k != "iss"}), "no 'iss' claim"),
    "no iat": (make_token(payload={k: v for k, v in PAYLOAD.items() if k != "iat"}), "no 'iat' claim"),
    "expired": (make_token(payload=dict(PAYLOAD, exp=now() - 100)), "expired at"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_token_is_refused_and_nothing_changes(tokens_dir, case):
    install(tokens_dir)
    before = (tokens_dir / "ospool.token").read_bytes()
    token, fragment = BAD_TOKENS[case]
    result = install(tokens_dir, token=token)
    assert result.get("failed"), result
    assert fragment in result["msg"]
    assert str(tokens_dir / "ospool.token") in result["msg"]
    assert (tokens_dir / "ospool.token").read_bytes() == before
    assert "SECRETSIGNATURE" not in repr(result)
    if token.strip():
        assert_no_token_text(result, token)


def test_non_base64url_message_names_part_and_position(tokens_dir):
    header, payload, signature = TOKEN.split(".")
    result = install(tokens_dir, token=f"{header}.{payload[:5]}!{payload[5:]}.{signature}")
    assert "payload part" in result["msg"]
    assert "first at character 6 of the part" in result["msg"]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (dict(expected_issuer="cm-1.ospool.osg-htc.org"), "expected issuer 'cm-1.ospool.osg-htc.org'"),
        (dict(expected_subject="RESOURCE-other@x"), "expected subject 'RESOURCE-other@x'"),
        (dict(required_scopes=["READ", "WRITE"]), "lacks the required scope(s) condor:/WRITE"),
        (dict(min_remaining_validity=7200), "at least 7200 seconds of validity are required"),
    ],
)
def test_claim_expectations_refuse_and_nothing_changes(tokens_dir, extra, fragment):
    token = make_token(payload=dict(PAYLOAD, exp=now() + 3600))
    result = install(tokens_dir, token=token, **extra)
    assert result.get("failed"), result
    assert fragment in result["msg"]
    assert not tokens_dir.exists()
    assert_no_token_text(result, token)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../etc/passwd", "not a plain file name"),
        ("a/b", "not a plain file name"),
        (".hidden", "not a plain file name"),
        ("", "not a plain file name"),
        ("ospool.token", "use name='ospool'"),
    ],
)
def test_bad_name_is_refused(tokens_dir, name, fragment):
    result = run(dict(name=name, directory=str(tokens_dir), token=TOKEN))
    assert result.get("failed")
    assert fragment in result["msg"]
    assert not tokens_dir.exists()


def test_name_and_path_are_exclusive(tokens_dir):
    result = run(dict(name="a", path=str(tokens_dir / "b"), token=TOKEN))
    assert "mutually exclusive" in result["msg"]


def test_present_requires_token(tokens_dir):
    result = run(dict(name="a", directory=str(tokens_dir)))
    assert "token" in result["msg"]


def test_negative_validity_is_refused(tokens_dir):
    result = install(tokens_dir, min_remaining_validity=-1)
    assert (
        result["msg"] == "min_remaining_validity must be a whole number of seconds from 0 to 3155760000; it is negative"
    )
    assert not tokens_dir.exists()


def test_missing_parent_of_the_directory_fails_cleanly(tmp_path):
    result = run(dict(name="ospool", directory=str(tmp_path / "no" / "tokens.d"), token=TOKEN))
    assert result.get("failed")
    assert "does not exist" in result["msg"]


# ---------------------------------------------------------------- OSPool issuer, subjects and scopes

OSPOOL_CHECKS = dict(
    expected_issuer="flock.opensciencegrid.org",
    expected_subject=[
        "RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org",
        "RESOURCE-ap.example.edu@flock.opensciencegrid.org",
    ],
    required_scopes=["READ", "ADVERTISE_SCHEDD"],
)


def test_registry_token_passes_and_extra_scopes_are_reported(tokens_dir):
    result = install(tokens_dir, **OSPOOL_CHECKS)
    assert result["changed"] is True
    assert result["scopes"] == {
        "unrestricted": False,
        "granted": ["condor:/READ", "condor:/ADVERTISE_MASTER", "condor:/ADVERTISE_SCHEDD"],
        "required": ["condor:/READ", "condor:/ADVERTISE_SCHEDD"],
        "found": ["condor:/READ", "condor:/ADVERTISE_SCHEDD"],
        "extra": ["condor:/ADVERTISE_MASTER"],
    }


def test_token_shaped_like_the_older_guide_example_passes(tokens_dir):
    token = make_token(header=OLD_HEADER, payload=OLD_PAYLOAD)
    result = install(tokens_dir, token=token, **OSPOOL_CHECKS)
    assert result["changed"] is True
    assert result["claims"]["payload"]["sub"] == "RESOURCE-ap.example.edu@flock.opensciencegrid.org"
    assert result["scopes"]["extra"] == []
    assert_no_token_text(result, token)


def test_a_plain_string_subject_still_works(tokens_dir):
    assert install(tokens_dir, expected_subject=PAYLOAD["sub"])["changed"] is True


def test_a_subject_outside_the_list_is_refused(tokens_dir):
    result = install(tokens_dir, expected_subject=["RESOURCE-other@cm-1.ospool.osg-htc.org", "RESOURCE-other@x"])
    assert result["msg"].endswith(
        "expected one of the subjects 'RESOURCE-other@cm-1.ospool.osg-htc.org', 'RESOURCE-other@x'"
    )
    assert not tokens_dir.exists()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (dict(expected_subject=[]), "expected_subject is an empty list"),
        (dict(expected_subject=[""]), "expected_subject entries must be non-empty strings"),
        (dict(expected_issuer=" "), "expected_issuer is empty"),
        (dict(required_scopes=["READ WRITE"]), "required_scopes entries must be single non-empty words"),
    ],
)
def test_bad_expectations_are_refused(tokens_dir, extra, fragment):
    result = install(tokens_dir, **extra)
    assert fragment in result["msg"]
    assert not tokens_dir.exists()


# ---------------------------------------------------------------- unsigned, not yet valid, numbers


def token_with(payload_json: str) -> str:
    return f"{b64url(HEADER)}.{b64url(payload_json)}.SECRETSIGNATUREzqAAAA"


NOT_ACCEPTED = {
    "alg none": (make_token(header={"alg": "none"}), "'alg' is 'none': the token is unsigned"),
    "alg NONE": (make_token(header={"alg": "NONE", "kid": "POOL"}), "the token is unsigned"),
    "empty signature": (make_token(signature=""), "signature part is empty; the token is unsigned"),
    "iat in the future": (make_token(payload=dict(PAYLOAD, iat=now() + 3600)), "more than the allowed clock skew"),
    "nbf in the future": (make_token(payload=dict(PAYLOAD, nbf=now() + 3600)), "is not valid before"),
    "401-digit exp": (
        token_with('{"exp":1' + "0" * 400 + ',"iat":1,"iss":"i","sub":"s"}'),
        "member 'exp' is a number too large to represent",
    ),
    "exp 1e400": (token_with('{"exp":1e400,"iat":1,"iss":"i","sub":"s"}'), "member 'exp' is a number too large"),
    "exp after 9999": (make_token(payload=dict(PAYLOAD, exp=10**12)), "'exp' claim (expiry time) must be"),
    "negative iat": (make_token(payload=dict(PAYLOAD, iat=-5)), "'iat' claim (issue time) must be"),
}


@pytest.mark.parametrize("case", sorted(NOT_ACCEPTED))
def test_unsigned_not_yet_valid_or_out_of_range_tokens_are_refused(tokens_dir, case):
    install(tokens_dir)
    before = (tokens_dir / "ospool.token").read_bytes()
    token, fragment = NOT_ACCEPTED[case]
    result = install(tokens_dir, token=token)
    assert result.get("failed"), result
    assert result["msg"].startswith(f"Refusing the token for {tokens_dir / 'ospool.token'}: ")
    assert fragment in result["msg"]
    assert "Infinity" not in repr(result)
    assert (tokens_dir / "ospool.token").read_bytes() == before
    assert_no_token_text(result, token)


@pytest.mark.parametrize(("value", "seconds"), [("600", 600), (" 600 ", 600), ("6e2", 600), (600.0, 600)])
def test_numeric_options_take_decimal_text_as_templates_give_it(tokens_dir, value, seconds):
    token = make_token(payload=dict(PAYLOAD, exp=now() + seconds - 100))
    result = install(tokens_dir, token=token, min_remaining_validity=value)
    assert f"at least {seconds} seconds of validity are required" in result["msg"]


def test_clock_skew_option(tokens_dir):
    token = make_token(payload=dict(PAYLOAD, iat=now() + 1000))
    assert install(tokens_dir, token=token, clock_skew=3600)["changed"] is True
    result = install(tokens_dir, token=token, clock_skew=0)
    assert "more than the allowed clock skew of 0 seconds" in result["msg"]


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("clock_skew", 3601, "clock_skew must be a whole number of seconds from 0 to 3600; it is larger"),
        ("clock_skew", -1, "clock_skew must be a whole number of seconds from 0 to 3600; it is negative"),
        ("min_remaining_validity", 10**400, "from 0 to 3155760000; it is larger"),
        ("min_remaining_validity", "1e400", "from 0 to 3155760000; it is larger"),
        ("min_remaining_validity", float("inf"), "from 0 to 3155760000, not an infinite or NaN value"),
        ("min_remaining_validity", float("nan"), "from 0 to 3155760000, not an infinite or NaN value"),
        ("min_remaining_validity", "inf", "from 0 to 3155760000, not 'inf'"),
        ("min_remaining_validity", "1e99999", "from 0 to 3155760000, not '1e99999'"),
        ("min_remaining_validity", "1.5", "from 0 to 3155760000, not a fraction"),
        ("min_remaining_validity", True, "from 0 to 3155760000, not a boolean"),
        ("min_remaining_validity", [1], "from 0 to 3155760000, not list"),
        ("clock_skew", None, "clock_skew must be a whole number of seconds from 0 to 3600, not NoneType"),
    ],
)
def test_numeric_options_out_of_range_are_refused(tokens_dir, option, value, fragment):
    result = install(tokens_dir, **{option: value})
    assert result.get("failed"), result
    assert fragment in result["msg"]
    assert not tokens_dir.exists()


def test_exp_of_an_existing_file_never_shows_as_infinity(tokens_dir):
    tokens_dir.mkdir()
    (tokens_dir / "ospool.token").write_text(token_with('{"exp":1e400,"iat":1,"iss":"i","sub":"s"}') + "\n")
    result = run(dict(name="ospool", directory=str(tokens_dir), state="absent"), diff=True)
    assert result["changed"] is True
    assert "claims" not in result
    assert "number too large to represent" in result["diff"]["before"]
    assert "Infinity" not in repr(result) and "inf" not in repr(result).replace("info", "")


# ---------------------------------------------------------------- owner, group and mode first


def test_unknown_owner_fails_before_anything_is_written(tokens_dir):
    install(tokens_dir)
    before = (tokens_dir / "ospool.token").stat()
    new = make_token(payload=dict(PAYLOAD, jti="beef"))
    result = run_module(
        condor_token, dict(name="ospool", directory=str(tokens_dir), token=new, owner="no_such_user", group=GROUP)
    )
    assert result["msg"] == "owner 'no_such_user': no such user on this host; nothing was written"
    after = (tokens_dir / "ospool.token").stat()
    assert (tokens_dir / "ospool.token").read_text() == TOKEN + "\n"
    assert (after.st_mtime_ns, after.st_uid, after.st_mode) == (before.st_mtime_ns, before.st_uid, before.st_mode)


def test_unknown_owner_creates_no_directory(tokens_dir):
    result = run_module(
        condor_token, dict(name="ospool", directory=str(tokens_dir), token=TOKEN, owner="no_such_user", group=GROUP)
    )
    assert "no such user" in result["msg"]
    assert not tokens_dir.exists()


@pytest.mark.parametrize(
    ("group", "fragment"),
    [
        ("no_such_group", "group 'no_such_group': no such group on this host; nothing was written"),
        ("bad\x00group", "group 'bad\\x00group' is not a valid group name"),
        ("-1", "group '-1' is not a valid group id (0 to 4294967294)"),
        (str(2**40), "is not a valid group id"),
    ],
)
def test_bad_group_fails_before_anything_is_written(tokens_dir, group, fragment):
    result = run_module(
        condor_token, dict(name="ospool", directory=str(tokens_dir), token=TOKEN, owner=USER, group=group)
    )
    assert result["msg"] == fragment or fragment in result["msg"]
    assert not tokens_dir.exists()


def test_numeric_owner_and_group_are_accepted(tokens_dir):
    result = run_module(
        condor_token,
        dict(name="ospool", directory=str(tokens_dir), token=TOKEN, owner=str(os.getuid()), group=str(os.getgid())),
    )
    assert result["changed"] is True


@pytest.mark.parametrize("mode", ["0999", "rw-------", "u=rwz", "77777", "0o17777", 1.5, True, [384], "u=rw,g=,o=,x"])
def test_bad_mode_fails_before_anything_is_written(tokens_dir, mode):
    install(tokens_dir)
    before = (tokens_dir / "ospool.token").stat()
    result = install(tokens_dir, token=make_token(payload=dict(PAYLOAD, jti="beef")), mode=mode)
    assert result.get("failed"), result
    assert result["msg"].startswith("mode must be octal (such as '0600') or symbolic")
    assert result["msg"].endswith("nothing was written")
    after = (tokens_dir / "ospool.token").stat()
    assert (tokens_dir / "ospool.token").read_text() == TOKEN + "\n"
    assert after.st_mtime_ns == before.st_mtime_ns


@pytest.mark.parametrize(("mode", "expected"), [("u=rw,g=,o=", 0o600), ("0400", 0o400), (0o640, 0o640), ("600", 0o600)])
def test_good_modes(tokens_dir, mode, expected):
    install(tokens_dir, mode=mode)
    assert stat.S_IMODE((tokens_dir / "ospool.token").stat().st_mode) == expected


# ---------------------------------------------------------------- paths


def test_symlink_to_a_readable_copy_is_refused_and_left_alone(tmp_path):
    """A link to a 0644 file with the same token: writing through it would keep the token readable by all."""
    target = tmp_path / "copy.token"
    target.write_text(TOKEN + "\n")
    target.chmod(0o644)
    link = tmp_path / "tokens.d" / "ospool.token"
    link.parent.mkdir()
    link.symlink_to(target)
    for args in (dict(token=TOKEN), dict(state="absent")):
        result = run(dict(path=str(link), **args))
        assert result.get("failed"), result
        assert result["msg"].startswith(f"{link} is a symbolic link to '{target}': refusing to manage a token")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        assert target.read_text() == TOKEN + "\n"
        assert link.is_symlink()
        assert_no_token_text(result)


def test_dangling_symlink_is_refused(tmp_path):
    link = tmp_path / "ospool.token"
    link.symlink_to(tmp_path / "elsewhere.token")
    result = run(dict(path=str(link), token=TOKEN))
    assert "is a symbolic link" in result["msg"]
    assert not (tmp_path / "elsewhere.token").exists()


def test_fifo_is_refused_without_reading_it(tmp_path):
    fifo = tmp_path / "ospool.token"
    os.mkfifo(fifo)
    result = run(dict(path=str(fifo), token=TOKEN))
    assert "is not a regular file" in result["msg"]


def test_directory_is_refused(tmp_path):
    (tmp_path / "ospool.token").mkdir()
    assert "is a directory" in run(dict(path=str(tmp_path / "ospool.token"), token=TOKEN))["msg"]


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("relative/ospool.token", "is not an absolute path"),
        ("", "is not an absolute path"),
        ("/tmp/a/../ospool.token", "has a '.' or '..' component: give the plain path '/tmp/ospool.token'"),
        ("/tmp/a/./ospool.token", "has a '.' or '..' component: give the plain path '/tmp/a/ospool.token'"),
        ("/tmp/a/.", "has a '.' or '..' component"),
        ("/tmp/a/", "ends in '/': give the path of the token file"),
        ("/tmp/" + "x" * 201, "is longer than 200 bytes"),
        ("/tmp/a\x00b", "contains a NUL character"),
    ],
)
def test_bad_paths_are_refused(tmp_path, monkeypatch, path, fragment):
    monkeypatch.chdir(tmp_path)
    result = run(dict(path=path, token=TOKEN))
    assert result.get("failed"), result
    assert fragment in result["msg"]
    assert list(tmp_path.iterdir()) == []


def test_relative_directory_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(dict(name="ospool", directory="tokens.d", token=TOKEN))
    assert result["msg"] == "directory 'tokens.d/ospool.token' is not an absolute path: give the full path from /"
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- no traceback, ever


def test_an_unexpected_error_is_reported_without_a_traceback_or_the_token(tokens_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError(f"disk on fire while writing {TOKEN}")

    monkeypatch.setattr(condor_token, "ensure_file", broken)
    result = install(tokens_dir)
    assert result["msg"] == f"Cannot manage {tokens_dir / 'ospool.token'}: unexpected RuntimeError"
    assert result["path"] == str(tokens_dir / "ospool.token")
    assert_no_token_text(result)


def test_an_unexpected_error_before_the_path_is_known_is_reported_too(tokens_dir, monkeypatch):
    def broken(params):
        raise TypeError(f"cannot join {TOKEN[-20:]}")

    monkeypatch.setattr(condor_token, "token_path", broken)
    result = install(tokens_dir)
    assert result["msg"] == "Cannot manage the token file: unexpected TypeError"
    assert_no_token_text(result)


def test_an_unexpected_error_without_the_token_keeps_its_text(tokens_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(condor_token, "ensure_file", broken)
    result = install(tokens_dir)
    assert result["msg"] == (
        f"Cannot manage {tokens_dir / 'ospool.token'}: unexpected OSError: [Errno 28] No space left on device"
    )
