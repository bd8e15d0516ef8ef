# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Read what a running Access Point or CE is configured to do, changing nothing on the host.

Used by the ``site_facts`` module (and through it by the ``adopt`` playbook).
Every reader returns plain JSON-able data and never a secret: a token becomes
its decoded claims, owner and mode (never its text or signature), a key file
its path, owner and mode.

Configuration is read as the daemons read it: the base file, then its
``LOCAL_CONFIG_DIR`` files in HTCondor's order, then its ``LOCAL_CONFIG_FILE``
list (htcondor/htcondor ``src/condor_utils/condor_config.cpp``, v25.8.2:
the directory first, then the local files), loaded by HTCondor's own parser
(``htcondor2``) in one child process. Files that would run a command when read
are left out, with a note. The names each local file sets are read from its
text (assignments, also in the files it includes); their values from HTCondor.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from typing import Any, Dict, List, Sequence

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import (
    NO_PARSER,
    _check_dir,
    _clean_env,
    _include_line,
    _run_script,
    commands_in_file,
    includable,
    local_config_dir_files,
    parse_error_summary,
    read_base_config,
)
from ansible_collections.osg_htc.site.plugins.module_utils._config_text import assigned_names, include_targets
from ansible_collections.osg_htc.site.plugins.module_utils._host_state import _group_name, _owner_name
from ansible_collections.osg_htc.site.plugins.module_utils._jwt import JwtError, decode

# Load the whole configuration and print the value of each name asked for and
# of each item of the LISTS (routes, submit requirements, transforms).
_READ_SCRIPT = """
import json, os, sys
try:
    import htcondor2
except ImportError as err:
    sys.stderr.write("%s\\n" % err)
    sys.exit(3)
request = json.load(sys.stdin)
param = htcondor2.param
os.environ["CONDOR_CONFIG"] = request["config"]
htcondor2.reload_config()
names = list(request["names"])
for listing, prefix, suffixes in request["lists"]:
    for item in str(param.get(listing) or "").replace(",", " ").split():
        if not item.startswith("$("):
            names.extend(prefix + item + suffix for suffix in suffixes)
values = {}
for name in names:
    values.setdefault(name, param.get(name))
json.dump(values, sys.stdout)
"""
_INCLUDE_DEPTH = 8
# (the list's name, the prefix of its items' names, the suffixes read for each item)
LISTS = (
    ("JOB_ROUTER_ROUTE_NAMES", "JOB_ROUTER_ROUTE_", ("",)),
    ("SUBMIT_REQUIREMENT_NAMES", "SUBMIT_REQUIREMENT_", ("", "_REASON")),
    ("JOB_TRANSFORM_NAMES", "JOB_TRANSFORM_", ("",)),
)


def _local_config_files(value: str | None) -> List[str]:
    """The existing files of a ``LOCAL_CONFIG_FILE`` list; a piped command is never one of them."""
    text = (value or "").strip()
    if not text or text.endswith("|"):
        return []
    return [path for path in re.split(r"[\s,]+", text) if path and os.path.isfile(path)]


