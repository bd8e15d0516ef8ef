"""The example inventory of the playbooks and its vaulted secrets, opened with the published example password."""

from __future__ import annotations

import yaml
from ansible.constants import DEFAULT_VAULT_ID_MATCH
from ansible.parsing.vault import VaultLib, VaultSecret

from ..conftest import COLLECTION_ROOT

EXAMPLE = COLLECTION_ROOT / "playbooks" / "inventory" / "example"
VAULT_PASSWORD = EXAMPLE / "vault-password.example"


def vaulted(group: str, name: str) -> str:
    """The plain text of variable `name` in group_vars/<group>/vault.yml."""
    vault = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(VAULT_PASSWORD.read_text().strip().encode()))])

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!vault", lambda loader, node: loader.construct_scalar(node))
    text = (EXAMPLE / "group_vars" / group / "vault.yml").read_text()
    return vault.decrypt(yaml.load(text, Loader=Loader)[name]).decode()  # noqa: S506 (SafeLoader subclass)
