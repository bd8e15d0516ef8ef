# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Hostile input for ce_route_match, module and filter: odd job attributes, route expressions and numbers.

The rule under test: the module either refuses the input with a message naming what was wrong
(a job, a route, or an option), fails with the table of jobs routed otherwise than expected, or
returns a result in which every job has a route of the input (or none) and every number is finite;
it never raises anything else, never shows a traceback, and never waits long. The filter does the
same, raising only AnsibleFilterError, and where both succeed they agree.

Every example starts the classad2 child process twice (module and filter), so the example counts
are kept low.
"""

from __future__ import annotations

import json
import math
import time

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.osg_htc.site.plugins.filter.ce_route_match import ce_route_match as route_filter
from ansible_collections.osg_htc.site.plugins.module_utils._classad import short_repr
from ansible_collections.osg_htc.site.plugins.modules import ce_route_match
from ansible_collections.osg_htc.site.tests.unit.hostile import strategies as hs
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

pytest.importorskip("classad2")

SECONDS = 60  # the child's own limit is 300 s; an example takes well under a second
NUMERIC = ("xcount", "RequestCpus", "maxMemory", "maxWallTime", "BatchRuntime")
ATTRIBUTES = ("Owner", "queue", *NUMERIC, "AuthTokenIssuer", "x")
ROUTE_NAMES = ("R1", "R2")


def number_text(value) -> str:
    """A number as ClassAd text: 'nan', 'inf' and '1e+308' as Python writes them."""
    return repr(value) if isinstance(value, float) else str(value)


def nested(depth: int, opening: str, inner: str, closing: str) -> str:
    return opening * depth + inner + closing * depth


def mostly(ordinary, hostile):
    """``ordinary`` three times in four: most examples get past the first check and reach the matching."""
    return st.one_of(ordinary, ordinary, ordinary, hostile)


attribute_names = mostly(st.sampled_from(ATTRIBUTES), hs.hostile_text)
literal_values = st.one_of(
    hs.hostile_text,
    hs.hostile_numbers,
    st.booleans(),
    st.none(),
    st.lists(hs.hostile_numbers, max_size=2),
    st.dictionaries(st.sampled_from(["a", "b"]), hs.hostile_numbers, max_size=2),
)
ordinary_expressions = st.sampled_from(
    ['Owner == "x"', "true", 'regexp("^u", Owner)', "xcount > 1", 'real("NaN")', "1e308", '"s"', "maxMemory * 2"]
)
expressions = st.one_of(
    hs.hostile_text,
    hs.hostile_numbers.map(number_text),
    ordinary_expressions,
    st.integers(1, 12_000).map(lambda depth: nested(depth, "(", "1", ")")),
    st.integers(1, 12_000).map(lambda depth: nested(depth, "[a=", "1", "]")),
    st.integers(1, 12_000).map(lambda depth: "!" * depth + "true"),
)
ads = st.one_of(
    st.dictionaries(attribute_names, literal_values, max_size=4),
    st.builds(lambda name, text: f"[ {name} = {text} ]", attribute_names, expressions),
    st.builds(lambda name, text: f"{name} = {text}", attribute_names, expressions),
    hs.hostile_text,
)
job_names = mostly(st.sampled_from(["a", "b", "c"]), hs.hostile_text)
expectations = mostly(st.one_of(st.none(), st.sampled_from(ROUTE_NAMES)), hs.hostile_text)
jobs = st.lists(
    st.fixed_dictionaries({"name": job_names, "ad": ads}, optional={"expect": expectations}),
    min_size=1,
    max_size=3,
    unique_by=lambda job: job["name"],
)
route_values = mostly(st.one_of(ordinary_expressions, st.integers(0, 100_000).map(str)), expressions)
route_numbers = mostly(st.integers(1, 100_000), st.one_of(hs.hostile_numbers, expressions))
routes = st.lists(
    st.fixed_dictionaries(
        {"name": mostly(st.sampled_from(ROUTE_NAMES), hs.hostile_text), "grid_resource": st.just("batch slurm")},
        optional={
            "requirements": route_values,
            "default_maxWallTime": route_numbers,
            "default_xcount": route_numbers,
            "default_maxMemory": route_numbers,
            "default_queue": mostly(st.sampled_from(["prod", "atlas"]), hs.hostile_text),
        },
    ),
    min_size=1,
    max_size=2,
    unique_by=lambda route: route["name"].lower(),
)


def named(message: str, values) -> bool:
    """Whether ``message`` names one of ``values`` (as given, or as repr'd in a message)."""
    for value in values:
        if not isinstance(value, str):
            continue
        if value in message or repr(value) in message or short_repr(value) in message:
            return True
    return False


def check_result(result: dict, given_jobs: list, given_routes: list) -> None:
    """A successful result: one match per job, routes of the input, finite numbers, valid JSON."""
    json.dumps(result, allow_nan=False)  # no NaN or infinity reaches Ansible
    assert [match["job"] for match in result["matches"]] == [job["name"] for job in given_jobs]
    names = result["routes"]
    assert len(names) == len(given_routes)
    for match in result["matches"]:
        assert match["route"] is None or match["route"] in names
        for key in ("xcount", "maxMemory", "maxWallTime", "BatchRuntime"):
            value = match[key]
            assert value is None or (math.isfinite(value) and 0 <= value <= 2**63 - 1), (key, value)
    assert result["unrouted"] == [match["job"] for match in result["matches"] if match["route"] is None]


def check_refusal(message: str, given_jobs: list, given_routes: list) -> None:
    assert message.strip()
    assert "Traceback" not in message
    if " not routed as expected:" in message:
        return
    names = [job.get("name") for job in given_jobs if isinstance(job, dict)]
    names += [route.get("name") for route in given_routes if isinstance(route, dict)]
    # A problem of one job or route names it; of the lists or options, names the option.
    assert named(message, names) or any(option in message for option in ("jobs", "routes", "expect")), message


HOSTILE = settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@HOSTILE
@given(given_jobs=jobs, given_routes=routes, expect=st.one_of(st.none(), st.dictionaries(job_names, expectations)))
def test_module_and_filter_refuse_naming_the_input_or_match(given_jobs, given_routes, expect):
    args = {"routes": given_routes, "jobs": given_jobs}
    if expect is not None:
        args["expect"] = expect
    started = time.monotonic()
    result = run_module(ce_route_match, args)
    assert time.monotonic() - started < SECONDS
    if result.get("failed"):
        event("module refused" if not result.get("mismatches") else "module: not routed as expected")
        check_refusal(result["msg"], given_jobs, given_routes)
    else:
        event("module matched")
        check_result(result, given_jobs, given_routes)

    try:
        filtered = route_filter(given_jobs, routes=given_routes, expect=expect)
    except AnsibleFilterError as exc:
        assert str(exc).startswith("ce_route_match: ")
        check_refusal(str(exc), given_jobs, given_routes)
    else:
        check_result(filtered, given_jobs, given_routes)
        if not result.get("failed"):
            assert filtered["matches"] == result["matches"]


@HOSTILE
@given(name=st.sampled_from(NUMERIC), value=hs.hostile_numbers, as_text=st.booleans())
def test_numbers_of_a_job_are_refused_naming_them_or_used(name, value, as_text):
    ad = f"{name} = {number_text(value)}" if as_text else {name: value}
    job = {"name": "job", "ad": ad}
    route = {"name": "R", "grid_resource": "batch slurm"}
    try:
        result = route_filter([job], routes=[route])
    except AnsibleFilterError as exc:
        message = str(exc)
        event("refused")
        assert "Traceback" not in message
        assert "'job'" in message and name in message, message
        return
    event("used")
    check_result(result, [job], [route])
    match = result["matches"][0]
    if as_text and isinstance(value, float) and not math.isfinite(value):
        return  # 'nan' and 'inf' are attribute names in ClassAd text, undefined here: not numbers
    if name == "maxWallTime":
        # Whole reals come back as integers, so 60 x minutes is exact where a float product would round.
        assert match["maxWallTime"] == value
        assert math.isclose(match["BatchRuntime"], 60 * value, rel_tol=1e-15)
    elif name in ("xcount", "maxMemory"):
        assert match[name] == value


@settings(max_examples=40, deadline=None)
@given(depth=st.integers(1, 20_000), form=st.sampled_from(["new", "long", "requirements", "variable"]))
def test_deep_nesting_is_named_or_matched(depth, form):
    text = nested(depth, "(", "1", ")")
    route = {"name": "R", "grid_resource": "batch slurm"}
    job = {"name": "deep", "ad": {}}
    if form == "new":
        job["ad"] = f"[ x = {text} ]"
    elif form == "long":
        job["ad"] = f"x = {text}"
    elif form == "requirements":
        route["requirements"] = f"{text} == 1"
    else:
        route["default_maxMemory"] = text
    try:
        result = route_filter([job], routes=[route])
    except AnsibleFilterError as exc:
        message = str(exc)
        assert "Traceback" not in message and len(message) < 1000
        assert ("'deep'" if form in ("new", "long") else "route 'R'") in message, message
        return
    assert result["matches"][0]["route"] == "R"


anything = st.recursive(
    st.one_of(st.none(), st.booleans(), hs.hostile_numbers, hs.any_text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(hs.any_text, inner, max_size=3)),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(
    given_jobs=st.one_of(anything, jobs),
    given_routes=st.one_of(anything, routes),
    expect=anything,
    max_time=st.one_of(st.just(4320), anything),
    routes_file=st.one_of(st.none(), hs.any_text, hs.hostile_numbers),
)
def test_filter_options_of_any_shape_raise_only_filter_errors(given_jobs, given_routes, expect, max_time, routes_file):
    kwargs = {"routes": given_routes, "expect": expect, "routed_job_max_time": max_time}
    if routes_file is not None:
        kwargs["routes_file"] = routes_file
    try:
        result = route_filter(given_jobs, **kwargs)
    except AnsibleFilterError as exc:
        assert str(exc).startswith("ce_route_match: ")
        assert "Traceback" not in str(exc)
        event("refused")
    else:
        event("matched")
        check_result(result, given_jobs, given_routes)
