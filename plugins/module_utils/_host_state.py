# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Whether a task of a builtin module would change anything, found by reading the host only.

Each function answers for one item what the named module would answer in check mode: ``(same,
details)``, ``same`` True only when that module would report no change. The answers are
conservative: anything this code does not follow exactly (a symbolic mode, a symlink where a
file is wanted, an unreadable file, a command that fails) answers False, so the task runs and
decides for itself. The logic follows ansible-core's modules (lineinfile ``present``, blockinfile
``main``, known_hosts ``search_for_host_key``, user ``modify_user``), which unit tests compare
with the modules themselves.

Python >= 3.9, standard library only: this runs on managed hosts.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import re
import stat
import subprocess
from typing import Dict, List, Tuple

Answer = Tuple[bool, Dict]


def _owner_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def _group_name(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


def _mode_bits(mode) -> int | None:
    """The permission bits of an octal mode given as a string or an int; None for anything else (symbolic)."""
    if isinstance(mode, int):
        return mode
    if isinstance(mode, str) and re.match(r"\A0?o?[0-7]{1,4}\Z", mode):
        return int(mode.replace("o", ""), 8)
    return None


def attributes_differ(info: os.stat_result, owner=None, group=None, mode=None) -> List[str]:
    """What of owner, group and mode (those given) ``info`` does not have, as the file module compares them."""
    differ = []
    if owner is not None:
        name = _owner_name(info.st_uid)
        if str(owner) not in (name, str(info.st_uid)):
            differ.append(f"owner is {name or info.st_uid}, not {owner}")
    if group is not None:
        name = _group_name(info.st_gid)
        if str(group) not in (name, str(info.st_gid)):
            differ.append(f"group is {name or info.st_gid}, not {group}")
    if mode is not None:
        bits = _mode_bits(mode)
        if bits is None:
            differ.append(f"mode {mode!r} is not an octal mode this check compares")
        elif stat.S_IMODE(info.st_mode) != bits:
            differ.append(f"mode is {stat.S_IMODE(info.st_mode):04o}, not {bits:04o}")
    return differ


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def file_state(path: str, kind: str = "file", checksum=None, owner=None, group=None, mode=None) -> Answer:
    """As ``copy``/``template`` (``kind=file`` with the SHA-1 ``checksum`` of the content) or ``file``
    (``kind=file`` without a checksum, or ``kind=directory``) with owner, group and mode."""
    info = _lstat(path)
    if info is None:
        return False, {"exists": False, "why": f"{path} does not exist"}
    wanted_kind = stat.S_ISDIR if kind == "directory" else stat.S_ISREG
    if not wanted_kind(info.st_mode):
        return False, {
            "exists": True,
            "why": f"{path} is not a {'directory' if kind == 'directory' else 'regular file'}",
        }
    differ = attributes_differ(info, owner, group, mode)
    if checksum is not None and kind == "file":
        try:
            with open(path, "rb") as handle:
                found = hashlib.sha1(handle.read()).hexdigest()  # noqa: S324 (what copy compares)
        except OSError as exc:
            return False, {"exists": True, "why": f"{path} cannot be read: {exc.strerror}"}
        if found != checksum.lower():
            differ.append("its content differs")
    return not differ, {"exists": True, "why": "; ".join(differ)} if differ else {"exists": True}


def _read_lines(path: str) -> List[bytes] | None:
    try:
        with open(path, "rb") as handle:
            return handle.readlines()
    except OSError:
        return None


def line_state(path: str, line: str, regexp: str | None = None) -> Answer:
    """As ``lineinfile`` with ``line`` (and ``regexp``), its other options at their defaults: the line that the
    regexp matches last, or else the last line equal to ``line``, must already be ``line`` and a line break."""
    lines = _read_lines(path)
    if lines is None:
        return False, {"exists": False, "why": f"{path} does not exist or cannot be read"}
    wanted = line.encode("utf-8", "surrogateescape")
    index = -1
    if regexp is not None:
        pattern = re.compile(regexp.encode("utf-8", "surrogateescape"))
        for number, current in enumerate(lines):
            if pattern.search(current):
                index = number
    if index == -1:
        for number, current in enumerate(lines):
            if current.rstrip(b"\r\n") == wanted:
                index = number
    if index != -1 and lines[index] == wanted + os.linesep.encode():
        return True, {"exists": True}
    return False, {"exists": True, "why": "the line would be replaced" if index != -1 else "the line would be added"}


def block_state(
    path: str,
    block: str,
    marker: str = "# {mark} ANSIBLE MANAGED BLOCK",
    marker_begin: str = "BEGIN",
    marker_end: str = "END",
    insertbefore: str | None = None,
    insertafter: str | None = None,
    create: bool = False,
    owner=None,
    group=None,
    mode=None,
) -> Answer:
    """As ``blockinfile`` with ``state=present`` and no blank lines added: the file must already be what the
    module would make of it, with owner, group and mode."""
    info = _lstat(path)
    if info is None:
        return False, {
            "exists": False,
            "why": f"{path} does not exist" + ("" if create else " (nor may it be created)"),
        }
    if not stat.S_ISREG(info.st_mode):
        return False, {"exists": True, "why": f"{path} is not a regular file"}
    try:
        with open(path, "rb") as handle:
            original = handle.read()
    except OSError as exc:
        return False, {"exists": True, "why": f"{path} cannot be read: {exc.strerror}"}
    lines = original.splitlines(True)
    linesep = os.linesep.encode()
    if insertbefore is None and insertafter is None:
        insertafter = "EOF"
    if insertafter not in (None, "EOF"):
        insertre = re.compile(insertafter.encode("utf-8", "surrogateescape"))
    elif insertbefore not in (None, "BOF"):
        insertre = re.compile(insertbefore.encode("utf-8", "surrogateescape"))
    else:
        insertre = None
    marker_bytes = marker.encode("utf-8", "surrogateescape")
    marker0 = re.sub(rb"{mark}", marker_begin.encode(), marker_bytes) + linesep
    marker1 = re.sub(rb"{mark}", marker_end.encode(), marker_bytes) + linesep
    body = block.encode("utf-8", "surrogateescape")
    if body:
        if not body.endswith(linesep):
            body += linesep
        blocklines = [marker0, *body.splitlines(True), marker1]
    else:
        blocklines = []
    n0 = n1 = None
    for number, current in enumerate(lines):
        if current == marker0:
            n0 = number
        if current == marker1:
            n1 = number
    if None in (n0, n1):
        n0 = None
        if insertre is not None:
            if insertre.flags & re.MULTILINE:
                found = insertre.search(original)
                if found:
                    text = original.decode("utf-8", "surrogateescape")
                    n0 = text.count("\n", 0, found.end() if insertafter else found.start())
            else:
                for number, current in enumerate(lines):
                    if insertre.search(current):
                        n0 = number
            if n0 is None:
                n0 = len(lines)
            elif insertafter is not None:
                n0 += 1
        elif insertbefore is not None:
            n0 = 0
        else:
            n0 = len(lines)
    elif n0 < n1:
        lines[n0 : n1 + 1] = []
    else:
        lines[n1 : n0 + 1] = []
        n0 = n1
    if n0 > 0 and not lines[n0 - 1].endswith(linesep):
        lines[n0 - 1] += linesep
    lines[n0:n0] = blocklines
    differ = [] if b"".join(lines) == original else ["the block would change"]
    differ += attributes_differ(info, owner, group, mode)
    return not differ, {"exists": True, "why": "; ".join(differ)} if differ else {"exists": True}


def _known_hosts_key(text: str) -> Dict[str, str]:
    """known_hosts' normalize_known_hosts_key."""
    words = text.strip().split()
    if words[0][0] == "@":
        return {"options": words[0], "host": words[1], "type": words[2], "key": words[3]}
    return {"host": words[0], "type": words[1], "key": words[2]}


def known_host_state(path: str, name: str, key: str, ssh_keygen: str = "ssh-keygen") -> Answer:
    """As ``known_hosts`` with ``name``, ``key`` and ``state=present`` (no hashing): ``ssh-keygen -F`` must find
    exactly this key for the host before any other key of its type."""
    if not os.path.exists(path):
        return False, {"exists": False, "why": f"{path} does not exist"}
    host = name.lower()
    try:
        proc = subprocess.run(
            [ssh_keygen, "-F", host, "-f", path], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, {"exists": True, "why": f"ssh-keygen -F could not run: {exc}"}
    if proc.stdout == "" and proc.stderr == "" and proc.returncode in (0, 1):
        return False, {"exists": True, "why": f"{name} is not in {path}"}
    if proc.returncode != 0:
        return False, {"exists": True, "why": f"ssh-keygen -F failed: {proc.stderr.strip()}"}
    wanted = _known_hosts_key(key)
    for current in proc.stdout.split("\n"):
        if current == "" or current[0] == "#":
            continue
        found = _known_hosts_key(current)
        if found.get("options", "")[:15] == "@cert-authority" or found.get("options", "")[:7] == "@revoke":
            if wanted == found:
                return True, {"exists": True}
            continue
        compared = dict(wanted)
        if compared["host"][:3] == "|1|" and found["host"][:3] == "|1|":
            compared["host"] = found["host"]
        if compared == found:
            return True, {"exists": True}
        if compared["type"] == found["type"]:
            return False, {"exists": True, "why": f"{path} has another {found['type']} key for {name}"}
    return False, {"exists": True, "why": f"{path} has no {wanted['type']} key for {name}"}


def user_state(name: str, uid=None, shell=None) -> Answer:
    """As ``user`` with ``name`` (and ``uid``, ``shell``), its other options at their defaults: the user exists
    with them and has its home directory. Returns its uid, home and shell."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return False, {"exists": False, "why": f"no user {name}"}
    details = {"exists": True, "uid": entry.pw_uid, "home": entry.pw_dir, "shell": entry.pw_shell}
    differ = []
    if uid is not None and entry.pw_uid != int(uid):
        differ.append(f"uid is {entry.pw_uid}, not {uid}")
    if shell is not None and entry.pw_shell != shell:
        differ.append(f"shell is {entry.pw_shell}, not {shell}")
    if not os.path.exists(entry.pw_dir):
        differ.append(f"home {entry.pw_dir} does not exist")
    if differ:
        details["why"] = "; ".join(differ)
    return not differ, details


def public_key_state(private: str, public: str, owner=None, group=None, mode=None, ssh_keygen="ssh-keygen") -> Answer:
    """The public half of the private key ``private`` (``ssh-keygen -y``, never with a passphrase), and whether
    ``public`` already holds it and a line break, as ``copy`` would write it, with owner, group and mode."""
    try:
        proc = subprocess.run(
            [ssh_keygen, "-y", "-P", "", "-f", private], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, {"rc": None, "why": f"ssh-keygen -y could not run: {exc}"}
    if proc.returncode != 0:
        return False, {"rc": proc.returncode, "stderr": proc.stderr.strip(), "why": "ssh-keygen -y failed"}
    text = proc.stdout.strip()
    wanted = hashlib.sha1((text + "\n").encode()).hexdigest()  # noqa: S324 (what copy compares)
    same, details = file_state(public, "file", wanted, owner, group, mode)
    return same, {**details, "rc": 0, "public_key": text}
