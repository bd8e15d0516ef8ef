# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the condor_config module, on real files and HTCondor's real parser."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import ConfigCheck
from ansible_collections.osg_htc.site.plugins.modules import condor_config
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

pytest.importorskip("htcondor2")


@pytest.fixture
def root(tmp_path) -> Path:
    """A base config whose LOCAL_CONFIG_DIR holds a packaged-style file before ours and a site file after it."""
    confd = tmp_path / "config.d"
    confd.mkdir()
    (confd / "80-packaged.conf").write_text("CONDOR_HOST = cm-1.example.org\nDAEMON_LIST = MASTER, SCHEDD\n")
    base = tmp_path / "condor_config"
    base.write_text(f"LOCAL_CONFIG_DIR = {confd}\nUID_DOMAIN = example.org\n")
    return base


def run(root: Path, **args):
    if "files" not in args:
        args.setdefault("path", str(root.parent / "config.d" / "90-ours.conf"))
    args.setdefault("config_root", str(root))
    warnings = []
    with mock.patch.object(basic.AnsibleModule, "warn", lambda self, msg: warnings.append(msg)):
        result = run_module(condor_config, args)
    result["warnings"] = warnings
    return result


def ours(root: Path) -> Path:
    return root.parent / "config.d" / "90-ours.conf"


def test_writes_settings_then_is_idempotent(root):
    settings = {"CONDOR_HOST": "cm.local.example.org", "FLOCK_TO": ["cm-1.example.org", "cm-2.example.org"]}
    first = run(root, settings=settings, query=["UID_DOMAIN"])
    assert first["changed"] is True and first["parser"] == "htcondor2"
    assert ours(root).read_text() == (
        condor_config.HEADER + "CONDOR_HOST = cm.local.example.org\nFLOCK_TO = cm-1.example.org, cm-2.example.org\n"
    )
    assert first["effective"] == {
        "CONDOR_HOST": "cm.local.example.org",
        "FLOCK_TO": "cm-1.example.org, cm-2.example.org",
        "UID_DOMAIN": "example.org",
    }
    second = run(root, settings=settings, query=["UID_DOMAIN"])
    assert second["changed"] is False and second["effective"] == first["effective"]


def test_htcondor_knobs_with_typed_defaults_read_back(root):
    # The bindings give integers and booleans for HTCondor's own knobs; the read-back must not trip on them.
    settings = {"MAX_JOBS_RUNNING": "5000", "ENABLE_IPV6": "false", "SCHEDD_INTERVAL": "300"}
    result = run(root, settings=settings)
    assert result["changed"] is True, result
    # As the bindings give them: typed where HTCondor's parameter table types the knob.
    assert {name: str(value).lower() for name, value in result["effective"].items()} == {
        "MAX_JOBS_RUNNING": "5000",
        "ENABLE_IPV6": "false",
        "SCHEDD_INTERVAL": "300",
    }


def test_values_are_expanded_against_the_files_before_ours(root):
    result = run(root, settings={"DAEMON_LIST": "$(DAEMON_LIST), COLLECTOR"})
    assert result["effective"]["DAEMON_LIST"] == "MASTER, SCHEDD, COLLECTOR"


def test_a_later_file_overrides_ours_and_the_values_say_so(root):
    (root.parent / "config.d" / "99-site.conf").write_text("CONDOR_HOST = site-override.example.org\n")
    result = run(root, settings={"CONDOR_HOST": "cm.local.example.org"})
    assert result["changed"] is True and result["effective"]["CONDOR_HOST"] == "site-override.example.org"


def test_value_kinds_and_comment(root):
    result = run(
        root,
        comment="Why this file exists\nsecond line",
        settings={
            "ENABLED": True,
            "DISABLED": False,
            "MAX": 0,
            "RATIO": 0.5,
            "EMPTY": None,
            "SCHEDD.SEC_CLIENT_AUTHENTICATION": "REQUIRED",
            "JOB_TRANSFORM_Default": 'DEFAULT ProjectName "X"\nSET Foo 1',
        },
    )
    assert result["changed"] is True, result
    text = ours(root).read_text()
    assert "# Why this file exists\n# second line\n" in text
    assert "ENABLED = True\nDISABLED = False\nMAX = 0\nRATIO = 0.5\nEMPTY = \n" in text
    assert 'JOB_TRANSFORM_Default @=end\nDEFAULT ProjectName "X"\nSET Foo 1\n@end\n' in text
    assert result["effective"]["JOB_TRANSFORM_Default"] == 'DEFAULT ProjectName "X"\nSET Foo 1'
    assert result["effective"]["MAX"] == "0" and result["effective"]["EMPTY"] in ("", None)


