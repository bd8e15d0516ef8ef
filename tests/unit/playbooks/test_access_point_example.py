"""The example inventory of the access_point playbook: its vaulted token opens with the example password."""

from __future__ import annotations

import re

import yaml

from ansible_collections.osg_htc.site.plugins.module_utils._jwt import check_claims, decode

from ..conftest import COLLECTION_ROOT
from .example_inventory import EXAMPLE, vaulted

FIXTURE = COLLECTION_ROOT / "tests" / "fixtures" / "tokens" / "ap.example.edu.token"


def vaulted_token() -> str:
    return vaulted("ospool_access_points", "vault_access_point_token")


def test_example_vault_holds_the_example_test_token():
    assert vaulted_token() == FIXTURE.read_text().strip()


def test_example_token_passes_the_roles_default_checks():
    """The same checks the role runs with its defaults, for the example host."""
    defaults = yaml.safe_load((COLLECTION_ROOT / "roles" / "access_point" / "defaults" / "main.yml").read_text())
    decoded = decode(vaulted_token())
    check_claims(
        decoded,
        expected_issuer=defaults["access_point_token_expected_issuer"],
        expected_subject=[
            f"RESOURCE-ap.example.edu@{domain}" for domain in defaults["access_point_token_subject_domains"]
        ],
        required_scopes=defaults["access_point_token_required_scopes"],
        min_remaining_validity=defaults["access_point_token_min_remaining_validity"],
    )


def test_example_token_is_shaped_like_a_registry_token():
    decoded = decode(vaulted_token())
    assert decoded["header"] == {"alg": "HS256", "kid": "flock.opensciencegrid.org"}
    payload = decoded["payload"]
    assert list(payload) == ["iat", "iss", "jti", "scope", "sub"]
    assert payload["iss"] == "flock.opensciencegrid.org"
    assert payload["sub"] == "RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org"
    assert payload["scope"] == "condor:/READ condor:/ADVERTISE_MASTER condor:/ADVERTISE_SCHEDD"
    assert re.fullmatch(r"[0-9a-f]{32}", payload["jti"])


def test_example_inventory_uses_the_vaulted_token():
    group_vars = yaml.safe_load((EXAMPLE / "group_vars" / "ospool_access_points" / "main.yml").read_text())
    assert group_vars["access_point_token"] == "{{ vault_access_point_token }}"
    hosts = yaml.safe_load((EXAMPLE / "hosts.yml").read_text())
    assert "ap.example.edu" in hosts["all"]["children"]["ospool_access_points"]["hosts"]
