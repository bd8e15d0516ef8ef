"""tools/site_lab.py: the figures `make bench` takes from a real ansible-playbook run's JSON report."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
import site_lab
import yaml

from ..conftest import COLLECTIONS_PATH

PLAYBOOK = """
- name: Two plays, as site.yml has several
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: A change
      ansible.builtin.command: "true"
      changed_when: true
    - name: Not run
      ansible.builtin.debug:
        msg: skipped
      when: false
- name: Second play
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: No change
      ansible.builtin.debug:
        msg: ok
"""


def json_report(tmp_path: Path) -> tuple[int, float, str]:
    """ansible-playbook with the stdout callback site_lab uses for make bench."""
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", str(playbook)]
    command += ["-e", f"ansible_python_interpreter={sys.executable}"]
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    if "ansible.posix.json" in result.stderr and result.returncode != 0:
        pytest.skip("ansible.posix is not installed here (only the ansible package brings it)")
    return result.returncode, time.monotonic() - start, result.stdout


def test_figures_count_tasks_results_and_changes(tmp_path):
    rc, seconds, output = json_report(tmp_path)
    figures = site_lab.run_figures("converge", rc, seconds, output)
    assert figures["rc"] == 0
    assert figures["tasks"] == 3
    assert figures["task_results"] == 3
    assert figures["changed"] == 1
    assert figures["failed"] == 0
    assert figures["per_host"] == {"localhost": {"ok": 2, "changed": 1, "skipped": 1}}
    assert figures["wall_seconds"] == round(seconds, 1)


# What Ansible's connection messages look like in a run's log at ANSIBLE_LOG_VERBOSITY=3: the ssh
# connection (lab VMs on loopback ports) and the local one (a task delegated to the controller).
SSH_EXEC = (
    "2026-11-30 11:30:42,123 p=1 u=root n=ansible INFO| <127.0.0.1> SSH: EXEC ssh -C -o ControlMaster=auto "
    "-o ControlPersist=60s -o Port={port} -o 'User=\"root\"' -o ConnectTimeout=10 127.0.0.1 "
    "'/bin/sh -c '\"'\"'/usr/bin/python3 && sleep 0'\"'\"''"
)
LOCAL_EXEC = "2026-11-30 11:30:43,845 p=1 u=root n=ansible INFO| <localhost> EXEC /bin/sh -c 'python3 && sleep 0'"
OTHER = [
    "2026-11-30 11:30:42,100 p=1 u=root n=ansible INFO| <127.0.0.1> ESTABLISH SSH CONNECTION FOR USER: root",
    "2026-11-30 11:30:42,200 p=1 u=root n=ansible INFO| <127.0.0.1> (0, b'{\"changed\": false}', b'')",
    "2026-11-30 11:30:42,300 p=1 u=root n=ansible INFO| TASK [Say EXEC] ****",
]
LISTING = {
    "_meta": {
        "hostvars": {
            "ap": {"ansible_host": "127.0.0.1", "ansible_port": 2201},
            "ce": {"ansible_host": "127.0.0.1", "ansible_port": "2202"},
            "cluster": {"ansible_host": "127.0.0.1", "ansible_port": 2203},
        }
    },
    "ospool_access_points": {"hosts": ["ap"]},
    "htcondor_ces": {"hosts": ["cluster"]},
    "ce_bosco": {"hosts": ["ce"]},
}


def test_remote_calls_are_counted_per_host_from_the_connection_messages():
    log = "\n".join(
        [SSH_EXEC.format(port=2201)] * 3
        + [SSH_EXEC.format(port=2203)] * 2
        + [LOCAL_EXEC]
        + OTHER
        + [SSH_EXEC.format(port=2299)]
    )
    known = site_lab.endpoints(LISTING)
    assert known[("127.0.0.1", "2202")] == "ce"
    assert site_lab.count_remote_calls(log, known) == {"ap": 3, "cluster": 2, "localhost": 1, "127.0.0.1:2299": 1}


def test_the_floor_makes_each_hosts_calls_side_by_side():
    (play,) = site_lab.floor_playbook({"ap": 3, "ce": 5, "idle": 0})
    assert play["hosts"] == "ap:ce"
    assert play["strategy"] == "ansible.builtin.free"
    assert play["vars"]["__floor_calls"] == {"ap": 3, "ce": 5, "idle": 0}
    gather, *stats = play["tasks"]
    assert gather["ansible.builtin.setup"] == {"gather_subset": ["min"]}
    assert [task["when"] for task in stats] == [
        f"__floor_calls[inventory_hostname] | default(0) > {number}" for number in range(1, 5)
    ]


def test_the_reference_runs_todays_calls_one_group_after_the_other():
    plays = site_lab.reference_calls(LISTING)
    assert plays == [("ospool_access_points", {"ap": 13}), ("htcondor_ces", {"cluster": 16}), ("ce_bosco", {"ce": 24})]
    book = site_lab.reference_playbook(plays)
    assert [play["hosts"] for play in book] == ["ospool_access_points", "htcondor_ces", "ce_bosco"]
    assert {play["strategy"] for play in book} == {"ansible.builtin.linear"}
    assert [len(play["tasks"]) for play in book] == [13, 16, 24]


def test_ratios_are_the_reruns_time_over_the_floors_and_the_references():
    assert site_lab.ratios(66.0, 44.0, 120.0) == {"rerun_over_floor": 1.5, "rerun_over_reference": 0.55}


def test_the_report_shows_runs_floor_reference_calls_and_ratios():
    run = {"tasks": 1, "task_results": 2, "changed": 0}
    figures = {
        "site": [{**run, "run": "idempotent re-run", "wall_seconds": 66.0, "remote_calls": {"ap": 6, "ce": 9}}],
        "floor": {**run, "run": "floor", "wall_seconds": 44.0, "remote_calls": {"ap": 6, "ce": 9}},
        "reference": {**run, "run": "reference", "wall_seconds": 120.0, "remote_calls": {"ap": 13, "ce": 24}},
        "ratios": site_lab.ratios(66.0, 44.0, 120.0),
    }
    lines = site_lab.report(figures).splitlines()
    assert lines[0].split()[-2:] == ["ap", "ce"]
    assert lines[1].split()[-2:] == ["6", "9"] and lines[3].split()[-2:] == ["13", "24"]
    assert lines[-1] == "re-run / floor: 1.50    re-run / reference: 0.55"


@pytest.mark.skipif(
    tuple(int(part) for part in metadata.version("ansible-core").split(".")[:2]) < (2, 17),
    reason="ANSIBLE_LOG_VERBOSITY came with ansible-core 2.17",
)
def test_a_real_floor_run_makes_the_calls_it_is_asked_for(tmp_path):
    pytest.importorskip("ansible_collections.ansible.posix", reason="only the ansible package brings ansible.posix")
    # Two hosts on the local connection, told apart by address, with pipelining as in the lab.
    hosts = {
        name: {
            "ansible_connection": "local",
            "ansible_host": f"addr-{name}",
            "ansible_become": False,
            "ansible_python_interpreter": sys.executable,
        }
        for name in ("one", "two")
    }
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    playbook = site_lab.write_playbook(tmp_path / "floor.yml", site_lab.floor_playbook({"one": 2, "two": 4}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_PIPELINING="1")
    rc, seconds, output, log = site_lab.run_playbook(
        env, inventory, playbook, report_json=True, calls_log=tmp_path / "calls.log"
    )
    assert rc == 0, output
    assert not (tmp_path / "calls.log").exists()
    known = site_lab.endpoints({"_meta": {"hostvars": hosts}})
    assert site_lab.count_remote_calls(log, known) == {"one": 2, "two": 4}
    figures = site_lab.run_figures("floor", rc, seconds, output)
    assert figures["changed"] == 0 and figures["failed"] == 0
