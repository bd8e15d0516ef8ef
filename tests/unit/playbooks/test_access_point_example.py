"""The example inventory of the access_point playbook: its vaulted token opens with the example password."""

from __future__ import annotations

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
    check_claims(
        decode(vaulted_token()),
        expected_issuer="cm-1.ospool.osg-htc.org",
        expected_subject="RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org",
        required_scopes=["READ", "ADVERTISE_MASTER", "ADVERTISE_SCHEDD"],
        min_remaining_validity=0,
    )


def test_example_inventory_uses_the_vaulted_token():
    group_vars = yaml.safe_load((EXAMPLE / "group_vars" / "ospool_access_points" / "main.yml").read_text())
    assert group_vars["access_point_token"] == "{{ vault_access_point_token }}"
    hosts = yaml.safe_load((EXAMPLE / "hosts.yml").read_text())
    assert "ap.example.edu" in hosts["all"]["children"]["ospool_access_points"]["hosts"]
