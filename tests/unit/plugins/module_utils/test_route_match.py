# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for _route_match: route order, expression scoping, post-route values and bad input, with classad2."""

from __future__ import annotations

import math
import venv

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils import _route_match
from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import build_routes
from ansible_collections.osg_htc.site.plugins.module_utils._route_match import (
    MatchError,
    check_expectations,
    match_routes,
    mismatch_table,
    normalize_jobs,
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


# --- a job's own expect (the items of htcondor_ce_route_tests) ----------------------------------


def test_a_jobs_own_expect_is_the_same_as_the_expect_mapping():
    jobs = [
        {"name": "a", "ad": {"Owner": "usatlas1"}, "expect": "ATLAS"},
        {"name": "b", "ad": {"Owner": "nobody"}, "expect": None},
        {"name": "c", "ad": {"Owner": "usatlas2"}},
    ]
    plain = [{key: value for key, value in job.items() if key != "expect"} for job in jobs]
    assert route_match(jobs, routes=[ATLAS]) == route_match(plain, routes=[ATLAS], expect={"a": "ATLAS", "b": None})
    failed = route_match([dict(jobs[0], expect=None), jobs[1]], routes=[ATLAS])
    assert [(m["job"], m["expected"], m["actual"]) for m in failed["mismatches"]] == [("a", None, "ATLAS")]


def test_a_jobs_own_expect_and_the_mapping_must_agree():
    job = {"name": "a", "ad": {"Owner": "usatlas1"}, "expect": "atlas"}
    assert route_match([job], routes=[ATLAS], expect={"a": "ATLAS"})["mismatches"] == []
    with pytest.raises(MatchError) as failed:
        route_match([job], routes=[ATLAS], expect={"a": None})
    assert failed.value.problems == [
        "jobs[0] ('a'), expect: 'atlas' differs from expect['a'] None; give the route once"
    ]


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (
            {"name": "a", "ad": {}, "expect": "Nowhere"},
            "jobs[0] ('a'), expect: 'Nowhere' is not a route; use one of ATLAS or null",
        ),
        ({"name": "a", "ad": {}, "expect": ["ATLAS"]}, "jobs[0] ('a'), expect: ['ATLAS'] is not a route"),
        ({"name": "a", "ad": {}, "route": "ATLAS"}, "jobs[0]: unknown keys 'route'; a job has name, ad and optionally"),
    ],
)
def test_a_bad_expect_of_a_job_is_named(job, message):
    with pytest.raises(MatchError) as failed:
        route_match([job], routes=[ATLAS])
    assert message in str(failed.value)


# --- numbers: finite and in range, or refused naming the job and the attribute ------------------

ANY = {"name": "Any", "grid_resource": "batch slurm"}


@pytest.mark.parametrize(
    ("ad", "message"),
    [
        (
            {"maxWallTime": 1e308},
            "job 'job': maxWallTime is 1e+308, not a number from 0 to 153722867280912930 minutes, so that "
            "BatchRuntime (60 times it, in seconds) is a ClassAd integer",
        ),
        ({"maxWallTime": -1}, "job 'job': maxWallTime is -1, not a number from 0 to 153722867280912930"),
        ("maxWallTime = 153722867280912931", "job 'job': maxWallTime is 153722867280912931, not a number from 0"),
        ('[ maxWallTime = real("NaN") ]', "job 'job': maxWallTime is nan, not a number from 0"),
        ('xcount = real("-inf")', "job 'job': xcount is -inf, not a number from 0 to 9223372036854775807 cores"),
        ({"maxMemory": -5.5}, "job 'job': maxMemory is -5.5, not a number from 0 to 9223372036854775807 MB"),
        ({"BatchRuntime": 1e300}, "job 'job': BatchRuntime is 1e+300, not a number from 0 to 9223372036854775807"),
        ({"RequestCpus": -2}, "job 'job': RequestCpus is -2, not a number from 0"),
        ({"x": math.nan}, "jobs[0] ('job'), ad.x: nan is not a finite number"),
        ({"x": [1, math.inf]}, "ad.x[1]: inf is not a finite number"),
        ({"x": 2**63}, "ad.x: 9223372036854775808 is outside the range of a ClassAd integer"),
        ({"x": -(2**63) - 1}, "ad.x: -9223372036854775809 is outside the range of a ClassAd integer"),
        ({"x": 10**400}, "ad.x: an integer of about 400 digits is outside the range"),
        ({"x": {"y": {"bad-name": 1}}}, "ad.x.y: 'bad-name' not ClassAd attribute names"),
        ({"x": b"bytes"}, "ad.x: a bytes is not a ClassAd value"),
        ({"Owner": "a", "OWNER": "b"}, "'OWNER' and 'Owner' name one attribute (ClassAd names ignore case)"),
    ],
)
def test_numbers_out_of_range_and_odd_values_are_named(ad, message):
    with pytest.raises(MatchError) as failed:
        route_match([{"name": "job", "ad": ad}], routes=[ANY])
    assert message in str(failed.value)


