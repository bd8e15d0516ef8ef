"""The site's Bosco CE in depth: SSH to `cluster` by key with host keys pinned, remote forwarding, Slurm
over SSH, the route through HTCondor's parser, file modes; a wrong host key stopping the role before any
change, check mode pinning a new endpoint on first use, and failed endpoint checks naming the fix.

The runs of the role here are the site playbook limited to `ce` (`--limit ce`). Most state is gathered
in one round trip (each command into a TCG VM costs seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
PRIVATE_KEY = (EPHEMERAL / "osg01_bosco_key").read_text()
CLUSTER_HOST_KEY = (EPHEMERAL / "cluster_host_key.pub").read_text().split()[:2]

HOME = "/home/osg01"
ROUTE = "Bosco_osg01_cluster_lab_test"
ROUTES_FILE = "/etc/condor-ce/config.d/20-osg-htc-routes.conf"
BOSCO_FILE = "/etc/condor-ce/config.d/50-osg-htc-bosco.conf"
CE_FILE = "/etc/condor-ce/config.d/90-osg-htc-site.conf"
SSH_FILES = (
    f"{HOME}/.ssh",
    f"{HOME}/.ssh/bosco_key.rsa",
    f"{HOME}/.ssh/bosco_key.rsa.pub",
    f"{HOME}/.ssh/config",
    f"{HOME}/.ssh/known_hosts",
)
WATCHED = (*SSH_FILES, ROUTES_FILE, BOSCO_FILE, CE_FILE)
# The role's tags for its input and host key checks and its SSH set-up (with the endpoint checks):
# a check-mode run about an endpoint's SSH side needs no more of the role (each task costs seconds).
SSH_STEPS = "ce_bosco_preflight,ce_bosco_ssh"
# The site playbook, on the Bosco CE alone.
ONLY_CE = ("--limit", "ce")

# Runs in the CE VM with the image's python3 and the htcondor wheel prepare installed.
GATHER = r"""
import grp, hashlib, json, os, pwd, sys
os.environ["CONDOR_CONFIG"] = "/etc/condor-ce/condor_config"
import htcondor2

out = {"files": {}, "params": {}}
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
        if not path.endswith("bosco_key.rsa"):
            entry["text"] = data.decode()
    out["files"][path] = entry
for name in ("JOB_ROUTER_ROUTE_NAMES", "JOB_ROUTER_ROUTE_%s", "JOB_ROUTER_ROUTE_SSH_Endpoint", "BOSCO_RMS",
             "BOSCO_ENDPOINT", "PORT"):
    out["params"][name] = htcondor2.param.get(name)
