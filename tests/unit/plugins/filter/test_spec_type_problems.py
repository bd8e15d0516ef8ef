# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ``osg_htc.site.spec_type_problems`` filter, against the roles' real argument specs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.spec_type_problems import FilterModule, spec_type_problems

ROLES = Path(__file__).resolve().parents[4] / "roles"


def options(role: str) -> dict:
    spec = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
    return spec["argument_specs"]["main"]["options"]


def test_filter_is_registered():
    assert FilterModule().filters() == {"spec_type_problems": spec_type_problems}


@pytest.mark.parametrize("role", ["access_point", "htcondor_ce", "ce_bosco"])
def test_every_role_default_is_of_its_type(role):
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())
    assert spec_type_problems(defaults, options(role)) == []


@pytest.mark.parametrize(
    "values, problem",
    [
        # The cases Ansible's own check lets through: a string split into a list, a number kept as a number.
        ({"access_point_ospool_central_managers": "cm1.example.edu,cm2.example.edu"}, "is a str"),
        (
            {"access_point_gratia_site_name": 5},
            "access_point_gratia_site_name is an int (5), but the argument spec says str",
        ),
        ({"htcondor_ce_scitokens_mappings": "issuer"}, "htcondor_ce_scitokens_mappings is a str"),
        ({"htcondor_ce_route_tests": [{"name": 7}]}, "htcondor_ce_route_tests[0].name is an int"),
        ({"htcondor_ce_config": "A=1"}, "htcondor_ce_config is a str"),
        ({"htcondor_ce_max_jobs": "many"}, "htcondor_ce_max_jobs is a str ('many'), but the argument spec says int"),
        ({"htcondor_ce_drain": "maybe"}, "htcondor_ce_drain is a str"),
    ],
)
def test_values_of_another_type_are_named(values, problem):
    role = next(iter(values)).split("_")[0]
    role = {"access": "access_point", "htcondor": "htcondor_ce"}[role]
    found = spec_type_problems(values, options(role))
    assert len(found) == 1 and problem in found[0], found


@pytest.mark.parametrize(
    "values",
    [
        {"htcondor_ce_max_jobs": "9619"},  # -e htcondor_ce_max_jobs=9619 gives a string
        {"htcondor_ce_drain": "yes"},
        {"htcondor_ce_routes": None},
        {"not_a_role_variable": object()},
    ],
)
def test_what_ansible_converts_safely_passes(values):
    assert spec_type_problems(values, options("htcondor_ce")) == []


def test_bad_input_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="must be a mapping of values"):
        spec_type_problems(["x"], {})
    with pytest.raises(AnsibleFilterError, match="options must be"):
        spec_type_problems({}, "x")