def test_route_variables_out_of_range_are_named():
    route = dict(ANY, name="Long", default_maxWallTime="1e308", default_xcount="-1")
    with pytest.raises(MatchError) as failed:
        route_match([{"name": "job", "ad": {}}], routes=[route])
    assert failed.value.problems == [
        "job 'job', route 'Long': default_xcount is -1, not a number from 0 to 9223372036854775807 cores",
        "job 'job', route 'Long': default_maxWallTime is 1e+308, not a number from 0 to 153722867280912930 minutes, "
        "so that BatchRuntime (60 times it, in seconds) is a ClassAd integer",
    ]


def test_largest_wall_time_gives_the_largest_batch_runtime():
    match = one([ANY], {"maxWallTime": 153722867280912930})
    assert match["BatchRuntime"] == 153722867280912930 * 60 <= 2**63 - 1


@pytest.mark.parametrize("value", [0, -1, 153722867280912931, 4320.0, True, math.nan])
def test_routed_job_max_time_out_of_range_is_refused(value):
    with pytest.raises(MatchError, match=r"routed_job_max_time .* is not a whole number of minutes from 1 to 1537228"):
        route_match([{"name": "j", "ad": {}}], routes=[ANY], routed_job_max_time=value)


# --- deep nesting and a failing child: a message naming the input, never a traceback ----------------

DEPTH = 10_000


@pytest.mark.parametrize(
    ("ad", "named"),
    [
        ("[ x = " + "(" * DEPTH + "1" + ")" * DEPTH + " ]", "job 'deep': the ad '[ x = ((("),
        ("x = " + "(" * DEPTH + "1" + ")" * DEPTH, "job 'deep': the ad 'x = ((("),
        ("[ x = " + "[a=" * DEPTH + "1" + "]" * DEPTH + " ]", "job 'deep': the ad '[ x = [a=[a="),
        ("x = " + "!" * DEPTH + "true", "job 'deep': the ad 'x = !!!"),
    ],
)
def test_deeply_nested_expressions_name_the_job(ad, named):
    with pytest.raises(MatchError) as failed:
        route_match([{"name": "deep", "ad": ad}], routes=[ANY])
    message = str(failed.value)
    assert message.startswith(named)
    assert "Traceback" not in message
    assert len(message) < 600


def test_deeply_nested_requirements_name_the_route():
    route = dict(ANY, requirements="(" * DEPTH + "true" + ")" * DEPTH)
    with pytest.raises(MatchError) as failed:
        route_match([{"name": "j", "ad": {}}], routes=[route])
    assert str(failed.value).startswith("route 'Any', REQUIREMENTS: '((((")


@pytest.mark.parametrize("depth", [33, 5000])
def test_deeply_nested_values_of_a_mapping_are_refused(depth):
    value = 1
    for _level in range(depth):
        value = [value]
    with pytest.raises(MatchError, match=r"\('j'\), ad\.x(\[0\])+: lists and mappings nest more than 32 levels"):
        route_match([{"name": "j", "ad": {"x": value}}], routes=[ANY])


def test_values_nested_32_levels_are_taken():
    value = 1
    for _level in range(31):
        value = {"a": value}
    assert one([ANY], {"x": value})["route"] == "Any"


