# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Turn what ``site_facts`` read on a running host into role variables and an audit.

:func:`adopt` is the whole job: for an Access Point (role ``access_point``), an
HTCondor-CE (role ``htcondor_ce``) or an HTCondor-CE-Bosco (role ``ce_bosco``)
it returns the variables that make the role reproduce the effective configuration, and one audit item for each
deprecated, risky or upgrade-blocking thing found and for each setting the
variables do not carry. Items are dicts ``{id, severity, where, what, fix}``;
``severity`` is one of :data:`SEVERITIES`.

Nothing here reads a secret: the facts hold token claims, never tokens.
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from ansible_collections.osg_htc.site.plugins.module_utils._resource_catalog import PILOT_KEYS
from ansible_collections.osg_htc.site.plugins.module_utils._route_conversion import _boolean

SEVERITIES = ("upgrade", "deprecated", "risky", "kept", "differs", "info")

# What the OSG upgrade notes ask for before each HTCondor series step, per
# channel (LTS x.0.y, feature x.y.z): HTCondor 23.0.17 or 23.10.2 before 24,
# 24.0.13 or 24.12.4 before 25.
MINIMUM_BEFORE = {
    23: {"lts": (23, 0, 17), "feature": (23, 10, 2)},
    24: {"lts": (24, 0, 13), "feature": (24, 12, 4)},
}
GSI_PACKAGES = ("lcmaps", "lcmaps-plugins-voms", "vo-client-lcmaps-voms", "gums-client")
BATCHES = ("condor", "pbs", "slurm", "lsf", "sge", "bosco")
OSPOOL_ISSUER = "flock.opensciencegrid.org"
BANNED_SUFFIX = "@banned.htcondor.org"
# What the access_point role installs for host_preflight (roles/access_point/vars/RedHat.yml, Debian.yml).
PREFLIGHT_PACKAGES = ("python3-psutil", "python3-dns", "python3-dnspython")
ROLE_REQUIREMENT = "OSGHTCRequireProjectName"
ROLE_TRANSFORM = "OSGHTCDefaultProjectName"
# Packaged files the OSG procedures (and the roles, osg-configure) edit in place by design: not audited as edited.
EDITED_BY_DESIGN = ("/etc/blah.config", "/etc/gratia/*/ProbeConfig", "/etc/osg/config.d/*.ini")
# Names a role computes from its own variables, never carried as extra settings.
AP_COMPUTED = {"condor_host", "flock_to", "sec_token_system_directory"}
CE_COMPUTED = {"condorce_max_jobs", "job_router_route_names", "job_router_entries", "job_router_defaults"}
# Names that only say where HTCondor reads configuration from: never carried.
NEVER_CARRIED = {
    "local_config_dir",
    "local_config_file",
    "local_config_dir_exclude_regexp",
    "require_local_config_file",
}


def item(id_: str, severity: str, where: str, what: str, fix: str) -> Dict[str, str]:
    return {"id": id_, "severity": severity, "where": where, "what": what, "fix": fix}


def _version(text: Any) -> Tuple[int, ...] | None:
    match = re.match(r"^\s*(\d+)\.(\d+)\.(\d+)", str(text or ""))
    return tuple(int(part) for part in match.groups()) if match else None


def _split(value: Any) -> List[str]:
    return [word for word in re.split(r"[\s,]+", str(value or "")) if word]


def _text(value: Any) -> str:
    """An effective value as a configuration value: HTCondor's bindings give booleans and numbers typed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _unquote(text: str) -> str | None:
    """The text of a ClassAd string literal, or None when ``text`` is not one."""
    match = re.match(r'^\s*"((?:[^"\\]|\\.)*)"\s*$', text or "")
    return re.sub(r"\\(.)", r"\1", match.group(1)) if match else None


def _read_order(path: str, dirs: Sequence[str]) -> Tuple[int, str]:
    """Where HTCondor reads ``path``: its LOCAL_CONFIG_DIR's index and name; other files come after."""
    directory = os.path.dirname(path)
    for index, candidate in enumerate(dirs):
        if os.path.normpath(candidate) == os.path.normpath(directory):
            return index, os.path.basename(path)
    return len(dirs), path


# --- common to every host ---------------------------------------------------------------------------------


