"""tools/check_argument_specs.py on small roles laid out in a temporary directory."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[3] / "tools" / "check_argument_specs.py"
_spec = importlib.util.spec_from_file_location("check_argument_specs", TOOL)
check_argument_specs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_argument_specs)


def make_role(roles: Path, name: str, defaults: str | None, specs: str | None) -> Path:
    role = roles / name
    (role / "defaults").mkdir(parents=True)
    (role / "meta").mkdir()
    if defaults is not None:
        (role / "defaults" / "main.yml").write_text(defaults)
    if specs is not None:
        (role / "meta" / "argument_specs.yml").write_text(specs)
    return role


GOOD_SPECS = """\
argument_specs:
  main:
    short_description: Demo role
    options:
      demo_port:
        description: Port to open.
        type: int
        default: 9618
      demo_site_name:
        description: Topology resource name.
        type: str
        required: true
"""


def test_matching_role_passes(tmp_path, capsys):
    make_role(tmp_path, "demo", "demo_port: 9618\n", GOOD_SPECS)
    assert check_argument_specs.main(["x", str(tmp_path)]) == 0
    assert "1 role(s) checked, 0 problem(s)" in capsys.readouterr().out


def test_undocumented_default_fails(tmp_path, capsys):
    make_role(tmp_path, "demo", "demo_port: 9618\ndemo_extra: 1\n", GOOD_SPECS)
    assert check_argument_specs.main(["x", str(tmp_path)]) == 1
    assert "'demo_extra' is set in" in capsys.readouterr().err


def test_optional_option_without_default_fails(tmp_path):
    role = make_role(tmp_path, "demo", "{}\n", GOOD_SPECS)
    problems = check_argument_specs.check_role(role)
    assert problems == [f"{role}/defaults/main.yml: 'demo_port' is documented as optional but has no default"]


def test_default_mismatch_and_missing_description(tmp_path):
    specs = GOOD_SPECS.replace("default: 9618", "default: 9619").replace(
        "        description: Topology resource name.\n", ""
    )
    role = make_role(tmp_path, "demo", "demo_port: 9618\n", specs)
    problems = check_argument_specs.check_role(role)
    assert any("'demo_port' documents default 9619" in p and "sets 9618" in p for p in problems)
    assert any("'demo_site_name' has no description" in p for p in problems)


def test_missing_specs_file_fails(tmp_path):
    role = make_role(tmp_path, "demo", "demo_port: 1\n", None)
    assert check_argument_specs.check_role(role) == [
        f"{role}/meta/argument_specs.yml: missing (the role has 1 default(s) to document)"
    ]


def test_no_roles_dir_is_not_an_error(tmp_path, capsys):
    assert check_argument_specs.main(["x", str(tmp_path / "roles")]) == 0
    assert "0 role(s) checked" in capsys.readouterr().out


@pytest.mark.parametrize("body", ["- a list\n", "just a string\n"])
def test_non_mapping_yaml_is_reported(tmp_path, body):
    role = make_role(tmp_path, "demo", body, GOOD_SPECS)
    with pytest.raises(ValueError, match="expected a mapping"):
        check_argument_specs.check_role(role)


INTERNAL_SPECS = """\
argument_specs:
  repos:
    short_description: Repositories
    options:
      __demo_series:
        description: Series.
        type: str
        default: "24"
  firewall:
    short_description: Firewall
    options:
      __demo_ports:
        description: Ports.
        type: list
        required: true
"""


def test_internal_role_documents_defaults_across_its_entry_points(tmp_path):
    role = make_role(tmp_path, "_demo", '__demo_series: "24"\n', INTERNAL_SPECS)
    assert check_argument_specs.check_role(role) == []


def test_role_with_main_tasks_needs_the_main_entry_point(tmp_path):
    role = make_role(tmp_path, "demo", '__demo_series: "24"\n', INTERNAL_SPECS)
    (role / "tasks").mkdir()
    (role / "tasks" / "main.yml").write_text("---\n[]\n")
    assert check_argument_specs.check_role(role) == [
        f"{role}/meta/argument_specs.yml: no 'argument_specs.main' entry point"
    ]
