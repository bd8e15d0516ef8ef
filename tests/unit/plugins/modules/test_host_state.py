# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the host_state module: one call answers for every item, by id, and changes nothing."""

from __future__ import annotations

import hashlib
import os
import pwd

from ansible_collections.osg_htc.site.plugins.modules import host_state
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

ME = pwd.getpwuid(os.getuid()).pw_name


def test_every_kind_answers_by_id_in_one_call(tmp_path):
    mapfile = tmp_path / "mapfile"
    mapfile.write_text("SCITOKENS /x/ osg\n")
    blah = tmp_path / "blah.config"
    blah.write_text("#slurm_binpath=/usr/bin\n")
    before = sorted(os.listdir(tmp_path))
    result = run_module(
        host_state,
        {
            "files": [
                {
                    "id": "mapfile",
                    "path": str(mapfile),
                    "checksum": hashlib.sha1(b"SCITOKENS /x/ osg\n").hexdigest(),  # noqa: S324
                    "owner": ME,
                },
                {"id": "dir", "path": str(tmp_path), "state": "directory", "mode": "0700"},
            ],
            "lines": [
                {"id": "binpath", "path": str(blah), "line": "slurm_binpath=/opt", "regexp": "^#?slurm_binpath="}
            ],
            "users": [{"id": "me", "name": ME, "uid": os.getuid()}, {"id": "nobody-here", "name": "osg-htc-no-user"}],
            "_ansible_check_mode": True,
        },
    )
    assert result["changed"] is False
    assert result["same"] == {
        "mapfile": True,
        "dir": os.stat(tmp_path).st_mode & 0o777 == 0o700,
        "binpath": False,
        "me": True,
        "nobody-here": False,
    }
    assert result["details"]["binpath"]["why"] == "the line would be replaced"
    assert result["details"]["me"]["home"] == pwd.getpwnam(ME).pw_dir
    assert sorted(os.listdir(tmp_path)) == before


def test_ids_must_be_unique(tmp_path):
    result = run_module(
        host_state,
        {"files": [{"id": "x", "path": str(tmp_path)}], "users": [{"id": "x", "name": ME}]},
    )
    assert result["failed"] is True and "given more than once: x" in result["msg"]
