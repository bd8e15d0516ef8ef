"""The site's HTCondor-CE (`htce`, the lab's EL 9 host, a Slurm client of `cluster`) in depth: the packages
from the signed mirror, effective routes, mappings, users, blah.config, Gratia, the condor-ce service and its
reconfig, firewalld (probed from the cluster, and closed without the role's rule), and a job into Slurm."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

# The files the package doubles lay down (tools/lab.py PACKAGED_STATE, tools/lab_mirror.py).
FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "packaged_state"

ROUTES = ["OSG_Pilots", "CMS_Pilots"]
CE_CONFIG = "/etc/condor-ce/condor_config"
MAPFILE = "/etc/condor-ce/mapfiles.d/50-osg-htc-site.conf"
# What the role must have written, in this order: bans first.
MAP_LINES = [
    r"SCITOKENS /^https\:\/\/banned\.example\.org\/issuer,/ badpilot@banned.htcondor.org",
    r"SCITOKENS /^https\:\/\/scitokens\.org\/osg\-connect,/ osg01",
    r"SCITOKENS /^https\:\/\/cms\-auth\.web\.cern\.ch\/,bad55f4e\-602c\-4e8d\-a5c5\-bd8ffb762113$/ cmspilot",
    r"SSL /^\/DC\=org\/DC\=example\/OU\=Services\/CN\=pilot\.example\.org$/ osg01",
]


def name_of(host) -> str:
    return host.backend.get_hostname()


@pytest.fixture
def htce(host):
    if name_of(host) != "htce":
        pytest.skip("checked on htce")
    return host


@pytest.fixture
def cluster(lab_host):
    return lab_host("cluster")


def test_effective_routes_through_htcondor_parser(htce, effective_config):
    names = [f"JOB_ROUTER_ROUTE_{name}" for name in ROUTES]
    values = effective_config(htce, CE_CONFIG, "JOB_ROUTER_ROUTE_NAMES", *names)
    assert values["JOB_ROUTER_ROUTE_NAMES"].replace(",", " ").split() == ROUTES
    osg = values["JOB_ROUTER_ROUTE_OSG_Pilots"]
    assert 'GridResource = "batch slurm"' in osg
    assert 'REQUIREMENTS orig_AuthTokenIssuer == "https://scitokens.org/osg-connect"' in osg
    assert "default_queue = osg" in osg
    assert 'REQUIREMENTS Owner == "cmspilot"' in values["JOB_ROUTER_ROUTE_CMS_Pilots"]


def test_ce_settings_and_auth_methods(htce, effective_config):
    methods = "SCHEDD.SEC_WRITE_AUTHENTICATION_METHODS"
    values = effective_config(htce, CE_CONFIG, "PORT", "CONDORCE_MAX_JOBS", methods, "CERTIFICATE_MAPFILE")
    assert values["PORT"] == "9619"
    assert values["CONDORCE_MAX_JOBS"] == "10000"
    assert "SCITOKENS" in values[methods].split(",")
    assert values["CERTIFICATE_MAPFILE"] == "/etc/condor-ce/condor_mapfile"
    assert htce.file("/etc/condor-ce/config.d/90-osg-htc-site.conf").exists


def test_mapfile_lines_bans_first(htce):
    mapfile = htce.file(MAPFILE)
    assert (mapfile.user, mapfile.group, mapfile.mode) == ("root", "root", 0o644)
    lines = [line for line in mapfile.content_string.splitlines() if line and not line.startswith("#")]
    assert lines == MAP_LINES


def test_mapped_users_exist_but_not_banned_ones(htce):
    assert htce.user("osg01").uid == 5001
    assert htce.user("cmspilot").exists
    assert not htce.user("badpilot").exists


def test_blah_config_as_osg_configure_and_the_role_write_it(htce):
    packaged = (FIXTURES / "etc" / "blah.config").read_text().splitlines()
    lines = htce.file("/etc/blah.config").content_string.splitlines()
    # osg-configure -c (the lab's double of it) set the three proxy keys in place, double-quoted, and
    # appended slurm_binpath (the package ships it commented out, #slurm_binpath=, since HTCondor 25.4,
    # and osg-configure does not edit comments); the role's lines are the same, so it changed nothing.
    quoted = {
        "blah_disable_wn_proxy_renewal": '"yes"',
        "blah_delegate_renewed_proxies": '"no"',
        "blah_disable_limited_proxy": '"yes"',
    }
    expected = [
        f"{line.split('=', 1)[0]}={quoted[line.split('=', 1)[0]]}" if line.split("=", 1)[0] in quoted else line
        for line in packaged
    ]
    assert lines == [*expected, 'slurm_binpath="/opt/slurm/bin"']


def test_osg_configure_verified_then_configured_once_with_the_role_file(htce):
    log = htce.file("/var/log/osg/osg-configure-test-double.log").content_string
    calls = [json.loads(line) for line in log.splitlines()]
    # The first converge wrote the file, then -v and -c; idempotence and check changed nothing, so no more calls.
    assert [call["argv"] for call in calls] == [["-v"], ["-c"]]
    ini = calls[-1]["files"]["99-osg-htc-site.ini"]
    assert ini == htce.file("/etc/osg/config.d/99-osg-htc-site.ini").content_string
    for line in (
        "[Site Information]",
        "host_name = htce.lab.test",
        "resource = LAB_TEST_CE",
        "resource_group = OSG_US_LAB_TEST",
        "[SLURM]",
        "slurm_location = /opt/slurm",
        "[Info Services]",
        "ce_collectors = PRODUCTION",
        "[Pilot main]",
        "allowed_vos = osg, cms",
    ):
        assert line in ini.splitlines(), line
    conf = htce.file("/etc/condor-ce/config.d/50-osg-configure.conf").content_string
    assert "OSG_CONFIGURED=true" in conf.splitlines()


def test_the_ce_advertises_its_resource_and_the_role_catalog(htce, effective_config):
    # Written by osg-configure -c (the lab's double of it) from the role's file; read by HTCondor's parser.
    names = ("OSG_Resource", "OSG_ResourceGroup", "OSG_BatchSystems", "OSG_ResourceCatalog", "SCHEDD_ATTRS")
    values = effective_config(htce, CE_CONFIG, *names)
    assert (values["OSG_Resource"], values["OSG_ResourceGroup"]) == ('"LAB_TEST_CE"', '"OSG_US_LAB_TEST"')
    assert values["OSG_BatchSystems"] == '"SLURM"'
    assert "OSG_ResourceCatalog" in values["SCHEDD_ATTRS"]
    catalog = " ".join(values["OSG_ResourceCatalog"].split())
    entry = ('Name = "main";', 'AllowedVOs = { "osg", "cms" };', "MaxPilots = 10;", "Memory = 2000;", "CPUs = 1;")
    for attribute in entry:
        assert attribute in catalog, catalog


def test_gratia_probe(htce):
    text = htce.file("/etc/gratia/htcondor-ce/ProbeConfig").content_string
    for attribute in (
        'SiteName="LAB_TEST_CE"',
        'ProbeName="htcondor-ce:htce.lab.test"',
        'EnableProbe="1"',
        'SuppressNoDNRecords="1"',
        # Written by osg-configure -c (the lab's double of it) from the role's osg-configure file.
        'Grid="OSG"',
        'SuppressGridLocalRecords="1"',
    ):
        assert attribute in text


def test_the_host_is_el9_and_the_ce_packages_came_signed_from_the_mirror(htce, signed_from_mirror):
    facts = htce.ansible("ansible.builtin.setup", "gather_subset=!all,!min,distribution,pkg_mgr")["ansible_facts"]
    assert (facts["ansible_os_family"], facts["ansible_distribution_major_version"], facts["ansible_pkg_mgr"]) == (
        "RedHat",
        "9",
        "dnf",
    )
    for repo in ("epel", "osg"):
        repo_file = htce.file(f"/etc/yum.repos.d/{repo}.repo").content_string
        section = repo_file.split(f"[{repo}]", 1)[1].split("\n[", 1)[0]
        assert "gpgcheck=1" in section.replace(" ", ""), section
        assert "baseurl=http://10.0.2.2:" in section.replace(" ", ""), section
        assert "metalink" not in section and "mirrorlist" not in section, section
    signed_from_mirror(htce, ("htcondor-ce", "htcondor-ce-slurm", "osg-ce-slurm", "gratia-probe-htcondor-ce", "condor"))


def test_condor_ce_runs_and_the_handler_reconfigured_it(htce, daemon_reconfigured):
    # condor_ce_reconfig, run by the handler after converge; idempotence and check ran no handler.
    daemon_reconfigured(htce, "condor-ce", "/var/log/condor-ce/MasterLog", 9619)


def test_firewalld_opens_9619_to_another_vm_and_without_the_rule_it_is_closed(htce, cluster, firewalld_gates_the_port):
    assert htce.service("firewalld").is_running
    assert "9619/tcp" in htce.check_output("firewall-cmd --list-ports").split()
    assert "9619/tcp" in htce.check_output("firewall-cmd --permanent --list-ports").split()
    firewalld_gates_the_port(htce, cluster, "htce.lab.test", 9619)


def test_job_from_ce_runs_on_cluster_as_mapped_user(htce, cluster):
    binpath = next(
        line.split("=", 1)[1].strip("\"'")
        for line in htce.file("/etc/blah.config").content_string.splitlines()
        if line.startswith("slurm_binpath=")
    )
    assert binpath == "/opt/slurm/bin"  # the role's, not the packaged /usr/bin
    submit = htce.run(
        f"runuser -u osg01 -- {binpath}/sbatch --parsable --chdir=/tmp --output=/tmp/ce-test-%j.out "
        "--wrap 'hostname; id -un'"
    )
    assert submit.rc == 0, submit.stderr
    job = submit.stdout.strip().split(";")[0]
    state = ""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        shown = htce.run(f"{binpath}/scontrol show job {job}").stdout
        state = next((w.split("=", 1)[1] for w in shown.split() if w.startswith("JobState=")), "")
        if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"):
            break
        time.sleep(2)
    assert state == "COMPLETED", shown
    assert "NodeList=cluster" in shown
    output = cluster.file(f"/tmp/ce-test-{job}.out")  # noqa: S108 (in the throwaway VM, where sbatch wrote it)
    assert output.exists
    assert output.content_string.split() == ["cluster", "osg01"]
