"""The converged CE: effective routes, mappings, users, blah.config, Gratia, firewall, and a job into Slurm."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import testinfra

# The packaged-state test doubles prepare laid down (tools/lab.py PACKAGED_STATE).
FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "packaged_state"

ROUTES = ["OSG_Pilots", "CMS_Pilots"]
CE_CONFIG = "/etc/condor-ce/condor_config"
MAPFILE = "/etc/condor-ce/mapfiles.d/50-osg-htc-site.conf"
# What the role must have written, in this order: bans first.
MAP_LINES = [
    r"SCITOKENS /^https\:\/\/banned\.example\.org\/issuer,/ badpilot@banned.htcondor.org",
    r"SCITOKENS /^https\:\/\/scitokens\.org\/osg\-connect,/ osg",
    r"SCITOKENS /^https\:\/\/cms\-auth\.web\.cern\.ch\/,bad55f4e\-602c\-4e8d\-a5c5\-bd8ffb762113$/ cmspilot",
    r"SSL /^\/DC\=org\/DC\=example\/OU\=Services\/CN\=pilot\.example\.org$/ osg",
]


def name_of(host) -> str:
    return host.backend.get_hostname()


@pytest.fixture
def ce(host):
    if name_of(host) != "ce":
        pytest.skip("checked on the CE")
    return host


@pytest.fixture
def cluster(host):
    inventory = host.backend.ansible_inventory
    return testinfra.get_host(f"ansible://cluster?ansible_inventory={inventory}")


def test_effective_routes_through_htcondor_parser(ce, effective_config):
    names = [f"JOB_ROUTER_ROUTE_{name}" for name in ROUTES]
    values = effective_config(ce, CE_CONFIG, "JOB_ROUTER_ROUTE_NAMES", *names)
    assert values["JOB_ROUTER_ROUTE_NAMES"].replace(",", " ").split() == ROUTES
    osg = values["JOB_ROUTER_ROUTE_OSG_Pilots"]
    assert 'GridResource = "batch slurm"' in osg
    assert 'REQUIREMENTS orig_AuthTokenIssuer == "https://scitokens.org/osg-connect"' in osg
    assert "default_queue = osg" in osg
    assert 'REQUIREMENTS Owner == "cmspilot"' in values["JOB_ROUTER_ROUTE_CMS_Pilots"]


def test_ce_settings_and_auth_methods(ce, effective_config):
    methods = "SCHEDD.SEC_WRITE_AUTHENTICATION_METHODS"
    values = effective_config(ce, CE_CONFIG, "PORT", "CONDORCE_MAX_JOBS", methods, "CERTIFICATE_MAPFILE")
    assert values["PORT"] == "9619"
    assert values["CONDORCE_MAX_JOBS"] == "10000"
    assert "SCITOKENS" in values[methods].split(",")
    assert values["CERTIFICATE_MAPFILE"] == "/etc/condor-ce/condor_mapfile"
    assert ce.file("/etc/condor-ce/config.d/90-osg-htc-site.conf").exists


def test_mapfile_lines_bans_first(ce):
    mapfile = ce.file(MAPFILE)
    assert (mapfile.user, mapfile.group, mapfile.mode) == ("root", "root", 0o644)
    lines = [line for line in mapfile.content_string.splitlines() if line and not line.startswith("#")]
    assert lines == MAP_LINES


def test_mapped_users_exist_but_not_banned_ones(ce):
    assert ce.user("osg").uid == 5001
    assert ce.user("cmspilot").exists
    assert not ce.user("badpilot").exists


def test_blah_config_binpath_edited_in_place(ce):
    packaged = (FIXTURES / "etc" / "blah.config").read_text().splitlines()
    lines = ce.file("/etc/blah.config").content_string.splitlines()
    # Only the slurm_binpath line changed, where it was (the package ships it commented
    # out, #slurm_binpath=, since HTCondor 25.4); the rest is the packaged file.
    at = next(i for i, line in enumerate(packaged) if re.match(r"#?slurm_binpath=", line))
    assert lines[at] == "slurm_binpath=/opt/slurm/bin"
    assert lines[:at] + lines[at + 1 :] == packaged[:at] + packaged[at + 1 :]


def test_gratia_probe(ce):
    text = ce.file("/etc/gratia/htcondor-ce/ProbeConfig").content_string
    for attribute in (
        'SiteName="LAB_TEST_CE"',
        'ProbeName="htcondor-ce:ce.lab.test"',
        'EnableProbe="1"',
        'SuppressNoDNRecords="1"',
    ):
        assert attribute in text


def test_firewall_rule_loaded(ce):
    chain = ce.run("nft list chain inet filter input")
    assert chain.rc == 0, chain.stderr
    rule = [line for line in chain.stdout.splitlines() if "9619" in line]
    assert rule and 'comment "osg_htc.site htcondor_ce"' in rule[0], chain.stdout


def test_job_from_ce_runs_on_cluster_as_mapped_user(ce, cluster):
    binpath = next(
        line.split("=", 1)[1].strip("\"'")
        for line in ce.file("/etc/blah.config").content_string.splitlines()
        if line.startswith("slurm_binpath=")
    )
    assert binpath == "/opt/slurm/bin"  # the role's, not the packaged /usr/bin
    submit = ce.run(
        f"runuser -u osg -- {binpath}/sbatch --parsable --chdir=/tmp --output=/tmp/ce-test-%j.out "
        "--wrap 'hostname; id -un'"
    )
    assert submit.rc == 0, submit.stderr
    job = submit.stdout.strip().split(";")[0]
    state = ""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        shown = ce.run(f"{binpath}/scontrol show job {job}").stdout
        state = next((w.split("=", 1)[1] for w in shown.split() if w.startswith("JobState=")), "")
        if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"):
            break
        time.sleep(2)
    assert state == "COMPLETED", shown
    assert "NodeList=cluster" in shown
    output = cluster.file(f"/tmp/ce-test-{job}.out")  # noqa: S108 (in the throwaway VM, where sbatch wrote it)
    assert output.exists
    assert output.content_string.split() == ["cluster", "osg"]
