# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.topology_resource_group`` filter: a site's OSG Topology resource group, checked offline."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.plugin_utils._topology import (
    checkout_problems,
    dump,
    resource_group,
    site_resources,
)

DOCUMENTATION = r"""
name: topology_resource_group
short_description: Render a site's OSG Topology resource group YAML and check it as Topology's tests do
version_added: 0.2.0
author:
  - Contributors to the osg_htc.site collection
description:
  - A CE or an Access Point is registered in OSG Topology (opensciencegrid/topology) as a resource of a resource
    group, in a YAML file C(topology/<Facility>/<Site>/<ResourceGroup>.yaml) sent as a pull request. This filter
    makes that file's document from the group's settings and its resources, and lists every problem.
  - The checks are those of Topology's C(src/tests/verify_resources.py) that can run offline (unique resource
    names, known services, C(VOOwnership) at most 100, contact lists with well-formed contact IDs), plus an
    administrative and a security contact on every resource and unique FQDNs. With O(checkout), a clone of
    opensciencegrid/topology, also those that need it (known support center, services and VOs, resource group,
    resource names and FQDNs not used by another file, C(SITE.yaml) present).
  - The C(osg_htc.site.topology) playbook runs it over the inventory; docs/topology.md in the collection has the
    rules and their sources.
options:
  _input:
    description: The group, C(name), C(production) (default V(true)), C(support_center), C(description), C(contacts).
    type: dict
    required: true
  resources:
    description:
      - The resources, each C(name) (the Topology resource name, which is also the host's Gratia C(SiteName)),
        C(fqdn), C(services) (service name to description), and optionally C(description), C(active) (default
        V(false), as Topology asks for a new resource), C(contacts) (else the group's), C(dn), C(fqdn_aliases),
        C(tags), C(vo_ownership), C(host) and C(name_from) (the inventory host and variable, for messages).
      - C(contacts) maps C(administrative) and C(security) each to a list of one to three contacts (Primary,
        Secondary, Tertiary), each with C(name) and C(id); an ID is 40 lower-case hex digits or C(OSG<digits>).
      - Give this or O(hosts).
    type: list
    elements: dict
  hosts:
    description:
      - The variables of the inventory hosts, one resource each (C(query('inventory_hostnames', pattern) |
        map('extract', hostvars) | list)). The name is C(access_point_gratia_site_name) on an Access Point (a host
        in O(access_points)) and C(htcondor_ce_site_name) on a CE, the service C(Submit Node) (tag C(OSPool)) or
        C(CE); C(topology_fqdn) (default the inventory name), C(topology_services), C(topology_description),
        C(topology_active), C(topology_contacts), C(topology_dn), C(topology_fqdn_aliases), C(topology_tags) and
        C(topology_vo_ownership) give the rest.
    type: list
    elements: dict
  access_points:
    description: The inventory names of the hosts in O(hosts) that are Access Points.
    type: list
    elements: str
    default: []
  path:
    description: Where the file goes in the checkout, relative to its C(topology/) directory.
    type: str
  checkout:
    description: A clone of opensciencegrid/topology on the controller, for the checks that need it.
    type: path
"""

EXAMPLES = r"""
- name: Render the resource group and fail on any problem
  vars:
    rg: "{{ {'name': 'EXAMPLE_EDU', 'support_center': 'Self Supported', 'description': 'Example cluster',
             'contacts': contacts} | osg_htc.site.topology_resource_group(resources=resources) }}"
  ansible.builtin.assert:
    that: rg.problems | length == 0
    fail_msg: "{{ rg.problems | join('; ') }}"
"""

RETURN = r"""
_value:
  description: C(document) (the resource group), C(text) (it as YAML) and C(problems) (sentences naming the value).
  type: dict
"""


def topology_resource_group(group, resources=None, hosts=None, access_points=(), path=None, checkout=None):
    """The resource group of ``group`` and ``resources`` (or ``hosts``); see DOCUMENTATION."""
    if not isinstance(group, Mapping):
        raise AnsibleFilterError(f"topology_resource_group: the group is a {type(group).__name__}, not a mapping")
    if (resources is None) == (hosts is None):
        raise AnsibleFilterError("topology_resource_group: give resources or hosts, not both and not neither")
    if hosts is not None:
        if not isinstance(hosts, list) or not all(isinstance(item, Mapping) for item in hosts):
            raise AnsibleFilterError("topology_resource_group: hosts is not a list of host variables")
        resources = site_resources(hosts, list(access_points or ()))
    if not isinstance(resources, list) or not all(isinstance(item, Mapping) for item in resources):
        raise AnsibleFilterError("topology_resource_group: resources is not a list of mappings")
    document, problems = resource_group(group, resources)
    if checkout and not problems:
        problems = checkout_problems(document, group["name"], path or f"{group['name']}.yaml", checkout)
    return {"document": document, "text": dump(document), "problems": problems}


class FilterModule:
    """The ``topology_resource_group`` filter."""

    def filters(self):
        return {"topology_resource_group": topology_resource_group}
