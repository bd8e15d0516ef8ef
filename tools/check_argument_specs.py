# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Fail when a role's defaults and its meta/argument_specs.yml disagree.

Every variable in ``roles/<role>/defaults/main.yml`` must be documented in an
entry point of ``roles/<role>/meta/argument_specs.yml`` (and the other way
round), every option must have a description, and a documented default must
equal the value in defaults/main.yml. A role with ``tasks/main.yml`` needs the
``main`` entry point; an internal role reached only through ``tasks_from`` has
one entry point per task file instead. Users read the argument specs (and
the docs generated from them), so a drift between the two misleads them.

Usage: check_argument_specs.py [ROLES_DIR]   (default: roles)
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, found {type(data).__name__}")
    return data


def check_role(role_dir: Path) -> list[str]:
    """Return the problems found in one role, each naming the file and variable."""
    defaults_file = role_dir / "defaults" / "main.yml"
    specs_file = role_dir / "meta" / "argument_specs.yml"
    defaults = _load(defaults_file) if defaults_file.is_file() else {}
    if not specs_file.is_file():
        return [f"{specs_file}: missing (the role has {len(defaults)} default(s) to document)"]

    specs = _load(specs_file).get("argument_specs") or {}
    if (role_dir / "tasks" / "main.yml").is_file() and not isinstance(specs.get("main"), dict):
        return [f"{specs_file}: no 'argument_specs.main' entry point"]
    if not specs:
        return [f"{specs_file}: no entry point"]
    options = {}
    for entry in specs.values():
        options.update((entry or {}).get("options") or {})

    problems = []
    for name in sorted(set(defaults) - set(options)):
        problems.append(f"{specs_file}: '{name}' is set in {defaults_file} but not documented")
    for name in sorted(set(options) - set(defaults)):
        option = options[name] or {}
        if not option.get("required"):
            problems.append(f"{defaults_file}: '{name}' is documented as optional but has no default")
    for name, option in sorted(options.items()):
        option = option or {}
        if not option.get("description"):
            problems.append(f"{specs_file}: '{name}' has no description")
        if "default" in option and name in defaults and option["default"] != defaults[name]:
            problems.append(
                f"{specs_file}: '{name}' documents default {option['default']!r} "
                f"but {defaults_file} sets {defaults[name]!r}"
            )
    return problems


def main(argv: list[str]) -> int:
    roles_dir = Path(argv[1] if len(argv) > 1 else "roles")
    roles = sorted(path for path in roles_dir.iterdir() if path.is_dir()) if roles_dir.is_dir() else []
    problems = [problem for role in roles for problem in check_role(role)]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"argument specs: {len(roles)} role(s) checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
