# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The adopt playbook on localhost: a hand-configured Access Point laid out under a temporary directory, read
through site_facts, written as host_vars and an audit on the controller, with no secret in any output."""

from __future__ import annotations

import json

import pytest
import yaml

from ..conftest import COLLECTION_ROOT
from ..idtokens import make_token
from .runner import run_with_vars

pytest.importorskip("htcondor2")

PLAYBOOK = COLLECTION_ROOT / "playbooks" / "adopt.yml"
PROBE = """<ProbeConfiguration
    ProbeName="condor-ap:localhost.localdomain"
    SiteName="LAB_SUBMIT"
    EnableProbe="1"
    VOOverride="osg"
/>
"""


def hand_configured(tmp_path):
    root = tmp_path / "host"
    (root / "config.d").mkdir(parents=True)
    (root / "tokens.d").mkdir()
    (root / "condor_config").write_text(f"LOCAL_CONFIG_DIR = {root / 'config.d'}\n")
    (root / "config.d" / "99-local.conf").write_text(
        f"SEC_TOKEN_SYSTEM_DIRECTORY = {root / 'tokens.d'}\nMAX_JOBS_RUNNING = 5000\n"
    )
    token = make_token(payload={"iss": "flock.opensciencegrid.org", "sub": "RESOURCE-localhost@cm"})
    (root / "tokens.d" / "ospool.token").write_text(token + "\n")
    (root / "tokens.d" / "ospool.token").chmod(0o644)
    (root / "ProbeConfig").write_text(PROBE)
    variables = {
        "access_point_hosts": "localhost",
        "htcondor_ce_hosts": "nohosts",
        "ansible_become": False,
        "adopt_host_vars_dir": str(tmp_path / "host_vars"),
        "adopt_audit_dir": str(tmp_path / "audit"),
        "adopt_site_facts": {
            "condor_config": str(root / "condor_config"),
            "ce_config": str(root / "no-ce"),
            "token_dirs": [],
            "mapfile_dirs": [],
            "probe_configs": [str(root / "ProbeConfig")],
            "osg_config_dir": str(root / "osg"),
            "leftover_dirs": [str(root)],
            "gsi_paths": [],
            "script_dirs": [],
            "upgrade_check": False,
        },
    }
    return root, token, variables


def test_adopt_writes_host_vars_and_the_audit_without_a_secret(tmp_path):
    root, token, variables = hand_configured(tmp_path)
    run, output = run_with_vars(PLAYBOOK, variables, tmp_path, "-vvv")
    assert run.returncode == 0, output
    host_vars = yaml.safe_load((tmp_path / "host_vars" / "localhost" / "osg_htc_site.yml").read_text())
    assert host_vars["access_point_token_path"] == str(root / "tokens.d" / "ospool.token")
    assert host_vars["access_point_extra_config"] == {"MAX_JOBS_RUNNING": "5000"}
    audit = json.loads((tmp_path / "audit" / "localhost.json").read_text())
    assert audit["roles"] == ["access_point"]
    found = {entry["id"] for entry in audit["audit"]}
    assert {"token-permissions", "token-source", "project-name-policy", "local-config-file"} <= found
    text = (tmp_path / "audit" / "localhost.txt").read_text()
    assert "token-permissions" in text
    for secret in (token.rsplit(".", 1)[1], token.split(".")[1]):
        assert secret not in output
        assert secret not in (tmp_path / "host_vars" / "localhost" / "osg_htc_site.yml").read_text()
        assert secret not in text


def test_check_mode_writes_nothing_and_the_gate_fails_on_asked_severities(tmp_path):
    _root, _token, variables = hand_configured(tmp_path)
    run, output = run_with_vars(PLAYBOOK, variables, tmp_path, "--check")
    assert run.returncode == 0, output
    assert not (tmp_path / "host_vars").exists()
    variables["adopt_fail_on"] = ["risky"]
    run, output = run_with_vars(PLAYBOOK, variables, tmp_path)
    assert run.returncode != 0
    assert "token-permissions" in output
