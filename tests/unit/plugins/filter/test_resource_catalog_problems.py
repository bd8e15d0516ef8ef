# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ``osg_htc.site.resource_catalog_problems`` filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.resource_catalog_problems import (
    FilterModule,
    resource_catalog_problems,
)

pytest.importorskip("classad2")

MAPPINGS = [{"issuer": "https://scitokens.org/osg-connect", "user": "osg01", "vo": "osg"}]
PILOTS = [{"name": "main", "max_pilots": 10, "allowed_vos": ["osg"], "queue": "osg"}]


def test_filter_is_registered():
    assert FilterModule().filters() == {"resource_catalog_problems": resource_catalog_problems}


def test_returns_the_problems():
    routes = [{"name": "OSG", "grid_resource": {"batch": "slurm"}, "default_queue": "other"}]
    (problem,) = resource_catalog_problems(PILOTS, MAPPINGS, routes)
    assert "sends it to queue 'other', not to queue 'osg'" in problem
    routes[0]["default_queue"] = "osg"
    assert resource_catalog_problems(PILOTS, MAPPINGS, routes) == []


def test_routes_that_do_not_parse_raise_a_filter_error():
    routes = [{"name": "OSG", "grid_resource": {"batch": "slurm"}, "requirements": "Owner =="}]
    with pytest.raises(AnsibleFilterError, match="resource_catalog_problems: cannot route the pilots"):
        resource_catalog_problems(PILOTS, MAPPINGS, routes)
