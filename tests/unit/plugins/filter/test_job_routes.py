# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ``osg_htc.site.job_routes`` filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.job_routes import FilterModule, job_routes
from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import build_routes


def test_filter_is_registered():
    assert FilterModule().filters() == {"job_routes": job_routes}


def test_renders_what_the_module_writes():
    routes = [{"name": "Slurm", "grid_resource": {"batch": "slurm"}}]
    assert job_routes(routes) == build_routes(routes)[0]
    assert job_routes(routes, check_expressions=False) == build_routes(routes)[0]


def test_invalid_routes_raise_a_filter_error_naming_the_route():
    with pytest.raises(AnsibleFilterError, match="route 'X', universe: 'moon' is not a universe"):
        job_routes([{"name": "X", "universe": "moon"}])
