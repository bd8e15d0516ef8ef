"""Run ansible-playbook from this checkout, with the collection on its path, against localhost."""

from __future__ import annotations

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