def common_audit(facts: Mapping[str, Any], now: float | None = None) -> List[Dict[str, str]]:
    """What any adopted host is audited for: leftovers, GSI, packages, tokens, upgrade readiness."""
    audit = []
    now = time.time() if now is None else now
    packages = facts.get("packages") or {}
    for path in facts.get("leftovers") or []:
        original = re.sub(r"\.(rpmnew|rpmsave|dpkg-dist|dpkg-old)$", "", path)
        audit.append(
            item(
                "package-leftover",
                "risky",
                path,
                f"a package update left this file beside {original}; HTCondor does not read it",
                f"compare it with {original}, merge what is needed, then remove it",
            )
        )
    for info in facts.get("gsi_files") or []:
        audit.append(
            item(
                "gsi-leftover",
                "deprecated",
                info["path"],
                "a file of the GSI/GUMS/LCMAPS era; HTCondor-CE 24 and HTCondor 24 have no GSI authentication",
                "map SciTokens (htcondor_ce_scitokens_mappings) or SSL (htcondor_ce_ssl_mappings) instead, then "
                "remove it",
            )
        )
    for name in GSI_PACKAGES:
        if packages.get(name):
            audit.append(
                item(
                    "gsi-package",
                    "deprecated",
                    f"package {name} {packages[name]}",
                    "a package of the GSI/LCMAPS era, unused since HTCondor-CE 6",
                    f"remove the package {name}",
                )
            )
    if packages.get("htcondor-ce-bdii"):
        audit.append(
            item(
                "bdii",
                "deprecated",
                f"package htcondor-ce-bdii {packages['htcondor-ce-bdii']}",
                "the BDII information provider; OSG dropped the BDII",
                "remove the package htcondor-ce-bdii and its configuration",
            )
        )
    config_files = {info["path"] for key in ("condor", "ce") for info in (facts.get(key) or {}).get("files") or []}
    for path in facts.get("modified_package_files") or []:
        # A configuration file is reported with its settings (carried_settings).
        if path in config_files or any(fnmatch.fnmatch(path, pattern) for pattern in EDITED_BY_DESIGN):
            continue
        audit.append(
            item(
                "edited-package-file",
                "kept",
                path,
                "a packaged configuration file edited in place; updates then leave the new version as .rpmnew",
                "keep the changes in the role's variables (see the adopted ones) and restore the packaged file "
                "(dnf reinstall, or rpm's .rpmnew)",
            )
        )
    for script in facts.get("v1_binding_scripts") or []:
        audit.append(
            item(
                "python-bindings-v1",
                "upgrade",
                f"{script['path']}:{script['line']}",
                f"imports the version 1 HTCondor Python bindings ({script['text']}), which HTCondor 25 removes",
                "port it to htcondor2/classad2 before upgrading to HTCondor 25",
            )
        )
    audit.extend(_token_audit(facts.get("tokens") or [], now))
    audit.extend(_upgrade_audit(facts))
    for config_key, label in (("condor", "HTCondor"), ("ce", "HTCondor-CE")):
        config = facts.get(config_key)
        if not config:
            continue
        if config.get("error"):
            audit.append(
                item(
                    "config-unreadable",
                    "risky",
                    config["config_root"],
                    f"{label}'s configuration could not be read: {config['error']}",
                    "fix the configuration (or install the HTCondor Python bindings) and adopt again",
                )
            )
        for note in config.get("notes") or []:
            audit.append(item("config-not-read", "kept", config["config_root"], note, "nothing adopted from it"))
        values = config.get("values") or {}
        for name, value in values.items():
            if "AUTHENTICATION_METHODS" in name.upper() and "GSI" in _split(str(value or "").upper()):
                audit.append(
                    item(
                        "gsi-authentication",
                        "deprecated",
                        f"{label} {name}",
                        f"{name} = {value} names GSI, which HTCondor 24 no longer has",
                        f"remove GSI from {name}",
                    )
                )
        for info in config.get("files") or []:
            bdii = [name for name in info.get("sets", []) if "bdii" in name.lower()]
            if bdii:
                audit.append(
                    item(
                        "bdii",
                        "deprecated",
                        info["path"],
                        f"BDII settings ({', '.join(bdii)}); OSG dropped the BDII",
                        "remove them",
                    )
                )
    return audit


def _token_audit(tokens: Sequence[Mapping[str, Any]], now: float) -> List[Dict[str, str]]:
    audit = []
    for info in tokens:
        path = info["path"]
        mode = int(info["mode"], 8)
        if mode & 0o077 or info["owner"] != "root":
            audit.append(
                item(
                    "token-permissions",
                    "risky",
                    path,
                    f"a token file owned by {info['owner']}:{info['group']} with mode {info['mode']}: anyone who can "
                    "read it can act as this host",
                    "chown root:root and chmod 0600 (the roles install tokens so)",
                )
            )
        for token in info.get("tokens") or []:
            if "error" in token:
                audit.append(
                    item("token-unreadable", "risky", f"{path} line {token['line']}", token["error"], "replace it")
                )
                continue
            exp = token["claims"].get("exp")
            if isinstance(exp, (int, float)) and exp < now:
                audit.append(
                    item(
                        "token-expired",
                        "risky",
                        f"{path} line {token['line']}",
                        f"the token of {token['claims'].get('iss')} expired at "
                        f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(exp))}",
                        "ask its issuer for a new one",
                    )
                )
    return audit


def _upgrade_audit(facts: Mapping[str, Any]) -> List[Dict[str, str]]:
    audit = []
    packages = facts.get("packages") or {}
    current = None
    for source in (packages.get("condor"), packages.get("htcondor")):
        current = current or _version(source)
    if current is None:
        for config_key in ("condor", "ce"):
            current = current or _version(((facts.get(config_key) or {}).get("values") or {}).get("CONDOR_VERSION"))
    if current is not None:
        shown = ".".join(map(str, current))
        step = MINIMUM_BEFORE.get(current[0])
        if step is None:
            audit.append(
                item(
                    "upgrade-gate",
                    "info",
                    f"HTCondor {shown}",
                    f"no next series step is known for HTCondor {current[0]}",
                    "nothing to do",
                )
            )
        else:
            channel = "lts" if current[1] == 0 else "feature"
            needed = step[channel]
            ready = current >= needed
            audit.append(
                item(
                    "upgrade-gate",
                    "info" if ready else "upgrade",
                    f"HTCondor {shown}",
                    f"before the step to the {current[0] + 1} series, the {channel} channel needs "
                    f"{'.'.join(map(str, needed))} or later: {'met' if ready else 'not met'}",
                    "nothing to do"
                    if ready
                    else f"update to {'.'.join(map(str, needed))} first, then step one series at a time",
                )
            )
    for command, report in sorted((facts.get("upgrade_checks") or {}).items()):
        if report.get("rc") not in (0,):
            audit.append(
                item(
                    "upgrade-check-failed",
                    "risky",
                    command,
                    f"{command} --all -v did not finish (exit {report.get('rc')}): {report.get('output', '')[:300]}",
                    "run it by hand and read its output",
                )
            )
        for check in report.get("failed") or []:
            audit.append(
                item(
                    f"upgrade-check-{check['tag'].lower()}",
                    "upgrade",
                    command,
                    f"{command} reports: {check['name']} [{check['tag']}]",
                    f"run {command} --only {check['tag']} for the details and fix what it names",
                )
            )
    return audit


# --- carrying settings ------------------------------------------------------------------------------------


