"""What the access_point role left on the site's two Access Points, read back the way HTCondor, Gratia and the
firewall read it: `ap` on the lab's EL 9 host with everything managed (the packages from the signed mirror,
firewalld, the condor service, probed from another VM), `cluster` on Debian (nftables; the site's own
HTCondor). Then what the role does, run again on `ap` alone (`--limit ap`), with another mode in check mode
and with a wrong token.

The Access Points' variables are the site scenario's `ospool_access_points` group_vars and their host_vars.

One round trip gathers everything (each command into a TCG VM costs seconds);
the tests then check it. The token file is compared by hash, so no assertion
message can ever show it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest

PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
TOKENS = PROJECT / "tests" / "fixtures" / "tokens"
ACCESS_POINTS = ("ap", "cluster")
GOOD_TOKENS = {name: (TOKENS / f"{name}.lab.test.token").read_text().strip() for name in ACCESS_POINTS}
BAD_TOKEN_FILE = TOKENS / "ap.lab.test-wrong-issuer.token"

CONFIG = "/etc/condor/config.d/90-osg-htc-access-point.conf"
FLOCKING = "/etc/condor/config.d/80-osg-flocking.conf"
TOKEN = "/etc/condor/tokens.d/ospool.token"  # noqa: S105 (a path, not a secret)
PROBE_CONFIG = "/etc/gratia/condor-ap/ProbeConfig"
WATCHED = (CONFIG, FLOCKING, TOKEN, PROBE_CONFIG)

# Runs in the VM with the image's python3 and the htcondor wheel prepare installed.
GATHER = r"""
import hashlib, json, os, pwd, grp, subprocess, sys
from xml.dom import minidom
os.environ["CONDOR_CONFIG"] = "/etc/condor/condor_config"
import htcondor2, classad2

out = {"files": {}, "params": {}, "probe": {}}
for path in sys.argv[1:]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        out["files"][path] = None
        continue
    entry = {"owner": pwd.getpwuid(st.st_uid).pw_name, "group": grp.getgrgid(st.st_gid).gr_name,
             "mode": "%04o" % (st.st_mode & 0o7777), "mtime_ns": st.st_mtime_ns}
    if os.path.isfile(path):
        data = open(path, "rb").read()
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        if not path.endswith(".token"):
            entry["text"] = data.decode()
    out["files"][path] = entry

for name in ("CONDOR_HOST", "FLOCK_TO", "SEC_TOKEN_SYSTEM_DIRECTORY", "DAEMON_LIST", "UID_DOMAIN",
             "SUBMIT_REQUIREMENT_NAMES", "SUBMIT_REQUIREMENT_OSGHTCRequireProjectName",
             "SUBMIT_REQUIREMENT_OSGHTCRequireProjectName_REASON", "OSG_FLOCK_VERSION"):
    out["params"][name] = htcondor2.param.get(name)

# The submit requirement as the schedd evaluates it: MY is the schedd, TARGET the job.
requirement = out["params"]["SUBMIT_REQUIREMENT_OSGHTCRequireProjectName"]
jobs = {"with_project": {"ProjectName": "UChicago_Staff"}, "without_project": {}, "empty_project": {"ProjectName": ""}}
out["accepts"] = {label: classad2.ExprTree(requirement).eval(scope=classad2.ClassAd(), target=classad2.ClassAd(ad))
                  for label, ad in jobs.items()}
reason = classad2.ExprTree(out["params"]["SUBMIT_REQUIREMENT_OSGHTCRequireProjectName_REASON"])
out["reason"] = reason.eval()

element = minidom.parse("/etc/gratia/condor-ap/ProbeConfig").getElementsByTagName("ProbeConfiguration")[0]
out["probe"] = {name: element.getAttribute(name) for name in element.attributes.keys()}

