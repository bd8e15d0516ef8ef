"""tools/check_build.py on small tarballs made in a temporary directory."""

from __future__ import annotations

import importlib.util
import io
import tarfile
from pathlib import Path

TOOL = Path(__file__).resolve().parents[3] / "tools" / "check_build.py"
_spec = importlib.util.spec_from_file_location("check_build", TOOL)
check_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_build)

SHIPPED = [*check_build.REQUIRED, "plugins/filter/x.py"]


def make_tarball(tmp_path: Path, names: list[str]) -> str:
    path = tmp_path / "osg_htc-site-0.1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tarball:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 1
            tarball.addfile(info, io.BytesIO(b"x"))
    return str(path)


def test_clean_artifact_passes(tmp_path):
    assert check_build.main(["x", make_tarball(tmp_path, SHIPPED)]) == 0


def test_test_and_lab_files_are_refused(tmp_path, capsys):
    lab_files = ["molecule/site/molecule.yml", ".config/molecule/config.yml", "tools/lab.py"]
    path = make_tarball(tmp_path, [*SHIPPED, "tests/unit/test_a.py", *lab_files, ".ci/run"])
    assert check_build.main(["x", path]) == 1
    err = capsys.readouterr().err
    assert "tests/unit/test_a.py: must not be shipped" in err
    for name in lab_files:
        assert f"{name}: must not be shipped" in err
    assert ".ci/run: must not be shipped" in err


def test_missing_manifest_is_reported(tmp_path):
    problems = check_build.check(make_tarball(tmp_path, SHIPPED[1:]))
    assert problems == ["MANIFEST.json: missing"]


def test_execution_environment_metadata_is_required(tmp_path):
    names = [name for name in SHIPPED if name not in ("meta/execution-environment.yml", "bindep.txt")]
    problems = check_build.check(make_tarball(tmp_path, names))
    assert problems == ["meta/execution-environment.yml: missing", "bindep.txt: missing"]


def test_the_image_definition_is_not_shipped(tmp_path):
    problems = check_build.check(make_tarball(tmp_path, [*SHIPPED, "execution-environment.yml"]))
    assert problems == ["execution-environment.yml: must not be shipped"]
