# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Unit tests for plugins/module_utils/_files.py, on real files under tmp_path."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat
import subprocess
import sys
import tempfile

import pytest
from ansible.module_utils.basic import AnsibleModule
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.osg_htc.site.plugins.module_utils._files import (
    FileError,
    ensure_directory,
    ensure_file,
    read_bytes,
    read_text,
    remove_file,
)
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import set_module_args

SECRET = "tok-9f3a7c1e-very-secret-value-77"


def make_module(check=False, diff=False, **params):
    args = dict(params, _ansible_check_mode=check, _ansible_diff=diff)
    with set_module_args(args):
        return AnsibleModule(argument_spec={}, add_file_common_args=True, supports_check_mode=True)


def file_mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def write(path, data, mode=0o644):
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


def failing_validator(calls):
    def validate(candidate):
        calls.append((candidate, read_bytes(candidate)))
        raise FileError("condor_config_val rejected the candidate")

    return validate


# --- read helpers -------------------------------------------------------------


def test_read_bytes_missing_is_none(tmp_path):
    assert read_bytes(str(tmp_path / "nope")) is None
    assert read_text(str(tmp_path / "nope")) is None


def test_read_text_decodes_utf8(tmp_path):
    target = tmp_path / "f"
    target.write_bytes("café\n".encode())
    assert read_text(str(target)) == "café\n"


def test_read_text_on_directory_names_path(tmp_path):
    with pytest.raises(FileError, match=str(tmp_path)) as exc:
        read_text(str(tmp_path))
    assert "directory" in str(exc.value)


def test_read_text_bad_utf8_names_path(tmp_path):
    target = tmp_path / "bin"
    target.write_bytes(b"ok\xff\xfe")
    with pytest.raises(FileError, match="UTF-8") as exc:
        read_text(str(target))
    assert str(target) in str(exc.value)


# --- ensure_file: content, attributes, idempotence ----------------------------


def test_create_new_file(tmp_path):
    target = tmp_path / "condor_config.local"
    result = ensure_file(make_module(), str(target), "DAEMON_LIST = MASTER\n", mode="0640")
    assert result == dict(changed=True, content_changed=True, diff=None, backup_file=None, existed=False)
    assert target.read_bytes() == b"DAEMON_LIST = MASTER\n"
    assert file_mode(target) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["condor_config.local"]


def test_second_call_is_unchanged_and_does_not_rewrite(tmp_path):
    target = tmp_path / "f"
    ensure_file(make_module(), str(target), b"x = 1\n", mode="0644")
    inode = os.stat(target).st_ino
    result = ensure_file(make_module(), str(target), b"x = 1\n", mode="0644")
    assert result["changed"] is False
    assert result["content_changed"] is False
    assert result["existed"] is True
    assert os.stat(target).st_ino == inode


def test_content_change_replaces_file_and_keeps_mode(tmp_path):
    target = tmp_path / "f"
    write(target, "old\n", mode=0o640)
    result = ensure_file(make_module(), str(target), "new\n")
    assert result["changed"] is True
    assert result["content_changed"] is True
    assert target.read_text() == "new\n"
    assert file_mode(target) == 0o640


def test_mode_only_change_then_idempotent(tmp_path):
    target = tmp_path / "f"
    write(target, "same\n", mode=0o644)
    first = ensure_file(make_module(), str(target), "same\n", mode="0600")
    assert (first["changed"], first["content_changed"]) == (True, False)
    assert file_mode(target) == 0o600
    second = ensure_file(make_module(), str(target), "same\n", mode="0600")
    assert second["changed"] is False


def test_mode_from_module_file_common_args(tmp_path):
    target = tmp_path / "f"
    write(target, "same\n", mode=0o644)
    result = ensure_file(make_module(mode="0400"), str(target), "same\n")
    assert result["changed"] is True
    assert file_mode(target) == 0o400


def test_explicit_mode_wins_over_module_option(tmp_path):
    target = tmp_path / "f"
    ensure_file(make_module(mode="0400"), str(target), "x\n", mode="0640")
    assert file_mode(target) == 0o640


def _nobody_nogroup():
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    for name in ("nogroup", "nobody"):
        try:
            return user, grp.getgrnam(name)
        except KeyError:
            continue
    pytest.skip("no group nogroup/nobody")