nft = subprocess.run(["nft", "list", "chain", "inet", "filter", "input"], capture_output=True, text=True)
out["nft"] = nft.stdout + nft.stderr
enabled = subprocess.run(["systemctl", "is-enabled", "nftables"], capture_output=True, text=True)
out["nftables_enabled"] = enabled.stdout.strip()
print(json.dumps(out))
"""


def gather(host) -> dict:
    paths = [*WATCHED, "/etc/condor/tokens.d", "/etc/redhat-release"]
    result = host.run("python3 -c %s" + " %s" * len(paths), GATHER, *paths)
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


def name_of(host) -> str:
    return host.backend.get_hostname()


@pytest.fixture
def ap(host):
    if name_of(host) != "ap":
        pytest.skip("checked on ap")
    return host


@pytest.fixture
def any_ap(host):
    if name_of(host) not in ACCESS_POINTS:
        pytest.skip("checked on the Access Points")
    return host


@pytest.fixture(scope="module")
def state(host):
    if name_of(host) not in ACCESS_POINTS:
        pytest.skip("checked on the Access Points")
    gathered = gather(host)
    gathered["name"] = name_of(host)
    gathered["el"] = gathered["files"]["/etc/redhat-release"] is not None
    return gathered


def test_config_files_are_ours_and_readable(state):
    for path in (CONFIG, FLOCKING):
        entry = state["files"][path]
        assert entry is not None, f"{path} is missing"
        assert (entry["owner"], entry["group"], entry["mode"]) == ("root", "root", "0644"), path
    # On EL ospool-ap ships 80-osg-flocking.conf; on Debian the role writes what it holds.
    ours = (CONFIG,) if state["el"] else (CONFIG, FLOCKING)
    for path in ours:
        assert "osg_htc.site" in state["files"][path]["text"].splitlines()[0], f"{path} lacks the managed-by header"
    config = state["files"][CONFIG]["text"]
    assert re.search(r"^CONDOR_HOST = cm-1\.ospool\.osg-htc\.org, cm-2\.ospool\.osg-htc\.org$", config, re.M)
    assert re.search(r"^SEC_TOKEN_SYSTEM_DIRECTORY = /etc/condor/tokens\.d$", config, re.M)
    assert "FLOCK_TO" not in config


def test_flocking_settings_of_ospool_ap(state):
    text = state["files"][FLOCKING]["text"]
    for line in (
        "DAEMON_LIST = $(DAEMON_LIST), SCHEDD",
        "CONDOR_HOST = cm-1.ospool.osg-htc.org,cm-2.ospool.osg-htc.org",
        "SCHEDD.SEC_CLIENT_AUTHENTICATION = REQUIRED",
        "MAX_NUM_SCHEDD_AUDIT_LOG = 90",
    ):
        assert line in text.splitlines()


def test_token_installed_root_only(state):
    token = state["files"][TOKEN]
    assert (token["owner"], token["group"], token["mode"]) == ("root", "root", "0600")
    good = GOOD_TOKENS[state["name"]]
    assert token["sha256"] == hashlib.sha256((good + "\n").encode()).hexdigest(), "not the host's lab token"
    directory = state["files"]["/etc/condor/tokens.d"]
    assert (directory["owner"], directory["mode"]) == ("root", "0700")


def test_effective_configuration_through_htcondor(state):
    params = state["params"]
    assert params["CONDOR_HOST"] == "cm-1.ospool.osg-htc.org, cm-2.ospool.osg-htc.org"
    assert params["FLOCK_TO"] is None
    assert params["SEC_TOKEN_SYSTEM_DIRECTORY"] == "/etc/condor/tokens.d"  # noqa: S105 (a path)
    assert [d.strip() for d in params["DAEMON_LIST"].split(",")] == ["MASTER", "SCHEDD"]
    assert params["UID_DOMAIN"] == f"{state['name']}.lab.test"
    assert params["OSG_FLOCK_VERSION"] == '"1.10"'
    assert "OSGHTCRequireProjectName" in params["SUBMIT_REQUIREMENT_NAMES"].split()


def test_submit_requirement_rejects_jobs_without_a_project(state):
    assert state["accepts"] == {"with_project": True, "without_project": False, "empty_project": False}
    assert '+ProjectName = "<your project>"' in state["reason"]


def test_gratia_probe_config(state):
    probe = state["probe"]
    assert probe["SiteName"] == "OSG_US_LAB_TEST_SUBMIT"
    assert probe["ProbeName"] == f"condor-ap:{state['name']}.lab.test"
    assert probe["EnableProbe"] == "1"
    assert probe["VOOverride"] == "osg"
    # Everything else as the package shipped it.
    assert probe["CollectorHost"] == "gratia-osg-prod.opensciencegrid.org:80"
    assert "TEST DOUBLE" in state["files"][PROBE_CONFIG]["text"]


def test_firewall_rule_is_loaded(state, any_ap):
    if state["el"]:
        assert any_ap.service("firewalld").is_running
        for scope in ("", "--permanent "):
            assert "9618/tcp" in any_ap.check_output(f"firewall-cmd {scope}--list-ports").split(), scope
        return
    assert re.search(r'tcp dport \{? ?9618 ?\}? accept comment "osg_htc\.site access_point"', state["nft"]), state[
        "nft"
    ]
    assert state["nftables_enabled"] == "enabled"


def test_no_token_text_in_the_ansible_log():
    log = (EPHEMERAL / "ansible.log").read_text()
    assert "Install the OSPool token" in log, "the log does not hold the converge run"
    for token in GOOD_TOKENS.values():
        assert token not in log
        assert token.rsplit(".", 1)[1] not in log


def test_flocking_mode_with_a_default_project_in_check_mode(ap, tmp_path, run_converge):
    """The other mode and the job transform, through HTCondor's parser in the VM, without writing anything."""
    before = gather(ap)["files"]
    extra = {
        "access_point_mode": "flocking",
        "access_point_local_central_manager": "cm.lab.test",
        "access_point_require_project_name": False,
        "access_point_default_project_name": "OSG_Lab_Test",
    }
    returncode, output = run_converge(
        "--check", "--diff", "--limit", "ap", extra_vars=extra, log=tmp_path / "flocking.log", timeout=600
    )
    assert returncode == 0, output[-3000:]
    assert "CONDOR_HOST=cm.lab.test, FLOCK_TO=cm-1.ospool.osg-htc.org, cm-2.ospool.osg-htc.org" in output, output[
        -3000:
    ]
    assert "+FLOCK_TO = cm-1.ospool.osg-htc.org, cm-2.ospool.osg-htc.org" in output
    assert "+JOB_TRANSFORM_NAMES = $(JOB_TRANSFORM_NAMES) OSGHTCDefaultProjectName" in output
    assert '+DEFAULT ProjectName "OSG_Lab_Test"' in output
    assert gather(ap)["files"] == before, "check mode changed a file"