def test_content_is_written_after_the_header(root):
    body = "if defined UID_DOMAIN\n  MARK = yes\nendif\n"
    result = run(root, content=body, query=["MARK"])
    assert result["effective"] == {"MARK": "yes"}
    assert ours(root).read_text() == condor_config.HEADER + body


def test_parser_rejection_leaves_the_live_file(root):
    run(root, settings={"CONDOR_HOST": "cm.local.example.org"})
    before = ours(root).read_text()
    result = run(root, content="if defined UID_DOMAIN\n  MARK = yes\n")
    assert result["failed"] is True and "rejects" in result["msg"] and str(ours(root)) in result["msg"]
    assert ours(root).read_text() == before
    assert sorted(p.name for p in ours(root).parent.iterdir()) == ["80-packaged.conf", "90-ours.conf"]


def test_check_mode_and_diff_change_nothing(root):
    result = run(root, settings={"CONDOR_HOST": "x.example.org"}, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True and not ours(root).exists()
    assert "CONDOR_HOST = x.example.org" in result["diff"]["after"]
    assert result["effective"]["CONDOR_HOST"] == "x.example.org"


def test_check_mode_still_rejects_a_bad_file(root):
    result = run(root, content="NOT A VALID LINE\n", _ansible_check_mode=True)
    assert result["failed"] is True and "rejects" in result["msg"]


def test_absent_removes_and_reports_the_values_without_the_file(root):
    run(root, settings={"CONDOR_HOST": "cm.local.example.org"})
    result = run(root, state="absent", query=["CONDOR_HOST"], backup=True)
    assert result["changed"] is True and not ours(root).exists()
    assert result["effective"] == {"CONDOR_HOST": "cm-1.example.org"}
    assert Path(result["backup_file"]).read_text().endswith("CONDOR_HOST = cm.local.example.org\n")
    again = run(root, state="absent", query=["CONDOR_HOST"])
    assert again["changed"] is False


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"BAD NAME": "x"}, "'BAD NAME' is not an HTCondor configuration name"),
        ({"A": {"nested": 1}}, "settings.A: dict is not a configuration value"),
        ({"A": ["x", None]}, "settings.A: None is a NoneType; list items are strings or numbers"),
        ({"A": "x\r"}, "settings.A: the value contains a carriage return (U+000D)"),
        ({"A": "one\n@end\ntwo"}, "settings.A: line 2 of the value starts with '@'"),
        # A trailing backslash would make HTCondor join the next setting to this one.
        ({"A": "x \\", "B": "y"}, "settings.A: the value ends in a backslash"),
        # A comma inside an item would make two items of it.
        ({"A": ["a,b", "c"]}, "settings.A: the item 'a,b' contains a comma"),
        ({"A": ["a b"]}, "settings.A: the item 'a b' contains whitespace"),
        ({"A": "one\ntwo \\\nthree"}, "settings.A: line 2 of the value ends in a backslash"),
        ({"A": "x\x00y"}, "settings.A: the value contains a NUL character (U+0000)"),
        ({"A": "x\u2028y"}, "settings.A: the value contains a Unicode line separator (U+2028)"),
        ({"A": float("nan")}, "settings.A: nan is not a finite number"),
        ({"A$B": 1}, "'A$B' is not an HTCondor configuration name (it contains '$')"),
        ({"A\nB": 1}, "is not an HTCondor configuration name (it contains a line feed (U+000A))"),
        ({"A ": 1}, "'A ' is not an HTCondor configuration name (it contains ' ')"),
        ({"A": 1, "a": 2}, "settings: 'A' and 'a' are the same name"),
    ],
)
def test_bad_settings_fail_before_anything_changes(root, settings, message):
    result = run(root, settings=settings)
    assert result["failed"] is True and message in result["msg"] and not ours(root).exists()


def test_bad_query_name(root):
    result = run(root, settings={"A": 1}, query=["no good"])
    assert result["failed"] is True and "'no good'" in result["msg"]


def test_base_config_that_does_not_load_fails_first(root):
    root.write_text(root.read_text() + "if true\n")
    result = run(root, settings={"A": 1})
    assert result["failed"] is True and "does not load, before any change" in result["msg"]
    assert not ours(root).exists()


def test_missing_base_config_checks_the_file_alone_with_a_warning(tmp_path):
    (tmp_path / "config.d").mkdir()
    result = run(tmp_path / "absent_condor_config", settings={"A": 1})
    assert result["changed"] is True and result["effective"] == {"A": "1"}
    assert any("does not exist" in w for w in result["warnings"])