def carried_settings(
    config: Mapping[str, Any],
    owners: Mapping[str, Any],
    edited: Sequence[str],
    role_files: Sequence[str],
    role_file: str,
    computed: set,
    variable: str,
) -> Tuple[Dict[str, str], List[Dict[str, str]]]:
    """The settings of the site's own config files, and an audit item per file.

    The site's own: not a package's (unless ``edited``, a packaged file changed in place), not the
    role's, not written by a tool (osg-configure's generated files).

    A name that adds to its own value (``NAME = $(NAME) more``) is carried only from a file HTCondor
    reads before ``role_file``: from a later file, its expanded value in the role's file would be added to
    twice.
    """
    values = config.get("values") or {}
    dirs = config.get("dirs") or []
    settings: Dict[str, str] = {}
    audit = []
    role_order = _read_order(role_file, dirs)
    for info in config.get("files") or []:
        path = info["path"]
        if (owners.get(path) and path not in edited) or path in role_files or info.get("generated_by"):
            continue
        carried, left, own = [], [], []
        after_role = _read_order(path, dirs) > role_order
        adds = {name.lower() for name in info.get("adds", [])}
        for name in info.get("sets", []):
            folded = name.lower()
            if folded in NEVER_CARRIED:
                continue
            if folded in computed:
                own.append(name)
                continue
            if folded in adds and after_role:
                left.append(name)
                continue
            value = values.get(name)
            if value is None:
                left.append(name)
                continue
            settings[name] = _text(value)
            carried.append(name)
        count = len(info.get("sets", []))
        if owners.get(path):
            id_ = "edited-package-file"
            what = (
                f"a file of the package {owners[path]}, edited in place ({count} names); updates then leave the new "
                "version as .rpmnew"
            )
            fix = "once the role has converged with the adopted variables, restore the packaged file"
        else:
            id_ = "local-config-file"
            what = f"a local configuration file of the site; the role leaves it in place ({count} names)"
            fix = "once the role has converged with the adopted variables, remove the file"
        details = []
        if own:
            details.append(f"the role sets from its own variables: {', '.join(own)}")
        if carried:
            details.append(f"carried in {variable}: {', '.join(carried)}")
        if left:
            details.append(
                f"not carried (it adds to its own value and is read after the role's file, or is undefined): "
                f"{', '.join(left)}"
            )
            fix = f"keep the file, or move {', '.join(left)} into {variable} by hand, then remove it"
        if info.get("uses"):
            details.append(f"metaknobs not carried: {'; '.join(info['uses'])}")
            fix = "keep the file for its metaknobs (use lines), or write them into a file of your own"
        audit.append(item(id_, "kept", path, "; ".join([what, *details]), fix))
    return settings, audit


def role_file_items(missing: Sequence[Tuple[str, str]]) -> List[Dict[str, str]]:
    """A ``differs`` item for each file the role writes that is not there yet: ``(path, what it holds)``."""
    return [
        item(
            "role-file",
            "differs",
            path,
            f"the role writes {what} into this file, which is not there yet; what HTCondor reads stays the same",
            "nothing to do: a converge writes it (--check --diff shows it)",
        )
        for path, what in missing
    ]


def _defaults_differ(out: Dict[str, Any], defaults: Mapping[str, Any], name: str, value: Any) -> None:
    """Set ``out[name]`` only when ``value`` is not the role's default."""
    if defaults.get(name) != value:
        out[name] = value


# --- Access Point ------------------------------------------------------------------------------------------


