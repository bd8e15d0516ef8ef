# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the job route model: rendering and validation (conversion: test_route_conversion.py)."""

from __future__ import annotations

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import check_config_text
from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import (
    RENDER_ORDER,
    RouteError,
    build_routes,
    parse_managed_file,
    structural_problem,
)

pytest.importorskip("classad2")


def body(text, name):
    """The command lines of route ``name`` in rendered ``text``."""
    return parse_managed_file(text)[[r["name"] for r in parse_managed_file(text)].index(name)]["commands"]


def test_every_key_renders_in_the_documented_order():
    route = {
        "name": "All",
        "commands": ["# raw last"],
        "evalset": {"E": 'strcat("a", Owner)'},
        "default": {"RequestGPUs": 1},
        "default_CERequirements": ["Walltime", "E"],
        "set": {"Walltime": 3600, "S": '"x"'},
        "rename": {"R": "R2"},
        "delete": ["D", "/^Tmp/"],
        "copy": {"C": "orig_C", "/^Auth(.*)/": "orig_Auth\\1"},
        "default_pilot_job_env": '"A=1 B=2"',
        "default_maxWallTime": 60,
        "default_maxMemory": 2000,
        "default_xcount": 8,
        "default_queue": "osg",
        "max_idle_jobs": 50,
        "max_jobs": 100,
        "requirements": 'Owner == "osg"',
        "grid_resource": {"batch": "slurm", "user": "osg01", "host": "login.example.edu"},
        "universe": "grid",
    }
    text, names, warnings = build_routes([route])
    assert names == ["All"] and warnings == []
    assert body(text, "All") == [
        "UNIVERSE GRID",
        'GridResource = "batch slurm osg01@login.example.edu"',
        'REQUIREMENTS Owner == "osg"',
        "MaxJobs = 100",
        "MaxIdleJobs = 50",
        "default_queue = osg",
        "default_xcount = 8",
        "default_maxMemory = 2000",
        "default_maxWallTime = 60",
        'default_pilot_job_env = "A=1 B=2"',
        "COPY C orig_C",
        "COPY /^Auth(.*)/ orig_Auth\\1",
        "DELETE D",
        "DELETE /^Tmp/",
        "RENAME R R2",
        "SET Walltime 3600",
        'SET S "x"',
        'SET default_CERequirements "Walltime,E"',
        "DEFAULT RequestGPUs 1",
        'EVALSET E strcat("a", Owner)',
        "# raw last",
    ]
    assert RENDER_ORDER[-1] == "commands"
    # HTCondor's configuration parser reads the file and the route names back.
    result = check_config_text(text, ["JOB_ROUTER_ROUTE_NAMES", "JOB_ROUTER_ROUTE_All"])
    assert result.ok is True
    assert result.values["JOB_ROUTER_ROUTE_NAMES"] == "All"
    assert "SET Walltime 3600" in result.values["JOB_ROUTER_ROUTE_All"]


def test_route_order_is_the_given_order_and_target_universe_form():
    text, names, _w = build_routes(
        [{"name": "B", "target_universe": "vanilla"}, {"name": "A", "target_universe": 9, "grid_resource": "batch pbs"}]
    )
    assert names == ["B", "A"]
    assert text.rstrip().endswith("JOB_ROUTER_ROUTE_NAMES = B A")
    assert body(text, "B") == ["TargetUniverse = 5"]
    assert body(text, "A") == ["TargetUniverse = 9", 'GridResource = "batch pbs"']


def test_value_rule_strings_are_expressions_scalars_are_literals():
    text, _n, _w = build_routes(
        [{"name": "V", "universe": 5, "set": {"A": '"bar"', "B": "Owner", "C": True, "D": 1.5}}]
    )
    assert body(text, "V")[1:] == ['SET A "bar"', "SET B Owner", "SET C true", "SET D 1.5"]


