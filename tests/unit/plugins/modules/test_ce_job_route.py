# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ce_job_route module, on real files and HTCondor's real parser."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.osg_htc.site.plugins.modules import ce_job_route
from ansible_collections.osg_htc.site.tests.unit.ce_layout import write_ce
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

pytest.importorskip("htcondor2")

ROUTES = [
    {"name": "Slurm_Prod", "grid_resource": {"batch": "slurm"}, "requirements": 'queue == "prod"'},
    {"name": "Slurm_Default", "grid_resource": "batch slurm", "default_queue": "osg"},
]


def run(tmp_path, **args):
    warnings = []
    with mock.patch.object(basic.AnsibleModule, "warn", lambda self, msg: warnings.append(msg)):
        result = _run(tmp_path, **args)
    result["warnings"] = warnings
    return result


def _run(tmp_path, **args):
    args.setdefault("path", str(tmp_path / "config.d" / "20-osg-htc-routes.conf"))
    args.setdefault("ce_config", str(tmp_path / "missing_condor_config"))
    return run_module(ce_job_route, args)


@pytest.fixture
def confd(tmp_path):
    (tmp_path / "config.d").mkdir()
    return tmp_path / "config.d"


def test_writes_then_is_idempotent(tmp_path, confd):
    first = run(tmp_path, routes=ROUTES)
    assert first["changed"] is True and first["routes"] == ["Slurm_Prod", "Slurm_Default"]
    assert first["effective_route_names"] == ["Slurm_Prod", "Slurm_Default"]
    text = (confd / "20-osg-htc-routes.conf").read_text()
    assert text.startswith("# Managed by Ansible")
    assert "JOB_ROUTER_ROUTE_NAMES = Slurm_Prod Slurm_Default" in text
    assert run(tmp_path, routes=ROUTES)["changed"] is False


