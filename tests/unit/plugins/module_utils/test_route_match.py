# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for _route_match: route order, expression scoping, post-route values and bad input, with classad2."""

from __future__ import annotations

import venv

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import build_routes
from ansible_collections.osg_htc.site.plugins.module_utils._route_match import (
    MatchError,
    check_expectations,
    mismatch_table,
    route_match,
    routes_from_config,
    routes_from_text,
)

pytest.importorskip("classad2")

# The HTCondor-CE documentation's recipes ("Writing Job Routes", "Filtering Jobs Based On..."):
# mapped user (exact and by regexp), pilot job queue, and token identity (orig_AuthToken*).
ATLAS = {"name": "ATLAS", "grid_resource": {"batch": "slurm"}, "requirements": 'regexp("^usatlas", Owner)'}
USATLAS2 = {"name": "Usatlas2", "universe": "vanilla", "requirements": 'Owner == "usatlas2"'}
PROD = {"name": "Prod_Jobs", "universe": "vanilla", "requirements": 'queue == "prod"', "set": {"IsProduction": True}}
CMS_TOKEN = {
    "name": "CMS",
    "grid_resource": {"batch": "slurm"},
    "requirements": 'orig_AuthTokenIssuer == "https://cms-auth.web.cern.ch/" && '
    'regexp("^pilot", orig_AuthTokenSubject)',
}
DEFAULT = {"name": "Condor_Pool", "universe": "vanilla", "set": {"IsProduction": False}}


def routes_of(result):
    return {m["job"]: m["route"] for m in result["matches"]}


def one(routes, ad, **kwargs):
    return route_match([{"name": "job", "ad": ad}], routes=routes, **kwargs)["matches"][0]


def test_regexp_on_owner():
    assert one([ATLAS], {"Owner": "usatlas3"})["route"] == "ATLAS"
    assert one([ATLAS], {"Owner": "cmsuser"})["route"] is None


def test_first_matching_route_wins_in_order():
    ad = {"Owner": "usatlas2", "queue": "prod"}
    assert one([USATLAS2, ATLAS, PROD], ad)["route"] == "Usatlas2"
    assert one([ATLAS, USATLAS2, PROD], ad)["route"] == "ATLAS"
    assert one([PROD, ATLAS, USATLAS2], ad)["route"] == "Prod_Jobs"


def test_queue_selection_and_a_route_without_requirements_takes_the_rest():
    # The documentation's "Writing Multiple Routes": prod jobs to Production_Jobs, all others to Condor_Pool.
    result = route_match(
        [{"name": "p", "ad": {"queue": "prod"}}, {"name": "o", "ad": {"queue": "other"}}, {"name": "n", "ad": {}}],
        routes=[PROD, DEFAULT],
    )
    assert routes_of(result) == {"p": "Prod_Jobs", "o": "Condor_Pool", "n": "Condor_Pool"}
    assert result["matches"][1]["deciding_expression"] is None


def test_token_identity_matches_after_auth_token_renaming():
    pilot = {"Owner": "cms", "AuthTokenIssuer": "https://cms-auth.web.cern.ch/", "AuthTokenSubject": "pilot-1"}
    assert one([CMS_TOKEN], pilot)["route"] == "CMS"
    # The route sees only the renamed attributes: a route on AuthTokenIssuer itself never matches.
    plain = dict(CMS_TOKEN, requirements='AuthTokenIssuer == "https://cms-auth.web.cern.ch/"')
    assert one([plain], pilot)["route"] is None
    # Case-insensitive, as ClassAd attribute names are.
    assert (
        one([CMS_TOKEN], {"authtokenissuer": "https://cms-auth.web.cern.ch/", "AUTHTOKENSUBJECT": "pilot"})["route"]
        == "CMS"
    )


@pytest.mark.parametrize("requirements", ['queue == "prod"', 'TARGET.queue == "prod"', 'MY.queue == "prod"'])
def test_unscoped_target_and_my_all_refer_to_the_job(requirements):
    assert one([dict(PROD, requirements=requirements)], {"queue": "prod"})["route"] == "Prod_Jobs"


@pytest.mark.parametrize(
    ("requirements", "matches"),
    [
        ("NoSuchAttribute == 1", False),  # undefined
        ('queue == "prod"', False),  # undefined: the job has no queue
        ('1 / "x"', False),  # error
        ('"a string"', False),  # neither true nor a number
        ("0", False),
        ("1", True),  # non-zero numbers count as true, as HTCondor's EvalExprBool does
        ("queue =?= undefined", True),
    ],
)
def test_only_a_true_requirements_matches(requirements, matches):
    route = {"name": "R", "grid_resource": "batch slurm", "requirements": requirements}
    assert (one([route], {"Owner": "x"})["route"] == "R") is matches


