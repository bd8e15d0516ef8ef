#!/usr/bin/python
# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: nftables_ports
short_description: Accept inbound TCP ports in nftables from a rule file the ruleset includes, loaded and checked
version_added: 0.2.0
author:
  # validate-modules wants a GitHub handle or !UNKNOWN after each author.
  - Contributors to the osg_htc.site collection (!UNKNOWN)
description:
  - The nftables way (Debian, Ubuntu) to open the ports of an OSG service, in one call.
  - Writes a rule file C(<include_dir>/osg-htc-site-<label>.nft) that accepts O(ports) in O(table) O(chain), checked
    with C(nft -c -f) before it replaces the live one; then makes sure O(config) (the ruleset the C(nftables) service
    loads) includes every C(*.nft) file of O(include_dir) at its end, checked as a whole with C(nft -c -f); then
    enables the C(nftables) service and reloads it when either file changed (starts it when it is not running).
  - Reads the chain back with C(nft --json list chain) and returns whether it is a base chain hooked on input and
    holds the rule (RV(chain)), so the caller can refuse a table or chain the ruleset does not filter input in.
  - The table and chain blocks of the rule file add to the site's own definitions when the include comes after them,
    as it does at the end of O(config).
  - Nothing is written, enabled or reloaded in check mode; the chain is read then only when nothing would change
    (otherwise it would show the old ruleset).
extends_documentation_fragment:
  - ansible.builtin.files
  - osg_htc.site._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The old and new text of the rule file and of O(config), and the service's state.
options:
  label:
    description:
      - Names the rule file and the comment of its rule (C(osg_htc.site <label>)), for example V(access_point).
      - Letters, digits, C(_) and C(-).
    type: str
    required: true
  ports:
    description: The TCP ports to accept, each from V(1) to V(65535).
    type: list
    elements: int
    required: true
  table:
    description: The family (C(inet), C(ip) or C(ip6)) and name of the table, for example V(inet filter).
    type: str
    default: inet filter
  chain:
    description: The chain of O(table) that filters input, for example V(input).
    type: str
    default: input
  include_dir:
    description: The directory of rule files; created (mode C(0755), owned as the rule file) when missing.
    type: path
    default: /etc/nftables.d
  config:
    description: The ruleset the C(nftables) service loads; it must exist (the C(nftables) package ships it).
    type: path
    default: /etc/nftables.conf
notes:
  - O(owner), O(group) and O(mode) are those of the rule file (V(0644) when O(mode) is not given); O(include_dir)
    gets the same owner and group, and O(config) keeps its own.
  - Needs C(nft) and, unless in check mode, C(systemctl).
seealso:
  - module: ansible.posix.firewalld
    description: The firewalld way, on EL.
"""

EXAMPLES = r"""
- name: Accept TCP 9618 (HTCondor) in inet filter input
  osg_htc.site.nftables_ports:
    label: access_point
    ports: [9618]
    owner: root
    group: root
  register: firewall

- name: The rule is loaded in a chain that filters input
  ansible.builtin.assert:
    that: firewall.chain.hook == 'input' and firewall.chain.rule_loaded
"""

RETURN = r"""
rule_file:
  description: The rule file.
  returned: always
  type: str
  sample: /etc/nftables.d/osg-htc-site-access_point.nft
rule_file_changed:
  description: Whether the rule file was (or would be) written or given other attributes.
  returned: always
  type: bool
include_changed:
  description: Whether the include line was (or would be) added to O(config).
  returned: always
  type: bool
service:
  description: The C(nftables) service before the call and what was (or would be) done to it.
  returned: always
  type: dict
  contains:
    enabled:
      description: The answer of C(systemctl is-enabled) before the call.
      type: str
      sample: enabled
    active:
      description: The answer of C(systemctl is-active) before the call.
      type: str
      sample: active
    actions:
      description: What was (or would be) done, in order, of C(enable), C(start) and C(reload).
      type: list
      elements: str
      sample: [reload]
chain:
  description:
    - O(table) O(chain) as C(nft --json list chain) shows it after the call; null in check mode when something would
      change.
  returned: always
  type: dict
  contains:
    exists:
      description: Whether nft lists the chain.
      type: bool
    hook:
      description: The hook of the chain when it is a base chain, else null.
      type: str
      sample: input
    rule_loaded:
      description: Whether the chain holds a rule with the comment C(osg_htc.site <label>).
      type: bool
    error:
      description: What nft said when it could not list the chain.
      type: str
      returned: when nft could not list it
