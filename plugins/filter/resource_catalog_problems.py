# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.resource_catalog_problems`` filter: pilot entries the routes do not serve as advertised."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.module_utils._resource_catalog import (
    DEFAULT_REQUESTS,
    catalog_problems,
)
from ansible_collections.osg_htc.site.plugins.module_utils._route_match import MatchError

DOCUMENTATION = r"""
name: resource_catalog_problems
short_description: Check a CE's resource catalog (pilot entries) and whether its job routes serve each entry
version_added: 0.2.0
author:
  - Contributors to the osg_htc.site collection
description:
  - The pilot factories read a CE's C(OSG_ResourceCatalog), which osg-configure makes from the C([Pilot <name>])
    sections of C(/etc/osg/config.d/35-pilot.ini), and submit one kind of pilot per entry. This filter takes those
    entries and returns every problem, an empty list when there is none.
  - First each entry is checked the way osg-configure checks it (its C(subcluster.py)); the rules are in
    docs/resource-catalog.md of the collection.
  - Then, for each entry and each VO of its C(allowed_vos), one pilot job per SciTokens mapping that names the VO
    (its C(vo) key) is routed with the code of P(osg_htc.site.ce_route_match#filter). Each must be taken by a route
    that sends it to the entry's C(queue) (when the entry names one) with at least its cores, memory and wall time.
    The problems are returned as one table of pilot, VO identity, route and problem.
  - Needs the HTCondor Python bindings (C(classad2)) for the controller's Python when there are entries.
options:
  _input:
    description:
      - The pilot entries, each a mapping with C(name), C(cpucount), C(ram_mb), C(whole_node), C(gpucount),
        C(max_pilots), C(max_wall_time), C(queue), C(require_singularity), C(os), C(send_tests) and
        C(allowed_vos), as in osg-configure's C(35-pilot.ini), C(allowed_vos) as a list.
      - These are the items of the C(htcondor_ce) role's C(htcondor_ce_pilots).
    type: list
    elements: dict
    required: true
  mappings:
    description:
      - The SciTokens mappings, as the C(htcondor_ce) role's C(htcondor_ce_scitokens_mappings); those with a C(vo)
        give that VO's pilots their C(Owner) (the mapped user), C(AuthTokenIssuer) and C(AuthTokenSubject).
    type: list
    elements: dict
    required: true
  routes:
    description: The routes in matching order, as M(osg_htc.site.ce_job_route) takes them.
    type: list
    elements: dict
    required: true
  requests:
    description:
      - What the checked pilot job carries from its entry, as the factory's pilots request it, from V(cpus)
        (C(xcount), C(RequestCpus)), V(memory) (C(maxMemory)), V(gpus) (C(RequestGPUs)), V(wall_time)
        (C(maxWallTime)), V(whole_node) (C(WantWholeNode)) and V(queue) (C(queue)). What it does not carry, the
        route's C(default_*) values or the CE's defaults decide.
    type: list
    elements: str
    default: [cpus, memory, gpus, wall_time, whole_node]
  routed_job_max_time:
    description: The CE's C(ROUTED_JOB_MAX_TIME) in minutes (the wall time when neither job nor route gives one).
    type: int
    default: 4320
seealso:
  - plugin: osg_htc.site.ce_route_match
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Refuse a catalog that the routes do not serve
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('; ') }}"
  vars:
    __problems: >-
      {{ htcondor_ce_pilots | osg_htc.site.resource_catalog_problems(
           mappings=htcondor_ce_scitokens_mappings, routes=htcondor_ce_routes) }}
"""

RETURN = r"""
_value:
  description: The problems, each a sentence naming the entry and the value, or a table of the pilots not served.
  type: list
  elements: str
"""


def resource_catalog_problems(pilots, mappings, routes, requests=DEFAULT_REQUESTS, routed_job_max_time=None):
    """Every problem of ``pilots`` and of how ``routes`` serve them; see DOCUMENTATION."""
    try:
        return catalog_problems(pilots, mappings, routes, requests, routed_job_max_time)
    except MatchError as exc:
        raise AnsibleFilterError(f"resource_catalog_problems: cannot route the pilots:\n{exc}") from None
    except RuntimeError as exc:
        raise AnsibleFilterError(f"resource_catalog_problems: {exc}") from None


class FilterModule:
    """The ``resource_catalog_problems`` filter."""

    def filters(self):
        return {"resource_catalog_problems": resource_catalog_problems}
