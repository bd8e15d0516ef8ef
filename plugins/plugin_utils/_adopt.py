# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Turn what ``site_facts`` read on a running host into role variables and an audit.

:func:`adopt` is the whole job: for an Access Point (role ``access_point``) or
an HTCondor-CE (role ``htcondor_ce``) it returns the variables that make the
role reproduce the effective configuration, and one audit item for each
deprecated, risky or upgrade-blocking thing found and for each setting the
variables do not carry. Items are dicts ``{id, severity, where, what, fix}``;
``severity`` is one of :data:`SEVERITIES`.

Nothing here reads a secret: the facts hold token claims, never tokens.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any, Dict, List, Mapping, Sequence, Tuple

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
ROLE_REQUIREMENT = "OSGHTCRequireProjectName"
ROLE_TRANSFORM = "OSGHTCDefaultProjectName"
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
    for path in facts.get("modified_package_files") or []:
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
    role_files: Sequence[str],
    role_file: str,
    computed: set,
    variable: str,
) -> Tuple[Dict[str, str], List[Dict[str, str]]]:
    """The settings of the site's own (unpackaged, not the role's) config files, and an audit item per file.

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
        if owners.get(path) or path in role_files:
            continue
        carried, left = [], []
        after_role = _read_order(path, dirs) > role_order
        adds = {name.lower() for name in info.get("adds", [])}
        for name in info.get("sets", []):
            folded = name.lower()
            if folded in NEVER_CARRIED or folded in computed:
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
        what = (
            f"a local configuration file of the site; the role leaves it in place ({len(info.get('sets', []))} names)"
        )
        fix = f"its settings are in {variable}; once the role has converged, remove the file"
        details = []
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
        audit.append(item("local-config-file", "kept", path, "; ".join([what, *details]), fix))
    return settings, audit


def _defaults_differ(out: Dict[str, Any], defaults: Mapping[str, Any], name: str, value: Any) -> None:
    """Set ``out[name]`` only when ``value`` is not the role's default."""
    if defaults.get(name) != value:
        out[name] = value


# --- Access Point ------------------------------------------------------------------------------------------


def adopt_access_point(facts: Mapping[str, Any], defaults: Mapping[str, Any]) -> Dict[str, Any]:
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
        config, facts.get("package_owners") or {}, [role_file], role_file, computed, "access_point_extra_config"
    )
    if settings:
        variables["access_point_extra_config"] = settings
    audit.extend(found)
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

    _adopt_routes(config, owners, defaults, variables, audit)
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
    settings, found = carried_settings(config, owners, role_files, role_file, computed, "htcondor_ce_config")
    if settings:
        variables["htcondor_ce_config"] = settings
    audit.extend(found)
    return {"vars": variables, "audit": audit, "tokens": []}


def _route_commands(text: Any) -> List[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def _adopt_routes(config, owners, defaults, variables, audit) -> None:
    values = config.get("values") or {}
    names = _split(values.get("JOB_ROUTER_ROUTE_NAMES"))
    setters = [
        info["path"]
        for info in config.get("files") or []
        if any(name.upper() == "JOB_ROUTER_ROUTE_NAMES" for name in info.get("sets", []))
    ]
    site_setters = [path for path in setters if not owners.get(path)]
    new_routes = [{"name": name, "commands": _route_commands(values.get(f"JOB_ROUTER_ROUTE_{name}"))} for name in names]
    old = config.get("old_routes")
    if old:
        where = "JOB_ROUTER_ENTRIES"
        if old.get("error"):
            audit.append(
                item(
                    "old-route-syntax",
                    "deprecated",
                    where,
                    f"routes in the old syntax that could not be converted: {old['error']}",
                    "rewrite them in the new syntax as htcondor_ce_routes",
                )
            )
        else:
            problems = "; ".join(old.get("problems") or [])
            audit.append(
                item(
                    "old-route-syntax",
                    "deprecated",
                    where,
                    "routes in the old JOB_ROUTER_ENTRIES syntax, which HTCondor-CE 24 does not read"
                    + (f"; conversion problems: {problems}" if problems else ""),
                    "review the converted routes in htcondor_ce_routes; converging writes them in the new syntax "
                    "(then remove JOB_ROUTER_ENTRIES)",
                )
            )
            shadowed = sorted(
                {r["name"].lower() for r in old.get("routes") or []} & {n.lower() for n in names if site_setters}
            )
            for name in shadowed:
                audit.append(
                    item(
                        "route-shadowed",
                        "risky",
                        f"route {name}",
                        "a new-syntax route has the name of an old-syntax route: the new one silently replaces it",
                        "compare the two and keep one",
                    )
                )
    if site_setters:
        variables["htcondor_ce_routes"] = new_routes
    elif old and not old.get("error") and old.get("routes"):
        variables["htcondor_ce_routes"] = old["routes"]
        audit.append(
            item(
                "routes-change",
                "differs",
                "htcondor_ce_routes",
                "the CE now routes with the packaged routes "
                f"({', '.join(names) or 'none'}); the adopted routes are the old-syntax ones it ignores",
                "converging makes the converted routes the live ones: review them first",
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
    if extra:
        variables["htcondor_ce_osg_configure_settings"] = extra


_PILOT_INTS = ("cpucount", "ram_mb", "gpucount", "max_pilots", "max_wall_time")
_PILOT_BOOLS = ("whole_node", "require_singularity", "send_tests")


def _pilot(name: str, options: Mapping[str, str]) -> Dict[str, Any]:
    """A ``[Pilot <name>]`` section as an entry of htcondor_ce_pilots (values typed as the role takes them)."""
    pilot: Dict[str, Any] = {"name": name}
    for key, value in options.items():
        text = value.strip()
        if key in _PILOT_INTS and re.fullmatch(r"\d+", text):
            pilot[key] = int(text)
        elif key in _PILOT_BOOLS and text.lower() in ("true", "false", "yes", "no", "1", "0"):
            pilot[key] = text.lower() in ("true", "yes", "1")
        elif key == "allowed_vos":
            pilot[key] = [vo for vo in re.split(r"[\s,]+", text) if vo]
        else:
            pilot[key] = text
    return pilot


# --- the whole job ------------------------------------------------------------------------------------------

ADOPTERS = {"access_point": adopt_access_point, "htcondor_ce": adopt_htcondor_ce}


def adopt(facts: Mapping[str, Any], roles: Sequence[str], defaults: Mapping[str, Mapping[str, Any]], now=None):
    """The variables and audit of one host, for the roles it is adopted into (``access_point``, ``htcondor_ce``)."""
    variables: Dict[str, Any] = {}
    audit = common_audit(facts, now)
    tokens: List[Dict[str, Any]] = []
    for role in roles:
        result = ADOPTERS[role](facts, defaults.get(role) or {})
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