def _file_settings(path: str, depth: int = _INCLUDE_DEPTH) -> Dict[str, List[str]]:
    """What ``path`` and the files it includes assign: ``sets``, ``uses`` and ``adds`` (see assigned_names)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return {"sets": [], "uses": [], "adds": []}
    names, uses, adds = assigned_names(text)
    found = {"sets": names, "uses": uses, "adds": adds}
    for target in include_targets(text) if depth > 0 else []:
        more = _file_settings(os.path.join(os.path.dirname(path), target), depth - 1)
        for key, items in more.items():
            known = {item.lower() for item in found[key]}
            found[key] += [item for item in items if item.lower() not in known]
    return found


def read_configuration(config_root: str, names: Sequence[str] = (), python: str | None = None, timeout: float = 120):
    """The files a configuration reads, the names each sets, and effective values.

    Returns ``{"config_root", "dirs": [LOCAL_CONFIG_DIR], "files": [{"path", "sets", "uses", "adds"}],
    "values": {name: value}, "notes": [...], "error": str|None}`` (``sets``, ``uses`` and ``adds`` as
    ``_config_text.assigned_names`` finds them), or None when ``config_root`` does not exist. ``values``
    holds ``names``, every name a local file assigns, and the names of each item of :data:`LISTS`
    (``JOB_ROUTER_ROUTE_<name>`` of each route, ...), as HTCondor expands them after reading everything.
    """
    if not os.path.isfile(config_root):
        return None
    result: Dict[str, Any] = {
        "config_root": config_root,
        "dirs": [],
        "files": [],
        "values": {},
        "notes": [],
        "error": None,
    }
    base = read_base_config(config_root, python=python, timeout=timeout)
    if base is None:
        result["error"] = NO_PARSER
        return result
    if base.error:
        result["error"] = base.error
        return result
    result["dirs"] = list(base.dirs)
    if base.local_file.endswith("|"):
        result["notes"].append(f"LOCAL_CONFIG_FILE runs a command ({base.local_file}); it was not run")
    files = []
    for path in local_config_dir_files(" ".join(base.dirs), base.exclude) + _local_config_files(base.local_file):
        why = includable(os.path.abspath(path))
        commands = [] if why else commands_in_file(path)
        if why or commands:
            result["notes"].append(f"not read: {path} ({why or 'it runs a command when read: ' + commands[0]})")
            continue
        files.append({"path": path, **_file_settings(path)})
    wanted = list(names) + [name for item in files for name in item["sets"]]
    with _check_dir(None) as workdir:
        whole = os.path.join(workdir, "whole.conf")
        with open(whole, "w", encoding="utf-8") as handle:
            handle.writelines(_include_line(path) for path in [config_root, *(item["path"] for item in files)])
            handle.write("LOCAL_CONFIG_DIR =\nLOCAL_CONFIG_FILE =\n")
        try:
            proc = _run_script(
                _READ_SCRIPT, {"config": whole, "names": wanted, "lists": LISTS}, python, _clean_env(whole), timeout
            )
        except subprocess.TimeoutExpired:
            result["error"] = f"HTCondor's parser timed out after {timeout} s reading {config_root}"
            return result
        if proc is None:
            result["error"] = NO_PARSER
            return result
        if proc.returncode != 0:
            output = proc.stderr + proc.stdout
            result["error"] = parse_error_summary(output, {whole: "<reader>"}) or f"exit {proc.returncode}"
            return result
    result["files"] = files
    result["values"] = json.loads(proc.stdout)
    return result


# --- files ----------------------------------------------------------------------------------------------


def file_info(path: str) -> Dict[str, Any]:
    """Owner, group and mode of ``path`` (not following a symlink), as the audit shows them."""
    info = os.lstat(path)
    return {
        "path": path,
        "owner": _owner_name(info.st_uid) or str(info.st_uid),
        "group": _group_name(info.st_gid) or str(info.st_gid),
        "mode": f"{stat.S_IMODE(info.st_mode):04o}",
        "symlink": stat.S_ISLNK(info.st_mode),
    }


_CLAIMS = ("iss", "sub", "aud", "scope", "exp", "iat", "nbf", "jti")


def read_tokens(directories: Sequence[str]) -> List[Dict[str, Any]]:
    """Every file of the token directories: owner, mode and the claims of each token; never the token."""
    found = []
    for directory in directories:
        if not os.path.isdir(directory):
            continue
        for entry in sorted(os.listdir(directory)):
            path = os.path.join(directory, entry)
            if not os.path.isfile(path):
                continue
            item = file_info(path)
            item["tokens"] = []
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    lines = [line.strip() for line in handle if line.strip()]
            except OSError as exc:
                item["error"] = f"cannot be read: {exc.strerror}"
                found.append(item)
                continue
            for number, line in enumerate(lines, 1):
                try:
                    decoded = decode(line)
                except JwtError:
                    # The reason could quote the text; the line number is enough to find it.
                    item["tokens"].append({"line": number, "error": "not a JWT (HTCondor cannot use this line)"})
                    continue
                payload = decoded["payload"]
                claims = {key: payload[key] for key in _CLAIMS if key in payload}
                item["tokens"].append({"line": number, "claims": claims, "kid": decoded["header"].get("kid")})
            found.append(item)
    return found


# METHOD principal canonical; a principal is /regex/ (may hold spaces when escaped) or a word.
_MAP_LINE_RE = re.compile(r"^\s*(\*|\w+)\s+(/(?:\\.|[^/\\])*/[a-zA-Z]*|\"[^\"]*\"|\S+)\s+(\S+)\s*$")


def read_mapfiles(directories: Sequence[str]) -> List[Dict[str, Any]]:
    """The lines of the CE's map files, split into method, principal and user (comments left out)."""
    found = []
    for directory in directories:
        if not os.path.isdir(directory):
            continue
        for entry in sorted(os.listdir(directory)):
            path = os.path.join(directory, entry)
            if not os.path.isfile(path):
                continue
            item = {"path": path, "lines": [], "unparsed": []}
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError as exc:
                item["error"] = f"cannot be read: {exc.strerror}"
                found.append(item)
                continue
            for number, line in enumerate(text.splitlines(), 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                match = _MAP_LINE_RE.match(line)
                if match:
                    method, principal, user = match.groups()
                    item["lines"].append({"line": number, "method": method, "principal": principal, "user": user})
                else:
                    item["unparsed"].append({"line": number, "text": line})
            found.append(item)
    return found


_BLAH_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def read_blah_config(path: str) -> Dict[str, str] | None:
    """``/etc/blah.config`` as the shell reads it: the last assignment of each key, outer quotes removed."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    values = {}
    for line in lines:
        match = _BLAH_RE.match(line)
        if match:
            value = match.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            values[match.group(1)] = value
    return values


def leftovers(directories: Sequence[str], suffixes: Sequence[str]) -> List[str]:
    """Files under ``directories`` (recursively) whose name ends with one of ``suffixes``."""
    found = []
    for directory in directories:
        for root, dirs, names in os.walk(directory):
            dirs.sort()
            found.extend(os.path.join(root, name) for name in sorted(names) if name.endswith(tuple(suffixes)))
    return found


# `import htcondor`, `import htcondor as h`, `from htcondor import x`, `import classad` (version 1);
# `htcondor2`/`classad2` do not match.
_V1_IMPORT_RE = re.compile(
    r"^\s*(?:import\s+(?:[\w.]+\s*,\s*)*(htcondor|classad)\b(?!2)|from\s+(htcondor|classad)\b(?!2)[\w.]*\s+import)",
    re.M,
)
_PYTHON_SHEBANG_RE = re.compile(rb"^#!.*\bpython")
_SCRIPT_MAX_BYTES = 4 * 1024 * 1024


def v1_binding_scripts(directories: Sequence[str]) -> List[Dict[str, Any]]:
    """Python files under ``directories`` that import the version 1 ``htcondor`` or ``classad`` bindings."""
    found = []
    for directory in directories:
        for root, dirs, names in os.walk(directory):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(root, name)
                try:
                    if not os.path.isfile(path) or os.path.getsize(path) > _SCRIPT_MAX_BYTES:
                        continue
                    with open(path, "rb") as handle:
                        data = handle.read()
                except OSError:
                    continue
                if not (name.endswith(".py") or _PYTHON_SHEBANG_RE.match(data)):
                    continue
                text = data.decode("utf-8", errors="replace")
                for match in _V1_IMPORT_RE.finditer(text):
                    number = text.count("\n", 0, match.start()) + 1
                    found.append({"path": path, "line": number, "text": match.group(0).strip()})
    return found


# --- packages and commands -------------------------------------------------------------------------------


def package_versions(names: Sequence[str], timeout: float = 120) -> Dict[str, str | None]:
    """The installed version of each package (None when not installed), from rpm or dpkg, in one call."""
    versions: Dict[str, str | None] = {name: None for name in names}
    if not names:
        return versions
    rpm, dpkg_query = shutil.which("rpm"), shutil.which("dpkg-query")
    if rpm and not dpkg_query:
        command = [rpm, "-q", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n", *names]
    elif dpkg_query:
        command = [dpkg_query, "-W", "-f", "${Package}\t${Version}\t${db:Status-Status}\n", *names]
    else:
        return versions
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    for line in proc.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2 and fields[0] in versions and (len(fields) < 3 or fields[2] == "installed"):
            versions[fields[0]] = fields[1]
    return versions


def package_owners(paths: Sequence[str], timeout: float = 120) -> Dict[str, str | None]:
    """The package that owns each file (None: no package does), from rpm or dpkg, in one call."""
    owners: Dict[str, str | None] = {path: None for path in paths}
    rpm, dpkg_query = shutil.which("rpm"), shutil.which("dpkg-query")
    if not paths or not (rpm or dpkg_query):
        return owners
    if rpm and not dpkg_query:
        proc = subprocess.run(
            [rpm, "-qf", "--qf", "%{NAME}\n", *paths], capture_output=True, text=True, timeout=timeout, check=False
        )
        # One line per file, in order: the package, or "file ... is not owned by any package".
        for path, line in zip(paths, proc.stdout.splitlines()):
            if " " not in line.strip():
                owners[path] = line.strip()
        return owners
    proc = subprocess.run([dpkg_query, "-S", *paths], capture_output=True, text=True, timeout=timeout, check=False)
    for line in proc.stdout.splitlines():
        packages, _sep, path = line.partition(": ")
        if path in owners:
            owners[path] = packages.split(",")[0].strip()
    return owners


def modified_package_files(packages: Sequence[str], timeout: float = 300) -> List[str]:
    """Configuration files of ``packages`` whose content differs from the package's (``rpm -V``)."""
    rpm = shutil.which("rpm")
    if not packages or not rpm or shutil.which("dpkg-query"):
        return []
    proc = subprocess.run(
        [rpm, "-V", "--nodeps", "--noscripts", "--nomtime", "--nouser", "--nogroup", "--nomode", *packages],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    found = []
    for line in proc.stdout.splitlines():
        # "S.5......  c /etc/condor-ce/mapfiles.d/10-scitokens.conf": 5 is the digest column.
        match = re.match(r"^([.?A-Za-z]{9})\s+([cdglr]?)\s+(/.*)$", line)
        if match and match.group(1)[2] == "5" and match.group(2) == "c":
            found.append(match.group(3))
    return found


# condor_upgrade_check -v (htcondor/htcondor src/condor_scripts/condor_upgrade_check, v24.12.23 and
# v25.13.2): "Check <name> [<TAG>] failed" for each failed check; it exits 0 whatever it finds.
_FAILED_CHECK_RE = re.compile(r"^\s*Check (.+?) \[([A-Za-z0-9_-]+)\s*\] failed\s*$", re.M)


def run_upgrade_check(command: str, timeout: float = 300) -> Dict[str, Any] | None:
    """What ``<command> --all -v`` reports: its failed checks and its whole output.

    None when the command is not installed. ``condor_ce_upgrade_check`` is
    ``condor_upgrade_check -ce`` (htcondor-ce src/condor_ce_upgrade_check, v24.10.1).
    Both exit 0 whatever they find, so the output is what tells; without
    ``--all`` they would run only the checks for the next major version.
    """
    executable = shutil.which(command)
    if executable is None:
        return None
    try:
        proc = subprocess.run([executable, "--all", "-v"], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"command": command, "rc": None, "failed": [], "output": f"timed out after {timeout} s"}
    output = (proc.stdout + proc.stderr).strip()
    failed = [{"name": name, "tag": tag} for name, tag in _FAILED_CHECK_RE.findall(output)]
    return {"command": command, "rc": proc.returncode, "failed": failed, "output": output}
