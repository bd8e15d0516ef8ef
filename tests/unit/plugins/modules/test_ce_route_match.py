# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ce_route_match module, with HTCondor's real ClassAd engine."""

from __future__ import annotations

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import build_routes
from ansible_collections.osg_htc.site.plugins.modules import ce_route_match
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

pytest.importorskip("classad2")

# Routes after the HTCondor-CE documentation's recipes ("Writing Job Routes": mapped user by
# regexp, pilot job queue) plus token issuer matching on the renamed orig_AuthTokenIssuer.
ROUTES = [
    {
        "name": "ATLAS",
        "grid_resource": {"batch": "slurm"},
        "requirements": 'regexp("^usatlas", Owner)',
        "default_queue": "atlas",
    },
    {
        "name": "CMS",
        "grid_resource": {"batch": "slurm"},
        "requirements": 'orig_AuthTokenIssuer == "https://cms-auth.web.cern.ch/"',
        "default_queue": "cms",
        "default_maxMemory": 2500,
    },
    {"name": "Prod", "universe": "vanilla", "requirements": 'queue == "prod"'},
]
JOBS = [
    {"name": "atlas", "ad": {"Owner": "usatlas1", "xcount": 8}},
    {"name": "cms", "ad": {"Owner": "cmspilot", "AuthTokenIssuer": "https://cms-auth.web.cern.ch/"}},
    {"name": "prod", "ad": '[ Owner = "osg"; queue = "prod" ]'},
    {"name": "stranger", "ad": 'Owner = "someone"\n'},
]


def run(**args):
    return run_module(ce_route_match, args)


def test_routes_each_job_and_changes_nothing():
    result = run(routes=ROUTES, jobs=JOBS)
    assert not result.get("failed") and result["changed"] is False
    routes = {m["job"]: m["route"] for m in result["matches"]}
    assert routes == {"atlas": "ATLAS", "cms": "CMS", "prod": "Prod", "stranger": None}
    assert result["unrouted"] == ["stranger"]
    assert result["routes"] == ["ATLAS", "CMS", "Prod"]
    cms = result["matches"][1]
    assert cms["grid_resource"] == "batch slurm" and cms["queue"] == "cms" and cms["maxMemory"] == 2500
    assert cms["deciding_expression"] == 'orig_AuthTokenIssuer == "https://cms-auth.web.cern.ch/"'
    prod = result["matches"][2]
    assert prod["grid_resource"] is None and prod["universe"] == 5 and prod["queue"] == "prod"


def test_check_mode_gives_the_same_answer():
    normal = run(routes=ROUTES, jobs=JOBS)
    check = run(routes=ROUTES, jobs=JOBS, _ansible_check_mode=True)
    assert check == normal


def test_expect_that_holds_passes():
    result = run(routes=ROUTES, jobs=JOBS, expect={"atlas": "ATLAS", "cms": "cms", "stranger": None})
    assert not result.get("failed") and result["mismatches"] == []


def test_expect_that_fails_shows_the_table():
    result = run(routes=ROUTES, jobs=JOBS, expect={"atlas": "CMS", "stranger": "Prod", "prod": None})
    assert result["failed"] is True
    assert result["msg"].startswith("3 job(s) not routed as expected:")
    lines = result["msg"].splitlines()
    assert lines[1].split(" | ") == ["job     ", "expected route", "actual route", "deciding expression"]
    assert 'atlas    | CMS            | ATLAS        | ATLAS: REQUIREMENTS regexp("^usatlas", Owner) is true' in lines
    assert 'stranger | Prod           | (unrouted)   | Prod: REQUIREMENTS queue == "prod" is undefined' in lines
    assert 'prod     | (unrouted)     | Prod         | Prod: REQUIREMENTS queue == "prod" is true' in lines
    assert [m["job"] for m in result["mismatches"]] == ["atlas", "prod", "stranger"]
    assert len(result["matches"]) == 4  # the results come along with the failure


def test_routes_file_is_read_in_its_route_order(tmp_path):
    text, _names, _warnings = build_routes(list(reversed(ROUTES)))
    path = tmp_path / "20-osg-htc-routes.conf"
    path.write_text(text)
    result = run(routes_file=str(path), jobs=[{"name": "both", "ad": {"Owner": "usatlas1", "queue": "prod"}}])
    assert result["routes"] == ["Prod", "CMS", "ATLAS"]
    assert result["matches"][0]["route"] == "Prod"


def test_missing_routes_file_fails(tmp_path):
    result = run(routes_file=str(tmp_path / "none.conf"), jobs=JOBS)
    assert result["failed"] and result["msg"] == f"routes_file {tmp_path / 'none.conf'} does not exist"


def test_unmanaged_routes_file_fails(tmp_path):
    path = tmp_path / "99-local.conf"
    path.write_text("JOB_ROUTER_ROUTE_NAMES = A\n")
    result = run(routes_file=str(path), jobs=JOBS)
    assert result["failed"] and f"routes_file {path}: it does not start with this module's header" in result["msg"]


