# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""tools/import_check.py: an importer ERROR fails the check, WARNINGs are listed, the config keeps it offline."""

from __future__ import annotations

import configparser
from pathlib import Path

import import_check  # tools/ is on pytest's pythonpath (pyproject.toml)

ROOT = Path(__file__).resolve().parents[3]

CLEAN = """\
Importing with galaxy-importer 0.4.44
Loading role access_point
Linting collection via ansible-lint 26.10.1...
WARNING: roles/x/tasks/main.yml:3: name[casing]: All names should start with an uppercase letter.
...ansible-lint run complete
Importer processing completed successfully
"""


def test_warnings_are_listed_and_do_not_fail():
    report = import_check.read_output(CLEAN)
    assert report.warnings == [
        "roles/x/tasks/main.yml:3: name[casing]: All names should start with an uppercase letter."
    ]
    assert report.errors == []
    assert import_check.problems(report, 0) == []


def test_an_error_fails_even_when_the_importer_finishes():
    text = CLEAN.replace("...ansible-lint", 'ERROR: Error running ansible-doc: cmd="ansible-doc ..."\n...ansible-lint')
    report = import_check.read_output(text)
    assert import_check.problems(report, 0) == ['ERROR: Error running ansible-doc: cmd="ansible-doc ..."']


def test_a_failed_or_unfinished_import_fails():
    report = import_check.read_output("ERROR: The import failed for the following reason: bad MANIFEST.json\n")
    assert import_check.problems(report, 1) == [
        "galaxy-importer exited with status 1",
        "galaxy-importer did not report 'Importer processing completed successfully'",
        "ERROR: The import failed for the following reason: bad MANIFEST.json",
    ]


def test_the_importer_settings_need_no_container_engine_nor_network():
    config = configparser.ConfigParser()
    config.read(ROOT / "tests" / "galaxy-importer.cfg")
    settings = config["galaxy-importer"]
    # ansible-test is the step that pulls and runs a container image.
    assert settings.getboolean("run_ansible_test") is False
    assert settings.getboolean("local_image_docker") is False
    assert settings.getboolean("offline_ansible_lint") is True
    # What Galaxy itself checks stays on.
    assert settings.getboolean("run_ansible_doc") is True
    assert settings.getboolean("run_ansible_lint") is True
