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


@pytest.mark.parametrize(
    "route",
    [
        {"name": "R", "universe": 5, "delete": ["/x\n@jrt\nALLOW_WRITE = *\nJUNK @=jrt\n/"]},
        {"name": "R", "universe": 5, "copy": {"/^x$/": "y\n@jrt\nALLOW_WRITE = *\nJUNK @=jrt"}},
        {"name": "R", "universe": 5, "rename": {"/x\r/": "y"}},
    ],
)
def test_a_value_cannot_inject_configuration(route):
    with pytest.raises(AnsibleFilterError, match="route 'R', line 2"):
        job_routes([route])
