"""The access_point role refuses bad input and a bad token in its preflight, before the host changes.

Runs only the role's preflight tasks (``--tags access_point_preflight``) on
localhost, with everything that installs or opens anything switched off, so
nothing here can touch this machine even if a check were missing.
"""

from __future__ import annotations

import json

import pytest
import yaml

from ..conftest import COLLECTION_ROOT
from ..idtokens import PAYLOAD, SIGNATURE, make_token
from .runner import run_playbook

TOKENS = COLLECTION_ROOT / "tests" / "fixtures" / "tokens"

PLAYBOOK = """\
- name: The access_point role's preflight only
  hosts: localhost
  gather_facts: false
  roles:
    - role: osg_htc.site.access_point
      vars:
        access_point_manage_repos: false
        access_point_manage_packages: false
        access_point_manage_firewall: false
        access_point_manage_service: false
        access_point_preflight_fail: false
        access_point_preflight_checks: [ports]
        access_point_fqdn: ap.lab.test
        access_point_gratia_site_name: OSG_US_LAB_TEST_SUBMIT
"""

GOOD = {"access_point_token_file": str(TOKENS / "ap.lab.test.token")}
# A registry-shaped token for the lab's Access Point, to vary one claim at a time.
AP_LAB_PAYLOAD = dict(PAYLOAD, sub="RESOURCE-ap.lab.test@cm-1.ospool.osg-htc.org")


def run(tmp_path, extra: dict):
    playbook = tmp_path / "preflight.yml"
    playbook.write_text(PLAYBOOK)
    return run_playbook(playbook, "--tags", "access_point_preflight", "-e", json.dumps(extra))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(
            dict(GOOD, access_point_mode="flocking"),
            "access_point_mode is flocking but access_point_local_central_manager is empty",
            id="flocking-without-local-cm",
        ),
        pytest.param({}, "No OSPool token: set access_point_token", id="no-token"),
        pytest.param(
            dict(GOOD, access_point_token="abc"),
            "Both access_point_token and access_point_token_file are set",
            id="two-tokens",
        ),
        pytest.param(
            dict(GOOD, access_point_gratia_site_name=""),
            'access_point_gratia_site_name is \\"\\": set it to the Access Point\'s Topology resource name',
            id="no-site-name",
        ),
        pytest.param(
            dict(GOOD, access_point_gratia_attributes={"SiteName": "OTHER"}),
            'access_point_gratia_attributes sets SiteName to \\"OTHER\\", but access_point_gratia_site_name is',
            id="second-site-name",
        ),
        pytest.param(
            dict(GOOD, access_point_require_project_name=True, access_point_default_project_name="X"),
            "are both set: with a default project every job has a ProjectName",
            id="project-both",
        ),
        pytest.param(
            dict(GOOD, access_point_default_project_name='x" y'),
            "a project name is letters, digits",
            id="project-name-quote",
        ),
        pytest.param(
            dict(GOOD, access_point_ospool_central_managers=[]),
            "access_point_ospool_central_managers is empty",
            id="no-ospool-cms",
        ),
        pytest.param(
            {"access_point_token_file": str(TOKENS / "ap.lab.test-wrong-issuer.token")},
            "The token was issued by 'cm-1.ospool.osg-htc.org'; expected issuer 'flock.opensciencegrid.org'",
            id="wrong-issuer",
        ),
        pytest.param(
            dict(GOOD, access_point_fqdn="ap.example.edu"),
            "The token is for subject 'RESOURCE-ap.lab.test@cm-1.ospool.osg-htc.org'; expected one of the subjects "
            "'RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org', 'RESOURCE-ap.example.edu@flock.opensciencegrid.org'",
            id="token-of-another-host",
        ),
        pytest.param(
            # What register.py asks for without --scope ADVERTISE_SCHEDD.
            {
                "access_point_token": make_token(
                    payload=dict(AP_LAB_PAYLOAD, scope="condor:/READ condor:/ADVERTISE_MASTER")
                )
            },
            "The token lacks the required scope(s) condor:/ADVERTISE_SCHEDD; "
            "its scope claim holds condor:/READ condor:/ADVERTISE_MASTER",
            id="token-without-advertise-schedd",
        ),
        pytest.param(
            {"access_point_token": make_token(header={"alg": "none"}, payload=AP_LAB_PAYLOAD)},
            "the token is unsigned",
            id="unsigned-token",
        ),
        pytest.param(
            dict(GOOD, access_point_token_subject_domains=[]),
            "access_point_token_subject_domains is []: list the domains a token's subject may have",
            id="no-subject-domains",
        ),
        pytest.param(
            {"access_point_token": "not-a-token"},
            "Refusing the token",
            id="malformed-token",
        ),
        pytest.param(
            # Ansible's argument spec check lets both pass: it does not convert the variables it checks.
            dict(GOOD, access_point_gratia_site_name=5),
            "access_point_gratia_site_name is an int (5), but the argument spec says str",
            id="site-name-a-number",
        ),
        pytest.param(
            dict(GOOD, access_point_ospool_central_managers="cm-1.ospool.osg-htc.org,cm-2.ospool.osg-htc.org"),
            "access_point_ospool_central_managers is a str",
            id="central-managers-a-string",
        ),
    ],
)
def test_bad_input_fails_in_preflight_with_a_clear_message(tmp_path, extra, message):
    result = run(tmp_path, extra)
    assert result.returncode != 0, result.stdout
    assert message in result.stdout, result.stdout
    for name in ("ap.lab.test.token", "ap.lab.test-wrong-issuer.token"):
        assert (TOKENS / name).read_text().strip() not in result.stdout + result.stderr
    assert SIGNATURE not in result.stdout + result.stderr


def test_bad_mode_is_refused_by_the_argument_spec(tmp_path):
    result = run(tmp_path, dict(GOOD, access_point_mode="direct"))
    assert result.returncode != 0
    assert "access_point_mode" in result.stdout and "ospool_direct, flocking" in result.stdout, result.stdout


@pytest.mark.parametrize("name", ["ap.lab.test.token", "ap.lab.test-old-subject.token"])
def test_both_ospool_token_shapes_pass_preflight(tmp_path, name):
    """The registry's current shape, and the older one (subject @flock.opensciencegrid.org, no ADVERTISE_MASTER)."""
    result = run(tmp_path, {"access_point_token_file": str(TOKENS / name)})
    assert result.returncode == 0, result.stdout
    assert "failed=0" in result.stdout
    assert (TOKENS / name).read_text().strip() not in result.stdout + result.stderr


def test_the_role_defaults_expect_what_an_ospool_token_holds():
    defaults = yaml.safe_load((COLLECTION_ROOT / "roles" / "access_point" / "defaults" / "main.yml").read_text())
    assert defaults["access_point_token_expected_issuer"] == "flock.opensciencegrid.org"
    assert defaults["access_point_token_subject_domains"] == ["cm-1.ospool.osg-htc.org", "flock.opensciencegrid.org"]
    assert defaults["access_point_token_required_scopes"] == ["READ", "ADVERTISE_SCHEDD"]
    assert defaults["access_point_token_check_subject"] is True
