"""docs/examples/ansible-pull: the playbooks pass ansible-playbook's syntax check, the service's ansible-pull parses."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest
import yaml

from ..conftest import COLLECTION_ROOT
from .runner import run_playbook

EXAMPLE = COLLECTION_ROOT / "docs" / "examples" / "ansible-pull"


def exec_start_arguments() -> list[str]:
    """The ansible-pull arguments of the service's ExecStart= (continuation lines joined)."""
    text = (EXAMPLE / "osg-site-pull.service").read_text().replace("\\\n", " ")
    (line,) = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    command = shlex.split(line.removeprefix("ExecStart="))
    assert command[0] == "/usr/bin/ansible-pull"
    return command[1:]


@pytest.mark.parametrize("playbook", ["collections.yml", "local.yml"])
def test_example_playbook_passes_the_syntax_check(playbook):
    result = run_playbook(EXAMPLE / playbook, "--syntax-check", "-i", str(EXAMPLE / "inventory" / "hosts.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_service_runs_the_example_playbooks_with_its_inventory():
    arguments = exec_start_arguments()
    assert arguments[-2:] == ["collections.yml", "local.yml"]
    for name in arguments[-2:]:
        assert (EXAMPLE / name).is_file()
    inventory = arguments[arguments.index("--inventory") + 1]
    groups = yaml.safe_load((EXAMPLE / inventory).read_text())["all"]["children"]
    assert set(groups) == {"ospool_access_points", "htcondor_ces", "ce_bosco"}


def test_ansible_pull_accepts_the_service_arguments():
    """ansible-pull's own parser (in a child: it sets Ansible's global CLI context), without running anything."""
    script = (
        "import json, sys\n"
        "from ansible import context\n"
        "from ansible.cli.pull import PullCLI\n"
        "PullCLI(['ansible-pull', *sys.argv[1:]]).parse()\n"
        "print(json.dumps({key: context.CLIARGS[key] for key in ('ifchanged', 'url', 'dest', 'args')}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *exec_start_arguments()], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout.splitlines()[-1])
    assert parsed["ifchanged"] is True
    assert parsed["url"].endswith(".git")
    assert parsed["args"] == ["collections.yml", "local.yml"]


def test_ansible_pull_refuses_an_unknown_option():
    """The check above can fail: a misspelt option is an error."""
    script = "import sys\nfrom ansible.cli.pull import PullCLI\nPullCLI(['ansible-pull', *sys.argv[1:]]).parse()\n"
    result = subprocess.run(
        [sys.executable, "-c", script, *exec_start_arguments(), "--only-if-chagned"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "--only-if-chagned" in result.stderr
