# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the resource catalog: osg-configure's rules for pilot entries, and the check against the routes."""

from __future__ import annotations

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._resource_catalog import (
    catalog_problems,
    normalize_pilots,
    pilot_job,
    vo_identities,
)

OSG_ISSUER = "https://scitokens.org/osg-connect"
CMS_ISSUER = "https://cms-auth.web.cern.ch/"
MAPPINGS = [
    {"issuer": OSG_ISSUER, "user": "osg01", "vo": "osg"},
    {"issuer": CMS_ISSUER, "subject": "pilot-1", "user": "cmspilot", "vo": "cms"},
    {"issuer": CMS_ISSUER, "subject": "pilot-2", "user": "cmspilot", "vo": "cms"},
    {"issuer": "https://banned.example.org/", "user": "bad", "vo": "bad", "banned": True},
    {"issuer": "https://other.example.org/", "user": "other"},
]
ROUTES = [
    {
        "name": "GPU",
        "grid_resource": {"batch": "slurm"},
        "requirements": "(RequestGPUs ?: 0) > 0",
        "default_queue": "gpu",
    },
    {
        "name": "OSG",
        "grid_resource": {"batch": "slurm"},
        "requirements": f'orig_AuthTokenIssuer == "{OSG_ISSUER}"',
        "default_queue": "osg",
    },
    {
        "name": "CMS",
        "grid_resource": {"batch": "slurm"},
        "requirements": 'Owner == "cmspilot" && xcount <= 8',
        "default_queue": "cms",
    },
]


def pilot(**values):
    return {"name": "main", "max_pilots": 100, "allowed_vos": ["osg"], **values}


# --- osg-configure's rules for the entries -------------------------------------------------------


def test_defaults_are_osg_configures():
    entries, problems = normalize_pilots([pilot()], ["osg"])
    assert problems == []
    assert entries[0] == {
        "name": "main", "cpucount": 1, "ram_mb": 2500, "whole_node": False, "gpucount": 0, "max_pilots": 100,
        "max_wall_time": 1440, "queue": None, "require_singularity": True, "os": None, "send_tests": True,
        "allowed_vos": ["osg"],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_pilots": None}, "pilot main: max_pilots is required"),
        ({"allowed_vos": None}, "pilot main: allowed_vos is required"),
        ({"allowed_vos": []}, "allowed_vos is [], not a non-empty list"),
        ({"allowed_vos": "osg"}, "allowed_vos is 'osg', not a non-empty list"),
        ({"cpucount": 0}, "pilot main: cpucount is 0, not from 1 to 8192"),
        ({"cpucount": 8193}, "cpucount is 8193, not from 1 to 8192"),
        ({"ram_mb": 511}, "ram_mb is 511, not from 512 to 8388608"),
        ({"ram_mb": "4000"}, "ram_mb is '4000', not a whole number"),
        ({"max_pilots": -1}, "max_pilots is -1, not from 0 to"),
        ({"gpucount": True}, "gpucount is True, not a whole number"),
        ({"max_wall_time": 2.5}, "max_wall_time is 2.5, not a whole number"),
        ({"whole_node": "yes"}, "whole_node is 'yes', not true or false"),
        ({"require_singularity": False}, "os is required when require_singularity is false"),
        ({"queue": ""}, "queue is '', not a non-empty line"),
        ({"queue": 'a"b'}, "not a non-empty line without quotes"),
        ({"os": "rhel9\nx"}, "os is 'rhel9\\nx'"),
        ({"name": "Main GPU"}, "name 'Main GPU' is not letters, digits"),
        ({"name": "gpu]x"}, "name 'gpu]x' is not letters, digits"),
        ({"name": "CHANGEME_gpu"}, "contains 'changeme', which osg-configure refuses"),
        ({"name": None}, "pilot entry 1: name is required"),
        ({"colour": "red"}, "pilot main: unknown keys colour"),
        ({"allowed_vos": ["atlas"]}, "allowed_vos ['atlas'] have no SciTokens mapping with that vo"),
        ({"allowed_vos": ["a b"]}, "are not VO names"),
    ],
)
def test_bad_entry_is_named_with_its_value(values, message):
    _entries, problems = normalize_pilots([pilot(**values)], ["osg"])
    assert any(message in problem for problem in problems), problems


def test_not_a_list_and_not_a_mapping():
    assert normalize_pilots({"name": "main"}, [])[1] == ["the pilot entries are {'name': 'main'}, not a list"]
    assert normalize_pilots(["main"], [])[1] == ["pilot entry 1 is 'main', not a mapping"]


def test_names_are_unique():
    _entries, problems = normalize_pilots([pilot(), pilot()], ["osg"])
    assert problems == ["pilot main: the name is used by another pilot entry; names are unique"]


def test_os_makes_require_singularity_false_valid():
    assert normalize_pilots([pilot(require_singularity=False, os="rhel9")], ["osg"])[1] == []


def test_star_is_every_vo_with_an_identity():
    entries, problems = normalize_pilots([pilot(allowed_vos=["*"])], ["cms", "osg"])
    assert problems == [] and entries[0]["allowed_vos"] == ["cms", "osg"]
    assert "no SciTokens mapping names a vo" in normalize_pilots([pilot(allowed_vos=["*"])], [])[1][0]


# --- the pilot jobs ------------------------------------------------------------------------------