print(json.dumps(out))
""".replace("%s", ROUTE, 1)


def gather(host) -> dict:
    result = host.run("python3 -c %s" + " %s" * len(WATCHED), GATHER, *WATCHED)
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


def as_osg01(host, command: str):
    return host.run("runuser -u osg01 -- bash -c %s", command)


@pytest.fixture
def ce(host):
    if host.backend.get_hostname() != "ce":
        pytest.skip("checked on the CE")
    return host


@pytest.fixture
def cluster(lab_host):
    return lab_host("cluster")


@pytest.fixture
def state(ce):
    return gather(ce)


def test_ssh_files_owned_by_the_user_with_safe_modes(state):
    expected = {
        f"{HOME}/.ssh": "0700",
        f"{HOME}/.ssh/bosco_key.rsa": "0600",
        f"{HOME}/.ssh/bosco_key.rsa.pub": "0644",
        f"{HOME}/.ssh/config": "0600",
        f"{HOME}/.ssh/known_hosts": "0644",
    }
    for path, mode in expected.items():
        entry = state["files"][path]
        assert entry is not None, f"{path} is missing"
        assert (entry["owner"], entry["group"], entry["mode"]) == ("osg01", "osg01", mode), path


def test_private_key_is_the_given_one(state):
    assert (
        state["files"][f"{HOME}/.ssh/bosco_key.rsa"]["sha256"]
        == hashlib.sha256((PRIVATE_KEY.strip() + "\n").encode()).hexdigest()
    )
    public = (EPHEMERAL / "osg01_bosco_key.pub").read_text().split()[:2]
    assert state["files"][f"{HOME}/.ssh/bosco_key.rsa.pub"]["text"].split()[:2] == public


def test_ssh_config_block(state):
    text = state["files"][f"{HOME}/.ssh/config"]["text"]
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == (
        "# BEGIN osg_htc.site ce_bosco cluster.lab.test (managed by Ansible; local edits are overwritten)"
    )
    for line in (
        "Host cluster.lab.test",
        "HostName cluster.lab.test",
        "User osg01",
        "Port 22",
        f"IdentityFile {HOME}/.ssh/bosco_key.rsa",
        "IdentitiesOnly yes",
        "StrictHostKeyChecking yes",
        "BatchMode yes",
    ):
        assert line in lines, line
    assert not any(line.startswith("ProxyJump") for line in lines)


def test_known_hosts_pins_the_clusters_real_host_key(ce, cluster, state):
    lines = state["files"][f"{HOME}/.ssh/known_hosts"]["text"].splitlines()
    assert [line.split()[:3] for line in lines] == [["cluster.lab.test", *CLUSTER_HOST_KEY]]
    # The key prepare handed to the role is the one cluster really has.
    assert cluster.file("/etc/ssh/ssh_host_ed25519_key.pub").content_string.split()[:2] == CLUSTER_HOST_KEY


def test_key_login_with_host_key_checking(ce):
    effective = as_osg01(ce, "ssh -G cluster.lab.test")
    assert effective.rc == 0, effective.stderr
    options = dict(line.split(" ", 1) for line in effective.stdout.splitlines() if " " in line)
    assert options["stricthostkeychecking"] == "true"
    assert options["batchmode"] == "yes"
    assert options["user"] == "osg01"
    result = as_osg01(ce, "ssh cluster.lab.test 'hostname; id -un'")
    assert result.rc == 0, result.stderr
    assert result.stdout.split() == ["cluster", "osg01"]
    # Without the pinned key, host key checking refuses the same login.
    # (ssh's exit status 255 is printed, not returned: testinfra takes 255 for its own connection failing.)
    refused = as_osg01(ce, 'ssh -o UserKnownHostsFile=/dev/null cluster.lab.test true; echo "exit=$?"')
    assert refused.stdout.strip() == "exit=255", refused.stdout
    assert "Host key verification failed" in refused.stderr, refused.stderr


def test_remote_forwarding_carries_a_connection_back_to_the_ce(ce):
    server = (
        "import socket; s = socket.create_server(('127.0.0.1', 18080)); s.settimeout(60); "
        "c, _ = s.accept(); c.sendall(b'through-the-tunnel\\n'); c.close()"
    )
    result = as_osg01(
        ce,
        f'python3 -c "{server}" & sleep 1; '
        "ssh -o ExitOnForwardFailure=yes -R 18081:127.0.0.1:18080 cluster.lab.test "
        "'exec 3<>/dev/tcp/127.0.0.1/18081 && head -n 1 <&3'; wait",
    )
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "through-the-tunnel"


def test_slurm_answers_over_ssh_and_runs_a_job(ce):
    assert as_osg01(ce, "ssh cluster.lab.test squeue --noheader").rc == 0
    submit = as_osg01(ce, "ssh cluster.lab.test 'sbatch --parsable --chdir=/tmp --wrap \"hostname; id -un\"'")
    assert submit.rc == 0, submit.stderr
    job = submit.stdout.strip().split(";")[0]
    state, shown = "", ""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        shown = as_osg01(ce, f"ssh cluster.lab.test scontrol show job {job}").stdout
        state = next((w.split("=", 1)[1] for w in shown.split() if w.startswith("JobState=")), "")
        if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"):
            break
        time.sleep(2)
    assert state == "COMPLETED", shown
    output = as_osg01(ce, f"ssh cluster.lab.test cat /tmp/slurm-{job}.out")
    assert output.stdout.split() == ["cluster", "osg01"]


def test_route_through_htcondor_parser(state):
    params = state["params"]
    assert params["JOB_ROUTER_ROUTE_NAMES"].replace(",", " ").split() == [ROUTE]
    route = params[f"JOB_ROUTER_ROUTE_{ROUTE}"]
    assert 'GridResource = "batch slurm osg01@cluster.lab.test"' in route
    assert "TargetUniverse = 9" in route
    assert (params["BOSCO_RMS"], params["BOSCO_ENDPOINT"]) == ("slurm", "osg01@cluster.lab.test")
    # The packaged route of htcondor-ce-bosco reads the same endpoint.
    assert 'GridResource = "batch slurm osg01@cluster.lab.test"' in params["JOB_ROUTER_ROUTE_SSH_Endpoint"]
    assert params["PORT"] == "9619"
    bosco = state["files"][BOSCO_FILE]
    assert (bosco["owner"], bosco["mode"]) == ("root", "0644")
    assert "osg_htc.site" in bosco["text"].splitlines()[0]


def test_no_private_key_text_in_the_ansible_log():
    log = (EPHEMERAL / "ansible.log").read_text()
    assert "Install the private keys given" in log, "the log does not hold the converge run"
    body = "".join(PRIVATE_KEY.strip().splitlines()[1:-1])
    for chunk in (body[:40], body[40:80], body[-40:]):
        assert chunk not in log.replace("\n", "")


def test_wrong_host_key_stops_the_role_before_any_change(ce, tmp_path, run_converge):
    before = gather(ce)["files"]
    # Another host's real key: the CE's own ed25519 host key, not the cluster's.
    wrong = ce.file("/etc/ssh/ssh_host_ed25519_key.pub").content_string.strip()
    endpoint = {
        "local_user": "osg01",
        "remote_user": "osg01",
        "host": "cluster.lab.test",
        "batch": "slurm",
        "host_key": wrong,
        "ssh_private_key": PRIVATE_KEY,
    }
    log = tmp_path / "wrong-host-key.log"
    returncode, output = run_converge(*ONLY_CE, extra_vars={"ce_bosco_endpoints": [endpoint]}, log=log)
    assert returncode != 0, output[-3000:]
    assert (
        "cluster.lab.test port 22 presents a host key that is not the pinned host_key of osg01@cluster.lab.test"
        in output
    ), output[-3000:]
    assert "changed=0" in output, output[-3000:]
    assert "TASK [osg_htc.site.ce_bosco : Create the local users" not in output
    assert gather(ce)["files"] == before, "a file changed although the host key was wrong"
    body = "".join(PRIVATE_KEY.strip().splitlines()[1:-1])
    for text in (output, log.read_text()):
        assert body[:40] not in text.replace("\n", "")


def test_check_mode_pins_on_first_use_reports_a_new_endpoint_and_changes_nothing(ce, tmp_path, run_converge):
    """One check-mode run of the SSH steps with two endpoints (each run costs a minute in the VMs):
    osg01 without host_key, so ssh-keyscan's answer is pinned and its fingerprint reported; osg04, a local
    user that does not exist yet, so --check shows what would be set up and skips its checks. Nothing changes."""
    before = gather(ce)["files"]
    common = {"host": "cluster.lab.test", "batch": "slurm"}
    endpoints = [
        {**common, "local_user": "osg01", "remote_user": "osg01", "ssh_private_key": PRIVATE_KEY},
        {**common, "local_user": "osg04", "remote_user": "osg04", "host_key": " ".join(CLUSTER_HOST_KEY)},
    ]
    # Only the steps that pin host keys and set up SSH: the scenario's own check step covers the rest.
    returncode, output = run_converge(
        *ONLY_CE,
        "--check",
        "--diff",
        "--tags",
        SSH_STEPS,
        extra_vars={"ce_bosco_endpoints": endpoints, "ce_bosco_trust_on_first_use": True},
        log=tmp_path / "check.log",
    )
    assert returncode == 0, output[-3000:]
    fingerprint = subprocess.run(
        ["ssh-keygen", "-lf", str(EPHEMERAL / "cluster_host_key.pub")],  # noqa: S607 (OpenSSH on the controller)
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert "Trusted on first use and pinned for osg01@cluster.lab.test" in output, output[-3000:]
    assert fingerprint in output, output[-3000:]
    assert "changed: [ce] => (item=osg04)" in output, output[-3000:]
    assert not ce.user("osg04").exists
    assert gather(ce)["files"] == before, "check mode changed a file"


def test_failed_checks_say_what_to_fix_on_which_side_before_the_ce_changes(ce, tmp_path, run_converge):
    """osg02 has no account on cluster (its generated key is refused); osg03's sshd forbids forwarding."""
    before = {path: entry for path, entry in gather(ce)["files"].items() if path in (ROUTES_FILE, BOSCO_FILE, CE_FILE)}
    cluster_key = " ".join(CLUSTER_HOST_KEY)
    common = {"remote_user": None, "host": "cluster.lab.test", "batch": "slurm", "host_key": cluster_key}
    endpoints = [
        {**common, "local_user": "osg02", "remote_user": "osg02"},
        {**common, "local_user": "osg03", "remote_user": "osg03", "ssh_private_key": PRIVATE_KEY},
    ]
    returncode, output = run_converge(
        *ONLY_CE, extra_vars={"ce_bosco_endpoints": endpoints}, log=tmp_path / "failing.log"
    )
    assert returncode != 0, output[-3000:]
    assert "An endpoint check failed, so nothing has been installed yet." in output, output[-3000:]
    assert (
        "osg02 -> osg02@cluster.lab.test: login check failed: cluster.lab.test refused the key: on cluster.lab.test, "
        "add the public key printed above to ~osg02/.ssh/authorized_keys" in output
    ), output[-3000:]
    assert (
        "osg03 -> osg03@cluster.lab.test: forwarding check failed: sshd on cluster.lab.test refuses remote port "
        "forwarding" in output
    ), output[-3000:]
    assert "set AllowTcpForwarding yes (or remote) in /etc/ssh/sshd_config on cluster.lab.test" in output
    # The key made for osg02, and its public half printed for the cluster's admin.
    key = ce.file("/home/osg02/.ssh/bosco_key.rsa")
    assert (key.user, key.group, key.mode) == ("osg02", "osg02", 0o600)
    public = ce.file("/home/osg02/.ssh/bosco_key.rsa.pub").content_string.strip()
    assert public.startswith("ssh-ed25519 ")
    assert f"Add this key to ~osg02/.ssh/authorized_keys on cluster.lab.test (local user osg02): {public}" in output
    after = {path: entry for path, entry in gather(ce)["files"].items() if path in before}
    assert after == before, "the CE changed although a check failed"
