# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Make this checkout importable as ``ansible_collections.osg_htc.site``.

Modules, tests and tools/bench_modules.py import the collection by its full
name, the way Ansible loads it. When the checkout already sits at
``.../ansible_collections/osg_htc/site`` (as under ``ansible-test``) its
grandparent goes on ``sys.path``; otherwise a temporary directory outside the
checkout gets that layout as a symlink, so no link loop ever sits inside the
tree that linters walk.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]


def _holds_checkout(entry: str, checkout: Path) -> bool:
    site = Path(entry) / "ansible_collections" / "osg_htc" / "site"
    return bool(entry) and site.is_dir() and site.resolve() == checkout


def make_importable(checkout: Path = CHECKOUT) -> Path:
    """Put a directory holding ``ansible_collections/osg_htc/site`` (the checkout) on ``sys.path``; return it.

    Calling it again (the unit tests import tools that call it too) reuses the directory already there.
    """
    checkout = checkout.resolve()
    for entry in sys.path:
        if _holds_checkout(entry, checkout):
            return Path(entry)
    if checkout.parent.name == "osg_htc" and checkout.parents[1].name == "ansible_collections":
        top = checkout.parents[2]
    else:
        top = Path(tempfile.mkdtemp(prefix="osg_htc-site-"))
        atexit.register(shutil.rmtree, top, ignore_errors=True)
        namespace = top / "ansible_collections" / "osg_htc"
        namespace.mkdir(parents=True)
        (namespace / "site").symlink_to(checkout, target_is_directory=True)
    sys.path.insert(0, str(top))
    return top
