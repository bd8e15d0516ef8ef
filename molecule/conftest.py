"""Shared by the scenarios' testinfra verifiers: Molecule runs them from this checkout, which pytest
takes as its rootdir, so this file applies to every molecule/<scenario>/tests/."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def run_converge():
    """The scenario's converge playbook again, on Molecule's inventory, with more options and its own log."""
    inventory = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent
    converge = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "converge.yml"

    def run(*options: str, log: Path, timeout: int = 900) -> subprocess.CompletedProcess:
        env = dict(os.environ, ANSIBLE_LOG_PATH=str(log), ANSIBLE_NOCOLOR="1")
        command = [shutil.which("ansible-playbook") or "ansible-playbook", "-i", str(inventory), str(converge)]
        return subprocess.run(
            [*command, *options], capture_output=True, text=True, env=env, timeout=timeout, check=False
        )

    return run
