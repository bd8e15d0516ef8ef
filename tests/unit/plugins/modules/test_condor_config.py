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
    assert first["values"] == {
        "CONDOR_HOST": "cm.local.example.org",
        "FLOCK_TO": "cm-1.example.org, cm-2.example.org",
        "UID_DOMAIN": "example.org",
    }
    second = run(root, settings=settings, query=["UID_DOMAIN"])
    assert second["changed"] is False and second["values"] == first["values"]


def test_values_are_expanded_against_the_files_before_ours(root):
    result = run(root, settings={"DAEMON_LIST": "$(DAEMON_LIST), COLLECTOR"})
    assert result["values"]["DAEMON_LIST"] == "MASTER, SCHEDD, COLLECTOR"


def test_a_later_file_overrides_ours_and_the_values_say_so(root):
    (root.parent / "config.d" / "99-site.conf").write_text("CONDOR_HOST = site-override.example.org\n")
    result = run(root, settings={"CONDOR_HOST": "cm.local.example.org"})
    assert result["changed"] is True and result["values"]["CONDOR_HOST"] == "site-override.example.org"


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
    assert result["values"]["JOB_TRANSFORM_Default"] == 'DEFAULT ProjectName "X"\nSET Foo 1'
    assert result["values"]["MAX"] == "0" and result["values"]["EMPTY"] in ("", None)


def test_content_is_written_after_the_header(root):
    body = "if defined UID_DOMAIN\n  MARK = yes\nendif\n"
    result = run(root, content=body, query=["MARK"])
    assert result["values"] == {"MARK": "yes"}
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
    assert result["values"]["CONDOR_HOST"] == "x.example.org"


def test_check_mode_still_rejects_a_bad_file(root):
    result = run(root, content="NOT A VALID LINE\n", _ansible_check_mode=True)
    assert result["failed"] is True and "rejects" in result["msg"]


def test_absent_removes_and_reports_the_values_without_the_file(root):
    run(root, settings={"CONDOR_HOST": "cm.local.example.org"})
    result = run(root, state="absent", query=["CONDOR_HOST"], backup=True)
    assert result["changed"] is True and not ours(root).exists()
    assert result["values"] == {"CONDOR_HOST": "cm-1.example.org"}
    assert Path(result["backup_file"]).read_text().endswith("CONDOR_HOST = cm.local.example.org\n")
    again = run(root, state="absent", query=["CONDOR_HOST"])
    assert again["changed"] is False


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"BAD NAME": "x"}, "'BAD NAME' is not an HTCondor configuration name"),
        ({"A": {"nested": 1}}, "settings.A: dict is not a configuration value"),
        ({"A": ["x", None]}, "settings.A: a list may hold only strings"),
        ({"A": "x\r"}, "settings.A: carriage returns"),
        ({"A": "one\n@end\ntwo"}, "settings.A: a line of the value starts with @end"),
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
    assert result["changed"] is True and result["values"] == {"A": "1"}
    assert any("does not exist" in w for w in result["warnings"])


def test_directory_outside_local_config_dir_warns(root, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    result = run(root, path=str(tmp_path / "elsewhere" / "x.conf"), settings={"A": 1})
    assert result["changed"] is True
    assert any("HTCondor will not read" in w for w in result["warnings"])


def test_no_parser_fails_unless_allowed(root):
    missing = ConfigCheck(ok=None, error="no HTCondor parser available")
    with mock.patch.object(condor_config, "check_config_text_in_place", return_value=(missing, mock.Mock(error=None))):
        strict = run(root, settings={"A": 1})
        relaxed = run(root, settings={"A": 1}, require_parser=False)
    assert strict["failed"] is True and "cannot be checked before it goes live" in strict["msg"]
    assert relaxed["changed"] is True and relaxed["values"] == {} and relaxed["parser"] is None
    assert any("not checked" in w for w in relaxed["warnings"])