def test_undefined_requirements_reports_undefined_when_expected():
    result = route_match([{"name": "j", "ad": {"Owner": "x"}}], routes=[PROD], expect={"j": "Prod_Jobs"})
    assert result["mismatches"] == [
        {
            "job": "j",
            "expected": "Prod_Jobs",
            "actual": None,
            "deciding_expression": 'Prod_Jobs: REQUIREMENTS queue == "prod" is undefined',
        }
    ]


def test_bad_requirements_is_a_clear_error():
    bad = {"name": "Bad", "grid_resource": "batch slurm", "requirements": 'regexp("^usatlas", Owner'}
    with pytest.raises(MatchError) as failed:
        route_match([{"name": "j", "ad": {}}], routes=[ATLAS, bad])
    assert failed.value.problems == [
        "route 'Bad', REQUIREMENTS: 'regexp(\"^usatlas\", Owner' is not a valid ClassAd expression: "
        "Unable to parse string into a ClassAd."
    ]


def test_trailing_text_after_requirements_is_refused():
    # ClassAd parsing stops quietly at ']': the expression is parsed once more in parentheses.
    bad = {"name": "Bad", "grid_resource": "batch slurm", "commands": ['REQUIREMENTS Owner == "x" ] junk']}
    with pytest.raises(MatchError, match="route 'Bad', REQUIREMENTS"):
        route_match([{"name": "j", "ad": {}}], routes=[bad])


def test_post_route_values_follow_the_ce_transforms():
    route = {
        "name": "R",
        "grid_resource": {"batch": "slurm", "host": "login.example.edu"},
        "default_queue": "osg",
        "default_xcount": 4,
        "default_maxMemory": 8000,
        "default_maxWallTime": 1440,
    }
    defaults = one([route], {})
    assert defaults["grid_resource"] == "batch slurm login.example.edu"
    assert (defaults["queue"], defaults["xcount"], defaults["maxMemory"]) == ("osg", 4, 8000)
    assert (defaults["maxWallTime"], defaults["BatchRuntime"]) == (1440, 86400)
    assert defaults["variables"] == {
        "default_queue": "osg",
        "default_xcount": 4,
        "default_maxMemory": 8000,
        "default_maxWallTime": 1440,
    }
    job = one([route], {"queue": "long", "xcount": 8, "maxMemory": 16000, "maxWallTime": 60})
    assert (job["queue"], job["xcount"], job["maxMemory"], job["maxWallTime"], job["BatchRuntime"]) == (
        "long",
        8,
        16000,
        60,
        3600,
    )
    # RequestCpus counts only above 1; BatchRuntime (seconds) stands in for a missing maxWallTime.
    assert one([route], {"RequestCpus": 2, "BatchRuntime": 7200})["xcount"] == 2
    assert one([route], {"RequestCpus": 1})["xcount"] == 4
    assert one([route], {"BatchRuntime": 7200})["maxWallTime"] == 120


def test_built_in_fallbacks_without_route_variables():
    bare = one([{"name": "R", "grid_resource": "batch slurm"}], {})
    assert (bare["queue"], bare["xcount"], bare["maxMemory"], bare["maxWallTime"]) == (None, 1, 2000, 4320)
    assert one([{"name": "R", "grid_resource": "batch slurm"}], {}, routed_job_max_time=2880)["maxWallTime"] == 2880


def test_route_variable_expressions_are_evaluated_for_the_job():
    route = {
        "name": "R",
        "grid_resource": "batch slurm",
        "default_maxMemory": 'ifThenElse(Owner == "big", 64000, 4000)',
    }
    assert one([route], {"Owner": "big"})["maxMemory"] == 64000
    assert one([route], {"Owner": "small"})["maxMemory"] == 4000


def test_route_macros_are_expanded():
    route = {
        "name": "R",
        "grid_resource": "batch slurm",
        "commands": ["site_queue = prod", 'REQUIREMENTS queue == "$(site_queue)"'],
    }
    assert one([route], {"queue": "prod"})["route"] == "R"
    config = {"name": "R", "grid_resource": "batch slurm", "requirements": 'Owner == "$(SOME_CONFIG_MACRO)"'}
    with pytest.raises(MatchError, match=r"refers to \$\(SOME_CONFIG_MACRO\), which is not a variable"):
        routes_from_config([config])


def test_requirements_inside_an_if_block_is_refused():
    route = {"name": "R", "grid_resource": "batch slurm", "commands": ["if defined X", "REQUIREMENTS true", "endif"]}
    with pytest.raises(MatchError, match="sits inside an if block"):
        routes_from_config([route])


