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
    whole, from O(settings) or O(content); or several such files of one configuration at once with O(files), in
    one call.
  - Before the file goes live (and in check mode too), HTCondor's configuration parser loads it in its place among
    the files O(config_root) reads, in HTCondor's order, so a syntax error, a broken C(if)/C(endif) or a bad macro
    fails the task and the live file stays as it was.
  - With O(files), every file is checked as above, all of them in their places at once, so the effective values are
    those of the configuration with every file written (or removed) as asked.
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
      - With O(state=present) the module refuses a path HTCondor would never read. When O(config_root) exists, that
        is a directory that is not in its C(LOCAL_CONFIG_DIR), or a name that its effective
        C(LOCAL_CONFIG_DIR_EXCLUDE_REGEXP) skips (dot files, C(~) backups, C(.rpmsave), C(.rpmnew), C(.sh) ...); and
        always a path with C($), a control character, surrounding whitespace or a trailing backslash.
      - One of O(path) and O(files) is required.
    type: path
  files:
    description:
      - Several files of the configuration O(config_root) reads, managed in one call. Each item is a file as O(path),
        O(settings), O(content), O(comment) and O(state) describe it for a single file, with its own O(files[].owner),
        O(files[].group) and O(files[].mode) (the module's own file options apply to every item that does not set
        them).
      - Mutually exclusive with O(path), O(settings), O(content) and O(comment); O(state) stays V(present).
    type: list
    elements: dict
    version_added: 0.2.0
    suboptions:
      path:
        description: The configuration file, as O(path).
        type: path
        required: true
      settings:
        description: Its settings, as O(settings).
        type: dict
      content:
        description: Its body, as O(content).
        type: str
      comment:
        description: Its comment, as O(comment).
        type: str
      state:
        description: V(absent) removes it.
        type: str
        choices: [present, absent]
        default: present
      owner:
        description: Its owner, as O(owner).
        type: str
      group:
        description: Its group, as O(group).
        type: str
      mode:
        description: Its mode, as O(mode).
        type: raw
  settings:
    description:
      - Configuration values in the order they are written, C(NAME = value) each.
      - A string is written verbatim, so C($(MACRO\)) references and expressions work; a string with a newline is
        written as a multi-line C(NAME @=end) ... C(@end) value. An integer or finite float is written as is, a
        boolean as C(True) or C(False), a list as its items joined with C(, ), and null as an empty value.
      - Every value must read back exactly as given, so the module refuses, naming the setting and the character,
        a value with a NUL, a carriage return or another control character (a tab is fine), a value that ends in a
        backslash (HTCondor would join the next line to it), a line of a multi-line value that starts with C(@) or
        ends in a backslash, and a list item with a comma, whitespace, C(#) or a backslash. Surrounding whitespace
        is not part of an HTCondor value and is dropped; in a multi-line value HTCondor also drops blank and C(#)
        lines and the indentation of each line.
      - After rendering, HTCondor's parser reads the file on its own and must find exactly the names of O(settings)
        with exactly these values, or the task fails and nothing is written.
      - Names are HTCondor configuration names, optionally prefixed by a subsystem or local name
        (C(SCHEDD.SEC_CLIENT_AUTHENTICATION)); two names that differ only in case are the same name.
      - Mutually exclusive with O(content).
    type: dict
  content:
    description:
      - The file's body, written after the header comment; for configuration that O(settings) cannot express, such
        as C(if) blocks or C(use) lines.
      - Lines that make HTCondor run a command when it reads the file (an C(include command) line, an C(include) whose
        target contains C(|) or a C($) macro, a piped C(LOCAL_CONFIG_FILE)) are refused, since validation would run
        them, in check mode too.
    type: str
  comment:
    description:
      - Text written as C(#) comment lines below the header, to say what the file is for. A line may not end in a
        backslash or hold a control character.
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
      - The check reads the files of that configuration as C(include) lines and never runs a command. A host file
        that runs one when read is left out of the check with a warning, and a piped C(LOCAL_CONFIG_FILE) (such as
        HTCondor-CE's C(condor_ce_router_defaults)) is not run.
    type: path
    default: /etc/condor/condor_config
  query:
    description: More names whose effective values are returned in RV(effective).
    type: list
    elements: str
    default: []
  require_parser:
    description:
      - Fail when no HTCondor parser is available. With V(false), or in check mode, the file is then written (or
        reported) unchecked with a warning, and RV(effective) is empty.
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
    that: ap_config.effective.CONDOR_HOST == "cm.example.edu"

- name: Drain an HTCondor-CE
  osg_htc.site.condor_config:
    path: /etc/condor-ce/config.d/95-osg-htc-drain.conf
    config_root: /etc/condor-ce/condor_config
    settings:
      CONDORCE_MAX_JOBS: 0

- name: Two files of the Access Point in one call, each checked, with the values of both in place
  osg_htc.site.condor_config:
    files:
      - path: /etc/condor/config.d/80-osg-flocking.conf
        comment: The settings of ospool-ap's 80-osg-flocking.conf
        settings:
          DAEMON_LIST: $(DAEMON_LIST), SCHEDD
      - path: /etc/condor/config.d/90-osg-htc-access-point.conf
        settings:
          CONDOR_HOST: cm-1.ospool.osg-htc.org,cm-2.ospool.osg-htc.org
    query: [DAEMON_LIST]

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
  returned: when O(path) is given
  type: str
files:
  description: What happened to each file of O(files), in their order.
  returned: when O(files) is given
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
    changed:
      description: Whether it was (or, in check mode, would be) written, removed or given other attributes.
      type: bool
    backup_file:
      description: Its backup copy, when O(backup) made one.
      type: str
      returned: when a backup was made
  version_added: 0.2.0
effective:
  description:
    - Effective, macro-expanded value of every name of O(settings) and O(query) for the whole configuration, null when
      undefined. A name set again by a file that sorts later shows that file's value.
    - Empty when no parser was available.
    - Called C(values) in 0.1.0, a name that Jinja reads as the C(dict.values) method.
  returned: always
  type: dict
  sample: {"CONDOR_HOST": "cm.example.edu", "FLOCK_TO": "cm-1.ospool.osg-htc.org, cm-2.ospool.osg-htc.org"}
parser:
  description: The parser that checked the file (C(htcondor2) or C(condor_config_val)), or null when none was found.
  returned: always
  type: str
  sample: htcondor2
backup_file:
  description: The backup copy, when O(backup) made one for O(path).
  returned: when a backup was made
  type: str
"""

import math
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import (
    Candidate,
    check_config_texts_in_place,
    includable,
)
from ansible_collections.osg_htc.site.plugins.module_utils._config_text import (
    ConfigTextError,
    block_lines,
    block_read_value,
    command_lines,
    comment_lines,
    config_name,
    line_value,
    list_item,
)
from ansible_collections.osg_htc.site.plugins.module_utils._files import (
    FileError,
    ensure_file,
    remove_file,
)

HEADER = "# Managed by Ansible (osg_htc.site.condor_config); local changes are overwritten.\n"
MULTILINE_TAG = "end"


def value_text(name, value):
    """The text of ``value`` before it is written; raises ConfigTextError for a value HTCondor cannot hold."""
    option = f"settings.{name}"
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigTextError(f"{option}: {value} is not a finite number")
        return repr(value)
    if isinstance(value, list):
        return ", ".join(list_item(option, item) for item in value)
    if isinstance(value, str):
        return value
    raise ConfigTextError(
        f"{option}: {type(value).__name__} is not a configuration value (use a string, number, boolean, list or null)"
    )


def render(settings, content, comment):
    """``(text, readback)``: the file's text and, for settings, the value each name must read back as.

    Raises ConfigTextError naming every bad setting.
    """
    lines = [HEADER, *(line + "\n" for line in comment_lines("comment", comment))] if comment else [HEADER]
    if content is not None:
        found = command_lines(content)
        if found:
            listed = "; ".join(f"line {number}: {line}" for number, line in found)
            raise ConfigTextError(
                f"content: it runs a command when HTCondor reads it ({listed}); include command, a piped "
                "include and a piped LOCAL_CONFIG_FILE are refused, since they would run during validation"
            )
        lines.append(content if content.endswith("\n") or not content else content + "\n")
        return "".join(lines), None
    problems, readback, seen = [], {}, {}
    for name, value in (settings or {}).items():
        try:
            config_name("settings", name)
            if name.lower() in seen:
                raise ConfigTextError(f"settings: {seen[name.lower()]!r} and {name!r} are the same name")
            seen[name.lower()] = name
            text = value_text(name, value)
            if "\n" in text.strip("\n"):
                body = block_lines(f"settings.{name}", text.strip("\n"))
                lines.append(
                    f"{name} @={MULTILINE_TAG}\n" + "".join(f"{line}\n" for line in body) + f"@{MULTILINE_TAG}\n"
                )
                readback[name] = block_read_value(body)
            else:
                text = line_value(f"settings.{name}", text.strip("\n"))
                lines.append(f"{name} = {text}\n")
                readback[name] = text
        except ConfigTextError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigTextError("\n".join(problems))
    return "".join(lines), readback


FILE_OPTIONS = dict(
    path=dict(type="path", required=True),
    settings=dict(type="dict"),
    content=dict(type="str"),
    comment=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    owner=dict(type="str"),
    group=dict(type="str"),
    mode=dict(type="raw"),
)


def planned(item):
    """``(text, readback, problems)`` of one file: its text (None when it is to be removed)."""
    path = item["path"]
    if item["state"] != "present":
        return None, None, []
    problems = []
    if includable(path):
        problems.append(f"path: HTCondor cannot read {path!r}: {includable(path)}")
    text = readback = None
    try:
        text, readback = render(item["settings"], item["content"], item["comment"])
    except ConfigTextError as exc:
        problems.append(str(exc))
    return text, readback, problems


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            files=dict(
                type="list",
                elements="dict",
                options=FILE_OPTIONS,
                mutually_exclusive=[("settings", "content")],
                required_if=[("state", "present", ("settings", "content"), True)],
            ),
            settings=dict(type="dict"),
            content=dict(type="str"),
            comment=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            config_root=dict(type="path", default="/etc/condor/condor_config"),
            query=dict(type="list", elements="str", default=[]),
            require_parser=dict(type="bool", default=True),
            backup=dict(type="bool", default=False),
        ),
        required_one_of=[("path", "files")],
        mutually_exclusive=[
            ("settings", "content"),
            ("path", "files"),
            ("files", "settings"),
            ("files", "content"),
            ("files", "comment"),
        ],
        required_if=[("state", "present", ("settings", "content", "files"), True)],
        supports_check_mode=True,
        add_file_common_args=True,
    )
    params = module.params
    single = params["files"] is None
    if single:
        # The module's own file options apply to it (ensure_file reads them from its params).
        fields = ("path", "settings", "content", "comment", "state")
        items = [{**{key: params[key] for key in fields}, "owner": None, "group": None, "mode": None}]
        result = dict(changed=False, path=params["path"], effective={}, parser=None)
    else:
        items = params["files"]
        result = dict(changed=False, files=[], effective={}, parser=None)
        if params["state"] != "present":
            module.fail_json(msg="state: with files, give each file its own state", **result)
        paths = [item["path"] for item in items]
        twice = sorted({path for path in paths if paths.count(path) > 1})
        if twice:
            module.fail_json(msg=f"files: {', '.join(twice)} is given more than once", **result)
    label = params["path"] if single else ", ".join(item["path"] for item in items)

    problems = []
    for query in params["query"]:
        try:
            config_name("query", query)
        except ConfigTextError as exc:
            problems.append(str(exc))
    plans = []
    for item in items:
        text, readback, found = planned(item)
        plans.append((text, readback))
        problems.extend(found if single else [f"{item['path']}: {problem}" for problem in found])
    if problems:
        module.fail_json(msg=f"Invalid settings for {label}:\n" + "\n".join(problems), **result)

    names = list(
        dict.fromkeys([name for item in items if item["state"] == "present" for name in item["settings"] or {}])
    )
    names = list(dict.fromkeys([*names, *params["query"]]))
    candidates = [Candidate(item["path"], text, readback) for item, (text, readback) in zip(items, plans)]
    check, where = check_config_texts_in_place(candidates, params["config_root"], names)
    if where.error:
        module.fail_json(msg=where.error, **result)
    for item in items:
        unread = where.unread.get(os.path.abspath(item["path"]))
        if item["state"] == "present" and unread:
            module.fail_json(msg=f"Not writing {item['path']}: HTCondor would never read it, since {unread}", **result)
    present = any(item["state"] == "present" for item in items)
    if check.ok is False:
        module.fail_json(msg=f"HTCondor's configuration parser rejects {label}: {check.error}", **result)
    if check.ok is None:
        if params["require_parser"] and present and not module.check_mode:
            module.fail_json(msg=f"{label} cannot be checked before it goes live: {check.error}", **result)
        module.warn(f"{label} was not checked with HTCondor's configuration parser: {check.error}")
    elif where.note:
        module.warn(f"{label} was checked on its own, not with the rest of the configuration: {where.note}")
    for skipped in where.skipped:
        module.warn(f"{skipped} was left out of the check of {label}")
    result.update(effective=check.values, parser=check.parser)

    diffs = []
    for item, (text, _readback) in zip(items, plans):
        path = item["path"]
        try:
            if item["state"] == "present":
                outcome = ensure_file(
                    module,
                    path,
                    text,
                    backup=params["backup"],
                    owner=item["owner"],
                    group=item["group"],
                    mode=item["mode"],
                )
            else:
                outcome = remove_file(module, path, backup=params["backup"])
        except FileError as exc:
            module.fail_json(msg=str(exc), **result)
        result["changed"] = result["changed"] or outcome["changed"]
        if outcome.get("diff"):
            diffs.append(outcome["diff"])
        if single:
            if outcome.get("backup_file"):
                result["backup_file"] = outcome["backup_file"]
        else:
            entry = dict(path=path, changed=outcome["changed"])
            if outcome.get("backup_file"):
                entry["backup_file"] = outcome["backup_file"]
            result["files"].append(entry)
    if diffs:
        result["diff"] = diffs[0] if single else diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
