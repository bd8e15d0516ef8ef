# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ce_bosco role: bad input stops it in preflight; its bosco_cluster step against a test double."""

from __future__ import annotations

import getpass
import os
import shlex
from pathlib import Path

import pytest

from ..conftest import COLLECTION_ROOT
from ..playbooks import runner

# Stands for HTCondor's bosco_cluster (condor_remote_cluster), which cannot exist here; see its header.
TEST_DOUBLE = COLLECTION_ROOT / "tests" / "fixtures" / "bin" / "bosco_cluster_test_double"
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx4m6Hq2D7h4y3ZkEo1hb2dBRvCjq0Zl5s9w1H2b3c4 root@login"
PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH PRIVATE KEY-----"
)
ENDPOINT = {"local_user": "osg01", "remote_user": "osg01", "host": "login.example.edu", "batch": "slurm"}


def run_role(tmp_path: Path, **variables):
    return runner.run_role("ce_bosco", variables, tmp_path)


def stopped_in_preflight(run, output: str) -> None:
    assert run.returncode != 0, output
    assert "failed=1" in output and "changed=0" in output, output
    assert "The ce_bosco role stops here, before any change" in output, output
    assert "TASK [osg_htc.site.ce_bosco : Create the local users" not in output, output


def test_endpoint_without_host_key_is_refused_with_how_to_pin_it(tmp_path):
    run, output = run_role(tmp_path, ce_bosco_endpoints=[ENDPOINT])
    stopped_in_preflight(run, output)
    assert "osg01@login.example.edu" in output and "have no host_key" in output, output
    assert "ce_bosco_trust_on_first_use=true" in output, output


def test_trust_on_first_use_cannot_scan_through_a_jump_host(tmp_path):
    run, output = run_role(
        tmp_path, ce_bosco_trust_on_first_use=True, ce_bosco_endpoints=[{**ENDPOINT, "proxy_jump": "gw.example.edu"}]
    )
    stopped_in_preflight(run, output)
    assert "cannot go through a jump host" in output, output


def test_bad_names_keys_and_duplicates_are_named(tmp_path):
    endpoints = [
        {**ENDPOINT, "local_user": "Bad User", "host_key": HOST_KEY},
        {**ENDPOINT, "host": "login example", "port": 70000, "host_key": "ssh-dss AAAA"},
        {**ENDPOINT, "host_key": HOST_KEY, "route_name": "not-ok", "proxy_jump": "a b"},
        {**ENDPOINT, "host_key": HOST_KEY},
    ]
    run, output = run_role(tmp_path, ce_bosco_endpoints=endpoints)
    stopped_in_preflight(run, output)
    for expected in (
        "Bad User",
        "login example",
        "70000",
        "ssh-ed25519",
        "not-ok",
        "a b",
        "repeat a local user and host",
    ):
        assert expected in output, (expected, output)


def test_private_keys_are_checked_but_never_shown(tmp_path):
    encrypted = PRIVATE_KEY.replace(
        "OPENSSH PRIVATE KEY-----\n", "OPENSSH PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n", 1
    )
    other = PRIVATE_KEY.replace("b3Bl", "AAAA")
    endpoints = [
        {**ENDPOINT, "host_key": HOST_KEY, "ssh_private_key": encrypted},
        {**ENDPOINT, "host": "login2.example.edu", "host_key": HOST_KEY, "ssh_private_key": other},
    ]
    run, output = run_role(tmp_path, ce_bosco_endpoints=endpoints)
    stopped_in_preflight(run, output)
    assert "is not an unencrypted private key" in output, output
    assert "osg01@login.example.edu" in output and "osg01@login2.example.edu" in output, output
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" not in output
    assert "AAAAbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" not in output


def test_unknown_batch_system_is_refused_by_the_argument_spec(tmp_path):
    run, output = run_role(tmp_path, ce_bosco_endpoints=[{**ENDPOINT, "batch": "torque", "host_key": HOST_KEY}])
    assert run.returncode != 0
    assert "torque" in output and "slurm, pbs, lsf, sge, condor" in output, output
    assert "TASK [osg_htc.site.ce_bosco : Create the local users" not in output, output


# The role's bosco_cluster step alone, as the user running the tests (su to itself, no sudo needed),
# with the test double on PATH as `bosco_cluster` and HOME in a temporary directory.
STEP_PLAYBOOK = """
- name: Run the ce_bosco role's bosco_cluster step
  hosts: localhost
  gather_facts: false
  environment:
    PATH: "{{ double_dir }}:{{ lookup('ansible.builtin.env', 'PATH') }}"
    HOME: "{{ home }}"
  vars:
    ansible_become_method: ansible.builtin.su
  tasks:
    - name: Run the step
      ansible.builtin.include_role:
        name: osg_htc.site.ce_bosco
        tasks_from: bosco_cluster.yml
"""


@pytest.fixture
def step(tmp_path):
    double_dir = tmp_path / "bin"
    double_dir.mkdir()
    (double_dir / "bosco_cluster").symlink_to(TEST_DOUBLE)
    home = tmp_path / "home"
    home.mkdir()
    book = tmp_path / "step.yml"
    book.write_text(STEP_PLAYBOOK)
    user = getpass.getuser()

    def run(mode: str, *options: str, path_has_double: bool = True, **extra):
        variables = {
            "home": str(home),
            "double_dir": str(double_dir if path_has_double else tmp_path / "empty"),
            "ce_bosco_install_cluster": mode,
            "ce_bosco_endpoints": [
                {**ENDPOINT, "local_user": user, "host_key": HOST_KEY},
                {**ENDPOINT, "local_user": user, "remote_user": "osg02", "host": "pbs.example.edu", "batch": "pbs"},
            ],
            **extra,
        }
        return runner.run_with_vars(book, variables, tmp_path, *options)

    def calls():
        log = home / ".bosco" / "test-double-calls.log"
        return [shlex.split(line) for line in log.read_text().splitlines()] if log.exists() else []

    run.calls = calls
    run.home = home
    return run


