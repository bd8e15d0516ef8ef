"""Run condor_token and gratia_probe through ansible-playbook on real files under tmp_path.

The ProbeConfig is a copy of tests/fixtures/packaged_state, the test double
for what the gratia-probe-condor-ap RPM installs.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shutil
import stat

import pytest

from ..conftest import COLLECTION_ROOT
from ..idtokens import PAYLOAD, make_token
from .runner import run_playbook

PACKAGED_PROBE_CONFIG = COLLECTION_ROOT / "tests" / "fixtures" / "packaged_state" / "etc" / "gratia" / "condor-ap"
TOKEN = make_token()
NEW_TOKEN = make_token(payload=dict(PAYLOAD, jti="beef"))

PLAYBOOK = """\
- name: Install the OSPool token and enable Gratia accounting
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Install the token
      osg_htc.site.condor_token:
        name: ospool
        directory: "{{ tokens_dir }}"
        token: "{{ ospool_token }}"
        owner: "{{ file_owner }}"
        group: "{{ file_group }}"
        expected_issuer: flock.opensciencegrid.org
        required_scopes: [READ, ADVERTISE_SCHEDD]

    - name: Configure the probe
      osg_htc.site.gratia_probe:
        probe: condor-ap
        path: "{{ probe_config }}"
        attributes:
          SiteName: "{{ site_name }}"
          ProbeName: condor-ap:ap.example.edu
          EnableProbe: true
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("hosts")
    shutil.copyfile(PACKAGED_PROBE_CONFIG / "ProbeConfig", root / "ProbeConfig")
    (root / "site.yml").write_text(PLAYBOOK)
    return root


def write_vars(lab, token, site_name):
    path = lab / f"vars-{site_name}.json"
    path.write_text(
        json.dumps(
            dict(
                tokens_dir=str(lab / "tokens.d"),
                ospool_token=token,
                probe_config=str(lab / "ProbeConfig"),
                site_name=site_name,
                file_owner=pwd.getpwuid(os.getuid()).pw_name,
                file_group=grp.getgrgid(os.getgid()).gr_name,
            )
        )
    )
    return f"@{path}"


def recap(stdout):
    match = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)", stdout)
    assert match, stdout
    return dict(ok=int(match.group(1)), changed=int(match.group(2)), failed=int(match.group(3)))


def assert_no_token(output, *tokens):
    for token in tokens:
        for part in token.split("."):
            assert part not in output
    assert "SECRETSIGNATURE" not in output


@pytest.fixture(scope="module")
def runs(lab):
    """Install (very verbose, with diff), run again, then a check-mode run with new values."""
    first = run_playbook(lab / "site.yml", "-vvv", "--diff", "-e", write_vars(lab, TOKEN, "OSG_US_EXAMPLE_SUBMIT"))
    token_after_first = (lab / "tokens.d" / "ospool.token").read_text()
    config_after_first = (lab / "ProbeConfig").read_bytes()
    second = run_playbook(lab / "site.yml", "-e", write_vars(lab, TOKEN, "OSG_US_EXAMPLE_SUBMIT"))
    check = run_playbook(
        lab / "site.yml", "--check", "--diff", "-vvv", "-e", write_vars(lab, NEW_TOKEN, "OSG_US_OTHER")
    )
    return dict(
        first=first,
        second=second,
        check=check,
        token_after_first=token_after_first,
        config_after_first=config_after_first,
    )


def test_first_run_installs_both(lab, runs):
    first = runs["first"]
    assert recap(first.stdout) == dict(ok=2, changed=2, failed=0), first.stdout + first.stderr
    assert runs["token_after_first"] == TOKEN + "\n"
    assert stat.S_IMODE((lab / "tokens.d").stat().st_mode) == 0o700
    assert stat.S_IMODE((lab / "tokens.d" / "ospool.token").stat().st_mode) == 0o600
    assert b'SiteName="OSG_US_EXAMPLE_SUBMIT"' in runs["config_after_first"]
    assert b'EnableProbe="1"' in runs["config_after_first"]
    assert_no_token(first.stdout + first.stderr, TOKEN)


def test_second_run_changes_nothing(runs):
    assert recap(runs["second"].stdout) == dict(ok=2, changed=0, failed=0), runs["second"].stdout


def test_check_diff_run_reports_and_changes_nothing(lab, runs):
    check = runs["check"]
    assert recap(check.stdout) == dict(ok=2, changed=2, failed=0), check.stdout + check.stderr
    assert '"jti":"beef"' in check.stdout  # the diff shows the new claims
    assert 'SiteName="OSG_US_OTHER"' in check.stdout
    assert (lab / "tokens.d" / "ospool.token").read_text() == TOKEN + "\n"
    assert (lab / "ProbeConfig").read_bytes() == runs["config_after_first"]
    assert_no_token(check.stdout + check.stderr, TOKEN, NEW_TOKEN)
