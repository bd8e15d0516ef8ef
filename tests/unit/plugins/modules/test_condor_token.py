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
from ansible_collections.osg_htc.site.tests.unit.idtokens import HEADER, PAYLOAD, b64url, make_token
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
        'Header: {"alg":"HS256","kid":"POOL"} Payload: {"iat":1700000000,"iss":"cm-1.ospool.osg-htc.org",'
        '"jti":"c0ffee","scope":"condor:\\/READ condor:\\/ADVERTISE_SCHEDD",'
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
    assert '"jti":"c0ffee"' in result["diff"]["before"]
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
        (dict(expected_issuer="flock.opensciencegrid.org"), "expected issuer 'flock.opensciencegrid.org'"),
        (dict(expected_subject="RESOURCE-other@x"), "expected subject 'RESOURCE-other@x'"),
        (dict(required_scopes=["READ", "ADVERTISE_MASTER"]), "lacks the required scope(s) condor:/ADVERTISE_MASTER"),
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
    assert "min_remaining_validity must be 0 or more" in result["msg"]
    assert not tokens_dir.exists()


def test_missing_parent_of_the_directory_fails_cleanly(tmp_path):
    result = run(dict(name="ospool", directory=str(tmp_path / "no" / "tokens.d"), token=TOKEN))
    assert result.get("failed")
    assert "does not exist" in result["msg"]