def test_identities_skip_banned_and_unnamed_mappings():
    assert vo_identities(MAPPINGS) == {
        "osg": [{"Owner": "osg01", "AuthTokenIssuer": OSG_ISSUER}],
        "cms": [
            {"Owner": "cmspilot", "AuthTokenIssuer": CMS_ISSUER, "AuthTokenSubject": "pilot-1"},
            {"Owner": "cmspilot", "AuthTokenIssuer": CMS_ISSUER, "AuthTokenSubject": "pilot-2"},
        ],
    }


def test_pilot_job_carries_the_requested_resources():
    entry = normalize_pilots([pilot(cpucount=8, ram_mb=16000, gpucount=1, queue="gpu")], ["osg"])[0][0]
    identity = {"Owner": "osg01"}
    assert pilot_job(entry, identity, ["cpus", "memory", "gpus", "wall_time", "whole_node"]) == {
        "Owner": "osg01", "xcount": 8, "RequestCpus": 8, "maxMemory": 16000, "maxWallTime": 1440, "RequestGPUs": 1,
    }  # fmt: skip
    assert pilot_job(entry, identity, ["queue"]) == {"Owner": "osg01", "queue": "gpu"}


def test_whole_node_pilot_asks_for_the_node_not_cores():
    entry = normalize_pilots([pilot(whole_node=True, cpucount=8)], ["osg"])[0][0]
    assert pilot_job(entry, {}, ["cpus", "memory", "whole_node"]) == {"WantWholeNode": True}


# --- the check against the routes ----------------------------------------------------------------

pytest.importorskip("classad2")


def test_a_catalog_the_routes_serve_has_no_problem():
    pilots = [
        pilot(name="main", queue="osg", cpucount=1, ram_mb=2000),
        pilot(name="gpu", queue="gpu", gpucount=1, allowed_vos=["*"]),
        pilot(name="cms8", queue="cms", cpucount=8, allowed_vos=["cms"]),
    ]
    assert catalog_problems(pilots, MAPPINGS, ROUTES) == []


def test_no_route_takes_the_pilot():
    problems = catalog_problems([pilot(name="cms16", cpucount=16, allowed_vos=["cms"])], MAPPINGS, ROUTES)
    assert len(problems) == 1
    assert problems[0].startswith("2 resource catalog problem(s)")
    assert "cms16 | cms #1      | (unrouted) | no route takes this pilot" in problems[0]
    assert "cms16 | cms #2      | (unrouted) | no route takes this pilot" in problems[0]


def test_wrong_queue_is_refused():
    (problem,) = catalog_problems([pilot(queue="long")], MAPPINGS, ROUTES)
    assert "main  | osg         | OSG   | sends it to queue 'osg', not to queue 'long'" in problem


def test_gpu_entry_routed_elsewhere_is_refused():
    routes = [ROUTES[1], ROUTES[0]]  # the OSG route comes first and takes the GPU pilots too
    (problem,) = catalog_problems([pilot(name="gpu", queue="gpu", gpucount=4, whole_node=True)], MAPPINGS, routes)
    assert "gpu   | osg         | OSG   | sends it to queue 'osg', not to queue 'gpu'" in problem


def test_route_without_a_queue_sends_to_the_default_queue():
    routes = [{"name": "Any", "grid_resource": {"batch": "slurm"}}]
    (problem,) = catalog_problems([pilot(queue="osg")], MAPPINGS, routes)
    assert "sends it to the batch system's default queue, not to queue 'osg'" in problem


def test_fewer_resources_are_refused_when_the_pilot_does_not_request_them():
    routes = [{"name": "Small", "grid_resource": {"batch": "slurm"}, "default_xcount": 1, "default_maxMemory": 1000,
               "default_maxWallTime": 60}]  # fmt: skip
    (problem,) = catalog_problems([pilot(cpucount=4, ram_mb=8000, max_wall_time=120)], MAPPINGS, routes, requests=[])
    assert problem.startswith("3 resource catalog problem(s)")
    assert "gives it 1 cores, fewer than cpucount 4" in problem
    assert "gives it 1000 MB, less than ram_mb 8000" in problem
    assert "gives it 60 minutes, less than max_wall_time 120" in problem
    # Carried by the pilot, the request wins over the route's defaults, as in the CE's transforms.
    assert catalog_problems([pilot(cpucount=4, ram_mb=8000, max_wall_time=120)], MAPPINGS, routes) == []


def test_queue_carried_by_the_pilot_wins():
    routes = [{"name": "Any", "grid_resource": {"batch": "slurm"}, "default_queue": "osg"}]
    assert catalog_problems([pilot(queue="long", ram_mb=2000)], MAPPINGS, routes, requests=["queue"]) == []


def test_entry_problems_come_before_routing():
    assert catalog_problems([pilot(max_pilots=None)], MAPPINGS, []) == ["pilot main: max_pilots is required"]


def test_no_entries_no_problems():
    assert catalog_problems([], MAPPINGS, ROUTES) == []


@pytest.mark.parametrize("requests", ["cpus", ["cpus", "disk"], [1]])
def test_bad_requests_are_named(requests):
    (problem,) = catalog_problems([pilot()], MAPPINGS, ROUTES, requests=requests)
    assert problem.startswith("the pilot requests") and "not a list of cpus, memory" in problem
