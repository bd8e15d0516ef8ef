"""The site after playbooks/site.yml: each host is what its group asks for, the hosts work together (the
Bosco CE reaches the cluster's Slurm over SSH; the cluster's CE reaches the same Slurm locally), and the
site summary names every host with what was verified. The htcondor_ce scenario tests that role in depth;
test_access_point.py and test_ce_bosco.py test the Access Point and the Bosco CE in depth."""

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


def test_ap_is_an_ospool_access_point(host, effective_config):
    ap = on(host, "ap")
    values = effective_config(ap, AP_CONFIG, "SEC_TOKEN_SYSTEM_DIRECTORY", "SUBMIT_REQUIREMENT_NAMES")
    assert values["SEC_TOKEN_SYSTEM_DIRECTORY"] == "/etc/condor/tokens.d"  # noqa: S105 (a directory, not a secret)
    assert values["SUBMIT_REQUIREMENT_NAMES"]
    token = ap.file("/etc/condor/tokens.d/ospool.token")
    assert (token.user, token.group, token.mode) == ("root", "root", 0o600)


def test_cluster_ce_routes_to_its_local_slurm(host, effective_config):
    cluster = on(host, "cluster")
    names = ("JOB_ROUTER_ROUTE_NAMES", "JOB_ROUTER_ROUTE_OSPool", "JOB_ROUTER_ROUTE_Slurm_Cluster")
    values = effective_config(cluster, CE_CONFIG, *names)
    assert values["JOB_ROUTER_ROUTE_NAMES"].replace(",", " ").split() == ["OSPool", "Slurm_Cluster"]
    for route in ("JOB_ROUTER_ROUTE_OSPool", "JOB_ROUTER_ROUTE_Slurm_Cluster"):
        assert 'GridResource = "batch slurm"' in values[route]
    assert cluster.run("runuser -u osg01 -- sinfo --noheader --format=%P").stdout.split() == ["osg*"]


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
        "cluster: HTCondor-CE for slurm",
        "routes: OSPool, Slurm_Cluster (2 test jobs routed as expected)",
        "batch client answered: sinfo, squeue",
    ):
        assert line in summary, f"{line!r} not in the site summary:\n{summary[:3000]}"
