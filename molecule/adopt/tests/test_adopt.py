"""Adopting a hand-configured site (docs/adopting.md): what adopt wrote before the converge (prepare.yml ran it
and the round trip), then the hosts after the converge with the adopted variables, adopted again."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
BEFORE = EPHEMERAL / "adopt" / "before"
AFTER = EPHEMERAL / "adopt" / "after"
TOKEN = PROJECT / "tests/fixtures/tokens/ap.lab.test.token"
HOSTS = ("ap", "htce")

# What hand_configure.yml planted, by host: (audit id, text its `where` contains).
PLANTED = {
    "ap": [
        ("token-permissions", "/etc/condor/tokens.d/ospool.token"),
        ("project-name-policy", "SUBMIT_REQUIREMENT_NAMES"),
        ("local-config-file", "/etc/condor/config.d/99-local.conf"),
        ("gratia-probe-name", "ProbeName"),
    ],
    "htce": [
        ("old-route-syntax", "JOB_ROUTER_ENTRIES"),
        ("route-shadowed", "route OSG_Pilots"),
        ("edited-package-file", "/etc/condor-ce/config.d/01-ce-router.conf"),
        ("gsi-leftover", "/etc/grid-security/grid-mapfile"),
        ("gsi-leftover", "/etc/condor-ce/mapfiles.d/10-gsi.conf"),
        ("gsi-mapping", "/etc/condor-ce/mapfiles.d/10-gsi.conf line 1"),
        ("package-leftover", "/etc/condor-ce/config.d/01-ce-auth.conf.rpmnew"),
        ("python-bindings-v1", "/usr/local/bin/ce-queue-report:2"),
        ("bdii", "osg-configure [Info Services]"),
        ("local-config-file", "/etc/condor-ce/config.d/20-local-routes.conf"),
    ],
}
# The audit items a converge resolves: the role's files written, its packages installed, the token's mode.
FIXED_BY_CONVERGE = {"role-file", "role-packages", "token-permissions"}
# Each task the round trip may report changed, by the audit item that says why (the roles' task names).
CHANGE_REASONS = {
    "Write ospool-ap's flocking settings": "role-file",
    "Install the OSPool token": "token-permissions",
    "Install the Python libraries host_preflight uses": "role-packages",
    "Write the SciTokens and SSL mappings": "role-file",
    "Install the job routes": "role-file",
    "Write the CE settings": "role-file",
    "osg-configure": "role-file",
}
# Handlers run because a task above changed something.
HANDLERS = ("Reconfigure condor", "Reconfigure condor-ce", "Restart condor", "Restart condor-ce")


def adopted(where: Path, host: str) -> dict:
    return yaml.safe_load((where / "host_vars" / host / "osg_htc_site.yml").read_text()) or {}


def audit(where: Path, host: str) -> list:
    return json.loads((where / "audit" / f"{host}.json").read_text())["audit"]


def keys(items) -> set:
    return {(entry["id"], entry["where"]) for entry in items}


@pytest.fixture(scope="module")
def after():
    """adopt again, after the converge with the adopted variables."""
    if not (AFTER / "audit").is_dir():
        inventory = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent
        command = [
            shutil.which("ansible-playbook") or "ansible-playbook",
            "-i",
            str(inventory),
            str(PROJECT / "playbooks/adopt.yml"),
            "-e",
            f"adopt_host_vars_dir={AFTER / 'host_vars'}",
            "-e",
            f"adopt_audit_dir={AFTER / 'audit'}",
        ]
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOG_PATH=str(AFTER / "adopt.log"))
        AFTER.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False)
        (AFTER / "adopt.out").write_text(result.stdout + result.stderr)
        assert result.returncode == 0, result.stdout[-4000:]
        # Kept beside the scenario's log (Molecule prunes its run directory): the variables, the audits and
        # the round trip's output, to read after the run.
        keep = PROJECT / "build" / "adopt-lab"
        shutil.rmtree(keep, ignore_errors=True)
        for where in (BEFORE, AFTER):
            for pattern in ("host_vars/*/*.yml", "audit/*", "roundtrip.out"):
                for path in where.glob(pattern):
                    target = keep / where.name / path.relative_to(where)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
    return AFTER


def test_adopted_access_point_variables():
    assert adopted(BEFORE, "ap") == {
        "access_point_gratia_site_name": "OSG_US_LAB_TEST_SUBMIT",
        "access_point_gratia_probe_name": "condor-ap:localhost.localdomain",
        "access_point_extra_config": {"MAX_JOBS_RUNNING": "5000", "SiteContact": '"admin@lab.test"'},
    }


def test_adopted_ce_variables():
    got = adopted(BEFORE, "htce")
    assert got["htcondor_ce_batch"] == "slurm"
    assert got["htcondor_ce_site_name"] == "LAB_TEST_CE"
    assert got["htcondor_ce_resource_group"] == "OSG_US_LAB_TEST"
    assert got["htcondor_ce_worker_node_temp"] == "/scratch"
    assert got["htcondor_ce_max_jobs"] == 4000
    assert got["htcondor_ce_pilots"] == [
        {"name": "main", "queue": "osg", "ram_mb": 2000, "max_pilots": 10, "allowed_vos": ["osg"]}
    ]
    assert got["htcondor_ce_scitokens_mappings"] == [
        {"issuer": "https://scitokens.org/osg-connect", "user": "osg", "vo": "osg"},
        {"issuer": "https://banned.example.org/issuer", "user": "badpilot", "banned": True},
    ]
    assert got["htcondor_ce_ssl_mappings"] == [
        {"dn": "/DC=org/DC=example/OU=Services/CN=pilot.example.org", "user": "osg"}
    ]
    assert got["htcondor_ce_user_uids"] == {"osg": 5001}
    # The live routes are the new-syntax ones; the old-syntax ones are in the audit, converted.
    assert got["htcondor_ce_routes"] == [
        {
            "name": "OSG_Pilots",
            "commands": [
                'GridResource = "batch slurm"',
                'REQUIREMENTS Owner == "osg"',
                "default_queue = osg",
                "default_maxMemory = 2000",
            ],
        }
    ]
    old = next(entry for entry in audit(BEFORE, "htce") if entry["id"] == "old-route-syntax")
    assert [route["name"] for route in old["converted_routes"]] == ["OSG_Pilots"]


@pytest.mark.parametrize("name", HOSTS)
def test_the_audit_finds_every_planted_item(name):
    found = audit(BEFORE, name)
    missed = [
        (id_, where)
        for id_, where in PLANTED[name]
        if not any(entry["id"] == id_ and where in entry["where"] for entry in found)
    ]
    assert not missed, json.dumps(found, indent=1)
    for entry in found:
        assert entry["fix"], entry


def changed_tasks(output: str) -> list:
    """(host, task) of every 'changed' result of a default-callback run, handlers included."""
    found, task = [], None
    for line in output.splitlines():
        header = re.match(r"^(?:TASK|RUNNING HANDLER) \[(?:[^\]]* : )?(.*)\] \**$", line)
        if header:
            task = header.group(1)
            continue
        result = re.match(r"^changed: \[([^\]]+)\]", line)
        if result and task:
            found.append((result.group(1), task))
    return found


def test_the_round_trip_changes_only_what_the_audit_names():
    output = (BEFORE / "roundtrip.out").read_text()
    assert (BEFORE / "roundtrip.rc").read_text().strip() == "0", output[-6000:]
    unexplained = []
    for host, task in changed_tasks(output):
        if task.startswith(HANDLERS):
            continue
        reason = next((id_ for prefix, id_ in CHANGE_REASONS.items() if prefix in task), None)
        ids = {entry["id"] for entry in audit(BEFORE, host)}
        if reason is None or reason not in ids:
            unexplained.append((host, task, reason))
    assert not unexplained, output[-6000:]
    recap = dict(re.findall(r"^(\w+)\s+: ok=\d+\s+changed=(\d+)", output, re.M))
    assert set(HOSTS) <= set(recap)


@pytest.mark.parametrize("name", HOSTS)
def test_after_the_converge_the_variables_are_the_same(after, name):
    assert adopted(after, name) == adopted(BEFORE, name)


@pytest.mark.parametrize("name", HOSTS)
def test_after_the_converge_only_the_items_it_fixed_are_gone(after, name):
    before, now = audit(BEFORE, name), audit(after, name)
    expected = {key for key in keys(before) if key[0] not in FIXED_BY_CONVERGE}
    assert keys(now) == expected
    # ... and each of those was there before it.
    assert {entry["id"] for entry in before} & FIXED_BY_CONVERGE


def test_no_secret_in_any_output_of_adopt(after):
    token = TOKEN.read_text().strip()
    signature = token.rsplit(".", 1)[-1]
    payload = token.split(".")[1]
    texts = [path.read_text(errors="replace") for top in (BEFORE, after) for path in top.rglob("*") if path.is_file()]
    assert texts
    for text in texts:
        assert signature not in text
        assert payload not in text
    # The -vvv run printed the module's whole result.
    assert "site_facts" in (BEFORE / "adopt.out").read_text()