"""

import json
import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osg_htc.site.plugins.module_utils._files import (
    FileError,
    ensure_directory,
    ensure_file,
    read_text,
)

LABEL = re.compile(r"\A[A-Za-z0-9_-]+\Z")
TABLE = re.compile(r"\A(inet|ip|ip6) [A-Za-z_][A-Za-z0-9_]*\Z")
CHAIN = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
SERVICE = "nftables"


def rule_text(label: str, ports: list, table: str, chain: str) -> str:
    """The rule file: the table and chain blocks add to the site's own when included after them."""
    listed = ", ".join(str(port) for port in ports)
    return (
        f"# Managed by Ansible (osg_htc.site {label}); local changes are overwritten.\n"
        f"table {table} {{\n"
        f"\tchain {chain} {{\n"
        f'\t\ttcp dport {{ {listed} }} accept comment "osg_htc.site {label}"\n'
        "\t}\n"
        "}\n"
    )


def include_line(include_dir: str) -> str:
    return f'include "{include_dir}/*.nft"'


def with_include(text: str, line: str) -> str | None:
    """``text`` with ``line`` added at its end, or None when it already has that line."""
    lines = text.splitlines()
    if any(existing.rstrip("\r") == line for existing in lines):
        return None
    return text + ("" if text.endswith("\n") or not text else "\n") + line + "\n"


def parse_chain(output: str, label: str) -> dict:
    """What ``nft --json list chain`` says: whether the chain is a base chain on a hook and holds our rule."""
    items = json.loads(output).get("nftables", [])
    chains = [item["chain"] for item in items if "chain" in item]
    rules = [item["rule"] for item in items if "rule" in item]
    comment = f"osg_htc.site {label}"
    return {
        "exists": bool(chains),
        "hook": chains[0].get("hook") if chains else None,
        "rule_loaded": any(rule.get("comment") == comment for rule in rules),
    }


