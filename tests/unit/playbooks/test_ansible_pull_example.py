"""docs/examples/ansible-pull: the syntax check, the service's ansible-pull arguments, and the collection bootstrap."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import ansible
import pytest
import yaml

from ..conftest import COLLECTION_ROOT
from .runner import run_playbook

EXAMPLE = COLLECTION_ROOT / "docs" / "examples" / "ansible-pull"
BIN = Path(sys.executable).parent


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


@pytest.fixture(scope="module")
def collection_tarball(tmp_path_factory):
    """The collection built as make build does, to stand in for the site's Git mirror (offline)."""
    # ansible-galaxy resolves the collection's galaxy.yml dependencies from what is installed
    # (the ansible package of requirements-dev.txt) or else from Galaxy, which is not reachable here.
    installed = Path(ansible.__file__).resolve().parents[1] / "ansible_collections"
    for namespace, name in (("ansible", "posix"), ("community", "general")):
        if not (installed / namespace / name).is_dir():
            pytest.skip(f"{namespace}.{name} is not installed in {installed}; Galaxy would be needed")
    output = tmp_path_factory.mktemp("dist")
    command = [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(output), str(COLLECTION_ROOT)]
    subprocess.run(command, capture_output=True, check=True, timeout=300)
    (tarball,) = output.glob("osg_htc-site-*.tar.gz")
    return tarball


def run_pull_playbooks(site: Path, collections: Path) -> subprocess.CompletedProcess:
    """What ansible-pull runs in the checkout: collections.yml, then local.yml, in one ansible-playbook."""
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(site / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(collections),  # instead of the service's /var/lib path
        ANSIBLE_NOCOLOR="1",
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
    )
    # -i localhost, : the host is in none of the example's groups, so local.yml's plays
    # find no hosts and change nothing; it must still load, which needs the collection.
    command = [
        str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
        "-e", f"ansible_python_interpreter={sys.executable}", "collections.yml", "local.yml",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, cwd=site, env=env, timeout=600, check=False)


def site_repository(tmp_path: Path, tarball: Path) -> Path:
    """A copy of the example whose requirements.yml names the built tarball instead of the Git mirror."""
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site)
    requirements = {"collections": [{"name": str(tarball), "type": "file"}]}
    (site / "requirements.yml").write_text(yaml.safe_dump(requirements))
    return site


def test_collections_yml_installs_what_local_yml_uses_in_the_same_run(tmp_path, collection_tarball):
    site = site_repository(tmp_path, collection_tarball)
    collections = tmp_path / "collections"
    (collections / "ansible_collections").mkdir(parents=True)  # the service's ExecStartPre
    result = run_pull_playbooks(site, collections)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (collections / "ansible_collections" / "osg_htc" / "site" / "MANIFEST.json").is_file()


def test_without_the_ansible_collections_directory_local_yml_does_not_load(tmp_path, collection_tarball):
    """Why the service creates it first: Ansible does not look in a collections directory made during the run."""
    site = site_repository(tmp_path, collection_tarball)
    collections = tmp_path / "collections"
    result = run_pull_playbooks(site, collections)
    assert result.returncode != 0
    assert (collections / "ansible_collections" / "osg_htc" / "site" / "MANIFEST.json").is_file()
    assert "osg_htc.site" in result.stdout + result.stderr