def changed(output: str) -> int:
    """How many bosco_cluster runs reported a change (one per endpoint)."""
    return sum(line.startswith("changed: [localhost] => (item=") for line in output.splitlines())


@pytest.mark.skipif(os.geteuid() != 0, reason="su to oneself without a password needs root")
def test_if_needed_installs_each_endpoint_once(step):
    run, output = step("if_needed")
    assert run.returncode == 0, output
    assert changed(output) == 2, output
    assert step.calls() == [
        ["-l"],
        ["--copy-ssh-key", "no", "-a", "osg01@login.example.edu", "slurm"],
        ["--copy-ssh-key", "no", "-a", "osg02@pbs.example.edu", "pbs"],
    ]
    assert (step.home / ".bosco" / ".clusterlist").read_text().splitlines() == [
        "entry=osg01@login.example.edu max_queued=-1 cluster_type=slurm",
        "entry=osg02@pbs.example.edu max_queued=-1 cluster_type=pbs",
    ]
    # Listed now: nothing more to do.
    run, output = step("if_needed")
    assert run.returncode == 0 and changed(output) == 0, output
    assert step.calls()[3:] == [["-l"]]


@pytest.mark.skipif(os.geteuid() != 0, reason="su to oneself without a password needs root")
def test_if_needed_installs_an_endpoint_listed_with_another_batch_system(step):
    (step.home / ".bosco").mkdir()
    (step.home / ".bosco" / ".clusterlist").write_text("entry=osg01@login.example.edu max_queued=-1 cluster_type=pbs\n")
    run, output = step("if_needed")
    assert run.returncode == 0 and changed(output) == 2, output
    assert ["--copy-ssh-key", "no", "-a", "osg01@login.example.edu", "slurm"] in step.calls()


@pytest.mark.skipif(os.geteuid() != 0, reason="su to oneself without a password needs root")
def test_always_reinstalls_with_the_override_dir_and_never_does_nothing(step, tmp_path):
    override = tmp_path / "bosco_override"
    override.mkdir()
    for attempt in (1, 2):
        run, output = step("always", ce_bosco_override_dir=str(override))
        assert run.returncode == 0 and changed(output) == 2, (attempt, output)
    adds = [call for call in step.calls() if "-a" in call]
    assert len(adds) == 4 and ["-l"] not in step.calls()
    assert adds[0] == ["--copy-ssh-key", "no", "-o", str(override), "-a", "osg01@login.example.edu", "slurm"]
    before = step.calls()
    run, output = step("never")
    assert run.returncode == 0 and changed(output) == 0, output
    assert step.calls() == before


@pytest.mark.skipif(os.geteuid() != 0, reason="su to oneself without a password needs root")
def test_check_mode_lists_but_installs_nothing(step):
    run, output = step("if_needed", "--check")
    assert run.returncode == 0, output
    assert step.calls() == [["-l"]]
    assert not (step.home / ".bosco" / ".clusterlist").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="su to oneself without a password needs root")
def test_missing_bosco_cluster_is_named_with_what_to_do(step):
    run, output = step("if_needed", path_has_double=False)
    assert run.returncode != 0
    assert "`bosco_cluster -l` failed" in output and "ce_bosco_install_cluster=never" in output, output
    assert step.calls() == []


def test_the_ce_checks_run_before_any_ssh_change(tmp_path):
    # The htcondor_ce role's checks run in this role's preflight: a CE setting it
    # refuses stops the role before a user, key or ~/.ssh/config is written.
    endpoint = {**ENDPOINT, "host_key": HOST_KEY, "proxy_jump": "gw.example.edu"}  # nothing is probed
    run, output = run_role(
        tmp_path,
        ce_bosco_endpoints=[endpoint],
        ce_bosco_manage_repos=False,
        ce_bosco_manage_packages=False,
        htcondor_ce_site_name="Generic site",
    )
    assert run.returncode != 0, output
    assert "failed=1" in output and "changed=0" in output, output
    assert "htcondor_ce_site_name is" in output and "Topology resource name" in output, output
    assert "TASK [osg_htc.site.ce_bosco : Create the local users" not in output, output


def test_a_variable_of_another_type_stops_the_role_first(tmp_path):
    run, output = run_role(tmp_path, ce_bosco_endpoints={"host": "login.example.edu"})
    assert run.returncode != 0, output
    assert "ce_bosco_endpoints is a dict" in output or "ce_bosco_endpoints" in output, output
    assert "TASK [osg_htc.site.ce_bosco : Create the local users" not in output, output


@pytest.mark.skipif(os.geteuid() != 0, reason="su to oneself without a password needs root")
def test_an_empty_cluster_list_counts_as_none_installed(step):
    # What `bosco_cluster -r` of the last cluster leaves: an empty list file,
    # which -l answers with no output and exit 2.
    (step.home / ".bosco").mkdir()
    (step.home / ".bosco" / ".clusterlist").write_text("")
    run, output = step("if_needed")
    assert run.returncode == 0 and changed(output) == 2, output
