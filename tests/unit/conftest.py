"""Make this checkout importable as ``ansible_collections.osg_htc.site``.

Modules and tests import the collection by its full name, the way Ansible
loads it. When the checkout already sits at ``.../ansible_collections/osg_htc/site``
(as under ``ansible-test``) its grandparent goes on ``sys.path``; otherwise a
temporary directory outside the checkout gets that layout as a symlink, so no
link loop ever sits inside the tree that linters walk.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: 300 examples per test by default; HYPOTHESIS_PROFILE=thorough
# for a long hunt. No example database, so nothing is written into the checkout.
settings.register_profile("default", max_examples=300, deadline=None, database=None)
settings.register_profile("thorough", max_examples=50_000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

COLLECTION_ROOT = Path(__file__).resolve().parents[2]


def _collections_path() -> Path:
    if COLLECTION_ROOT.parent.name == "osg_htc" and COLLECTION_ROOT.parents[1].name == "ansible_collections":
        return COLLECTION_ROOT.parents[2]
    top = Path(tempfile.mkdtemp(prefix="osg_htc-site-unit-"))
    atexit.register(shutil.rmtree, top, ignore_errors=True)
    namespace = top / "ansible_collections" / "osg_htc"
    namespace.mkdir(parents=True)
    (namespace / "site").symlink_to(COLLECTION_ROOT, target_is_directory=True)
    return top


COLLECTIONS_PATH = _collections_path()
if str(COLLECTIONS_PATH) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_PATH))


@pytest.fixture(scope="session")
def dns_server():
    """dnsmasq serving the preflight.test zone on loopback for the whole session (see dns_server.py)."""
    from .dns_server import INSTALL_HINT, dnsmasq_binary, running

    binary = dnsmasq_binary()
    if binary is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    with running(binary) as server:
        yield server