def test_bad_token_fails_before_any_file_changes(ap, tmp_path, run_converge):
    before = gather(ap)["files"]
    log = tmp_path / "bad-token.log"
    returncode, output = run_converge(
        "-vvv", "--limit", "ap", "-e", f"access_point_token_file={BAD_TOKEN_FILE}", log=log, timeout=600
    )
    assert returncode != 0, output[-3000:]
    # The bad token's issuer is a central manager's host name; the OSPool's is its trust domain.
    assert "The token was issued by 'cm-1.ospool.osg-htc.org'; expected issuer 'flock.opensciencegrid.org'" in output, (
        output[-3000:]
    )
    assert "Refusing the token" in output, output[-3000:]
    after = gather(ap)["files"]
    assert after == before, "a file changed although the token was refused"
    bad = BAD_TOKEN_FILE.read_text().strip()
    for text in (output, log.read_text()):
        assert bad not in text
        assert bad.rsplit(".", 1)[1] not in text


def test_the_el_ap_packages_came_signed_from_the_mirror(ap, signed_from_mirror):
    signed_from_mirror(ap, ("ospool-ap", "condor", "python3-condor", "gratia-probe-condor-ap", "python3-psutil"))


def test_condor_runs_and_the_handler_reconfigured_it(ap, daemon_reconfigured):
    daemon_reconfigured(ap, "condor", "/var/log/condor/MasterLog", 9618)


def test_firewalld_opens_9618_to_another_vm_and_without_the_rule_it_is_closed(ap, lab_host, firewalld_gates_the_port):
    firewalld_gates_the_port(ap, lab_host("cluster"), "ap.lab.test", 9618)