def test_owner_and_group_change_then_idempotent(tmp_path):
    user, group = _nobody_nogroup()
    target = tmp_path / "f"
    write(target, "same\n")
    result = ensure_file(make_module(), str(target), "same\n", owner=user.pw_name, group=group.gr_name)
    assert (result["changed"], result["content_changed"]) == (True, False)
    st_ = os.stat(target)
    assert (st_.st_uid, st_.st_gid) == (user.pw_uid, group.gr_gid)
    again = ensure_file(make_module(), str(target), "same\n", owner=user.pw_name, group=group.gr_name)
    assert again["changed"] is False


def test_content_change_keeps_existing_owner(tmp_path):
    user, group = _nobody_nogroup()
    target = tmp_path / "f"
    write(target, "old\n")
    os.chown(target, user.pw_uid, group.gr_gid)
    ensure_file(make_module(), str(target), "new\n")
    st_ = os.stat(target)
    assert (st_.st_uid, st_.st_gid) == (user.pw_uid, group.gr_gid)


def test_missing_parent_directory_names_it(tmp_path):
    missing = tmp_path / "no" / "such"
    for check in (False, True):
        with pytest.raises(FileError, match=f"Destination directory {missing} does not exist"):
            ensure_file(make_module(check=check), str(missing / "f"), "x")
    assert not (tmp_path / "no").exists()


