# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Hostile input for the conversion of old-syntax job routes: convert_old_routes and ce_job_route's convert path.

The rule under test: generated old-route texts (bare JOB_ROUTER_ENTRIES values and configuration
setting JOB_ROUTER_ENTRIES, JOB_ROUTER_DEFAULTS and macros), with hostile names, values and numbers,
are either refused with a message (ValueError, or the module's failure) or converted into routes plus
notes and problems; where no problem is reported, the routes render (``_job_routes.build_routes``) and
the module writes them. Nothing ever shows a traceback, and no command runs while the configuration is
read: the hostile pieces' ``include command : touch <marker>`` lines never create the marker.

Each example starts up to four child processes (the configuration reader, twice when a macro is
undefined; classad2 for the ads; classad2 for the rendered routes), so the example counts are low.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import ROUTE_NAME_RE, build_routes
from ansible_collections.osg_htc.site.plugins.module_utils._route_conversion import convert_old_routes
from ansible_collections.osg_htc.site.plugins.modules import ce_job_route
from ansible_collections.osg_htc.site.tests.unit.hostile import strategies as hs
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

pytest.importorskip("classad2")
pytest.importorskip("htcondor2")

MARKER = Path("/tmp/osg_htc_hostile_marker")  # what the hostile include lines would touch

ATTRIBUTES = (
    "name",
    "TargetUniverse",
    "GridResource",
    "Requirements",
    "MaxJobs",
    "MaxIdleJobs",
    "set_default_maxMemory",
    "set_default_xcount",
    "set_default_queue",
    "set_default_pilot_job_env",
    "set_default_CERequirements",
    "set_Foo",
    "eval_set_Bar",
    "copy_Environment",
    "delete_Environment",
    "SendIDTokens",
    "FailureRateThreshold",
    "JobFailureTest",
)
NUMERIC = ("TargetUniverse", "MaxJobs", "MaxIdleJobs", "set_default_maxMemory", "set_default_xcount")


def mostly(ordinary, hostile):
    """``ordinary`` three times in four, so most examples get past the first check."""
    return st.one_of(ordinary, ordinary, ordinary, hostile)


def number_text(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def classad_string(text: str) -> str:
    """``text`` as a ClassAd string literal, quotes and backslashes escaped (anything else raw)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


attribute_names = mostly(st.sampled_from(ATTRIBUTES), hs.hostile_text)
ordinary_values = st.sampled_from(
    [
        '"batch slurm"',
        "5",
        "9",
        "2000",
        '"R1"',
        '"prod"',
        "TARGET.x =?= 1.0",
        'strcat(Name, "-x")',
        "ifThenElse(default_maxMemory isnt undefined, default_maxMemory, 2000)",
        "{ 1, 2 }",
        "true",
        '"$(FULL_HOSTNAME)"',
        "$(SomeFlag)",
        '"$(Undefined)"',
        "x /* comment; ] */ + 1.0",
    ]
)
hostile_values = st.one_of(
    hs.hostile_text.map(classad_string),
    hs.hostile_text,
    hs.hostile_numbers.map(number_text),
    st.just("$(Undefined)"),
)
values = mostly(ordinary_values, hostile_values)
# A route that converts as it is, plus attributes drawn from the table above and hostile ones.
ads = st.tuples(
    st.integers(1, 3),
    mostly(st.just(True), st.just(False)),
    st.lists(st.tuples(attribute_names, values), min_size=0, max_size=4),
).map(
    lambda drawn: (
        "[ "
        + (f'name = "R{drawn[0]}"; TargetUniverse = 9; GridResource = "batch slurm"; ' if drawn[1] else "")
        + " ".join(f"{name} = {value};" for name, value in drawn[2])
        + " ]"
    )
)
entries = st.lists(ads, min_size=1, max_size=3).map("\n".join)


@st.composite
def old_texts(draw):
    """A bare JOB_ROUTER_ENTRIES value, configuration that sets it (with defaults and macros), or hostile text."""
    shape = draw(st.sampled_from(["bare", "heredoc", "line", "hostile"]))
    routes = draw(entries)
    if shape == "bare":
        return routes
    if shape == "hostile":
        return draw(st.one_of(hs.hostile_text, hs.hostile_text.map(lambda text: text + "\n" + routes)))
    lines = []
    if draw(st.booleans()):
        flag = draw(mostly(st.sampled_from(["7", "x", '"s"']), hs.hostile_text))
        lines.append(f"SomeFlag = {flag}")
    if draw(st.booleans()):
        merge = draw(mostly(st.sampled_from(["True", "false"]), hs.hostile_text))
        lines.append(f"MERGE_JOB_ROUTER_DEFAULT_ADS = {merge}")
        lines.append("JOB_ROUTER_DEFAULTS = $(JOB_ROUTER_DEFAULTS_GENERATED)")
    if draw(st.booleans()):
        lines.append(f"JOB_ROUTER_DEFAULTS = $(JOB_ROUTER_DEFAULTS) {draw(ads)}")
    if draw(st.integers(0, 3)) == 0:
        lines.append(draw(hs.hostile_text))
    if shape == "heredoc":
        lines.append(f"JOB_ROUTER_ENTRIES @=jre\n{routes}\n@jre")
    else:
        lines.append("JOB_ROUTER_ENTRIES = " + routes.replace("\n", " \\\n"))
    return "\n".join(lines) + "\n"


def check_converted(routes, notes, problems) -> None:
    """Routes, notes and problems as the module returns them: JSON, named routes, and routes that render."""
    json.dumps([routes, notes, problems], allow_nan=False)
    assert all(isinstance(item, str) and "Traceback" not in item for item in notes + problems)
    names = [route["name"] for route in routes]
    assert len({name.lower() for name in names}) == len(names)
    if problems:
        event("problems")
        return
    event("converted")
    assert all(ROUTE_NAME_RE.match(name) for name in names)
    text, rendered, _warnings = build_routes(routes)
    assert rendered == names and "osg_htc_site_" not in text


def check_refusal(message: str) -> None:
    assert message.strip() and "Traceback" not in message


HOSTILE = settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@HOSTILE
@given(text=old_texts())
def test_old_routes_are_refused_or_converted_into_routes_that_render(text):
    try:
        routes, notes, problems = convert_old_routes(text)
    except ValueError as exc:
        event("refused")
        check_refusal(str(exc))
    else:
        check_converted(routes, notes, problems)
    assert not MARKER.exists()


@HOSTILE
@given(text=old_texts(), as_file=st.booleans())
def test_the_module_refuses_or_writes_what_it_converted(text, as_file):
    with tempfile.TemporaryDirectory(prefix="osg_htc-hostile-conversion-") as workdir:
        root = Path(workdir)
        (root / "config.d").mkdir()
        path = root / "config.d" / "20-osg-htc-routes.conf"
        args = {"path": str(path), "ce_config": str(root / "missing_condor_config"), "write_converted": True}
        if as_file:
            old = root / "old.conf"
            old.write_text(text, encoding="utf-8", errors="surrogateescape")
            args["convert_from_file"] = str(old)
        else:
            args["convert_from"] = text
        result = run_module(ce_job_route, args)
        assert "exception" not in result
        if result.get("failed"):
            check_refusal(result["msg"])
            assert not path.exists()
            if "converted_routes" in result:
                event("module: conversion problems")
                assert result["conversion_problems"], result["msg"]
            else:
                event("module: refused")
        else:
            event("module: written")
            assert result["conversion_problems"] == [] and result["changed"] is True
            assert result["routes"] == [route["name"] for route in result["converted_routes"]]
            assert path.exists()
    assert not MARKER.exists()


@HOSTILE
@given(name=st.sampled_from(NUMERIC), value=hs.hostile_numbers, config=st.booleans())
def test_numbers_are_refused_or_kept_as_written(name, value, config):
    ad = f'[ name = "N"; GridResource = "batch slurm"; {name} = {number_text(value)}; ]'
    text = f"JOB_ROUTER_ENTRIES @=jre\n{ad}\n@jre\n" if config else ad
    routes, notes, problems = convert_old_routes(text)
    check_converted(routes, notes, problems)
    if problems or not routes:
        return
    route = routes[0]
    key = {"TargetUniverse": "target_universe", "MaxJobs": "max_jobs", "MaxIdleJobs": "max_idle_jobs"}.get(
        name, name[len("set_") :]
    )
    kept = route.get(key)
    if isinstance(value, float) and not math.isfinite(value):
        return  # 'nan' and 'inf' are attribute names in ClassAd text
    if isinstance(kept, int) and not isinstance(kept, bool):
        assert kept == value, (name, value, kept)  # never a number other than the one written


@HOSTILE
@given(
    strings=st.lists(hs.hostile_text, min_size=1, max_size=3),
    attributes=st.lists(
        st.sampled_from(["set_Foo", "SendIDTokens", "GridResource", "copy_A", "Requirements"]), min_size=1, max_size=3
    ),
    config=st.booleans(),
)
def test_hostile_strings_in_a_route_are_written_or_reported(strings, attributes, config):
    pairs = " ".join(f"{name} = {classad_string(text)};" for name, text in zip(attributes, strings))
    ad = f'[ name = "S"; TargetUniverse = 9; {pairs} ]'
    text = f"JOB_ROUTER_ENTRIES @=jre\n{ad}\n@jre\n" if config else ad
    with tempfile.TemporaryDirectory(prefix="osg_htc-hostile-conversion-") as workdir:
        root = Path(workdir)
        (root / "config.d").mkdir()
        path = root / "config.d" / "20-osg-htc-routes.conf"
        args = {"path": str(path), "ce_config": str(root / "missing"), "write_converted": True, "convert_from": text}
        result = run_module(ce_job_route, args)
        assert "exception" not in result
        if result.get("failed"):
            check_refusal(result["msg"])
            assert not path.exists()
            event("module: refused" if "converted_routes" not in result else "module: conversion problems")
        else:
            event("module: written")
            assert result["conversion_problems"] == [] and path.exists()
    assert not MARKER.exists()
