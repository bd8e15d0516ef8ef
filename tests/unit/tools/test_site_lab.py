"""tools/site_lab.py: the figures `make bench` takes from a real ansible-playbook run's JSON report."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import site_lab

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
