#!/usr/bin/python
# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: condor_config
short_description: Write an HTCondor or HTCondor-CE configuration file checked by HTCondor's own parser
version_added: 0.1.0
author:
  # validate-modules wants a GitHub handle or !UNKNOWN after each author.
  - Contributors to the osg_htc.site collection (!UNKNOWN)
description:
  - Manages one configuration file, typically in C(/etc/condor/config.d/) or C(/etc/condor-ce/config.d/), as a
    whole, from O(settings) or O(content).
  - Before the file goes live (and in check mode too), HTCondor's configuration parser loads it in its place among
    the files O(config_root) reads, in HTCondor's order, so a syntax error, a broken C(if)/C(endif) or a bad macro
    fails the task and the live file stays as it was.
  - Returns the effective, macro-expanded value of every name it sets and of O(query) for the whole configuration,
    including files that sort after this one; roles assert on them to prove the host runs what was asked for.
  - The parser is C(htcondor2) from the HTCondor Python bindings (C(python3-condor)) for the Ansible interpreter, or
    else C(condor_config_val) on C(PATH).
extends_documentation_fragment:
  - ansible.builtin.files
  - osg_htc.site._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  path:
    description:
      - The configuration file. Name it so it sorts after the packaged files whose values it changes (for example
        C(90-...) after the C(80-osg-flocking.conf) of C(ospool-ap)).
    type: path
    required: true
  settings:
    description:
      - Configuration values in the order they are written, C(NAME = value) each.
      - A string is written verbatim, so C($(MACRO)) references and expressions work; a string with a newline is
        written as a multi-line C(NAME @=end) ... C(@end) value. An integer or float is written as is, a boolean as
        C(True) or C(False), a list as its items joined with C(, ), and null as an empty value.
      - Names are HTCondor configuration names, optionally prefixed by a subsystem or local name
        (C(SCHEDD.SEC_CLIENT_AUTHENTICATION)).
      - Mutually exclusive with O(content).
    type: dict
  content:
    description:
      - The file's body, written after the header comment; for configuration that O(settings) cannot express, such
        as C(if) blocks or C(use) lines.
    type: str
  comment:
    description: Text written as C(#) comment lines below the header, to say what the file is for.
    type: str
  state:
    description: V(absent) removes the file; O(query) values are then those of the configuration without it.
    type: str
    choices: [present, absent]
    default: present
  config_root:
    description:
      - The base configuration that reads O(path) through its C(LOCAL_CONFIG_DIR), for example
        C(/etc/condor/condor_config) or C(/etc/condor-ce/condor_config). The file is checked, and the values are
        read, with every file of that configuration in HTCondor's order.
      - When it does not exist (HTCondor is not installed yet), the file is checked on its own and a warning says
        so.
    type: path
    default: /etc/condor/condor_config
  query:
    description: More names whose effective values are returned in RV(values).
    type: list
    elements: str
    default: []
  require_parser:
    description:
      - Fail when no HTCondor parser is available. With V(false), or in check mode, the file is then written (or
        reported) unchecked with a warning, and RV(values) is empty.
    type: bool
    default: true
  backup:
    description: Keep a timestamped copy of the file before it is changed or removed.
    type: bool
    default: false
notes:
  - The header comment names this module; local edits to the file are overwritten.
seealso:
  - name: HTCondor configuration file syntax
    description: Macros, multi-line values, include and if/else in HTCondor configuration files.
    link: https://htcondor.readthedocs.io/en/latest/admin-manual/introduction-to-configuration.html
"""

EXAMPLES = r"""
- name: Flock to the OSPool from a local pool
  osg_htc.site.condor_config:
    path: /etc/condor/config.d/90-osg-htc-access-point.conf
    comment: OSPool Access Point mode (flocking from the local pool)
    settings:
      CONDOR_HOST: cm.example.edu
      FLOCK_TO: [cm-1.ospool.osg-htc.org, cm-2.ospool.osg-htc.org]
    query: [SEC_TOKEN_SYSTEM_DIRECTORY]
    owner: root
    group: root
    mode: "0644"
  register: ap_config

- name: The effective values are the ones asked for
  ansible.builtin.assert:
    that: ap_config["values"]["CONDOR_HOST"] == "cm.example.edu"

- name: Drain an HTCondor-CE
  osg_htc.site.condor_config:
    path: /etc/condor-ce/config.d/95-osg-htc-drain.conf
    config_root: /etc/condor-ce/condor_config
    settings:
      CONDORCE_MAX_JOBS: 0

- name: Read effective values without writing anything
  osg_htc.site.condor_config:
    path: /etc/condor/config.d/99-never-written.conf
    state: absent
    query: [DAEMON_LIST, CONDOR_HOST]
  register: live
"""

RETURN = r"""
path:
  description: The file managed.
  returned: always
  type: str
values:
  description:
    - Effective, macro-expanded value of every name of O(settings) and O(query) for the whole configuration, null when
      undefined. A name set again by a file that sorts later shows that file's value.
    - Empty when no parser was available.
  returned: always
  type: dict
  sample: {"CONDOR_HOST": "cm.example.edu", "FLOCK_TO": "cm-1.ospool.osg-htc.org, cm-2.ospool.osg-htc.org"}
parser:
  description: The parser that checked the file (C(htcondor2) or C(condor_config_val)), or null when none was found.
  returned: always
  type: str
  sample: htcondor2
backup_file:
  description: The backup copy, when O(backup) made one.
  returned: when a backup was made
  type: str
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import check_config_text_in_place
from ansible_collections.osg_htc.site.plugins.module_utils._files import (
    FileError,
    ensure_file,
    exit_with_outcome,
    remove_file,
)

HEADER = "# Managed by Ansible (osg_htc.site.condor_config); local changes are overwritten.\n"
# A configuration name, optionally prefixed by subsystem or local names (SCHEDD.SEC_...).
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
MULTILINE_TAG = "end"


def value_text(name, value):
    """The text HTCondor reads as ``value``; raises ValueError for a value it cannot hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        if any(isinstance(item, (dict, list)) or item is None for item in value):
            raise ValueError(f"settings.{name}: a list may hold only strings, numbers and booleans")
        return ", ".join(value_text(name, item) for item in value)
    if isinstance(value, str):
        if "\r" in value or "\0" in value:
            raise ValueError(f"settings.{name}: carriage returns and NUL bytes are not allowed")
        return value
    raise ValueError(
        f"settings.{name}: {type(value).__name__} is not a configuration value (use a string, number, boolean, "
        "list or null)"
    )


def render(settings, content, comment):
    """The file's text; raises ValueError naming every bad setting."""
    lines = [HEADER]
    lines.extend(f"# {line}".rstrip() + "\n" for line in (comment or "").splitlines())
    if content is not None:
        lines.append(content if content.endswith("\n") or not content else content + "\n")
        return "".join(lines)
    problems = []
    for name, value in (settings or {}).items():
        if not NAME_RE.match(str(name)):
            problems.append(
                f"settings: {name!r} is not an HTCondor configuration name (letters, digits and _, "
                "optionally prefixed by SUBSYSTEM.)"
            )
            continue
        try:
            text = value_text(name, value)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if "\n" in text.strip("\n"):
            body = text.strip("\n")
            if any(line.strip().startswith("@" + MULTILINE_TAG) for line in body.splitlines()):
                problems.append(f"settings.{name}: a line of the value starts with @{MULTILINE_TAG}")
                continue
            lines.append(f"{name} @={MULTILINE_TAG}\n{body}\n@{MULTILINE_TAG}\n")
        else:
            lines.append(f"{name} = {text.strip()}\n")
    if problems:
        raise ValueError("\n".join(problems))
    return "".join(lines)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            settings=dict(type="dict"),
            content=dict(type="str"),
            comment=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            config_root=dict(type="path", default="/etc/condor/condor_config"),
            query=dict(type="list", elements="str", default=[]),
            require_parser=dict(type="bool", default=True),
            backup=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("settings", "content")],
        required_if=[("state", "present", ("settings", "content"), True)],
        supports_check_mode=True,
        add_file_common_args=True,
    )
    params = module.params
    path = params["path"]
    result = dict(changed=False, path=path, values={}, parser=None)
    present = params["state"] == "present"

    bad_queries = [q for q in params["query"] if not NAME_RE.match(q)]
    if bad_queries:
        module.fail_json(msg=f"query: {', '.join(map(repr, bad_queries))} are not HTCondor configuration names")
    try:
        text = render(params["settings"], params["content"], params["comment"]) if present else ""
    except ValueError as exc:
        module.fail_json(msg=f"Invalid settings for {path}:\n{exc}", **result)

    names = list(dict.fromkeys([*(params["settings"] or {}), *params["query"]]))
    check, where = check_config_text_in_place(text, path, params["config_root"], names)
    if where.error:
        module.fail_json(msg=where.error, **result)
    if check.ok is False:
        module.fail_json(msg=f"HTCondor's configuration parser rejects {path}: {check.error}", **result)
    if check.ok is None:
        if params["require_parser"] and present and not module.check_mode:
            module.fail_json(msg=f"{path} cannot be checked before it goes live: {check.error}", **result)
        module.warn(f"{path} was not checked with HTCondor's configuration parser: {check.error}")
    elif where.note:
        module.warn(f"{path} was checked on its own, not with the rest of the configuration: {where.note}")
    result.update(values=check.values, parser=check.parser)

    try:
        if present:
            outcome = ensure_file(module, path, text, backup=params["backup"])
        else:
            outcome = remove_file(module, path, backup=params["backup"])
    except FileError as exc:
        module.fail_json(msg=str(exc), **result)
    exit_with_outcome(module, result, outcome)


if __name__ == "__main__":
    main()
