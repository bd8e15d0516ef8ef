"""Shared by the scenarios' testinfra verifiers: Molecule runs them from this checkout, which pytest
takes as its rootdir, so this file applies to every molecule/<scenario>/tests/."""

from __future__ import annotations

import json
import os
import shlex
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


@pytest.fixture
def effective_config():
    """Effective values of HTCondor settings in a VM, read by HTCondor's own parser (the bindings that
    prepare installed) from the given top-level config: /etc/condor/condor_config or the CE's."""

    def read(host, config: str, *names: str) -> dict:
        script = "import json, sys, htcondor2; print(json.dumps({n: htcondor2.param.get(n) for n in sys.argv[1:]}))"
        command = f"CONDOR_CONFIG={config} python3 -c {shlex.quote(script)} {' '.join(names)}"
        # check_output fails the test, showing stderr, when the parser cannot load the config.
        return json.loads(host.check_output(command))

    return read
