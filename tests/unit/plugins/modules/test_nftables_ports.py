# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the nftables_ports module, on real files, with nft and systemctl played by a test double."""

from __future__ import annotations

import glob
import grp
import json
import os
import pwd
import re
from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.osg_htc.site.plugins.modules import nftables_ports
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

# Debian's /etc/nftables.conf, shortened.
DEBIAN_CONF = (
    "#!/usr/sbin/nft -f\n\nflush ruleset\n\n"
    "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter;\n\t}\n}\n"
)
OWNER = {"owner": pwd.getpwuid(os.getuid()).pw_name, "group": grp.getgrgid(os.getgid()).gr_name}


class Host:
    """STANDS IN FOR nft and systemctl (test double): the nftables service loads the config and, when it includes
    them, the rule files; nft -c refuses a file that holds REFUSE; nft --json list chain shows what is loaded."""

    def __init__(self, tmp_path: Path):
        self.config = tmp_path / "nftables.conf"
        self.config.write_text(DEBIAN_CONF)
        self.include_dir = tmp_path / "nftables.d"
        self.enabled, self.active = "disabled", "inactive"
        self.loaded: list[str] = []
        self.hook = "input"
        self.calls: list[list[str]] = []

    def load(self):
        text = self.config.read_text()
        found = re.search(r'^include "(.*)"$', text, re.M)
        files = sorted(glob.glob(found[1])) if found else []
        self.loaded = [m for f in files for m in re.findall(r'comment "([^"]*)"', Path(f).read_text())]

    def run_command(self, args, **_kwargs):
        command = [os.path.basename(args[0]), *args[1:]]
        self.calls.append(command)
        if command[:3] == ["nft", "-c", "-f"]:
            text = Path(args[3]).read_text()
            return (1, "", f"Error: syntax error in {args[3]}") if "REFUSE" in text else (0, "", "")
        if command[:4] == ["nft", "--json", "list", "chain"]:
            if self.active != "active":
                return 1, "", "Error: No such file or directory; did you mean table 'filter' in family inet?"
            chain = {"family": "inet", "table": "filter", "name": command[6], "handle": 1}
            if self.hook:
                chain.update(type="filter", hook=self.hook, prio=0, policy="accept")
            rules = [{"rule": {"family": "inet", "chain": command[6], "comment": c}} for c in self.loaded]
            return 0, json.dumps({"nftables": [{"metainfo": {"version": "1.0.6"}}, {"chain": chain}, *rules]}), ""
        if command[0] == "systemctl":
            action = command[1]
            if action == "is-enabled":
                return (0 if self.enabled == "enabled" else 1), self.enabled + "\n", ""
            if action == "is-active":
                return (0 if self.active == "active" else 3), self.active + "\n", ""
            if action == "enable":
                self.enabled = "enabled"
            elif action in ("start", "reload"):
                self.active = "active"
                self.load()
            return 0, "", ""
        raise AssertionError(f"unexpected command {args}")


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


def run(host: Host, check=False, diff=False, **args):
    args = {
        "label": "access_point",
        "ports": [9618],
        "include_dir": str(host.include_dir),
        "config": str(host.config),
        **OWNER,
        **args,
    }
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with (
        mock.patch.object(basic.AnsibleModule, "run_command", lambda self, a, **kw: host.run_command(a, **kw)),
        mock.patch.object(basic.AnsibleModule, "get_bin_path", lambda self, name, **kw: f"/usr/sbin/{name}"),
    ):
        return run_module(nftables_ports, args)


def actions(host: Host) -> list:
    return [call[1] for call in host.calls if call[0] == "systemctl" and not call[1].startswith("is-")]


def test_first_run_writes_includes_enables_starts_and_reads_the_rule_back(host):
    result = run(host)
    assert result["changed"] is True and result["rule_file_changed"] and result["include_changed"], result
    rule_file = host.include_dir / "osg-htc-site-access_point.nft"
    assert result["rule_file"] == str(rule_file)
    assert rule_file.read_text() == (
        "# Managed by Ansible (osg_htc.site access_point); local changes are overwritten.\n"
        "table inet filter {\n\tchain input {\n"
        '\t\ttcp dport { 9618 } accept comment "osg_htc.site access_point"\n\t}\n}\n'
    )
    assert oct(rule_file.stat().st_mode & 0o777) == "0o644"
    assert oct(host.include_dir.stat().st_mode & 0o777) == "0o755"
    assert host.config.read_text() == DEBIAN_CONF + f'include "{host.include_dir}/*.nft"\n'
    assert actions(host) == ["enable", "start"]
    assert result["service"] == {"enabled": "disabled", "active": "inactive", "actions": ["enable", "start"]}
    assert result["chain"] == {"exists": True, "hook": "input", "rule_loaded": True}
    # Both files were checked by nft before they went live.
    assert [call[:3] for call in host.calls if call[:2] == ["nft", "-c"]] == [["nft", "-c", "-f"]] * 2


def test_second_run_changes_nothing_and_still_reads_the_chain(host):
    run(host)
    host.calls.clear()
    result = run(host)
    assert result["changed"] is False and actions(host) == [], result
    assert result["chain"]["rule_loaded"] is True
    checked = run(host, check=True, diff=True)
    assert checked["changed"] is False and "diff" not in checked and checked["chain"]["rule_loaded"] is True


def test_a_changed_port_list_is_checked_written_and_reloaded(host):
    run(host)
    host.calls.clear()
    result = run(host, ports=[9618, 9619], diff=True)
    assert result["changed"] is True and result["rule_file_changed"] and not result["include_changed"]
    assert actions(host) == ["reload"]
    assert "tcp dport { 9618, 9619 }" in result["diff"][0]["after"]
    assert host.config.read_text().count("include") == 1


def test_check_mode_reports_everything_and_touches_nothing(host):
    result = run(host, check=True, diff=True)
    assert result["changed"] is True and result["chain"] is None
    assert not host.include_dir.exists() and host.config.read_text() == DEBIAN_CONF
    assert actions(host) == []
    headers = [entry["before_header"] for entry in result["diff"]]
    assert headers == [str(host.include_dir / "osg-htc-site-access_point.nft"), str(host.config), "nftables service"]
    assert result["diff"][2]["after"] == "nftables: enabled, active\n"


def test_a_chain_that_is_not_a_base_chain_is_reported(host):
    host.hook = None
    result = run(host, table="inet filter", chain="input")
    assert result["chain"] == {"exists": True, "hook": None, "rule_loaded": True}


def test_nft_refusal_leaves_everything_as_it_was(host, monkeypatch):
    monkeypatch.setattr(nftables_ports, "rule_text", lambda *args: "REFUSE\n")
    result = run(host)
    assert result["failed"] is True and "nft refuses the new content of" in result["msg"], result
    assert "osg-htc-site-access_point.nft" in result["msg"]
    assert os.listdir(host.include_dir) == [] and host.config.read_text() == DEBIAN_CONF
    assert actions(host) == []


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"label": "bad label"}, "label 'bad label'"),
        ({"ports": [0, 70000]}, "ports [0, 70000]"),
        ({"ports": []}, "ports is empty"),
        ({"table": "filter"}, "table 'filter'"),
        ({"chain": "input; flush ruleset"}, "chain 'input; flush ruleset'"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(host, args, fragment):
    result = run(host, **args)
    assert result["failed"] is True and fragment in result["msg"], result
    assert host.calls == [] and not host.include_dir.exists()


def test_a_missing_ruleset_names_the_package(host):
    host.config.unlink()
    result = run(host)
    assert result["failed"] is True and "install the nftables package" in result["msg"]
