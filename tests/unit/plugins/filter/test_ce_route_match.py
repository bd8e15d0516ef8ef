# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ``osg_htc.site.ce_route_match`` filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.ce_route_match import FilterModule, ce_route_match
from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import build_routes
from ansible_collections.osg_htc.site.plugins.module_utils._route_match import route_match

pytest.importorskip("classad2")

ROUTES = [
    {"name": "ATLAS", "grid_resource": {"batch": "slurm"}, "requirements": 'regexp("^usatlas", Owner)'},
    {"name": "Prod", "grid_resource": {"batch": "slurm"}, "requirements": 'queue == "prod"', "default_xcount": 8},
]
JOBS = [
    {"name": "atlas", "ad": {"Owner": "usatlas4", "queue": "prod"}},
    {"name": "prod", "ad": {"Owner": "osg", "queue": "prod"}},
    {"name": "other", "ad": {"Owner": "osg"}},
]


def test_filter_is_registered():
    assert FilterModule().filters() == {"ce_route_match": ce_route_match}


def test_returns_what_the_module_returns():
    result = ce_route_match(JOBS, routes=ROUTES)
    assert result == route_match(JOBS, routes=ROUTES)
    assert [m["route"] for m in result["matches"]] == ["ATLAS", "Prod", None]
    assert result["matches"][1]["xcount"] == 8 and result["unrouted"] == ["other"]


def test_reads_a_routes_file(tmp_path):
    path = tmp_path / "routes.conf"
    path.write_text(build_routes(ROUTES)[0])
    assert ce_route_match(JOBS, routes_file=str(path)) == ce_route_match(JOBS, routes=ROUTES)


def test_missing_routes_file_is_named(tmp_path):
    with pytest.raises(AnsibleFilterError, match=r"cannot read routes_file .*missing\.conf"):
        ce_route_match(JOBS, routes_file=str(tmp_path / "missing.conf"))


def test_expect_that_holds_returns_the_result():
    result = ce_route_match(JOBS, routes=ROUTES, expect={"atlas": "ATLAS", "other": None})
    assert result["mismatches"] == []


def test_expect_that_fails_raises_with_the_table():
    with pytest.raises(AnsibleFilterError) as failed:
        ce_route_match(JOBS, routes=ROUTES, expect={"atlas": "Prod"})
    message = str(failed.value)
    assert "1 job(s) not routed as expected:" in message
    assert 'atlas | Prod           | ATLAS        | ATLAS: REQUIREMENTS regexp("^usatlas", Owner) is true' in message


def test_bad_input_raises_naming_it():
    with pytest.raises(AnsibleFilterError, match=r"jobs\[0\]: name '' is missing or empty"):
        ce_route_match([{"name": "", "ad": {}}], routes=ROUTES)
    with pytest.raises(AnsibleFilterError, match="not both and not neither"):
        ce_route_match(JOBS)
    with pytest.raises(AnsibleFilterError, match="route 'X', REQUIREMENTS: '1 \\+' is not a valid ClassAd"):
        ce_route_match(JOBS, routes=[{"name": "X", "grid_resource": "batch slurm", "requirements": "1 +"}])


# The items of the htcondor_ce role's htcondor_ce_route_tests (docs/variables.md): name, ad, expect.
ROLE_TESTS = [
    {"name": "atlas", "ad": {"Owner": "usatlas4", "queue": "prod"}, "expect": "ATLAS"},
    {"name": "prod", "ad": '[ Owner = "osg"; queue = "prod" ]', "expect": "prod"},
    {"name": "other", "ad": 'Owner = "osg"\n', "expect": None},
]


def test_role_route_tests_pass_through_unchanged_in_meaning():
    # What the role did before it could pass its items on: strip expect, and give it as a mapping.
    jobs = [{key: value for key, value in item.items() if key != "expect"} for item in ROLE_TESTS]
    expect = {item["name"]: item["expect"] for item in ROLE_TESTS}
    assert ce_route_match(ROLE_TESTS, routes=ROUTES) == ce_route_match(jobs, routes=ROUTES, expect=expect)


def test_role_route_test_taking_another_route_raises_the_table():
    wrong = [dict(item, expect="ATLAS") if item["name"] == "prod" else item for item in ROLE_TESTS]
    with pytest.raises(AnsibleFilterError) as failed:
        ce_route_match(wrong, routes=ROUTES)
    assert "prod | ATLAS          | Prod         | ATLAS: REQUIREMENTS regexp" in str(failed.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"routes_file": 3}, "routes_file 3 is not a path"),
        ({"routes_file": "/tmp/x\x00y"}, "is not a path"),
        ({"routes": ROUTES, "routed_job_max_time": float("inf")}, "routed_job_max_time inf is not a whole number"),
    ],
)
def test_odd_options_raise_naming_them(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        ce_route_match(JOBS, **kwargs)


def test_routes_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "routes.conf"
    path.write_bytes(build_routes(ROUTES)[0].encode("utf-16"))
    with pytest.raises(AnsibleFilterError, match=r"cannot read routes_file .*routes\.conf: not valid UTF-8"):
        ce_route_match(JOBS, routes_file=str(path))
