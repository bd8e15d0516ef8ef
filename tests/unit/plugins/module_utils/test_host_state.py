# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""_host_state answers as ansible-core's own modules do in check mode: each case runs both and compares.

A wrong "same" would let a role skip a task that had work to do, so every kind is compared with the
module it stands for, on the same files, including the cases where the module would change something.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest
from ansible.modules import blockinfile, known_hosts, lineinfile, user

from ansible_collections.osg_htc.site.plugins.module_utils._host_state import (
    block_state,
    file_state,
    known_host_state,
    line_state,
    public_key_state,
    user_state,
)
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

ME = pwd.getpwuid(os.getuid()).pw_name


def changed_in_check_mode(module, args: dict) -> bool:
    """What the real module says in check mode (a failure counts as a change: the task must run to report it)."""
    result = run_module(module, {**args, "_ansible_check_mode": True})
    return bool(result.get("changed") or result.get("failed"))


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 (what copy compares)


# --- lineinfile ------------------------------------------------------------------------------

KEY_LINE = "slurm_binpath='/opt/slurm/bin'"
KEY_RE = r"^\s*#?\s*slurm_binpath="


@pytest.mark.parametrize(
    "content",
    [
        None,
        "",
        f"{KEY_LINE}\n",
        f"a=1\n{KEY_LINE}\nb=2\n",
        f"a=1\n{KEY_LINE}",  # no line break at the end: lineinfile adds one
        "#slurm_binpath=/usr/bin\n",
        f"#slurm_binpath=/usr/bin\n{KEY_LINE}\n",
        f"{KEY_LINE}\n#slurm_binpath=/usr/bin\n",  # the last match is the one replaced
        f"{KEY_LINE}\r\n",
        "unrelated=1\n",
    ],
)
@pytest.mark.parametrize("regexp", [KEY_RE, None])
def test_line_state_answers_as_lineinfile(tmp_path, content, regexp):
    path = tmp_path / "blah.config"
    if content is not None:
        path.write_text(content, newline="")
    args = {"path": str(path), "line": KEY_LINE} | ({"regexp": regexp} if regexp else {})
    same, details = line_state(str(path), KEY_LINE, regexp)
    assert same is not changed_in_check_mode(lineinfile, args), details


# --- blockinfile -----------------------------------------------------------------------------

MARKER = "# {mark} osg_htc.site ce_bosco login.example.edu (managed by Ansible; local edits are overwritten)"
BLOCK = "Host login.example.edu\n    User osg01\n    BatchMode yes\n"


def marked(block: str = BLOCK) -> str:
    return MARKER.replace("{mark}", "BEGIN") + "\n" + block + MARKER.replace("{mark}", "END") + "\n"


@pytest.mark.parametrize(
    "content",
    [
        None,
        "",
        marked(),
        marked() + "Host *\n    ForwardAgent no\n",
        "Host *\n    ForwardAgent no\n" + marked(),
        marked(BLOCK.replace("osg01", "osg02")),
        marked().rstrip("\n"),  # the end marker without its line break
        MARKER.replace("{mark}", "END") + "\n" + BLOCK + MARKER.replace("{mark}", "BEGIN") + "\n",
        "Host *\n",
    ],
)
@pytest.mark.parametrize("mode", ["0600", "0644"])
def test_block_state_answers_as_blockinfile(tmp_path, content, mode):
    path = tmp_path / "config"
    if content is not None:
        path.write_text(content)
        path.chmod(0o600)
    options = {"block": BLOCK, "marker": MARKER, "insertbefore": "BOF", "create": True, "owner": ME, "mode": mode}
    same, details = block_state(str(path), **options)
    assert same is not changed_in_check_mode(blockinfile, {"path": str(path), **options}), details


def test_block_state_insertafter_a_pattern(tmp_path):
    path = tmp_path / "config"
    path.write_text("first\nanchor\nlast\n")
    options = {"block": BLOCK, "marker": MARKER, "insertafter": "^anchor$"}
    assert block_state(str(path), **options)[0] is False
    run_module(blockinfile, {"path": str(path), **options})
    assert block_state(str(path), **options)[0] is True
    assert changed_in_check_mode(blockinfile, {"path": str(path), **options}) is False


