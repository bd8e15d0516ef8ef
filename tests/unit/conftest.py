"""Shared fixtures; importing this makes the checkout importable as ``ansible_collections.osg_htc.site``.

tools/collection_path.py does that (tools/ is on pytest's ``pythonpath``, see pyproject.toml).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from collection_path import make_importable
from hypothesis import settings

# Property tests: 300 examples per test by default; HYPOTHESIS_PROFILE=thorough
# for a long hunt. No example database, so nothing is written into the checkout.
settings.register_profile("default", max_examples=300, deadline=None, database=None)
settings.register_profile("thorough", max_examples=50_000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

COLLECTION_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = make_importable(COLLECTION_ROOT)


@pytest.fixture(scope="session")
def dns_server():
    """dnsmasq serving the preflight.test zone on loopback for the whole session (see dns_server.py)."""
    from .dns_server import INSTALL_HINT, dnsmasq_binary, running

    binary = dnsmasq_binary()
    if binary is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    with running(binary) as server:
        yield server