def test_an_error_while_evaluating_is_reported_per_job(tmp_path, monkeypatch):
    # Evaluation that overflows the child's stack, stood in by a classad2 whose eval raises
    # RecursionError for one expression (sitecustomize runs in the child before the script).
    (tmp_path / "sitecustomize.py").write_text(
        "import classad2\n"
        "_eval = classad2.ExprTree.eval\n"
        "def eval(self, *args):\n"
        "    if 'deep_marker' in str(self):\n"
        "        raise RecursionError('maximum recursion depth exceeded')\n"
        "    return _eval(self, *args)\n"
        "classad2.ExprTree.eval = eval\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    deep = dict(ANY, name="Deep", requirements='Owner == "deep_marker"')
    with pytest.raises(MatchError) as failed:
        route_match([{"name": "a", "ad": {}}, {"name": "b", "ad": {}}], routes=[deep, ANY])
    assert failed.value.problems == [
        f"job '{job}': REQUIREMENTS of route 'Deep' cannot be evaluated: maximum recursion depth exceeded"
        for job in ("a", "b")
    ]


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            "import json\nraise RecursionError('maximum recursion depth exceeded')\n",
            "matching 1 job(s) against 1 route(s) with classad2 failed (exit 1): "
            "RecursionError: maximum recursion depth exceeded",
        ),
        (
            "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
            "matching 1 job(s) against 1 route(s) with classad2 failed (killed by signal 11)",
        ),
        (
            'print(\'{"fatal": "MemoryError: out of memory"}\')\n',
            "matching 1 job(s) against 1 route(s) with classad2 failed: MemoryError: out of memory",
        ),
        (
            "print('not json')\n",
            "matching 1 job(s) against 1 route(s) with classad2 gave no readable answer: "
            "Expecting value: line 1 column 1 (char 0)",
        ),
        ("print('[1, 2]')\n", "matching 1 job(s) against 1 route(s) with classad2 gave no readable answer: [1, 2]"),
    ],
)
def test_a_failing_child_ends_in_one_clean_line(monkeypatch, script, message):
    monkeypatch.setattr(_route_match, "_MATCH_SCRIPT", script)
    with pytest.raises(MatchError) as failed:
        route_match([{"name": "j", "ad": {}}], routes=[ANY])
    assert failed.value.problems == [message]


def test_a_child_that_hangs_is_stopped(monkeypatch):
    monkeypatch.setattr(_route_match, "_MATCH_SCRIPT", "import time\ntime.sleep(60)\n")
    facts = routes_from_config([ANY])
    with pytest.raises(MatchError, match=r"with classad2 timed out after 0.5 s"):
        match_routes(facts, normalize_jobs([{"name": "j", "ad": {}}]), timeout=0.5)


@pytest.mark.parametrize(
    "ad",
    ["maxMemory = 9223372036854775808", '[ Owner = "x"; maxMemory = 99999999999999999999999 ]'],
)
def test_integer_literals_outside_classad_range_are_refused(ad):
    # HTCondor's parser reads them as 0 without a word; the job would match with another value.
    with pytest.raises(MatchError) as failed:
        route_match([{"name": "job", "ad": ad}], routes=[ANY])
    (problem,) = failed.value.problems
    assert problem.startswith("jobs[0] ('job'), ad: the integer ")
    assert "maxMemory = " in problem
    assert problem.endswith("is outside ClassAd's 64-bit range (-9223372036854775808 to 9223372036854775807); "
                            "HTCondor would read it as 0")  # fmt: skip


@pytest.mark.parametrize(
    "ad",
    [
        "maxMemory = 9223372036854775807",
        '[ Owner = "99999999999999999999" ]',
        "x99999999999999999999 = 1\ny = 1.5e300",
    ],
)
def test_integer_literals_within_range_or_not_integers_are_taken(ad):
    assert one([ANY], ad)["route"] == "Any"


def test_integer_literal_outside_range_in_a_route_is_named():
    route = dict(ANY, requirements="xcount > 99999999999999999999")
    with pytest.raises(MatchError) as failed:
        routes_from_config([route])
    (problem,) = failed.value.problems
    assert problem.startswith("route 'Any', REQUIREMENTS: the integer 99999999999999999999 in 'xcount > 999")
