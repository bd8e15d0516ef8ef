"""Every role's defaults agree with its meta/argument_specs.yml.

Generic over the roles in roles/ (the private ``_common`` role has no ``main``
entry point, only one per task file, and inputs the calling roles set, so it is left out): a new role
gets these checks by existing.
"""

from __future__ import annotations

import importlib.util

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ..conftest import COLLECTION_ROOT

ROLES = sorted(path.parent.parent for path in (COLLECTION_ROOT / "roles").glob("*/tasks/main.yml"))

_spec = importlib.util.spec_from_file_location(
    "check_argument_specs", COLLECTION_ROOT / "tools" / "check_argument_specs.py"
)
check_argument_specs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_argument_specs)


def load(path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def test_there_are_roles_to_check():
    assert ROLES, "no role found under roles/"


@pytest.mark.parametrize("role", ROLES, ids=lambda path: path.name)
def test_argument_specs_lint_is_clean(role):
    """Defaults and argument specs name the same variables (tools/check_argument_specs.py)."""
    assert check_argument_specs.check_role(role) == []


@pytest.mark.parametrize("role", ROLES, ids=lambda path: path.name)
def test_defaults_pass_the_roles_own_argument_spec(role):
    """What Ansible checks when the role starts, run on the defaults alone."""
    options = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(role / "defaults" / "main.yml")
    # A required variable has no default by design; the user must set it.
    optional = {name: {**spec, "required": False} for name, spec in options.items()}
    result = ArgumentSpecValidator(optional).validate(defaults)
    assert result.error_messages == []


@pytest.mark.parametrize("role", ROLES, ids=lambda path: path.name)
def test_role_variables_carry_the_role_prefix(role):
    prefix = f"{role.name}_"
    names = set(load(role / "defaults" / "main.yml"))
    assert sorted(name for name in names if not name.startswith(prefix)) == []
