"""Every module and filter of the collection renders with ansible-doc (its docs are valid YAML and complete)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import COLLECTION_ROOT, COLLECTIONS_PATH

PLUGINS = [
    (kind, path.stem)
    for kind, folder in (("module", "modules"), ("filter", "filter"))
    for path in sorted((COLLECTION_ROOT / "plugins" / folder).glob("*.py"))
    if not path.name.startswith("_")
]


def test_plugins_are_found():
    assert ("module", "condor_token") in PLUGINS
    assert ("filter", "token_claims") in PLUGINS


@pytest.mark.parametrize(("kind", "name"), PLUGINS)
def test_ansible_doc_renders(kind, name):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_NOCOLOR="1")
    command = [str(Path(sys.executable).with_name("ansible-doc")), "-t", kind, f"osg_htc.site.{name}"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert f"osg_htc.site.{name}" in result.stdout
    assert "EXAMPLES" in result.stdout