def test_routes_and_routes_file_are_exclusive(tmp_path):
    result = run(routes=ROUTES, routes_file=str(tmp_path / "x"), jobs=JOBS)
    assert result["failed"] and "mutually exclusive" in result["msg"]


def test_one_of_routes_and_routes_file_is_required():
    result = run(jobs=JOBS)
    assert result["failed"] and "one of the following is required: routes, routes_file" in result["msg"]


def test_bad_requirements_is_named():
    routes = [{"name": "Broken", "grid_resource": "batch slurm", "requirements": 'Owner == "x" &&'}]
    result = run(routes=routes, jobs=JOBS)
    assert result["failed"]
    assert "route 'Broken', REQUIREMENTS: 'Owner == \"x\" &&' is not a valid ClassAd expression" in result["msg"]


def test_invalid_route_is_refused_like_ce_job_route():
    result = run(routes=[{"name": "bad-name", "grid_resource": "batch slurm"}], jobs=JOBS)
    assert result["failed"] and "name 'bad-name' is not valid" in result["msg"]


@pytest.mark.parametrize(
    ("jobs", "expect", "message"),
    [
        ([{"ad": {"Owner": "x"}}], None, "jobs[0]: name None is missing or empty"),
        ([{"name": "a", "ad": {}}, {"name": "a", "ad": {}}], None, "jobs[1]: name 'a' is also the name of jobs[0]"),
        ([{"name": "a", "ad": "[ Owner = ]"}], None, "job 'a': the ad '[ Owner = ]' is not a valid ClassAd"),
        ([{"name": "a", "ad": 'Owner "x"'}], None, "job 'a': the ad"),
        ([{"name": "a", "ad": 42}], None, "jobs[0] ('a'), ad: 42 is not a job ad"),
        ([{"name": "a", "ad": {}}], {"a": "Nowhere"}, "expect['a']: 'Nowhere' is not a route; use one of ATLAS, CMS"),
        ([{"name": "a", "ad": {}}], {"b": None}, "expect: 'b' is not the name of a job; jobs are a"),
    ],
)
def test_bad_input_is_named(jobs, expect, message):
    result = run(routes=ROUTES, jobs=jobs, expect=expect)
    assert result["failed"] and message in result["msg"], result["msg"]


# The items of the htcondor_ce role's htcondor_ce_route_tests: name, ad and the route each must take.
ROLE_TESTS = [
    {"name": "atlas", "ad": {"Owner": "usatlas1"}, "expect": "ATLAS"},
    {"name": "cms", "ad": {"Owner": "cms", "AuthTokenIssuer": "https://cms-auth.web.cern.ch/"}, "expect": "CMS"},
    {"name": "stranger", "ad": 'Owner = "someone"', "expect": None},
]


def test_role_route_tests_are_taken_as_they_are():
    result = run(routes=ROUTES, jobs=ROLE_TESTS)
    assert not result.get("failed"), result["msg"]
    assert [m["route"] for m in result["matches"]] == ["ATLAS", "CMS", None]
    wrong = [dict(ROLE_TESTS[0], expect="CMS"), *ROLE_TESTS[1:]]
    failed = run(routes=ROUTES, jobs=wrong)
    assert failed["failed"] is True
    assert failed["msg"].startswith("1 job(s) not routed as expected:")
    assert [m["job"] for m in failed["mismatches"]] == ["atlas"]


def test_a_job_given_two_expectations_is_refused():
    result = run(routes=ROUTES, jobs=ROLE_TESTS, expect={"atlas": "CMS"})
    assert result["failed"] is True
    assert "jobs[0] ('atlas'), expect: 'ATLAS' differs from expect['atlas'] 'CMS'" in result["msg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"jobs": [{"name": "a", "ad": {"maxWallTime": 1e308}}]},
            "job 'a': maxWallTime is 1e+308, not a number from 0 to 153722867280912930 minutes",
        ),
        ({"jobs": [{"name": "a", "ad": {"xcount": float("nan")}}]}, "ad.xcount: nan is not a finite number"),
        ({"jobs": JOBS, "routed_job_max_time": 0}, "routed_job_max_time 0 is not a whole number of minutes from 1"),
        (
            {"jobs": JOBS, "routed_job_max_time": float("inf")},
            "routed_job_max_time must be a whole number of minutes from 1 to 153722867280912930, got inf",
        ),
        (
            {"jobs": [{"name": "deep", "ad": "[ x = " + "(" * 10_000 + "1" + ")" * 10_000 + " ]"}]},
            "job 'deep': the ad '[ x = ((((",
        ),
    ],
)
def test_numbers_and_deep_ads_are_refused_naming_them(args, message):
    result = run(routes=ROUTES, **args)
    assert result["failed"] is True
    # ansible-core before 2.19 refuses infinity for an int option itself, also naming the option.
    assert message in result["msg"] or "argument 'routed_job_max_time' is of type" in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"]