def test_directory_outside_local_config_dir_is_refused(root, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    result = run(root, path=str(tmp_path / "elsewhere" / "x.conf"), settings={"A": 1})
    assert result["failed"] is True and "HTCondor would never read it" in result["msg"]
    assert "not in the LOCAL_CONFIG_DIR" in result["msg"] and not (tmp_path / "elsewhere" / "x.conf").exists()


@pytest.mark.parametrize("name", [".hidden.conf", "x.conf~", "x.conf.rpmsave", "x.conf.rpmnew", "#x.conf", "x.sh"])
def test_file_names_htcondor_skips_are_refused(root, name):
    target = root.parent / "config.d" / name
    result = run(root, path=str(target), settings={"A": 1})
    assert result["failed"] is True and "LOCAL_CONFIG_DIR_EXCLUDE_REGEXP" in result["msg"], result
    assert not target.exists()


def test_the_host_exclude_pattern_is_the_one_honoured(root):
    # A site that sets its own pattern: a name the built-in one would accept is skipped here.
    root.write_text(root.read_text() + "LOCAL_CONFIG_DIR_EXCLUDE_REGEXP = ^local-.*$\n")
    refused = run(root, path=str(root.parent / "config.d" / "local-90.conf"), settings={"A": 1})
    assert refused["failed"] is True and "^local-.*$" in refused["msg"]


@pytest.mark.parametrize("name", ["90-$(X).conf", "90-a.conf ", "90-\nb.conf"])
def test_paths_htcondor_cannot_include_are_refused(root, name):
    target = root.parent / "config.d" / name
    result = run(root, path=str(target), settings={"A": 1})
    assert result["failed"] is True and "HTCondor cannot read" in result["msg"]
    assert not target.exists()


def test_a_host_file_with_an_odd_name_does_not_break_later_runs(root):
    # Left by a human, not by this module: later runs skip it with a warning, no traceback.
    (root.parent / "config.d" / "85-$(odd).conf").write_text("A = 1\n")
    result = run(root, settings={"B": 2})
    assert result["changed"] is True and any("85-$(odd).conf" in w for w in result["warnings"])


@pytest.mark.parametrize(
    "content",
    [
        "include command : touch {marker}\n",
        "INCLUDE : touch {marker} |\n",
        "@include ifexist command into /tmp/x : touch {marker}\n",
        "include : $(CMD)\n",
        "LOCAL_CONFIG_FILE = touch {marker} |\n",
        "A = 1 \\\ninclude command : touch {marker}\n",
    ],
)
@pytest.mark.parametrize("check_mode", [False, True])
def test_content_that_runs_a_command_is_refused_and_nothing_runs(root, tmp_path, content, check_mode):
    marker = tmp_path / "marker"
    result = run(root, content=content.format(marker=marker), _ansible_check_mode=check_mode)
    assert result["failed"] is True and "runs a command" in result["msg"]
    assert not marker.exists() and not ours(root).exists()


def test_a_host_file_that_runs_a_command_is_left_out_of_the_check(root, tmp_path):
    marker = tmp_path / "marker"
    (root.parent / "config.d" / "85-site.conf").write_text(f"include command : touch {marker}\n")
    result = run(root, settings={"A": 1}, _ansible_check_mode=True)
    assert result["changed"] is True and not marker.exists()
    assert any("85-site.conf" in w and "runs a command" in w for w in result["warnings"])


def test_a_piped_local_config_file_of_the_host_is_not_run(root, tmp_path):
    # What HTCondor-CE's 01-ce-router-defaults.conf does with condor_ce_router_defaults.
    marker = tmp_path / "marker"
    (root.parent / "config.d" / "01-router.conf").write_text(f"LOCAL_CONFIG_FILE = /usr/bin/touch {marker} |\n")
    result = run(root, settings={"A": 1}, query=["LOCAL_CONFIG_FILE"])
    assert result["changed"] is True and not marker.exists()
    assert not result["warnings"]


def test_the_effective_key_is_not_a_dict_method(root):
    result = run(root, settings={"A": 1})
    assert "values" not in result and result["effective"] == {"A": "1"}


def test_no_parser_fails_unless_allowed(root):
    missing = ConfigCheck(ok=None, error="no HTCondor parser available")
    where = mock.Mock(error=None, unread={}, note=None, skipped=[])
    with mock.patch.object(condor_config, "check_config_texts_in_place", return_value=(missing, where)):
        strict = run(root, settings={"A": 1})
        relaxed = run(root, settings={"A": 1}, require_parser=False)
    assert strict["failed"] is True and "cannot be checked before it goes live" in strict["msg"]
    assert relaxed["changed"] is True and relaxed["effective"] == {} and relaxed["parser"] is None
    assert any("not checked" in w for w in relaxed["warnings"])


# --- several files in one call ------------------------------------------------------------------


def run_files(root: Path, files: list, **args):
    confd = root.parent / "config.d"
    items = [{**item, "path": str(confd / item["path"])} for item in files]
    return run(root, files=items, **args)


def test_several_files_are_written_in_one_call_each_checked_with_the_others_in_place(root):
    files = [
        {"path": "85-flocking.conf", "comment": "Flocking", "settings": {"DAEMON_LIST": "$(DAEMON_LIST), SHADOW"}},
        {
            "path": "90-ours.conf",
            "settings": {"CONDOR_HOST": "cm.local.example.org", "DAEMON_LIST": "$(DAEMON_LIST), X"},
        },
    ]
    first = run_files(root, files, query=["UID_DOMAIN"])
    assert first["changed"] is True and "path" not in first, first
    confd = root.parent / "config.d"
    assert [entry["changed"] for entry in first["files"]] == [True, True]
    assert first["files"][0]["path"] == str(confd / "85-flocking.conf")
    # Both new files in place: 90-ours expands DAEMON_LIST over 85-flocking's new value, not over nothing.
    assert first["effective"] == {
        "DAEMON_LIST": "MASTER, SCHEDD, SHADOW, X",
        "CONDOR_HOST": "cm.local.example.org",
        "UID_DOMAIN": "example.org",
    }
    assert (confd / "85-flocking.conf").read_text() == (
        condor_config.HEADER + "# Flocking\nDAEMON_LIST = $(DAEMON_LIST), SHADOW\n"
    )
    again = run_files(root, files, query=["UID_DOMAIN"])
    assert again["changed"] is False and [entry["changed"] for entry in again["files"]] == [False, False]
    assert again["effective"] == first["effective"]


def test_several_files_in_check_mode_show_one_diff_each_and_write_nothing(root):
    files = [{"path": "85-a.conf", "settings": {"A": 1}}, {"path": "95-b.conf", "settings": {"B": "$(A)"}}]
    result = run_files(root, files, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True and result["effective"] == {"A": "1", "B": "1"}
    assert [d["after_header"] for d in result["diff"]] == [
        str(root.parent / "config.d" / name) for name in ("85-a.conf", "95-b.conf")
    ]
    assert sorted(p.name for p in (root.parent / "config.d").iterdir()) == ["80-packaged.conf"]


def test_one_bad_file_stops_every_file_before_any_is_written(root):
    files = [{"path": "85-a.conf", "settings": {"A": 1}}, {"path": "95-b.conf", "settings": {"B": "x\\"}}]
    result = run_files(root, files)
    assert result["failed"] is True and "95-b.conf: settings.B" in result["msg"], result["msg"]
    rejected = run_files(
        root, [{"path": "85-a.conf", "settings": {"A": 1}}, {"path": "95-b.conf", "content": "if x\n"}]
    )
    assert rejected["failed"] is True and "rejects" in rejected["msg"]
    assert sorted(p.name for p in (root.parent / "config.d").iterdir()) == ["80-packaged.conf"]


def test_several_files_with_their_own_state_and_mode(root):
    confd = root.parent / "config.d"
    (confd / "70-old.conf").write_text("OLD = 1\n")
    files = [
        {"path": "70-old.conf", "state": "absent"},
        {"path": "90-ours.conf", "settings": {"A": 1}, "mode": "0640"},
    ]
    result = run_files(root, files, query=["OLD"])
    assert result["changed"] is True and result["effective"] == {"A": "1", "OLD": None}
    assert not (confd / "70-old.conf").exists()
    assert oct(ours(root).stat().st_mode & 0o777) == "0o640"


def test_several_files_refuse_repeats_unread_places_and_a_global_state(root):
    twice = run_files(root, [{"path": "90-a.conf", "settings": {"A": 1}}, {"path": "90-a.conf", "settings": {"A": 2}}])
    assert twice["failed"] is True and "given more than once" in twice["msg"]
    unread = run_files(
        root, [{"path": "90-a.conf", "settings": {"A": 1}}, {"path": "90-b.conf.rpmnew", "settings": {}}]
    )
    assert unread["failed"] is True and "90-b.conf.rpmnew: HTCondor would never read it" in unread["msg"]
    absent = run_files(root, [{"path": "90-a.conf", "settings": {"A": 1}}], state="absent")
    assert absent["failed"] is True and "give each file its own state" in absent["msg"]
    assert sorted(p.name for p in (root.parent / "config.d").iterdir()) == ["80-packaged.conf"]