def test_universe_and_grid_resource_of_a_route():
    facts = routes_from_config([ATLAS, USATLAS2, {"name": "T", "target_universe": 5}])
    assert [(f["universe"], f["grid_resource"]) for f in facts] == [(9, '"batch slurm"'), (5, None), (5, None)]


def test_routes_file_text_gives_the_same_facts_as_the_routes():
    routes = [ATLAS, PROD, DEFAULT]
    assert routes_from_text(build_routes(routes)[0], "file") == routes_from_config(routes)


def test_routes_file_without_routes_or_header_is_refused():
    with pytest.raises(MatchError, match="file: it does not start with this module's header"):
        routes_from_text("JOB_ROUTER_ROUTE_NAMES = \n", "file")


@pytest.mark.parametrize(
    "ad",
    [
        '[ Owner = "usatlas1"; queue = "prod" ]',
        'Owner = "usatlas1"\nqueue = "prod"\n# a comment\n',
        {"Owner": "usatlas1", "queue": "prod"},
    ],
)
def test_job_ad_forms(ad):
    assert one([PROD, ATLAS], ad)["route"] == "Prod_Jobs"


@pytest.mark.parametrize(
    ("ad", "message"),
    [
        ('[ Owner = "x"; ] [ Owner = "y"; ]', "holds 2 ClassAds"),
        ('[ Owner = "x";', "is not one ClassAd: the last route is not closed"),
        ('Owner = "x"\nthis is not an attribute', "line 2 'this is not an attribute' is not 'Attr = value'"),
        ("Owner = (", "line 1 'Owner = (': Unable to parse"),
        ({"bad-name": 1}, "'bad-name' not ClassAd attribute names"),
        ("", "is not a job ad"),
    ],
)
def test_bad_job_ads_are_named(ad, message):
    with pytest.raises(MatchError) as failed:
        route_match([{"name": "pilot", "ad": ad}], routes=[ATLAS])
    assert message in str(failed.value)
    assert "pilot" in str(failed.value)


def test_jobs_must_be_a_list():
    with pytest.raises(MatchError, match="jobs must be a non-empty list"):
        route_match([], routes=[ATLAS])


def test_expect_route_names_are_case_insensitive_and_null_means_unrouted():
    result = route_match([{"name": "j", "ad": {"Owner": "nobody"}}], routes=[ATLAS], expect={"j": None})
    assert result["mismatches"] == [] and check_expectations(result) is None
    result = route_match([{"name": "j", "ad": {"Owner": "usatlas1"}}], routes=[ATLAS], expect={"j": "atlas"})
    assert result["mismatches"] == []


def test_mismatch_table_layout():
    table = mismatch_table(
        [
            {"job": "a", "expected": "X", "actual": None, "deciding_expression": "X: REQUIREMENTS q is false"},
            {"job": "longer_job", "expected": None, "actual": "Y", "deciding_expression": "Y: no REQUIREMENTS"},
        ]
    )
    assert table.splitlines() == [
        "job        | expected route | actual route | deciding expression",
        "-----------+----------------+--------------+--------------------",
        "a          | X              | (unrouted)   | X: REQUIREMENTS q is false",
        "longer_job | (unrouted)     | Y            | Y: no REQUIREMENTS",
    ]


def test_without_classad2_says_what_to_install(tmp_path):
    # A Python without the HTCondor bindings: a virtualenv that does not see this one's packages.
    venv.EnvBuilder(with_pip=False).create(tmp_path / "bare")
    with pytest.raises(MatchError, match="install python3-condor"):
        route_match([{"name": "j", "ad": {}}], routes=[ATLAS], python=str(tmp_path / "bare" / "bin" / "python"))


def test_deciding_expression_is_the_one_that_settled_the_route():
    jobs = [{"name": "j", "ad": {"Owner": "usatlas1", "queue": "test"}}]
    # The expected route comes first and was false: the job fell through it.
    early = route_match(jobs, routes=[PROD, ATLAS], expect={"j": "Prod_Jobs"})["mismatches"][0]
    assert early["actual"] == "ATLAS"
    assert early["deciding_expression"] == 'Prod_Jobs: REQUIREMENTS queue == "prod" is false'
    # The expected route comes later: the route that took the job first decided.
    late = route_match(jobs, routes=[ATLAS, DEFAULT], expect={"j": "Condor_Pool"})["mismatches"][0]
    assert late["deciding_expression"] == 'ATLAS: REQUIREMENTS regexp("^usatlas", Owner) is true'
    # A route without REQUIREMENTS that took the job.
    none = route_match(jobs, routes=[DEFAULT, ATLAS], expect={"j": "ATLAS"})["mismatches"][0]
    assert none["deciding_expression"] == "Condor_Pool: no REQUIREMENTS, takes every job"