# --- known_hosts -----------------------------------------------------------------------------

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx4m6Hq2D7h4y3ZkEo1hb2dBRvCjq0Zl5s9w1H2b3c4"
OTHER_ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx4m6Hq2D7h4y3ZkEo1hb2dBRvCjq0Zl5s9w1H2b3c5"
RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDU"
NAME = "[login.example.edu]:2222"


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="OpenSSH's ssh-keygen is not installed")
@pytest.mark.parametrize(
    "content",
    [
        None,
        "",
        f"{NAME} {ED25519}\n",
        f"{NAME} {ED25519} root@login\n",
        f"{NAME} {OTHER_ED25519}\n",
        f"{NAME} {OTHER_ED25519}\n{NAME} {ED25519}\n",  # a stale key of the type first: replaced
        f"{NAME} {ED25519}\n{NAME} {OTHER_ED25519}\n",
        f"{NAME} {RSA}\n",
        f"other.example.edu {ED25519}\n",
        f"{NAME},192.0.2.12 {ED25519}\n",
    ],
)
def test_known_host_state_answers_as_known_hosts(tmp_path, content):
    path = tmp_path / "known_hosts"
    if content is not None:
        path.write_text(content)
    key = f"{NAME} {ED25519}"
    same, details = known_host_state(str(path), NAME, key)
    assert same is not changed_in_check_mode(known_hosts, {"path": str(path), "name": NAME, "key": key}), details


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="OpenSSH's ssh-keygen is not installed")
def test_known_host_state_on_a_hashed_entry(tmp_path):
    path = tmp_path / "known_hosts"
    path.write_text(f"{NAME} {ED25519}\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(path)], capture_output=True, check=True)
    key = f"{NAME} {ED25519}"
    # known_hosts replaces a hashed entry with the plain line it is given: not the same.
    same, details = known_host_state(str(path), NAME, key)
    assert same is not changed_in_check_mode(known_hosts, {"path": str(path), "name": NAME, "key": key}), details


# --- user ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        {"name": ME},
        {"name": ME, "uid": os.getuid(), "shell": pwd.getpwuid(os.getuid()).pw_shell},
        {"name": ME, "shell": "/bin/osg-htc-site-no-such-shell"},
        {"name": ME, "uid": os.getuid() + 4242},
        {"name": "osg-htc-site-no-such-user", "uid": 64999},
    ],
)
def test_user_state_answers_as_user(args):
    same, details = user_state(args["name"], args.get("uid"), args.get("shell"))
    assert same is not changed_in_check_mode(user, args), details
    if details["exists"]:
        assert details["home"] == pwd.getpwnam(args["name"]).pw_dir


# --- files and key pairs ---------------------------------------------------------------------


def test_file_state_compares_kind_content_owner_group_and_mode(tmp_path):
    path = tmp_path / "mapfile"
    path.write_text("SCITOKENS /x/ osg\n")
    path.chmod(0o644)
    group = path.stat().st_gid
    assert file_state(str(path), "file", sha1("SCITOKENS /x/ osg\n"), ME, str(group), "0644") == (
        True,
        {"exists": True},
    )
    assert file_state(str(path), "file", sha1("other\n"))[1]["why"] == "its content differs"
    assert "mode is 0644, not 0600" in file_state(str(path), mode="0600")[1]["why"]
    assert "not nobody" in file_state(str(path), owner="nobody")[1]["why"]
    assert file_state(str(path), mode="u=rw")[0] is False  # a symbolic mode is not compared: the task decides
    link = tmp_path / "link"
    link.symlink_to(path)
    assert file_state(str(link))[0] is False
    assert file_state(str(tmp_path), "directory", owner=ME)[0] is True
    assert file_state(str(path), "directory")[1]["why"].endswith("is not a directory")
    assert file_state(str(tmp_path / "missing"))[1] == {
        "exists": False,
        "why": f"{tmp_path / 'missing'} does not exist",
    }


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="OpenSSH's ssh-keygen is not installed")
def test_public_key_state_derives_the_public_half_and_compares_the_file(tmp_path):
    private = tmp_path / "bosco_key.rsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(private)], check=True)
    public = tmp_path / "bosco_key.rsa.pub"
    written = public.read_text()
    mode = oct(public.stat().st_mode & 0o777)
    same, details = public_key_state(str(private), str(public), owner=ME, mode=mode)
    assert same is True and details["public_key"] + "\n" == written
    public.write_text("ssh-ed25519 AAAA stale\n")
    assert public_key_state(str(private), str(public))[1]["why"] == "its content differs"
    encrypted = tmp_path / "encrypted"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(encrypted)], check=True)
    same, details = public_key_state(str(encrypted), str(tmp_path / "encrypted.pub"))
    assert same is False and details["rc"] != 0 and "public_key" not in details
    missing = public_key_state(str(tmp_path / "none"), str(tmp_path / "none.pub"))
    assert missing[0] is False and missing[1]["rc"] != 0
    assert Path(tmp_path / "encrypted").exists()
