# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Shared file handling for the modules of this collection: read the current
content, compare it with the wanted content, and only then act. Writes go to a
temporary file in the target directory that is validated before
``module.atomic_move`` puts it in place (named after the process, so the next
run removes what a killed run left); check mode never touches the live file;
owner, group, mode and SELinux context go through AnsibleModule's own helpers;
diffs are built only in diff mode and never show secret content."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Callable

from ansible.module_utils.common.text.converters import to_bytes, to_text

# Diff text shown instead of content that must not (secret) or cannot (not
# UTF-8) be shown. No length or hash either: both leak something about a secret.
HIDDEN = "(secret content)"
HIDDEN_CHANGED = "(secret content changed)"
BINARY = "(binary content)"
BINARY_CHANGED = "(binary content changed)"


class FileError(Exception):
    """A file operation failed; the message names the path and the cause."""


def read_bytes(path: str) -> bytes | None:
    """Return the content of ``path``, or None if it does not exist."""
    if os.path.isdir(path):
        raise FileError(f"Cannot read {path}: it is a directory")
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FileError(f"Cannot read {path}: {exc}") from exc


def read_text(path: str) -> str | None:
    """Return the UTF-8 content of ``path``, or None if it does not exist."""
    data = read_bytes(path)
    if data is None:
        return None
    try:
        # errors="strict": the default surrogate handling would hide bad bytes.
        return to_text(data, errors="strict")
    except UnicodeDecodeError as exc:
        raise FileError(f"Cannot read {path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc


def read_input_text(path: str, option: str) -> str:
    """The UTF-8 content of a file a module reads as input; FileError names ``option`` when it is missing."""
    text = read_text(path)
    if text is None:
        raise FileError(f"{option} {path} does not exist")
    return text


def _require_parent(path: str) -> str:
    dirname = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(dirname):
        raise FileError(f"Destination directory {dirname} does not exist")
    return dirname


def _file_args(module, path, params, owner, group, mode):
    # load_file_common_arguments brings seuser/setype/attributes etc. from
    # add_file_common_args; explicit values win over the module's options.
    file_args = module.load_file_common_arguments(params, path=path)
    for key, value in (("owner", owner), ("group", group), ("mode", mode)):
        if value is not None:
            file_args[key] = value
    return file_args


def _diff_side(data, *, secret, changed):
    """Diff text for one side: the content, or a placeholder that reveals nothing."""
    if data is None:
        return ""
    if not secret:
        try:
            return to_text(data, errors="strict")
        except UnicodeDecodeError:
            return BINARY_CHANGED if changed else BINARY
    return HIDDEN_CHANGED if changed else HIDDEN


def _build_diff(module, path, before, after, *, secret, diff_before, diff_after):
    if not module._diff:
        return None
    changed = before is not None and after is not None and before != after
    if diff_before is None:
        diff_before = _diff_side(before, secret=secret, changed=False)
    if diff_after is None:
        diff_after = _diff_side(after, secret=secret, changed=changed)
    return dict(before=diff_before, after=diff_after, before_header=path, after_header=path)


@contextlib.contextmanager
def _umask(mask):
    # atomic_move chmods a newly created file to 0666 & ~umask before the
    # wanted mode is applied; a tight umask keeps a secret private meanwhile.
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _candidate_prefix(path: str, pid: int | None = None) -> str:
    # A dot prefix keeps the candidate out of config.d globs (HTCondor skips
    # dot files); the process id lets a later run tell a killed run's leftover.
    return f".{os.path.basename(path)}.{_CANDIDATE_TAG}-{os.getpid() if pid is None else pid}."


_CANDIDATE_TAG = "osg_htc-tmp"


def remove_stale_candidates(path: str) -> list:
    """Remove the candidates of ``path`` that a run killed mid-write left in its directory; return their paths.

    Only regular files owned by this user whose process no longer runs are removed.
    """
    dirname = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(re.escape(f".{os.path.basename(path)}.{_CANDIDATE_TAG}-") + r"(\d+)\.")
    removed = []
    try:
        entries = os.listdir(dirname)
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry)
        if not match or pid_alive(int(match.group(1))):
            continue
        full = os.path.join(dirname, entry)
        try:
            info = os.lstat(full)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
                os.unlink(full)
                removed.append(full)
        except OSError:
            continue
    return removed


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists (or cannot be signalled by us, which also means it exists)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _write_candidate(path: str, dirname: str, data: bytes) -> str:
    # mkstemp creates the candidate 0600, so a secret is never world readable.
    try:
        fd, tmp = tempfile.mkstemp(dir=dirname, prefix=_candidate_prefix(path))
    except OSError as exc:
        raise FileError(f"Cannot create a temporary file in {dirname}: {exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        os.unlink(tmp)
        raise FileError(f"Cannot write a temporary file for {path}: {exc}") from exc
    return tmp


def _validate(validate, tmp: str, path: str) -> None:
    try:
        validate(tmp)
    except FileError:
        raise
    except Exception as exc:
        raise FileError(f"Validation of the new content for {path} failed: {exc}") from exc


def ensure_directory(module, path: str, owner=None, group=None, mode=None) -> bool:
    """Make ``path`` a directory with the given owner/group/mode; return changed.

    The module's own owner/group/mode options describe the file it manages, not
    its directory, so only the explicit arguments here are applied.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise FileError(f"{path} exists and is not a directory")
    changed = False
    if not os.path.isdir(path):
        _require_parent(path)
        if module.check_mode:
            return True
        try:
            os.mkdir(path)
        except OSError as exc:
            raise FileError(f"Cannot create directory {path}: {exc}") from exc
        changed = True
    return module.set_fs_attributes_if_different(_file_args(module, path, {}, owner, group, mode), changed)


def ensure_file(
    module,
    path: str,
    content: str | bytes,
    *,
    owner=None,
    group=None,
    mode=None,
    backup: bool = False,
    validate: Callable[[str], object] | None = None,
    diff_before: str | None = None,
    diff_after: str | None = None,
    secret: bool = False,
    file_params: dict | None = None,
) -> dict:
    """Make ``path`` hold ``content`` with the given attributes.

    ``validate(candidate_path)`` is called on the new content before it replaces
    the live file (also in check mode) and raises to reject it. ``secret``
    keeps the content out of the diff, and a new secret file is created 0600
    (then given ``mode`` if set). ``file_params`` holds the file common
    arguments (default: ``module.params``; pass ``{}`` for a module whose own
    option names, such as ``attributes``, mean something else). Returns
    ``dict(changed, content_changed, diff, backup_file, existed)``.
    """
    data = to_bytes(content, errors="surrogate_or_strict")
    dirname = _require_parent(path)
    if not module.check_mode:
        remove_stale_candidates(path)
    current = read_bytes(path)
    existed = current is not None
    content_changed = current != data
    backup_file = None

    if content_changed:
        tmp = _write_candidate(path, dirname, data)
        module.add_cleanup_file(tmp)
        try:
            if validate is not None:
                _validate(validate, tmp, path)
            if not module.check_mode:
                if backup and existed:
                    try:
                        backup_file = module.backup_local(path)
                    except Exception as exc:
                        raise FileError(f"Cannot back up {path}: {exc}") from exc
                try:
                    with _umask(0o077) if secret and not existed else contextlib.nullcontext():
                        # Keeps the live file's owner, mode and SELinux context (the
                        # default; ansible-core 2.16 has no keep_dest_attrs to pass).
                        module.atomic_move(tmp, path, unsafe_writes=module.params.get("unsafe_writes", False))
                except Exception as exc:
                    raise FileError(f"Cannot replace {path}: {exc}") from exc
        finally:
            # Gone after a successful move; otherwise (check mode, rejected
            # candidate, failed move) it must not linger next to the live file.
            if os.path.lexists(tmp):
                os.unlink(tmp)

    changed = content_changed
    # In check mode a file that does not exist yet has no attributes to compare.
    if existed or not module.check_mode:
        params = module.params if file_params is None else file_params
        file_args = _file_args(module, path, params, owner, group, mode)
        changed = module.set_fs_attributes_if_different(file_args, changed)

    diff = _build_diff(module, path, current, data, secret=secret, diff_before=diff_before, diff_after=diff_after)
    return dict(changed=changed, content_changed=content_changed, diff=diff, backup_file=backup_file, existed=existed)


def remove_file(
    module, path: str, *, backup: bool = False, diff_before: str | None = None, secret: bool = False
) -> dict:
    """Make sure ``path`` does not exist; same return shape as ensure_file."""
    if not module.check_mode:
        remove_stale_candidates(path)
    current = read_bytes(path)
    existed = current is not None
    backup_file = None
    if existed and not module.check_mode:
        if backup:
            try:
                backup_file = module.backup_local(path)
            except Exception as exc:
                raise FileError(f"Cannot back up {path}: {exc}") from exc
        try:
            os.unlink(path)
        except OSError as exc:
            raise FileError(f"Cannot remove {path}: {exc}") from exc
    diff = _build_diff(module, path, current, None, secret=secret, diff_before=diff_before, diff_after=None)
    return dict(changed=existed, content_changed=existed, diff=diff, backup_file=backup_file, existed=existed)


def exit_with_outcome(module, result: dict, outcome: dict) -> None:
    """Exit the module with ``result`` plus what ensure_file/remove_file reported.

    ``changed`` becomes true if either says so; the backup path and diff are
    added only when there is one.
    """
    result["changed"] = bool(result.get("changed")) or outcome["changed"]
    if outcome.get("backup_file"):
        result["backup_file"] = outcome["backup_file"]
    if outcome.get("diff"):
        result["diff"] = outcome["diff"]
    module.exit_json(**result)