def test_target_is_directory_fails(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(FileError, match=str(tmp_path / "d")):
        ensure_file(make_module(), str(tmp_path / "d"), "x")


# --- check mode ---------------------------------------------------------------


def test_check_mode_new_file_stays_absent(tmp_path):
    target = tmp_path / "f"
    result = ensure_file(make_module(check=True), str(target), "x\n", mode="0600")
    assert (result["changed"], result["content_changed"], result["existed"]) == (True, True, False)
    assert os.listdir(tmp_path) == []


def test_check_mode_new_file_does_not_touch_attributes_of_missing_path(tmp_path, monkeypatch):
    module = make_module(check=True)
    calls = []
    monkeypatch.setattr(module, "set_fs_attributes_if_different", lambda *a, **kw: calls.append(a))
    result = ensure_file(module, str(tmp_path / "f"), "x\n", owner="root", mode="0600")
    assert result["changed"] is True
    assert calls == []


def test_check_mode_existing_file_unchanged_on_disk(tmp_path):
    target = tmp_path / "f"
    write(target, "old\n", mode=0o644)
    result = ensure_file(make_module(check=True), str(target), "new\n", mode="0600", backup=True)
    assert result["changed"] is True
    assert result["backup_file"] is None
    assert target.read_text() == "old\n"
    assert file_mode(target) == 0o644
    assert os.listdir(tmp_path) == ["f"]


def test_check_mode_mode_only_change_reported_not_applied(tmp_path):
    target = tmp_path / "f"
    write(target, "same\n", mode=0o644)
    result = ensure_file(make_module(check=True), str(target), "same\n", mode="0600")
    assert (result["changed"], result["content_changed"]) == (True, False)
    assert file_mode(target) == 0o644


def test_check_mode_still_runs_validate_and_surfaces_failure(tmp_path):
    target = tmp_path / "f"
    write(target, "old\n")
    calls = []
    with pytest.raises(FileError, match="rejected the candidate"):
        ensure_file(make_module(check=True), str(target), "bad\n", validate=failing_validator(calls))
    assert [data for _path, data in calls] == [b"bad\n"]
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["f"]


def test_check_mode_validate_success_leaves_nothing(tmp_path):
    seen = []
    result = ensure_file(
        make_module(check=True), str(tmp_path / "f"), "good\n", validate=lambda p: seen.append(read_bytes(p))
    )
    assert result["changed"] is True
    assert seen == [b"good\n"]
    assert os.listdir(tmp_path) == []


# --- validation ---------------------------------------------------------------


def test_validate_sees_private_candidate_next_to_target(tmp_path):
    target = tmp_path / "50-osg.conf"
    seen = []

    def validate(candidate):
        seen.append(
            (os.path.dirname(candidate), os.path.basename(candidate), file_mode(candidate), read_bytes(candidate))
        )

    ensure_file(make_module(), str(target), "A = 1\n", mode="0644", validate=validate)
    [(dirname, basename, mode, data)] = seen
    assert dirname == str(tmp_path)
    assert basename.startswith(".50-osg.conf.")
    assert mode == 0o600
    assert data == b"A = 1\n"
    assert target.read_text() == "A = 1\n"


def test_validate_not_called_when_content_unchanged(tmp_path):
    target = tmp_path / "f"
    write(target, "same\n")
    calls = []
    result = ensure_file(make_module(), str(target), "same\n", validate=failing_validator(calls))
    assert result["changed"] is False
    assert calls == []


def test_validate_failure_leaves_live_file_and_no_temp(tmp_path):
    target = tmp_path / "f"
    write(target, b"GOOD = 1\n", mode=0o640)
    before = os.stat(target)
    with pytest.raises(FileError, match="rejected the candidate"):
        ensure_file(make_module(), str(target), "BAD = \n", backup=True, validate=failing_validator([]))
    assert target.read_bytes() == b"GOOD = 1\n"
    assert os.stat(target).st_ino == before.st_ino
    assert file_mode(target) == 0o640
    assert os.listdir(tmp_path) == ["f"]


def test_validate_other_exception_wrapped_with_path(tmp_path):
    target = tmp_path / "f"

    def validate(candidate):
        raise RuntimeError("parse error on line 1")

    with pytest.raises(FileError) as exc:
        ensure_file(make_module(), str(target), "x", validate=validate)
    assert str(target) in str(exc.value)
    assert "parse error on line 1" in str(exc.value)
    assert os.listdir(tmp_path) == []


def test_failed_move_leaves_live_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "f"
    write(target, "old\n")
    module = make_module()

    def broken_move(src, dest, **kwargs):
        raise OSError("Device or resource busy")

    monkeypatch.setattr(module, "atomic_move", broken_move)
    with pytest.raises(FileError, match=f"Cannot replace {target}: Device or resource busy"):
        ensure_file(module, str(target), "new\n")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["f"]


# --- backup -------------------------------------------------------------------


def test_backup_keeps_old_content(tmp_path):
    target = tmp_path / "f"
    write(target, "old\n")
    result = ensure_file(make_module(), str(target), "new\n", backup=True)
    assert result["backup_file"]
    assert os.path.dirname(result["backup_file"]) == str(tmp_path)
    with open(result["backup_file"]) as f:
        assert f.read() == "old\n"
    assert target.read_text() == "new\n"


def test_backup_of_new_or_unchanged_file_is_none(tmp_path):
    target = tmp_path / "f"
    assert ensure_file(make_module(), str(target), "x\n", backup=True)["backup_file"] is None
    assert ensure_file(make_module(), str(target), "x\n", backup=True)["backup_file"] is None
    assert os.listdir(tmp_path) == ["f"]


# --- diff ---------------------------------------------------------------------


def test_no_diff_without_diff_mode(tmp_path):
    target = tmp_path / "f"
    write(target, "old\n")
    assert ensure_file(make_module(), str(target), "new\n")["diff"] is None


def test_diff_text_before_after(tmp_path):
    target = tmp_path / "f"
    result = ensure_file(make_module(diff=True), str(target), "a\n")
    assert result["diff"] == dict(before="", after="a\n", before_header=str(target), after_header=str(target))
    result = ensure_file(make_module(diff=True), str(target), "b\n")
    assert (result["diff"]["before"], result["diff"]["after"]) == ("a\n", "b\n")


def test_diff_in_check_mode(tmp_path):
    target = tmp_path / "f"
    write(target, "a\n")
    result = ensure_file(make_module(check=True, diff=True), str(target), "b\n")
    assert (result["diff"]["before"], result["diff"]["after"]) == ("a\n", "b\n")


def test_diff_before_after_override(tmp_path):
    target = tmp_path / "token"
    write(target, "raw-old")
    result = ensure_file(
        make_module(diff=True), str(target), "raw-new", diff_before="sub: old\n", diff_after="sub: new\n"
    )
    assert (result["diff"]["before"], result["diff"]["after"]) == ("sub: old\n", "sub: new\n")
    assert "raw" not in repr(result)


def test_binary_content_diff_is_placeholder(tmp_path):
    target = tmp_path / "blob"
    result = ensure_file(make_module(diff=True), str(target), b"\xff\xd8\xffJFIF")
    assert target.read_bytes() == b"\xff\xd8\xffJFIF"
    assert result["diff"]["before"] == ""
    assert "JFIF" not in result["diff"]["after"]
    assert result["diff"]["after"].startswith("(binary")


@pytest.mark.parametrize("check", [False, True])
def test_secret_never_leaks(tmp_path, check):
    target = tmp_path / "token"
    old_secret = SECRET.replace("very", "older")
    write(target, old_secret)
    result = ensure_file(make_module(check=check, diff=True), str(target), SECRET, mode="0600", secret=True)
    assert result["changed"] is True
    text = repr(result)
    for leaked in (SECRET, old_secret, "very-secret", "older-secret"):
        assert leaked not in text
    for value in (SECRET, old_secret):
        assert hashlib.sha256(value.encode()).hexdigest()[:8] not in text
    # Not even the length; the headers are left out, as the temporary path may hold the same digits.
    assert str(len(SECRET)) not in result["diff"]["before"] + result["diff"]["after"]
    assert result["diff"]["before"] != result["diff"]["after"]


def test_secret_diff_for_new_and_unchanged_file(tmp_path):
    target = tmp_path / "token"
    created = ensure_file(make_module(diff=True), str(target), SECRET, secret=True)
    assert created["diff"]["before"] == ""
    assert created["diff"]["after"]
    unchanged = ensure_file(make_module(diff=True), str(target), SECRET, secret=True)
    assert unchanged["changed"] is False
    assert unchanged["diff"]["before"] == unchanged["diff"]["after"]
    assert SECRET not in repr(created) + repr(unchanged)


def test_new_secret_file_is_never_world_readable(tmp_path, monkeypatch):
    target = tmp_path / "token"
    module = make_module()
    real_move = module.atomic_move
    modes_after_move = []

    def spying_move(*args, **kwargs):
        real_move(*args, **kwargs)
        modes_after_move.append(file_mode(target))

    monkeypatch.setattr(module, "atomic_move", spying_move)
    old_umask = os.umask(0o022)
    try:
        ensure_file(module, str(target), SECRET, mode="0640", secret=True)
        assert os.umask(0o022) == 0o022  # the helper restored the process umask
    finally:
        os.umask(old_umask)
    assert modes_after_move == [0o600]
    assert file_mode(target) == 0o640


def test_new_secret_file_without_mode_is_private(tmp_path):
    old_umask = os.umask(0o022)
    try:
        ensure_file(make_module(), str(tmp_path / "token"), SECRET, secret=True)
        ensure_file(make_module(), str(tmp_path / "plain"), "x\n")
    finally:
        os.umask(old_umask)
    assert file_mode(tmp_path / "token") == 0o600
    assert file_mode(tmp_path / "plain") == 0o644


# --- ensure_directory ---------------------------------------------------------


def test_ensure_directory_create_then_idempotent(tmp_path):
    path = tmp_path / "tokens"
    assert ensure_directory(make_module(), str(path), mode="0750") is True
    assert path.is_dir()
    assert file_mode(path) == 0o750
    assert ensure_directory(make_module(), str(path), mode="0750") is False


def test_ensure_directory_mode_change(tmp_path):
    path = tmp_path / "d"
    path.mkdir()
    os.chmod(path, 0o700)
    assert ensure_directory(make_module(), str(path), mode="0750") is True
    assert file_mode(path) == 0o750


def test_ensure_directory_ignores_module_file_mode(tmp_path):
    path = tmp_path / "d"
    ensure_directory(make_module(mode="0600"), str(path))
    assert file_mode(path) & 0o700 == 0o700


def test_ensure_directory_check_mode(tmp_path):
    path = tmp_path / "d"
    assert ensure_directory(make_module(check=True), str(path), mode="0700") is True
    assert not path.exists()
    path.mkdir()
    os.chmod(path, 0o700)
    assert ensure_directory(make_module(check=True), str(path), mode="0750") is True
    assert file_mode(path) == 0o700
    assert ensure_directory(make_module(check=True), str(path), mode="0700") is False


def test_ensure_directory_errors(tmp_path):
    with pytest.raises(FileError, match=f"Destination directory {tmp_path / 'a'} does not exist"):
        ensure_directory(make_module(), str(tmp_path / "a" / "b"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileError, match="not a directory"):
        ensure_directory(make_module(), str(tmp_path / "file"))


# --- remove_file --------------------------------------------------------------


def test_remove_present_file(tmp_path):
    target = tmp_path / "f"
    write(target, "bye\n")
    result = remove_file(make_module(diff=True), str(target))
    assert not target.exists()
    assert (result["changed"], result["existed"], result["backup_file"]) == (True, True, None)
    assert result["diff"] == dict(before="bye\n", after="", before_header=str(target), after_header=str(target))


def test_remove_absent_file(tmp_path):
    result = remove_file(make_module(), str(tmp_path / "f"))
    assert result == dict(changed=False, content_changed=False, diff=None, backup_file=None, existed=False)


def test_remove_check_mode_keeps_file(tmp_path):
    target = tmp_path / "f"
    write(target, "stay\n")
    result = remove_file(make_module(check=True), str(target), backup=True)
    assert result["changed"] is True
    assert target.read_text() == "stay\n"
    assert os.listdir(tmp_path) == ["f"]


def test_remove_with_backup(tmp_path):
    target = tmp_path / "f"
    write(target, "keep me\n")
    result = remove_file(make_module(), str(target), backup=True)
    assert not target.exists()
    with open(result["backup_file"]) as f:
        assert f.read() == "keep me\n"


def test_remove_secret_does_not_leak(tmp_path):
    target = tmp_path / "token"
    write(target, SECRET)
    result = remove_file(make_module(diff=True), str(target), secret=True)
    assert result["changed"] is True
    assert result["diff"]["before"] and result["diff"]["after"] == ""
    assert SECRET not in repr(result)


def test_remove_directory_fails(tmp_path):
    with pytest.raises(FileError, match=str(tmp_path)):
        remove_file(make_module(), str(tmp_path))


# --- property: any content round-trips and is then idempotent -----------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.binary(max_size=200) | st.text(max_size=100), second=st.binary(max_size=200))
def test_any_content_roundtrips_and_is_idempotent(first, second):
    with tempfile.TemporaryDirectory() as top:
        target = os.path.join(top, "f")
        for content in (first, second):
            data = content.encode() if isinstance(content, str) else content
            ensure_file(make_module(), target, content)
            assert read_bytes(target) == data
            assert ensure_file(make_module(), target, content)["changed"] is False
        assert os.listdir(top) == ["f"]


# --- leftovers of a killed write ------------------------------------------------------------


def dead_pid():
    """A process id that no process has: a child that has been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_write_leaves_nothing_behind_after_the_next_run(tmp_path):
    target = tmp_path / "90-x.conf"
    stale = tmp_path / f".90-x.conf.osg_htc-tmp-{dead_pid()}.abc123"
    live = tmp_path / f".90-x.conf.osg_htc-tmp-{os.getpid()}.def456"
    other = tmp_path / ".90-x.conf.something-else"
    for path in (stale, live, other):
        path.write_text("partial")
    ensure_file(make_module(), str(target), "A = 1\n")
    assert not stale.exists() and live.exists() and other.exists()
    assert target.read_text() == "A = 1\n"


def test_check_mode_leaves_stale_candidates_alone(tmp_path):
    stale = tmp_path / f".90-x.conf.osg_htc-tmp-{dead_pid()}.abc123"
    stale.write_text("partial")
    ensure_file(make_module(check=True), str(tmp_path / "90-x.conf"), "A = 1\n")
    assert stale.exists()


def test_candidates_are_named_after_the_process(tmp_path, monkeypatch):
    seen = []
    real = tempfile.mkstemp

    def spy(*args, **kwargs):
        seen.append(kwargs["prefix"])
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    ensure_file(make_module(), str(tmp_path / "90-x.conf"), "A = 1\n")
    assert seen == [f".90-x.conf.osg_htc-tmp-{os.getpid()}."]
