"""Run ansible-playbook from this checkout, with the collection on its path, against localhost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ..conftest import COLLECTION_ROOT, COLLECTIONS_PATH

INVENTORY = COLLECTION_ROOT / "playbooks" / "inventory" / "localhost.yml"


def run_playbook(playbook, *options: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(COLLECTION_ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(INVENTORY), str(playbook), *options]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False)


def run_with_vars(playbook, variables: dict, tmp_path: Path, *options: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run ``playbook`` with ``variables`` as extra vars (from a JSON file); the run and its whole output."""
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(variables))
    run = run_playbook(playbook, "-e", f"@{extra}", *options)
    return run, run.stdout + run.stderr


def run_role(role: str, variables: dict, tmp_path: Path, *options: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run the collection's role ``role`` on localhost with ``variables``; the run and its whole output."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        f"- name: Run the {role} role\n  hosts: localhost\n  gather_facts: false\n"
        f"  roles:\n    - role: osg_htc.site.{role}\n"
    )
    return run_with_vars(playbook, variables, tmp_path, *options)
