"""Shared by the scenarios' testinfra verifiers: Molecule runs them from this checkout, which pytest
takes as its rootdir, so this file applies to every molecule/<scenario>/tests/."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest


class ConvergeRun(NamedTuple):
    returncode: int
    output: str  # stdout, then stderr


@pytest.fixture
def run_converge():
    """The scenario's converge playbook again, on Molecule's inventory, with more options and its own log.

    extra_vars go through a file beside the log, so secrets in them never reach a command line."""
    inventory = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent
    converge = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "converge.yml"

    def run(*options: str, log: Path, extra_vars: dict | None = None, timeout: int = 900) -> ConvergeRun:
        env = dict(os.environ, ANSIBLE_LOG_PATH=str(log), ANSIBLE_NOCOLOR="1")
        command = [shutil.which("ansible-playbook") or "ansible-playbook", "-i", str(inventory), str(converge)]
        if extra_vars is not None:
            vars_file = log.with_suffix(".vars.json")
            vars_file.write_text(json.dumps(extra_vars))
            command += ["-e", f"@{vars_file}"]
        result = subprocess.run(
            [*command, *options], capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
        return ConvergeRun(result.returncode, result.stdout + result.stderr)

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