def test_raw_commands_accept_every_documented_form():
    commands = [
        "# comment",
        "UNIVERSE VANILLA",
        "TargetUniverse = 5",
        'GridResource = "batch slurm"',
        "MaxJobs = 10",
        'REQUIREMENTS regexp("\\/cms\\/Role\\=pilot", x509UserProxyFirstFQAN)',
        "SET IsProduction = True",
        "DEFAULT RequestGPUs = 1",
        'EVALSET Experiment = strcat("atlas.", Owner)',
        "EVALMACRO cores = $(MY.xcount:1) * 2",
        "COPY Environment Original_Environment",
        "COPY /Resource(.+)/ OriginalResource\\1",
        "RENAME /^AuthToken(.*)/ orig_AuthToken\\1",
        "DELETE /^orig_/",
        "NAME Pretty",
        "if defined MY.queue",
        '  SET BatchQueue "$(MY.queue)"',
        "elif $(cores) > 4",
        "else",
        "endif",
        "default_maxMemory = 1000",
    ]
    text, _n, _w = build_routes([{"name": "Raw", "commands": commands}])
    assert body(text, "Raw") == [c.strip() for c in commands]


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ({"name": "bad-name", "universe": 5}, "routes[0]: name 'bad-name' is not valid"),
        ({"name": "R", "universe": "teleport"}, "route 'R', universe: 'teleport' is not a universe"),
        ({"name": "R", "universe": 5, "target_universe": 5}, "R: give universe or target_universe, not both"),
        ({"name": "R", "grid_resource": "batch htcondor"}, "route 'R', grid_resource: batch system 'htcondor'"),
        ({"name": "R", "grid_resource": "arc ce.example"}, "is not a GridResource the CE routes to"),
        ({"name": "R", "grid_resource": {"batch": "slurm", "host": "bad_host"}}, "invalid label 'bad_host'"),
        (
            {"name": "R", "universe": 5, "requirements": "Owner =="},
            "route 'R', requirements: 'Owner ==' is not a valid",
        ),
        ({"name": "R", "universe": 5, "set": {"1x": 1}}, "route 'R', set.1x: '1x' is not a valid ClassAd attribute"),
        ({"name": "R", "universe": 5, "set": {"A": 1, "a": 2}}, "'A' and 'a' are the same attribute"),
        ({"name": "R", "universe": 5, "set": {"A": "1 +"}}, "route 'R', set.A: '1 +' is not a valid ClassAd"),
        ({"name": "R", "universe": 5, "max_jobs": -1}, "route 'R', max_jobs: -1 is out of range"),
        ({"name": "R", "universe": 5, "max_idle_jobs": 2**31}, "max_idle_jobs: 2147483648 is out of range"),
        ({"name": "R", "universe": 5, "default_xcount": 0}, "default_xcount: 0 is out of range"),
        ({"name": "R", "universe": 5, "default_queue": "a queue"}, "default_queue: 'a queue' is not a batch queue"),
        ({"name": "R", "universe": 5, "delete": ["true"]}, "delete[0]: 'true' is neither a ClassAd attribute"),
        ({"name": "R", "universe": 5, "copy": {"A": "not valid"}}, "copy.A: 'not valid' is not a valid ClassAd"),
        ({"name": "R", "universe": 5, "rename": {"/^A(.*)/": ""}}, "rename./^A(.*)/: '' is not a substitution"),
        ({"name": "R", "universe": 5, "copy": {"/^A(.*)/": None}}, "copy./^A(.*)/: None is not a substitution"),
        ({"name": "R", "universe": 5, "colour": 1}, "R: unknown keys ['colour']"),
        ({"name": "R"}, "R: has no commands"),
        ({"name": "R", "commands": ["FROB x"]}, "commands[0] 'FROB x': 'FROB x' is not a transform command"),
        ({"name": "R", "commands": ["SET"]}, "commands[0] 'SET': SET needs an argument"),
        ({"name": "R", "commands": ["SET A"]}, "SET A has no value"),
        ({"name": "R", "commands": ["SET 2A 1"]}, "'2A' is not a valid ClassAd attribute name"),
        ({"name": "R", "commands": ["SET A (1"]}, "commands[0] 'SET A (1': '(1' is not a valid ClassAd"),
        ({"name": "R", "commands": ["DELETE A B"]}, "DELETE takes one attribute or /regex/"),
        ({"name": "R", "commands": ["COPY A"]}, "COPY needs a new attribute name"),
        ({"name": "R", "commands": ["UNIVERSE moon"]}, "'moon' is not a universe"),
        ({"name": "R", "commands": ["TRANSFORM 3"]}, "TRANSFORM belongs to multi-ad transforms"),
        ({"name": "R", "commands": ["@jrt"]}, "would end the route's @=jrt block"),
        ({"name": "R", "commands": ["SET A 1\nSET B 2"]}, "contains a line break"),
        ({"name": "R", "commands": ["if true"]}, "route 'R', commands: 1 'if' without a matching 'endif'"),
        ({"name": "R", "commands": ["else"]}, "'else' without a matching 'if'"),
        ({"name": "R", "commands": ["endif x"]}, "'endif' takes no condition"),
        ({"name": "R", "commands": ["MaxJobs = many"]}, "'many' is not an integer"),
        ({"name": "R", "commands": ["GridResource = batch slurm"]}, "GridResource must be a quoted string"),
    ],
)
def test_each_problem_names_route_key_and_problem(route, expected):
    with pytest.raises(RouteError) as info:
        build_routes([route])
    assert any(expected in problem for problem in info.value.problems), info.value.problems


def test_all_problems_are_reported_at_once_and_duplicates_found():
    routes = [
        {"name": "A", "universe": "x", "set": {"B": "(("}},
        {"name": "a", "universe": 5},
        {"name": "C", "commands": ["FROB"]},
    ]
    with pytest.raises(RouteError) as info:
        build_routes(routes)
    text = str(info.value)
    assert "universe: 'x'" in text and "set.B" in text and "name 'a' is given twice" in text and "'FROB'" in text


def test_structural_fallback_without_classad2(tmp_path):
    python = tmp_path / "python"  # STANDS IN FOR an interpreter without the HTCondor bindings
    python.write_text("#!/bin/sh\nexit 3\n")
    python.chmod(0o755)
    with pytest.raises(RouteError, match="unterminated string"):
        build_routes([{"name": "R", "universe": 5, "set": {"A": '"open'}}], python=str(python))
    _t, _n, warnings = build_routes([{"name": "R", "universe": 5, "set": {"A": "f(1)"}}], python=str(python))
    assert "no ClassAd parser available" in warnings[0]
    assert structural_problem("(]") == "unbalanced ']'"


def test_bosco_macros_survive_and_other_dollars_are_escaped():
    text, _n, _w = build_routes(
        [{"name": "Local_BOSCO", "target_universe": 9, "grid_resource": "batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)"}]
    )
    assert 'GridResource = "batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)"' in text
    result = check_config_text(
        "BOSCO_RMS = slurm\nBOSCO_ENDPOINT = osg01@login.example.edu\n" + text, ["JOB_ROUTER_ROUTE_Local_BOSCO"]
    )
    assert 'GridResource = "batch slurm osg01@login.example.edu"' in result.values["JOB_ROUTER_ROUTE_Local_BOSCO"]
