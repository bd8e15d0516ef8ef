"""The site after playbooks/site.yml: each host is what its group asks for, the hosts work together (the
Bosco CE reaches the cluster's Slurm over SSH; the HTCondor-CE reaches the same Slurm as its client), and
the site summary names every host with what was verified. test_access_point.py, test_htcondor_ce.py and
test_ce_bosco.py test each role in depth."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
ANSIBLE_LOG = EPHEMERAL / "ansible.log"
AP_CONFIG = "/etc/condor/condor_config"
CE_CONFIG = "/etc/condor-ce/condor_config"


def on(host, name: str):
    if host.backend.get_hostname() != name:
        pytest.skip(f"checked on {name}")
    return host


@pytest.mark.parametrize("name", ["ap", "cluster"])
def test_access_points_are_ospool_access_points(host, effective_config, name):
    ap = on(host, name)
    values = effective_config(ap, AP_CONFIG, "SEC_TOKEN_SYSTEM_DIRECTORY", "SUBMIT_REQUIREMENT_NAMES")
    assert values["SEC_TOKEN_SYSTEM_DIRECTORY"] == "/etc/condor/tokens.d"  # noqa: S105 (a directory, not a secret)
    assert values["SUBMIT_REQUIREMENT_NAMES"]
    token = ap.file("/etc/condor/tokens.d/ospool.token")
    assert (token.user, token.group, token.mode) == ("root", "root", 0o600)


def test_htcondor_ce_routes_to_the_clusters_slurm(host, effective_config):
    htce = on(host, "htce")
    names = ("JOB_ROUTER_ROUTE_NAMES", "JOB_ROUTER_ROUTE_OSG_Pilots", "JOB_ROUTER_ROUTE_CMS_Pilots")
    values = effective_config(htce, CE_CONFIG, *names)
    assert values["JOB_ROUTER_ROUTE_NAMES"].replace(",", " ").split() == ["OSG_Pilots", "CMS_Pilots"]
    for route in ("JOB_ROUTER_ROUTE_OSG_Pilots", "JOB_ROUTER_ROUTE_CMS_Pilots"):
        assert 'GridResource = "batch slurm"' in values[route]
    assert htce.run("runuser -u osg01 -- sinfo --noheader --format=%P").stdout.split() == ["osg*"]


def test_bosco_ce_reaches_the_clusters_slurm_over_ssh(host, effective_config):
    ce = on(host, "ce")
    values = effective_config(ce, CE_CONFIG, "JOB_ROUTER_ROUTE_NAMES", "BOSCO_ENDPOINT")
    route = values["JOB_ROUTER_ROUTE_NAMES"].replace(",", " ").split()
    assert route == ["Bosco_osg01_cluster_lab_test"]
    assert values["BOSCO_ENDPOINT"] == "osg01@cluster.lab.test"
    answer = ce.run("runuser -u osg01 -- ssh cluster.lab.test squeue --noheader --format=%P")
    assert answer.rc == 0, answer.stderr


def test_site_summary_names_every_host_and_what_was_verified(host):
    on(host, "ap")  # the log is on the controller: check it once
    text = ANSIBLE_LOG.read_text()
    summary = text[text.rindex("Show what each host now is and what was verified") :]
    for line in (
        "ap: OSPool Access Point, ospool direct",
        "token /etc/condor/tokens.d/ospool.token: sub RESOURCE-ap.lab.test@cm-1.ospool.osg-htc.org,"
        " iss flock.opensciencegrid.org, no expiry",
        "ce: HTCondor-CE-Bosco for osg01@cluster.lab.test",
        "osg01@cluster.lab.test: key login, remote forwarding and `squeue",
        "cluster: OSPool Access Point, ospool direct",
        "token /etc/condor/tokens.d/ospool.token: sub RESOURCE-cluster.lab.test@cm-1.ospool.osg-htc.org,"
        " iss flock.opensciencegrid.org, no expiry",
        "htce: HTCondor-CE for slurm",
        "routes: OSG_Pilots, CMS_Pilots (3 test jobs routed as expected)",
        "batch client answered: sinfo, squeue",
        "osg-configure: LAB_TEST_CE in OSG_US_LAB_TEST, 1 pilot entries (/etc/osg/config.d/99-osg-htc-site.ini",
    ):
        assert line in summary, f"{line!r} not in the site summary:\n{summary[:3000]}"
