"""execution-environment.yml: ansible-builder writes a complete build context from it, offline.

Building the image needs podman or docker and Galaxy; writing its build context
(``ansible-builder create``) needs neither. These tests build the collection
tarball, run ``create`` on a copy of the real definition beside it, and then run
the context's own introspection script on the collection inside the context,
as the image build's builder stage does, to see the collection's Python and
system requirements come out.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from .conftest import COLLECTION_ROOT

pytest.importorskip("ansible_builder", reason="ansible-builder is in requirements-dev.txt, not requirements-compat.txt")

BIN = Path(sys.executable).parent
DEFINITION = COLLECTION_ROOT / "execution-environment.yml"


def run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, cwd=cwd, timeout=300, check=False
    )
    assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    return result


def requirement_lines(path: Path) -> list[str]:
    """The non-comment lines of a pip or bindep file, without trailing comments."""
    lines = (re.sub(r"\s+#.*$", "", line).strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def create_context(workdir: Path, definition_text: str) -> Path:
    """``ansible-builder create`` on the definition written to workdir (beside build/dist); returns the context."""
    definition = workdir / "execution-environment.yml"
    definition.write_text(definition_text)
    context = workdir / "context"
    run(BIN / "ansible-builder", "create", "-f", definition, "-c", context, "--output-filename", "Containerfile")
    return context


def context_problems(context: Path) -> list[str]:
    """What the image build would miss: each collection the galaxy requirements name must be in the context."""
    problems = []
    if not (context / "Containerfile").is_file():
        problems.append("no Containerfile")
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    for entry in requirements["collections"]:
        if entry.get("type") != "file":
            continue
        # The Containerfile copies _build/ to /build before installing collections.
        in_context = context / "_build" / Path(entry["name"]).relative_to("/build")
        if not in_context.is_file():
            problems.append(f"{entry['name']}: not in the build context")
    return problems


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The collection tarball (built as make build does) and a context created from the real definition."""
    workdir = tmp_path_factory.mktemp("ee")
    run(BIN / "ansible-galaxy", "collection", "build", "--output-path", workdir / "build" / "dist", COLLECTION_ROOT)
    (tarball,) = (workdir / "build" / "dist").glob("osg_htc-site-*.tar.gz")
    return tarball, create_context(workdir, DEFINITION.read_text())


def test_the_context_holds_everything_the_image_build_needs(built):
    _tarball, context = built
    assert context_problems(context) == []


def test_the_collection_tarball_is_copied_into_the_context(built):
    tarball, context = built
    assert (context / "_build" / "collections" / tarball.name).read_bytes() == tarball.read_bytes()


def test_a_definition_naming_a_missing_tarball_is_caught(built, tmp_path):
    """ansible-builder only warns about a missing build file; context_problems must not let it through."""
    tarball, _context = built
    text = DEFINITION.read_text().replace(tarball.name, "osg_htc-site-0.0.0.tar.gz")
    assert text != DEFINITION.read_text()
    (tmp_path / "build" / "dist").mkdir(parents=True)
    shutil.copy(tarball, tmp_path / "build" / "dist")
    problems = context_problems(create_context(tmp_path, text))
    assert problems == ["/build/collections/osg_htc-site-0.0.0.tar.gz: not in the build context"]


def test_containerfile_names_the_base_image_and_pinned_ansible(built):
    _tarball, context = built
    definition = yaml.safe_load(DEFINITION.read_text())
    containerfile = (context / "Containerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"' in containerfile
    core_pin = next(
        line for line in (COLLECTION_ROOT / "requirements-dev.txt").read_text().splitlines()
        if line.startswith("ansible-core==")
    )  # fmt: skip
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="(.*)"$', containerfile, re.MULTILINE).group(1).split()
    assert core_pin in refs
    assert any(re.fullmatch(r"ansible-runner==[\d.]+", ref) for ref in refs)


def test_containerfile_installs_what_the_collections_declare(built):
    _tarball, context = built
    containerfile = (context / "Containerfile").read_text()
    assert "introspect.py introspect --write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt" in (
        containerfile
    )
    assert "/output/scripts/assemble" in containerfile
    assert "/output/scripts/install-from-bindep" in containerfile


def test_the_tarball_ships_the_collection_ee_metadata(built):
    tarball, _context = built
    with tarfile.open(tarball) as artifact:
        for name in ("meta/execution-environment.yml", "requirements.txt", "bindep.txt"):
            assert artifact.extractfile(name).read() == (COLLECTION_ROOT / name).read_bytes()
        assert "execution-environment.yml" not in artifact.getnames()


def test_introspection_finds_the_collection_requirements(built, tmp_path):
    """The builder stage's step, run here: the context's introspect.py on the collection from the context."""
    tarball, context = built
    collection = tmp_path / "collections" / "ansible_collections" / "osg_htc" / "site"
    collection.mkdir(parents=True)
    with tarfile.open(context / "_build" / "collections" / tarball.name) as artifact:
        artifact.extractall(collection, filter="data")
    pip, bindep = tmp_path / "out" / "requirements.txt", tmp_path / "out" / "bindep.txt"
    script = context / "_build" / "scripts" / "introspect.py"
    run(
        sys.executable, script, "introspect", tmp_path / "collections", f"--write-pip={pip}", f"--write-bindep={bindep}"
    )
    assert requirement_lines(pip) == requirement_lines(COLLECTION_ROOT / "requirements.txt")
    assert requirement_lines(bindep) == requirement_lines(COLLECTION_ROOT / "bindep.txt")
    assert re.search(r"^htcondor>=24\.0,<26\b", pip.read_text(), re.MULTILINE)
    assert "openssh-clients [platform:rpm]" in bindep.read_text()


def test_requirements_state_ranges_and_constraints_pin_a_version_in_each():
    """An execution environment installs requirements.txt next to other collections: ranges, never exact pins.

    The versions the tests run with are pinned in constraints.txt (and constraints-compat.txt), inside those ranges.
    """
    from packaging.requirements import Requirement

    requirements = [Requirement(line) for line in requirement_lines(COLLECTION_ROOT / "requirements.txt")]
    assert {requirement.name for requirement in requirements} == {"htcondor", "dnspython", "psutil"}
    for requirement in requirements:
        assert all(spec.operator not in ("==", "===") for spec in requirement.specifier), requirement
        assert any(spec.operator == ">=" for spec in requirement.specifier), f"{requirement}: no lower bound"
        for constraints in ("constraints.txt", "constraints-compat.txt"):
            (pin,) = [
                line.split("==")[1]
                for line in (COLLECTION_ROOT / constraints).read_text().splitlines()
                if line.lower().startswith(f"{requirement.name}==")
            ]
            assert pin in requirement.specifier, f"{constraints}: {requirement.name}=={pin} is outside {requirement}"
