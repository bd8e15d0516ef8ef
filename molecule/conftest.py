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
import testinfra


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


@pytest.fixture
def lab_host():
    """Another VM of the scenario, by inventory name (for checks across the lab network)."""
    inventory = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent

    def get(name: str):
        return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")

    return get


PROBE = """
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    s.sendall(b"PING\\n")
    print(s.recv(64).decode().strip())
except OSError as error:
    print(type(error).__name__)
"""


@pytest.fixture
def probe_port():
    """From one VM, connect to a daemon's port on another and say PING, as a pilot factory or a central
    manager would reach it: the daemon double answers "OK ping"; otherwise the connection error's name."""

    def probe(from_host, address: str, port: int) -> str:
        return from_host.check_output("python3 -c %s %s %s", PROBE, address, str(port))

    return probe


# The repositories the lab's mirror serves (tools/lab_mirror.py), by their names in the repository files.
MIRROR_REPOSITORIES = ("osg", "epel", "baseos", "crb")


@pytest.fixture
def signed_from_mirror():
    """Assert that each package came from one of the lab mirror's repositories (not laid down by hand)
    and carries an RSA header signature by a key in rpm's database: the lab key the release packages and
    prepare imported (gpg-pubkey's version is the key ID's last 8 hex digits)."""

    def check(host, packages) -> None:
        for package in packages:
            origin = host.run(f"dnf -q repoquery --installed --qf '%{{from_repo}}' {package}")
            assert origin.stdout.strip() in MIRROR_REPOSITORIES, (package, origin.stdout, origin.stderr)
        keys = host.check_output("rpm -q gpg-pubkey --qf '%{VERSION}\\n'").split()
        signatures = host.run("rpm -q --qf '%{NAME} %{RSAHEADER:pgpsig}\\n' " + " ".join(packages))
        assert signatures.rc == 0, signatures.stderr
        for line in signatures.stdout.splitlines():
            assert "Key ID" in line and line.split()[-1][-8:] in keys, (line, keys)

    return check


@pytest.fixture
def daemon_reconfigured():
    """Assert that the daemon double runs as `service` (enabled) on `port`, and logged (in `log`) a
    reconfig: the role's handler's, after converge changed the configuration (tests/fixtures/daemons)."""

    def check(host, service: str, log: str, port: int) -> None:
        assert host.service(service).is_running
        assert host.service(service).is_enabled
        text = host.file(log).content_string
        assert f"listening on {port}" in text, text
        assert [line for line in text.splitlines() if "TEST DOUBLE reconfig " in line], text

    return check


@pytest.fixture
def firewalld_gates_the_port(probe_port):
    """Assert that `peer` reaches the daemon on `host`'s port through firewalld, cannot once the role's
    rule is removed (the daemon still listening), and can again after `firewall-cmd --reload`."""

    def check(host, peer, address: str, port: int) -> None:
        assert probe_port(peer, address, port) == "OK ping"
        host.check_output(f"firewall-cmd --remove-port={port}/tcp")
        try:
            assert host.socket(f"tcp://0.0.0.0:{port}").is_listening or host.socket(f"tcp://:::{port}").is_listening
            assert probe_port(peer, address, port) != "OK ping"
        finally:
            host.check_output("firewall-cmd --reload")
        assert probe_port(peer, address, port) == "OK ping"

    return check
