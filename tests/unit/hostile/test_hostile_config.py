# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Hostile input for everything that writes HTCondor configuration: condor_config, ce_job_route, job_routes.

The rule under test: a value either goes into the file so that HTCondor's
parser reads back exactly the intended settings and nothing else, or it is
refused with a message naming the option; no command runs and nothing on disk
changes on a refusal. The oracle is HTCondor's own parser, called here
directly (not through the collection's code): it loads the written file on its
own and lists every name whose value differs from an empty configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils import basic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.osg_htc.site.plugins.filter.job_routes import job_routes
from ansible_collections.osg_htc.site.plugins.modules import ce_job_route, condor_config
from ansible_collections.osg_htc.site.tests.unit.hostile import strategies as hs
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

pytest.importorskip("htcondor2")

MARKER = Path("/tmp/osg_htc_hostile_marker")  # what the hostile include lines would touch

_ORACLE = """
import json, os, sys
import htcondor2
p = htcondor2.param
def table():
    return dict((k.lower(), p.get(k)) for k in p.keys())
htcondor2.reload_config()  # the first load differs from later ones (ENABLE_CLASSAD_CACHING)
empty = table()
os.environ["CONDOR_CONFIG"] = sys.argv[1]
htcondor2.reload_config()
now = table()
changed = sorted(k for k in set(empty) | set(now)
                 if empty.get(k) != now.get(k) and len(set(p.get(k) for _ in range(4))) == 1)
json.dump(dict((k, now.get(k)) for k in changed), sys.stdout)
"""


def htcondor_reads(path: Path) -> dict:
    """Every setting HTCondor's parser finds in ``path`` alone, lower-cased names, macros expanded."""
    empty = path.parent / "oracle-empty.conf"
    empty.write_text("LOCAL_CONFIG_DIR =\nLOCAL_CONFIG_FILE =\n")
    wrapper = path.parent / "oracle-wrapper.conf"
    wrapper.write_text(f"include : {path}\nLOCAL_CONFIG_DIR =\nLOCAL_CONFIG_FILE =\n")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("_CONDOR_")}
    env["CONDOR_CONFIG"] = str(empty)
    proc = subprocess.run(
        [sys.executable, "-c", _ORACLE, str(wrapper)], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(proc.stdout)


@pytest.fixture(autouse=True)
def no_marker():
    MARKER.unlink(missing_ok=True)
    yield
    assert not MARKER.exists(), "a hostile input ran a command"


def run(module, args):
    with mock.patch.object(basic.AnsibleModule, "warn", lambda self, msg: None):
        return run_module(module, args)


def fresh_root(tmp_path: Path) -> Path:
    """An empty base configuration with one config.d, new for each example."""
    root = Path(__import__("tempfile").mkdtemp(dir=tmp_path))
    (root / "config.d").mkdir()
    (root / "condor_config").write_text(f"LOCAL_CONFIG_DIR = {root / 'config.d'}\n")
    return root


names = st.from_regex(r"\A[A-Z][A-Z0-9_]{0,8}\Z").filter(lambda n: n not in {"LOCAL_CONFIG_DIR", "LOCAL_CONFIG_FILE"})
values = st.one_of(hs.hostile_text, st.lists(hs.hostile_text, min_size=1, max_size=3))

# Each example starts HTCondor's parser a few times: fewer examples than the default,
# many more for a long hunt (HYPOTHESIS_PROFILE=thorough).
SLOW = settings(
    max_examples=3000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def expected(value):
    """What HTCondor must read back for a value the module accepted, before macro expansion."""
    text = ", ".join(value) if isinstance(value, list) else value
    text = text.strip("\n")
    if "\n" in text:
        lines = [line.strip() for line in text.split("\n")]
        return "\n".join(line for line in lines if line and not line.startswith("#"))
    return text.strip()


@SLOW
@given(settings_=st.dictionaries(names, values, min_size=1, max_size=3), comment=st.one_of(st.none(), hs.hostile_text))
def test_condor_config_writes_exactly_the_settings_or_refuses(tmp_path, settings_, comment):
    root = fresh_root(tmp_path)
    path = root / "config.d" / "90-test.conf"
    args = {"path": str(path), "config_root": str(root / "condor_config"), "settings": settings_}
    if comment is not None:
        args["comment"] = comment
    result = run(condor_config, args)
    if result.get("failed"):
        assert not path.exists()
        assert result["msg"].startswith(f"Invalid settings for {path}:"), result["msg"]
        assert "settings" in result["msg"] or "comment" in result["msg"]
        return
    read = htcondor_reads(path)
    # An empty value is no value to HTCondor: such a name is not defined.
    assert set(read) == {name.lower() for name, value in settings_.items() if expected(value)}
    for name, value in settings_.items():
        want = expected(value)
        if "$" not in want:  # macros are expanded by the parser: compared where there are none
            assert (read.get(name.lower()) or "") == want


@SLOW
@given(content=hs.hostile_text)
def test_condor_config_content_never_runs_a_command(tmp_path, content):
    root = fresh_root(tmp_path)
    path = root / "config.d" / "90-test.conf"
    for check_mode in (True, False):
        run(condor_config, {"path": str(path), "config_root": str(root / "condor_config"), "content": content,
                            "_ansible_check_mode": check_mode})  # fmt: skip
        assert not MARKER.exists()


route_texts = hs.hostile_text
route_edits = st.one_of(
    st.builds(lambda t: {"delete": [t]}, route_texts),
    st.builds(lambda t: {"delete": [f"/{t}/"]}, route_texts),
    st.builds(lambda k, t: {"copy": {f"/{k}/": t}}, route_texts, route_texts),
    st.builds(lambda k, t: {"rename": {k: t}}, route_texts, route_texts),
    st.builds(lambda t: {"set": {"Attr": t}}, route_texts),
    st.builds(lambda t: {"requirements": t}, route_texts),
    st.builds(lambda t: {"default_queue": t}, route_texts),
    st.builds(lambda t: {"grid_resource": t}, route_texts),
    st.builds(lambda t: {"commands": [t]}, route_texts),
    st.builds(lambda t: {"name": t}, route_texts),
)


@SLOW
@given(edit=route_edits)
def test_job_routes_define_only_their_routes_or_refuse(tmp_path, edit):
    route = {"name": "R", "universe": "vanilla", **edit}
    root = fresh_root(tmp_path)
    path = root / "config.d" / "20-routes.conf"
    result = run(ce_job_route, {"path": str(path), "ce_config": str(root / "condor_config"), "routes": [route]})
    if result.get("failed"):
        assert not path.exists()
        assert "route" in result["msg"] or "routes" in result["msg"], result["msg"]
    else:
        read = htcondor_reads(path)
        assert set(read) == {f"job_router_route_{route['name'].lower()}", "job_router_route_names"}
    try:
        text = job_routes([route])
    except AnsibleFilterError as exc:
        assert "job_routes:" in str(exc)
    else:
        filtered = root / "filtered.conf"
        filtered.write_text(text)
        assert set(htcondor_reads(filtered)) == {f"job_router_route_{route['name'].lower()}", "job_router_route_names"}