def adopt_access_point(facts: Mapping[str, Any], defaults: Mapping[str, Any]) -> Dict[str, Any]:
    """access_point variables from HTCondor's effective configuration, the token directory and the ProbeConfig."""
    variables: Dict[str, Any] = {}
    audit: List[Dict[str, str]] = []
    config = facts.get("condor") or {}
    values = config.get("values") or {}
    packages = facts.get("packages") or {}
    fqdn = facts.get("fqdn") or ""
    if not config or config.get("error"):
        return {"vars": variables, "audit": audit, "tokens": []}

    flock_to = _split(values.get("FLOCK_TO"))
    condor_host = _split(values.get("CONDOR_HOST"))
    if flock_to:
        variables["access_point_mode"] = "flocking"
        variables["access_point_local_central_manager"] = ", ".join(condor_host)
        _defaults_differ(variables, defaults, "access_point_ospool_central_managers", flock_to)
    else:
        _defaults_differ(variables, defaults, "access_point_mode", "ospool_direct")
        _defaults_differ(variables, defaults, "access_point_ospool_central_managers", condor_host)

    if packages.get("osg-flock"):
        audit.append(
            item(
                "osg-flock",
                "deprecated",
                f"package osg-flock {packages['osg-flock']}",
                "osg-flock is the OSG 23 way to flock to the OSPool; OSG 24 ships ospool-ap",
                "let the access_point role install ospool-ap (it replaces osg-flock)",
            )
        )

    # The OSPool token: where it is, never what it is.
    token_dir = values.get("SEC_TOKEN_SYSTEM_DIRECTORY") or ""
    ospool = [
        info
        for info in facts.get("tokens") or []
        if os.path.dirname(info["path"]) == token_dir
        and any((t.get("claims") or {}).get("iss") == OSPOOL_ISSUER for t in info.get("tokens") or [])
    ]
    tokens = [{"path": info["path"], "claims": [t.get("claims") for t in info["tokens"]]} for info in ospool]
    if ospool:
        _defaults_differ(variables, defaults, "access_point_token_path", ospool[0]["path"])
        audit.append(
            item(
                "token-source",
                "info",
                ospool[0]["path"],
                "the OSPool token; adopt never copies a token",
                "give the role the same token from your vault: access_point_token or access_point_token_file",
            )
        )
    else:
        audit.append(
            item(
                "token-missing",
                "risky",
                token_dir or "SEC_TOKEN_SYSTEM_DIRECTORY",
                f"no token of {OSPOOL_ISSUER} in the token directory: the Access Point cannot reach the OSPool",
                "request one from OSG and give it to the role (access_point_token or access_point_token_file)",
            )
        )

    # The ProjectName policy: the role's own, or the site's, or none.
    requirements = _split(values.get("SUBMIT_REQUIREMENT_NAMES"))
    policy = None
    for name in requirements:
        expression = _text(values.get(f"SUBMIT_REQUIREMENT_{name}") or "")
        if "projectname" in expression.lower():
            policy = name
            break
    if policy == ROLE_REQUIREMENT:
        variables["access_point_require_project_name"] = True
        reason = _unquote(_text(values.get(f"SUBMIT_REQUIREMENT_{ROLE_REQUIREMENT}_REASON") or ""))
        if reason is not None:
            _defaults_differ(variables, defaults, "access_point_project_name_reason", reason)
    elif policy is None:
        audit.append(
            item(
                "project-name-policy",
                "risky",
                "SUBMIT_REQUIREMENT_NAMES",
                "no submit requirement asks for ProjectName; the OSPool runs only jobs of a registered project",
                "set access_point_require_project_name: true",
            )
        )
    else:
        _defaults_differ(variables, defaults, "access_point_require_project_name", False)
        audit.append(
            item(
                "project-name-policy-own",
                "info",
                f"SUBMIT_REQUIREMENT_{policy}",
                "the site's own submit requirement asks for ProjectName; it is carried as it is",
                "keep it, or replace it by access_point_require_project_name: true",
            )
        )
    transform = str(values.get(f"JOB_TRANSFORM_{ROLE_TRANSFORM}") or "")
    match = re.search(r'DEFAULT\s+ProjectName\s+("(?:[^"\\]|\\.)*")', transform)
    if match and _unquote(match.group(1)):
        variables["access_point_default_project_name"] = _unquote(match.group(1))

    # Gratia.
    probe = (facts.get("probe_configs") or {}).get("/etc/gratia/condor-ap/ProbeConfig")
    if probe and "error" not in probe:
        site = probe.get("SiteName") or ""
        if site and site.lower() != "generic site":
            variables["access_point_gratia_site_name"] = site
        probe_name = probe.get("ProbeName") or ""
        if probe_name and probe_name != f"condor-ap:{fqdn}":
            variables["access_point_gratia_probe_name"] = probe_name
            if "localhost" in probe_name:
                audit.append(
                    item(
                        "gratia-probe-name",
                        "risky",
                        "/etc/gratia/condor-ap/ProbeConfig ProbeName",
                        f"ProbeName is {probe_name}, the packaged placeholder, not this host: OSG accounting "
                        "cannot tell this Access Point's records from others'",
                        "remove access_point_gratia_probe_name from the adopted variables (the role then writes "
                        f"condor-ap:{fqdn})",
                    )
                )
        vo_override = probe.get("VOOverride")
        if vo_override is not None:
            _defaults_differ(variables, defaults, "access_point_gratia_vo_override", vo_override)
    elif not packages.get("gratia-probe-condor-ap"):
        variables["access_point_manage_gratia"] = False
        audit.append(
            item(
                "gratia-missing",
                "risky",
                "package gratia-probe-condor-ap",
                "no Gratia probe: the OSPool's accounting does not see this Access Point's jobs",
                "set access_point_manage_gratia: true and access_point_gratia_site_name",
            )
        )

    role_file = defaults.get("access_point_config_file") or ""
    computed = set(AP_COMPUTED)
    if variables.get("access_point_require_project_name"):
        computed |= {
            "submit_requirement_names",
            f"submit_requirement_{ROLE_REQUIREMENT}".lower(),
            f"submit_requirement_{ROLE_REQUIREMENT}_reason".lower(),
        }
    if "access_point_default_project_name" in variables:
        computed |= {"job_transform_names", f"job_transform_{ROLE_TRANSFORM}".lower()}
    settings, found = carried_settings(
        config,
        facts.get("package_owners") or {},
        facts.get("modified_package_files") or [],
        [role_file],
        role_file,
        computed,
        "access_point_extra_config",
    )
    if settings:
        variables["access_point_extra_config"] = settings
    audit.extend(found)
    present = {info["path"] for info in config.get("files") or []}
    if role_file not in present:
        audit.extend(role_file_items([(role_file, "the Access Point's settings")]))
    libraries = [name for name in PREFLIGHT_PACKAGES if name in packages and not packages[name]]
    if libraries and defaults.get("access_point_manage_packages", True):
        audit.append(
            item(
                "role-packages",
                "differs",
                f"packages {', '.join(libraries)}",
                "the role installs these Python libraries for its preflight checks (host_preflight)",
                "nothing to do: a converge installs them (or set access_point_manage_packages: false)",
            )
        )
    return {"vars": variables, "audit": audit, "tokens": tokens}


# --- HTCondor-CE --------------------------------------------------------------------------------------------

# A map file principal the role can write: /^<literal>,<literal>?$?/ (SciTokens) or /^<literal>$/ (SSL).
_UNESCAPE_RE = re.compile(r"\\(.)")
_REGEX_META = set(".^$*+?()[]{}|")


def _literal(pattern: str) -> Tuple[str | None, bool]:
    """The literal text a regex part matches, and whether an unescaped '.' was read as a dot; None if not literal."""
    out, loose, index = [], False, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            nxt = pattern[index + 1]
            if nxt.isalnum():
                return None, loose
            out.append(nxt)
            index += 2
            continue
        if char == ".":
            loose = True
            out.append(".")
        elif char in _REGEX_META:
            return None, loose
        else:
            out.append(char)
        index += 1
    return "".join(out), loose