class Nft:
    """The nft and systemctl commands the module runs."""

    def __init__(self, module):
        self.module = module
        self.nft = module.get_bin_path("nft", required=True)

    def check(self, target: str):
        """A validate hook for ensure_file: ``nft -c -f <candidate>`` must accept the new content of ``target``."""

        def validate(path: str) -> None:
            rc, out, err = self.module.run_command([self.nft, "-c", "-f", path])
            if rc != 0:
                said = (err or out).strip().replace(path, target)
                raise FileError(f"nft refuses the new content of {target} (nft -c -f): {said}")

        return validate

    def check_text(self, text: str, target: str) -> None:
        """``nft -c -f`` on ``text`` from a temporary file, for a ``target`` whose directory does not exist yet."""
        handle, path = tempfile.mkstemp(prefix=".osg-htc-site-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            self.check(target)(path)
        finally:
            os.unlink(path)

    def chain(self, table: str, chain: str, label: str) -> dict:
        family, name = table.split()
        rc, out, err = self.module.run_command([self.nft, "--json", "list", "chain", family, name, chain])
        if rc != 0:
            return {"exists": False, "hook": None, "rule_loaded": False, "error": (err or out).strip()}
        try:
            return parse_chain(out, label)
        except (ValueError, AttributeError, TypeError) as exc:
            return {"exists": False, "hook": None, "rule_loaded": False, "error": f"unreadable nft output: {exc}"}

    def systemctl(self, *args: str) -> tuple[int, str, str]:
        systemctl = self.module.get_bin_path("systemctl", required=True)
        return self.module.run_command([systemctl, *args])


def service_actions(enabled: str, active: str, reload: bool) -> list:
    """What ``systemd_service enabled=true state=reloaded|started`` would do to a service in this state."""
    actions = [] if enabled in ("enabled", "enabled-runtime", "static", "alias") else ["enable"]
    if active not in ("active", "activating", "reloading"):
        actions.append("start")
    elif reload:
        actions.append("reload")
    return actions


def main():
    module = AnsibleModule(
        argument_spec=dict(
            label=dict(type="str", required=True),
            ports=dict(type="list", elements="int", required=True),
            table=dict(type="str", default="inet filter"),
            chain=dict(type="str", default="input"),
            include_dir=dict(type="path", default="/etc/nftables.d"),
            config=dict(type="path", default="/etc/nftables.conf"),
        ),
        supports_check_mode=True,
        add_file_common_args=True,
    )
    params = module.params
    label, ports, table, chain = params["label"], params["ports"], params["table"], params["chain"]
    include_dir = params["include_dir"].rstrip("/") or "/"
    rule_file = os.path.join(include_dir, f"osg-htc-site-{label}.nft")
    result = dict(
        changed=False, rule_file=rule_file, rule_file_changed=False, include_changed=False, service={}, chain=None
    )

    problems = []
    if not LABEL.match(label):
        problems.append(f"label {label!r}: use letters, digits, '_' and '-', for example access_point")
    if not ports:
        problems.append("ports is empty: list the TCP ports to accept")
    bad = [port for port in ports if not 1 <= port <= 65535]
    if bad:
        problems.append(f"ports {bad}: every port is a number from 1 to 65535")
    if not TABLE.match(table):
        problems.append(f"table {table!r}: give the family (inet, ip or ip6) and the table's name, e.g. 'inet filter'")
    if not CHAIN.match(chain):
        problems.append(f"chain {chain!r}: a chain name is letters, digits and '_', for example input")
    if '"' in include_dir or "\n" in include_dir:
        problems.append(f"include_dir {include_dir!r}: a path without quotes or line breaks")
    if problems:
        module.fail_json(msg="; ".join(problems), **result)

    nft = Nft(module)
    text = rule_text(label, ports, table, chain)
    owner, group = params["owner"], params["group"]
    diffs = []
    try:
        directory_changed = ensure_directory(module, include_dir, owner=owner, group=group, mode="0755")
        if module.check_mode and not os.path.isdir(include_dir):
            # Nowhere to write a candidate yet: nft checks the text from a temporary file instead.
            nft.check_text(text, rule_file)
            rules = dict(
                changed=True, diff=dict(before="", after=text, before_header=rule_file, after_header=rule_file)
            )
        else:
            rules = ensure_file(
                module,
                rule_file,
                text,
                mode=params["mode"] if params["mode"] is not None else "0644",
                validate=nft.check(rule_file),
            )
        result["rule_file_changed"] = bool(directory_changed or rules["changed"])
        if rules["changed"] and rules.get("diff") and module._diff:
            diffs.append(rules["diff"])

        current = read_text(params["config"])
        if current is None:
            raise FileError(f"{params['config']} does not exist: install the nftables package, which provides it")
        new = with_include(current, include_line(include_dir))
        if new is not None:
            # Checked as a whole, with the rule file in place (in check mode, the rule file as it is now).
            included = ensure_file(module, params["config"], new, validate=nft.check(params["config"]), file_params={})
            result["include_changed"] = included["changed"]
            if included["changed"] and included.get("diff") and module._diff:
                diffs.append(included["diff"])
    except FileError as exc:
        module.fail_json(msg=str(exc), **result)

    reload = result["rule_file_changed"] or result["include_changed"]
    _rc, enabled, _err = nft.systemctl("is-enabled", SERVICE)
    _rc, active, _err = nft.systemctl("is-active", SERVICE)
    enabled, active = enabled.strip() or "unknown", active.strip() or "unknown"
    actions = service_actions(enabled, active, reload)
    result["service"] = dict(enabled=enabled, active=active, actions=actions)
    if actions and module._diff:
        diffs.append(
            dict(
                before=f"{SERVICE}: {enabled}, {active}\n",
                after=f"{SERVICE}: {'enabled' if 'enable' in actions else enabled}, "
                + ("active (reloaded)" if "reload" in actions else "active")
                + "\n",
                before_header=f"{SERVICE} service",
                after_header=f"{SERVICE} service",
            )
        )
    if not module.check_mode:
        for action in actions:
            rc, out, err = nft.systemctl(action, SERVICE)
            if rc != 0:
                module.fail_json(msg=f"systemctl {action} {SERVICE} failed: {(err or out).strip()}", **result)
    result["changed"] = reload or bool(actions)
    if not module.check_mode or not reload:
        result["chain"] = nft.chain(table, chain, label)
    if diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