def test_check_mode_and_diff_write_nothing(tmp_path, confd):
    result = run(tmp_path, routes=ROUTES, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True
    assert "JOB_ROUTER_ROUTE_Slurm_Prod @=jrt" in result["diff"]["after"]
    assert result["diff"]["before"] == ""
    assert not (confd / "20-osg-htc-routes.conf").exists()


def test_order_change_is_a_change_with_backup(tmp_path, confd):
    run(tmp_path, routes=ROUTES)
    result = run(tmp_path, routes=list(reversed(ROUTES)), backup=True, _ansible_diff=True)
    assert result["changed"] is True and result["routes"] == ["Slurm_Default", "Slurm_Prod"]
    assert "JOB_ROUTER_ROUTE_NAMES = Slurm_Prod Slurm_Default" in Path(result["backup_file"]).read_text()
    assert "JOB_ROUTER_ROUTE_NAMES = Slurm_Default Slurm_Prod" in result["diff"]["after"]


def test_invalid_routes_fail_with_every_problem_and_write_nothing(tmp_path, confd):
    run(tmp_path, routes=ROUTES)
    before = (confd / "20-osg-htc-routes.conf").read_text()
    result = run(tmp_path, routes=[{"name": "Bad", "universe": 5, "set": {"A": "1 +"}, "commands": ["FROB"]}])
    assert result["failed"] is True
    assert "route 'Bad', set.A: '1 +' is not a valid ClassAd expression" in result["msg"]
    assert "route 'Bad', commands[0] 'FROB'" in result["msg"]
    assert (confd / "20-osg-htc-routes.conf").read_text() == before


def test_present_needs_routes(tmp_path, confd):
    assert "needs at least one route" in run(tmp_path, routes=[])["msg"]


def test_absent_route_keeps_the_others_then_absent_file(tmp_path, confd):
    run(tmp_path, routes=ROUTES)
    result = run(tmp_path, state="absent", routes=[{"name": "Slurm_Prod"}])
    assert result["changed"] is True and result["routes"] == ["Slurm_Default"]
    assert run(tmp_path, state="absent", routes=[{"name": "Slurm_Prod"}])["changed"] is False
    result = run(tmp_path, state="absent", backup=True)
    assert result["changed"] is True and "Slurm_Default" in Path(result["backup_file"]).read_text()
    assert not (confd / "20-osg-htc-routes.conf").exists()
    assert run(tmp_path, state="absent")["changed"] is False


def test_absent_route_refuses_a_file_it_does_not_manage(tmp_path, confd):
    (confd / "20-osg-htc-routes.conf").write_text("JOB_ROUTER_ROUTE_NAMES = X\n")
    assert "not managed by ce_job_route" in run(tmp_path, state="absent", routes=[{"name": "X"}])["msg"]


OLD = 'JOB_ROUTER_ENTRIES @=jre\n[ GridResource = "batch pbs"; TargetUniverse = 9; name = "Local_PBS"; ]\n@jre\n'


def test_convert_returns_routes_and_writes_nothing(tmp_path, confd):
    result = run(tmp_path, convert_from=OLD)
    assert result["changed"] is False
    assert result["converted_routes"] == [{"name": "Local_PBS", "grid_resource": "batch pbs", "target_universe": 9}]
    assert not (confd / "20-osg-htc-routes.conf").exists()


def test_convert_from_file_and_write(tmp_path, confd):
    old = tmp_path / "02-ce-pbs.conf"
    old.write_text(OLD)
    result = run(tmp_path, convert_from_file=str(old), write_converted=True)
    assert result["changed"] is True and result["routes"] == ["Local_PBS"]
    assert 'GridResource = "batch pbs"' in (confd / "20-osg-htc-routes.conf").read_text()


def test_unfaithful_conversion_is_not_written(tmp_path, confd):
    result = run(tmp_path, convert_from='[ name = "A"; Requirements = MY.x; ]', write_converted=True)
    assert result["failed"] is True and "cannot be converted faithfully" in result["msg"]
    assert not (confd / "20-osg-htc-routes.conf").exists()


def test_convert_missing_file_and_bad_text(tmp_path, confd):
    assert "does not exist" in run(tmp_path, convert_from_file=str(tmp_path / "nope"))["msg"]
    assert "Cannot convert the old routes" in run(tmp_path, convert_from="nonsense")["msg"]


def test_effective_names_read_in_place_among_ce_files(tmp_path):
    ce = write_ce(tmp_path, {"02-ce-slurm.conf": "JOB_ROUTER_ROUTE_NAMES = Old\n"})
    result = run(tmp_path, routes=ROUTES, ce_config=ce)
    assert result["effective_route_names"] == ["Slurm_Prod", "Slurm_Default"]
    assert result["warnings"] == []


def test_refuses_a_file_outside_local_config_dir(tmp_path):
    ce = write_ce(tmp_path, {})
    (tmp_path / "elsewhere").mkdir()
    result = run(tmp_path, routes=ROUTES, ce_config=ce, path=str(tmp_path / "elsewhere" / "r.conf"))
    assert result["failed"] is True and "would never read it" in result["msg"]
    assert not (tmp_path / "elsewhere" / "r.conf").exists()


def test_warns_when_a_later_file_overrides_the_order(tmp_path):
    ce = write_ce(tmp_path, {"99-local.conf": "JOB_ROUTER_ROUTE_NAMES = Other\n"})
    result = run(tmp_path, routes=ROUTES, ce_config=ce)
    assert result["effective_route_names"] == ["Other"]
    assert any("99-local.conf" in w for w in result["warnings"])


def test_config_parser_rejection_fails_before_writing(tmp_path):
    ce = write_ce(tmp_path, {"10-broken.conf": "if true\n"})
    result = run(tmp_path, routes=ROUTES, ce_config=ce)
    assert result["failed"] is True and "rejects the routes" in result["msg"] and "10-broken.conf" in result["msg"]
    assert not (tmp_path / "config.d" / "20-osg-htc-routes.conf").exists()


def test_absent_in_check_mode_shows_the_diff_and_changes_nothing(tmp_path, confd):
    run(tmp_path, routes=ROUTES)
    path = confd / "20-osg-htc-routes.conf"
    before = path.read_text()
    result = run(
        tmp_path, state="absent", routes=[{"name": "slurm_prod"}], _ansible_check_mode=True, _ansible_diff=True
    )
    assert result["changed"] is True and result["routes"] == ["Slurm_Default"]
    assert "JOB_ROUTER_ROUTE_Slurm_Prod" in result["diff"]["before"]
    assert "JOB_ROUTER_ROUTE_Slurm_Prod" not in result["diff"]["after"]
    result = run(tmp_path, state="absent", _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True and result["diff"]["after"] == ""
    assert path.read_text() == before


def test_removing_the_last_route_removes_the_file(tmp_path, confd):
    run(tmp_path, routes=ROUTES)
    result = run(tmp_path, state="absent", routes=[{"name": "Slurm_Prod"}, {"name": "Slurm_Default"}])
    assert result["changed"] is True and result["routes"] == []
    assert not (confd / "20-osg-htc-routes.conf").exists()


def test_convert_with_state_absent_is_refused(tmp_path, confd):
    result = run(tmp_path, state="absent", convert_from=OLD)
    assert result["failed"] is True and "state=present only" in result["msg"]
    result = run(tmp_path, state="absent", convert_config_root=str(tmp_path / "condor_config"))
    assert result["failed"] is True and "state=present only" in result["msg"]


# HTCondor-CE 23's router settings (01-ce-router.conf) and a site's additions to its defaults.
CE_23 = (
    "LOCAL_CONFIG_FILE = /usr/share/condor-ce/condor_ce_router_defaults|\n"
    "MERGE_JOB_ROUTER_DEFAULT_ADS = True\nJOB_ROUTER_DEFAULTS = $(JOB_ROUTER_DEFAULTS_GENERATED)\n"
)
SITE = "Queue = prod\nJOB_ROUTER_DEFAULTS = $(JOB_ROUTER_DEFAULTS) [ set_Foo = 1; ]\n"
OLD_WITH_MACRO = (
    'JOB_ROUTER_ENTRIES @=jre\n[ GridResource = "batch pbs"; TargetUniverse = 9; name = "Local_PBS";\n'
    '  set_default_queue = "$(Queue)"; Requirements = TARGET.x =?= 1.0; ]\n@jre\n'
)
PBS_CONVERTED = {
    "name": "Local_PBS",
    "grid_resource": "batch pbs",
    "requirements": "x =?= 1.0",
    "default_queue": "prod",
    "target_universe": 9,
    "set": {"Foo": "1"},
}


def test_convert_the_ce_configuration_with_its_defaults_and_macros(tmp_path):
    ce = write_ce(tmp_path, {"01-ce-router.conf": CE_23, "02-ce-pbs.conf": OLD_WITH_MACRO, "90-site.conf": SITE})
    result = run(tmp_path, convert_config_root=ce)
    assert result["changed"] is False and result["conversion_problems"] == []
    assert result["converted_routes"] == [PBS_CONVERTED]
    assert any("JOB_ROUTER_DEFAULTS attributes set_Foo are merged" in n for n in result["conversion_notes"])
    assert any("generated defaults" in n for n in result["conversion_notes"])
    assert not (tmp_path / "config.d" / "20-osg-htc-routes.conf").exists()


def test_convert_a_leftover_file_with_the_ce_configuration_and_write(tmp_path):
    ce = write_ce(tmp_path, {"01-ce-router.conf": CE_23, "90-site.conf": SITE})
    old = tmp_path / "config.d" / "02-ce-pbs.conf.rpmsave"
    old.write_text(OLD_WITH_MACRO)
    result = run(tmp_path, convert_from_file=str(old), convert_config_root=ce, write_converted=True)
    assert result["changed"] is True and result["routes"] == ["Local_PBS"]
    assert result["converted_routes"] == [PBS_CONVERTED]
    assert any("is not one of the files the CE reads" in n for n in result["conversion_notes"])
    text = (tmp_path / "config.d" / "20-osg-htc-routes.conf").read_text()
    assert "REQUIREMENTS x =?= 1.0" in text and "SET Foo 1" in text and "default_queue = prod" in text
    # Without the CE's configuration, the file alone: no defaults, and the macro kept for the CE to expand.
    result = run(tmp_path, convert_from_file=str(old))
    route = result["converted_routes"][0]
    assert "set" not in route and route["default_queue"] == "$(Queue)"


def test_convert_never_runs_a_command(tmp_path, confd):
    marker = tmp_path / "marker"
    old = tmp_path / "old.conf"
    old.write_text(f"include command : touch {marker}\n" + OLD)
    result = run(tmp_path, convert_from_file=str(old))
    assert result["failed"] is True and "would run a command" in result["msg"]
    result = run(tmp_path, convert_from=f"include : {tmp_path}/x.conf |\n" + OLD)
    assert result["failed"] is True and "would run a command" in result["msg"]
    assert not marker.exists()


INJECTION = "/x\n@jrt\nALLOW_WRITE = *\nJUNK @=jrt\n/"


@pytest.mark.parametrize(
    "edit",
    [
        {"delete": [INJECTION]},
        {"copy": {INJECTION: "orig_\\0"}},
        {"copy": {"/^x$/": "y\n@jrt\nALLOW_WRITE = *\nJUNK @=jrt"}},
        {"rename": {INJECTION: "orig_\\0"}},
        {"rename": {"/^x$/": "y\rz"}},
        {"set": {"A": '"x" \\'}},
        {"commands": ["SET A 1 \\"]},
        {"requirements": "true\u2028ALLOW_WRITE = *"},
    ],
)
@pytest.mark.parametrize("check_mode", [False, True])
def test_a_value_cannot_inject_configuration(tmp_path, confd, edit, check_mode):
    route = {"name": "R", "universe": "vanilla", **edit}
    result = run(tmp_path, routes=[route], _ansible_check_mode=check_mode)
    assert result["failed"] is True and "route 'R'" in result["msg"], result
    assert not (confd / "20-osg-htc-routes.conf").exists()


def test_the_parser_reads_back_exactly_the_routes_rendered(tmp_path, confd):
    # The second line of defence: were a bad line to slip past the rendering rule,
    # HTCondor's own parser would find the settings it adds and refuse the file.
    route = {"name": "R", "universe": "vanilla", "delete": [INJECTION]}
    with mock.patch("ansible_collections.osg_htc.site.plugins.module_utils._job_routes._check_lines"):
        result = run(tmp_path, routes=[route])
    assert result["failed"] is True and "does not read back the intended settings" in result["msg"]
    assert "ALLOW_WRITE" in result["msg"] and "JUNK" in result["msg"]
    assert not (confd / "20-osg-htc-routes.conf").exists()


@pytest.mark.parametrize("name", [".20-routes.conf", "20-routes.conf~", "20-routes.conf.rpmnew", "20-$(X).conf"])
def test_file_names_the_ce_would_not_read_are_refused(tmp_path, name):
    ce = write_ce(tmp_path, {})
    path = Path(ce).parent / "config.d" / name
    result = run(tmp_path, routes=ROUTES, ce_config=ce, path=str(path))
    assert result["failed"] is True and ("would never read it" in result["msg"] or "cannot read" in result["msg"])
    assert not path.exists()