def mapping_of(line: Mapping[str, str]) -> Tuple[Dict[str, Any] | None, str | None]:
    """The role mapping of one map file line, or (None, why not)."""
    method, principal, user = line["method"].upper(), line["principal"], line["user"]
    if not (principal.startswith("/") and principal.endswith("/")):
        return None, "its principal is not a /regex/"
    body = principal[1:-1]
    banned = user.endswith(BANNED_SUFFIX)
    user = user[: -len(BANNED_SUFFIX)] if banned else user
    if not re.match(r"^[a-z_][a-z0-9_.-]{0,31}$", user):
        return None, f"{user!r} is not a local user name the role can map to"
    if not body.startswith("^"):
        return None, "its regex is not anchored with ^"
    body = body[1:]
    loose = False
    if method == "SCITOKENS":
        # issuer, a comma, then the subject with $ or nothing (any subject).
        split = re.match(r"^((?:\\.|[^\\,])*),(.*)$", body)
        if not split:
            return None, "its regex has no ',' between issuer and subject"
        issuer, loose_issuer = _literal(split.group(1))
        subject_part = split.group(2)
        subject, loose_subject = ("", False)
        if subject_part:
            if not subject_part.endswith("$"):
                return None, "its subject is not anchored with $"
            subject, loose_subject = _literal(subject_part[:-1])
        if not issuer or subject is None:
            return None, "its regex is not a literal issuer and subject"
        mapping = {"issuer": issuer, "user": user}
        if subject:
            mapping["subject"] = subject
        loose = loose_issuer or loose_subject
    elif method == "SSL":
        if not body.endswith("$"):
            return None, "its DN is not anchored with $"
        dn, loose = _literal(body[:-1])
        if not dn:
            return None, "its regex is not a literal DN"
        mapping = {"dn": dn, "user": user}
    else:
        return None, f"the role maps SCITOKENS and SSL, not {method}"
    if banned:
        mapping["banned"] = True
    return mapping, ("an unescaped '.' is read as a literal dot (the role escapes it)" if loose else None)


def adopt_htcondor_ce(facts: Mapping[str, Any], defaults: Mapping[str, Any]) -> Dict[str, Any]:
    """htcondor_ce variables from the CE's effective configuration, map files, blah.config, ProbeConfig, INI files."""
    variables: Dict[str, Any] = {}
    audit: List[Dict[str, str]] = []
    config = facts.get("ce") or {}
    values = config.get("values") or {}
    packages = facts.get("packages") or {}
    owners = facts.get("package_owners") or {}
    if not config or config.get("error"):
        return {"vars": variables, "audit": audit, "tokens": []}

    batch = next((b for b in BATCHES if packages.get(f"osg-ce-{b}") or packages.get(f"htcondor-ce-{b}")), None)
    if batch is None:
        audit.append(
            item(
                "batch-unknown",
                "risky",
                "packages",
                "no osg-ce-<batch> or htcondor-ce-<batch> package is installed",
                "set htcondor_ce_batch by hand",
            )
        )
    else:
        variables["htcondor_ce_batch"] = batch
        style = "osg" if packages.get(f"osg-ce-{batch}") else "htcondor-ce"
        _defaults_differ(variables, defaults, "htcondor_ce_packages_style", style)

    _adopt_routes(config, owners, packages, variables, audit)
    _adopt_mappings(facts, defaults, variables, audit)

    # blah.config: the batch client's directory.
    blah = facts.get("blah_config") or {}
    if batch in ("pbs", "slurm", "lsf", "sge") and blah.get(f"{batch}_binpath"):
        _defaults_differ(variables, defaults, "htcondor_ce_batch_binpath", blah[f"{batch}_binpath"])

    # Gratia.
    probe = (facts.get("probe_configs") or {}).get("/etc/gratia/htcondor-ce/ProbeConfig")
    if probe and "error" not in probe:
        site = probe.get("SiteName") or ""
        if site and site.lower() != "generic site":
            variables["htcondor_ce_site_name"] = site
        suppress = probe.get("SuppressNoDNRecords")
        if suppress is not None:
            wanted = suppress == "1"
            if wanted != (batch != "condor"):
                variables["htcondor_ce_gratia_suppress_no_dn_records"] = wanted

    # Draining and the job limit.
    max_jobs = values.get("CONDORCE_MAX_JOBS")
    if max_jobs is not None and str(max_jobs).strip().isdigit():
        if int(max_jobs) == 0:
            variables["htcondor_ce_drain"] = True
            audit.append(
                item(
                    "draining",
                    "info",
                    "CONDORCE_MAX_JOBS",
                    "the CE is draining (CONDORCE_MAX_JOBS = 0); adopted as htcondor_ce_drain: true",
                    "set htcondor_ce_drain: false (and htcondor_ce_max_jobs) to take jobs again",
                )
            )
        else:
            _defaults_differ(variables, defaults, "htcondor_ce_max_jobs", int(max_jobs))

    _adopt_osg_configure(facts, defaults, variables, audit)

    role_file = defaults.get("htcondor_ce_config_file") or ""
    role_files = [role_file, defaults.get("htcondor_ce_routes_file") or ""]
    computed = set(CE_COMPUTED) | {name.lower() for name in values if name.upper().startswith("JOB_ROUTER_ROUTE_")}
    edited = facts.get("modified_package_files") or []
    settings, found = carried_settings(config, owners, edited, role_files, role_file, computed, "htcondor_ce_config")
    if settings:
        variables["htcondor_ce_config"] = settings
    audit.extend(found)
    present = {info["path"] for info in config.get("files") or []}
    present |= {info["path"] for info in facts.get("mapfiles") or []} | set(facts.get("osg_configure") or {})
    wanted = [
        (role_file, "the CE's settings"),
        (defaults.get("htcondor_ce_routes_file") or "", "the job routes"),
        (defaults.get("htcondor_ce_mapfile") or "", "the SciTokens and SSL mappings"),
    ]
    style = variables.get("htcondor_ce_packages_style", defaults.get("htcondor_ce_packages_style", "osg"))
    if style == "osg" and batch not in (None, "bosco"):
        wanted.append((defaults.get("htcondor_ce_osg_configure_file") or "", "osg-configure's settings (then runs it)"))
    audit.extend(role_file_items([(path, what) for path, what in wanted if path and path not in present]))
    return {"vars": variables, "audit": audit, "tokens": []}


def _route_commands(text: Any) -> List[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def _old_routes_live(values: Mapping[str, Any], packages: Mapping[str, Any]) -> bool:
    """Whether the router reads JOB_ROUTER_ENTRIES: only an HTCondor before 24.10.2 (24.0 LTS) with the knob set.

    HTCondor 24.10.2 and later (25 too) dropped the old syntax and the knob
    (htcondor/htcondor src/condor_job_router/JobRouter.cpp, v24.12.23; v24.0.13 still reads it).
    """
    knob = values.get("JOB_ROUTER_USE_DEPRECATED_ROUTER_ENTRIES")
    if knob is None or not _boolean(_text(knob)):
        return False
    version = _version(packages.get("condor") or packages.get("htcondor") or values.get("CONDOR_VERSION"))
    return version is None or version < (24, 10, 2)


def _adopt_routes(config, owners, packages, variables, audit) -> None:
    values = config.get("values") or {}
    names = _split(values.get("JOB_ROUTER_ROUTE_NAMES"))
    setters = [
        info["path"]
        for info in config.get("files") or []
        if any(name.upper() == "JOB_ROUTER_ROUTE_NAMES" for name in info.get("sets", []))
    ]
    site_routes = any(not owners.get(path) for path in setters)
    if site_routes:
        variables["htcondor_ce_routes"] = [
            {"name": name, "commands": _route_commands(values.get(f"JOB_ROUTER_ROUTE_{name}"))} for name in names
        ]
    old = config.get("old_routes")
    if not old:
        return
    if old.get("error"):
        audit.append(
            item(
                "old-route-syntax",
                "deprecated",
                "JOB_ROUTER_ENTRIES",
                f"routes in the old syntax that could not be converted: {old['error']}",
                "rewrite them in the new syntax as htcondor_ce_routes, then remove JOB_ROUTER_ENTRIES",
            )
        )
        return
    converted = old.get("routes") or []
    live = _old_routes_live(values, packages)
    problems = "; ".join(old.get("problems") or [])
    entry = item(
        "old-route-syntax",
        "deprecated",
        "JOB_ROUTER_ENTRIES",
        (
            "routes in the old JOB_ROUTER_ENTRIES syntax, live only because JOB_ROUTER_USE_DEPRECATED_ROUTER_ENTRIES "
            "is set on an HTCondor that still reads it; adopted, converted, as htcondor_ce_routes"
            if live
            else "routes in the old JOB_ROUTER_ENTRIES syntax, which HTCondor-CE 24 does not read (the CE routes "
            f"with {', '.join(names) or 'no route'}); not adopted"
        )
        + (f"; conversion problems: {problems}" if problems else ""),
        "converging writes them in the new syntax; then remove JOB_ROUTER_ENTRIES"
        if live
        else "to route with them again, review the converted routes (converted_routes here) and put them in "
        "htcondor_ce_routes; then remove JOB_ROUTER_ENTRIES",
    )
    entry["converted_routes"] = converted
    audit.append(entry)
    if live and not problems:
        variables["htcondor_ce_routes"] = converted
    for name, same in sorted((old.get("same_as_live") or {}).items()):
        if not same:
            audit.append(
                item(
                    "route-shadowed",
                    "risky",
                    f"route {name}",
                    "a new-syntax route has the name of an old-syntax route and says something else: the new one "
                    "replaced the old one without a word",
                    "compare the two (converted_routes of old-route-syntax) and keep the one meant",
                )
            )


def _adopt_mappings(facts, defaults, variables, audit) -> None:
    role_mapfile = defaults.get("htcondor_ce_mapfile") or ""
    scitokens, ssl, users = [], [], {}
    for info in facts.get("mapfiles") or []:
        path = info["path"]
        if path == role_mapfile or path.startswith("/usr/share/"):
            continue
        for unparsed in info.get("unparsed") or []:
            audit.append(
                item(
                    "mapfile-line",
                    "kept",
                    f"{path} line {unparsed['line']}",
                    "a map file line that is not METHOD principal user; not adopted",
                    "check it; the file stays in place",
                )
            )
        for line in info.get("lines") or []:
            where = f"{path} line {line['line']}"
            if line["method"].upper() == "GSI":
                audit.append(
                    item(
                        "gsi-mapping",
                        "deprecated",
                        where,
                        "a GSI mapping; HTCondor-CE 24 has no GSI",
                        "map the VO's SciTokens instead, then remove the line",
                    )
                )
                continue
            mapping, why = mapping_of(line)
            if mapping is None:
                audit.append(
                    item(
                        "mapping-not-adopted",
                        "kept",
                        where,
                        f"{line['method']} {line['principal']} {line['user']}: {why}",
                        "the line stays in its file; write it as a role mapping if it is a literal identity",
                    )
                )
                continue
            if why:
                audit.append(item("mapping-loose-regex", "info", where, why, "nothing to do unless it was meant"))
            (scitokens if "issuer" in mapping else ssl).append(mapping)
            if not mapping.get("banned"):
                account = (facts.get("users") or {}).get(mapping["user"])
                if account:
                    users[mapping["user"]] = account["uid"]
    if scitokens:
        variables["htcondor_ce_scitokens_mappings"] = scitokens
    if ssl:
        variables["htcondor_ce_ssl_mappings"] = ssl
    if users:
        variables["htcondor_ce_user_uids"] = users


def _adopt_osg_configure(facts, defaults, variables, audit) -> None:
    files = facts.get("osg_configure") or {}
    if not files:
        return
    role_file = defaults.get("htcondor_ce_osg_configure_file") or ""
    merged: Dict[str, Dict[str, str]] = {}
    for path, sections in sorted(files.items()):
        if path == role_file:
            continue
        if "error" in sections:
            audit.append(item("osg-configure-unreadable", "risky", path, sections["error"], "fix the file"))
            continue
        for section, options in sections.items():
            merged.setdefault(section, {}).update(options)

    def given(value):
        return value if value and value.strip().upper() not in ("UNAVAILABLE", "DEFAULT", "NONE") else None

    site = merged.get("Site Information", {})
    if given(site.get("resource_group")):
        variables["htcondor_ce_resource_group"] = site["resource_group"]
    if given(site.get("group")):
        _defaults_differ(variables, defaults, "htcondor_ce_osg_group", site["group"])
    if given(site.get("resource")) and "htcondor_ce_site_name" not in variables:
        variables["htcondor_ce_site_name"] = site["resource"]
    collectors = given(merged.get("Info Services", {}).get("ce_collectors"))
    if collectors and collectors.strip() not in ("PRODUCTION", "ITB"):
        variables["htcondor_ce_ce_collectors"] = _split(collectors)
    temp = given(merged.get("Storage", {}).get("worker_node_temp"))
    if temp:
        variables["htcondor_ce_worker_node_temp"] = temp
    pilots, extra = [], {}
    for section, options in merged.items():
        lowered = section.strip().lower()
        if lowered.startswith("pilot "):
            pilots.append(_pilot(section.strip()[len("pilot ") :].strip(), options))
        elif lowered.startswith(("subcluster ", "resource entry ")):
            extra[section] = dict(options)
        elif "bdii" in lowered or any("bdii" in key for key in options):
            audit.append(
                item(
                    "bdii",
                    "deprecated",
                    f"osg-configure [{section}]",
                    "BDII settings; OSG dropped the BDII",
                    "remove them",
                )
            )
    if pilots:
        variables["htcondor_ce_pilots"] = pilots
        _name_vos(pilots, variables.get("htcondor_ce_scitokens_mappings") or [], audit)
    if extra:
        variables["htcondor_ce_osg_configure_settings"] = extra


def _name_vos(pilots, mappings, audit) -> None:
    """Give a SciTokens mapping the ``vo`` a pilot entry allows, where the mapping's local user has the VO's name.

    The role checks each VO of ``allowed_vos`` against the mappings' ``vo`` keys; map files do not name
    VOs, but sites usually map a VO's pilots to an account of its name (assumption in docs/adopting.md).
    """
    for vo in sorted({vo for pilot in pilots for vo in pilot.get("allowed_vos") or [] if vo != "*"}):
        if any(mapping.get("vo") == vo for mapping in mappings):
            continue
        matching = [m for m in mappings if not m.get("banned") and m.get("user") == vo and "vo" not in m]
        if matching:
            for mapping in matching:
                mapping["vo"] = vo
            continue
        audit.append(
            item(
                "pilot-vo-unmapped",
                "risky",
                f"allowed_vos {vo}",
                f"a pilot entry allows the VO {vo}, but no SciTokens mapping maps to an account named {vo}: the "
                "role's preflight refuses a VO without a mapping",
                f"add vo: {vo} to the mapping its pilots arrive with (htcondor_ce_scitokens_mappings)",
            )
        )


def _pilot(name: str, options: Mapping[str, str]) -> Dict[str, Any]:
    """A ``[Pilot <name>]`` section as an entry of htcondor_ce_pilots, each value typed by its kind in PILOT_KEYS."""
    pilot: Dict[str, Any] = {"name": name}
    for key, value in options.items():
        text = value.strip()
        kind = PILOT_KEYS.get(key, (None, None))[0]
        if kind == "count" and re.fullmatch(r"\d+", text):
            pilot[key] = int(text)
        elif kind == "bool" and text.lower() in ("true", "false", "yes", "no", "1", "0"):
            pilot[key] = text.lower() in ("true", "yes", "1")
        elif kind == "vos":
            pilot[key] = [vo for vo in re.split(r"[\s,]+", text) if vo]
        else:
            pilot[key] = text
    return pilot


# --- HTCondor-CE-Bosco ------------------------------------------------------------------------------------------

# GridResource of a Bosco route: batch <batch> <user>@<host>[:port] (htcondor-ce 02-ce-bosco.conf, v24.10.1).
_BOSCO_GRID_RE = re.compile(r'GridResource\s*=\s*"batch\s+(\w+)\s+([^@\s"]+)@([^:\s"]+)(?::(\d+))?"', re.I)


def _default_route_name(remote_user: str, host: str) -> str:
    """The ce_bosco role's default route name, Bosco_<remote_user>_<host> with other characters as _."""
    return re.sub(r"[^A-Za-z0-9_]", "_", f"Bosco_{remote_user}_{host}")


def _host_matches(patterns: Sequence[str], host: str) -> bool:
    return any(fnmatch.fnmatch(host, pattern) for pattern in patterns if not pattern.startswith("!"))


def _known_host_keys(lines: Sequence[str], host: str, port: int) -> List[str]:
    name = host if port == 22 else f"[{host}]:{port}"
    keys = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 3 and not line.startswith(("#", "@")) and name in fields[0].split(","):
            keys.append(f"{fields[1]} {fields[2]}")
    return keys


def adopt_ce_bosco(facts: Mapping[str, Any], defaults: Mapping[str, Any]) -> Dict[str, Any]:
    """ce_bosco_endpoints from the live routes' GridResource and each local user's SSH side.

    The CE's own variables (mappings, Gratia) come from adopt_htcondor_ce; the routes, batch system and
    osg-configure are the ce_bosco role's, so they are left to it.
    """
    result = adopt_htcondor_ce(facts, defaults)
    variables = {
        key: value
        for key, value in result["vars"].items()
        if key
        not in (
            "htcondor_ce_batch",
            "htcondor_ce_routes",
            "htcondor_ce_packages_style",
            "htcondor_ce_batch_binpath",
            "htcondor_ce_osg_group",
            "htcondor_ce_resource_group",
            "htcondor_ce_worker_node_temp",
            "htcondor_ce_ce_collectors",
            "htcondor_ce_pilots",
            "htcondor_ce_osg_configure_settings",
        )
    }
    audit = [entry for entry in result["audit"] if entry["id"] not in ("role-file", "batch-unknown")]
    # BOSCO_RMS and BOSCO_ENDPOINT are the role's, from the endpoints.
    settings = {k: v for k, v in variables.pop("htcondor_ce_config", {}).items() if not k.upper().startswith("BOSCO_")}
    if settings:
        variables["htcondor_ce_config"] = settings
    values = (facts.get("ce") or {}).get("values") or {}
    users = facts.get("bosco") or {}
    endpoints = []
    for name in _split(values.get("JOB_ROUTER_ROUTE_NAMES")):
        match = _BOSCO_GRID_RE.search(str(values.get(f"JOB_ROUTER_ROUTE_{name}") or ""))
        if not match:
            continue
        batch, remote_user, host, port = match.group(1).lower(), match.group(2), match.group(3), match.group(4)
        port = int(port) if port else 22
        endpoint: Dict[str, Any] = {"remote_user": remote_user, "host": host, "batch": batch}
        if port != 22:
            endpoint["port"] = port
        if name != _default_route_name(remote_user, host):
            endpoint["route_name"] = name
        # The local user: the one whose ~/.bosco/.clusterlist or ~/.ssh/config names the endpoint.
        local = [
            user
            for user, side in sorted(users.items())
            if any(f"{remote_user}@{host}" in line for line in side.get("clusterlist") or [])
            or any(_host_matches(block["patterns"], host) for block in side.get("ssh_config") or [])
        ]
        where = f"route {name} ({remote_user}@{host})"
        if len(local) != 1:
            audit.append(
                item(
                    "bosco-local-user",
                    "risky",
                    where,
                    "no local user's ~/.bosco/.clusterlist or ~/.ssh/config names this endpoint"
                    if not local
                    else f"several local users name this endpoint: {', '.join(local)}",
                    "set local_user of this endpoint in ce_bosco_endpoints by hand",
                )
            )
            endpoints.append(endpoint)
            continue
        user = local[0]
        side = users[user]
        endpoint = {"local_user": user, **endpoint}
        block = next((b for b in side.get("ssh_config") or [] if _host_matches(b["patterns"], host)), None)
        if block and block["options"].get("proxyjump"):
            endpoint["proxy_jump"] = block["options"]["proxyjump"]
        keys = _known_host_keys(side.get("known_hosts") or [], host, port)
        if keys:
            endpoint["host_key"] = "\n".join(keys)
        else:
            audit.append(
                item(
                    "bosco-host-key",
                    "risky",
                    where,
                    f"no host key of {host} in {side['home']}/.ssh/known_hosts (or only hashed entries)",
                    "set host_key of this endpoint to the login node's public host key",
                )
            )
        key = side.get("key")
        if key:
            audit.append(
                item(
                    "bosco-key",
                    "info",
                    key["path"],
                    f"the SSH key of {user} ({key.get('fingerprint') or 'fingerprint unknown'}); adopt never copies "
                    "a key, and the role keeps the key that is there",
                    "to manage it, give ssh_private_key of the endpoint from your vault",
                )
            )
            if int(key["mode"], 8) & 0o077:
                audit.append(
                    item(
                        "bosco-key-permissions",
                        "risky",
                        key["path"],
                        f"the private key has mode {key['mode']}: ssh refuses a key others can read",
                        "chmod 0600 (the role installs keys so)",
                    )
                )
        endpoints.append(endpoint)
    if endpoints:
        variables["ce_bosco_endpoints"] = endpoints
    else:
        audit.append(
            item(
                "bosco-no-endpoint",
                "risky",
                "JOB_ROUTER_ROUTE_NAMES",
                'no route sends jobs to a remote cluster (GridResource = "batch <batch> <user>@<host>")',
                "set ce_bosco_endpoints by hand",
            )
        )
    return {"vars": variables, "audit": audit, "tokens": []}


# --- the whole job ------------------------------------------------------------------------------------------

ADOPTERS = {"access_point": adopt_access_point, "htcondor_ce": adopt_htcondor_ce, "ce_bosco": adopt_ce_bosco}


def adopt(facts: Mapping[str, Any], roles: Sequence[str], defaults: Mapping[str, Mapping[str, Any]], now=None):
    """The variables and audit of one host, for the roles it is adopted into (``access_point``, ``htcondor_ce``,
    ``ce_bosco``)."""
    variables: Dict[str, Any] = {}
    audit = common_audit(facts, now)
    tokens: List[Dict[str, Any]] = []
    for role in roles:
        # ce_bosco runs htcondor_ce with its own defaults on top.
        role_defaults = (
            {**(defaults.get("htcondor_ce") or {}), **(defaults.get(role) or {})}
            if role == "ce_bosco"
            else defaults.get(role) or {}
        )
        result = ADOPTERS[role](facts, role_defaults)
        variables.update(result["vars"])
        audit.extend(result["audit"])
        tokens.extend(result["tokens"])
    order = {severity: index for index, severity in enumerate(SEVERITIES)}
    audit.sort(key=lambda entry: (order[entry["severity"]], entry["id"], entry["where"]))
    return {"vars": variables, "audit": audit, "tokens": tokens}


def audit_text(host: str, audit: Sequence[Mapping[str, str]]) -> str:
    """The audit of one host as text: a line per item, its fix indented below it."""
    counts = {severity: sum(1 for entry in audit if entry["severity"] == severity) for severity in SEVERITIES}
    summary = ", ".join(f"{count} {severity}" for severity, count in counts.items() if count) or "nothing found"
    lines = [f"{host}: {summary}"]
    for entry in audit:
        lines.append(f"  [{entry['severity']}] {entry['id']}: {entry['where']}: {entry['what']}")
        lines.append(f"      fix: {entry['fix']}")
    return "\n".join(lines) + "\n"
