# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.topology_downtimes`` filter: OSG Topology downtime entries for chosen resources."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.plugin_utils._topology import (
    SCHEDULED_NOTICE_HOURS,
    TopologyError,
    downtimes,
    render_downtimes,
    site_resources,
)

DOCUMENTATION = r"""
name: topology_downtimes
short_description: Make the OSG Topology downtime entries of chosen resources, with the right class
version_added: 0.2.0
author:
  - Contributors to the osg_htc.site collection
description:
  - A site declares a downtime by adding an entry per resource to
    C(topology/<Facility>/<Site>/<ResourceGroup>_downtime.yaml) in opensciencegrid/topology, in a pull request of
    its own. This filter makes those entries in the order
    and form of Topology's C(template-downtime.yaml).
  - C(Class) is V(SCHEDULED) when the downtime is declared at least O(notice_hours) before it starts, else
    V(UNSCHEDULED). C(ID) is what Topology's web form computes (tenths of a second since Unix time
    1,535,000,000), plus one per further entry. Times are written as C(Mar 28, 2017 22:00 -0500).
  - A resource that O(existing) already has a downtime for, with the same start, end and services, gets no new
    entry, so running again adds nothing.
  - Bad input (a time without its UTC offset, an end not after the start, an unknown severity or service) raises
    an error naming it.
options:
  _input:
    description:
      - The resources, each C(name) (the Topology resource name) and C(services) (Topology service names); or the
        variables of inventory hosts (C(hostvars[host]), recognized by C(inventory_hostname)), whose resource and
        services are those P(osg_htc.site.topology_resource_group#filter) gives them.
    type: list
    elements: dict
    required: true
  access_points:
    description: The inventory names of the Access Points among the hosts given as host variables.
    type: list
    elements: str
    default: []
  services:
    description:
      - The services that go down; each resource declares those of them it has (one at least). Omitted, all of
        each resource's services.
    type: list
    elements: str
  start:
    description: The start, with its UTC offset, as C(2026-12-05 08:00 -0600), ISO 8601 or Topology's own form.
    type: str
    required: true
  end:
    description: The end, in the same forms.
    type: str
    required: true
  severity:
    description: How much is affected.
    type: str
    choices: [Outage, Severe, Intermittent Outage, No Significant Outage Expected]
    required: true
  description:
    description: The reason for the downtime.
    type: str
    required: true
  created:
    description: When the downtime is declared (now), in the same forms.
    type: str
    required: true
  notice_hours:
    description: The notice, in hours, from which a downtime is V(SCHEDULED) (Topology's template says 48).
    type: int
    default: 48
  existing:
    description: The entries already in the downtime file, as its text or loaded; a file that is not a YAML list is
      an error.
    type: raw
"""

EXAMPLES = r"""
- name: Show the downtime entry of a CE
  ansible.builtin.debug:
    msg: >-
      {{ [{'name': 'EXAMPLE_CE1', 'services': ['CE']}] | osg_htc.site.topology_downtimes(
           start='2026-12-10 08:00 -0600', end='2026-12-10 17:00 -0600', severity='Outage',
           description='Kernel update', created=now(utc=true).strftime('%Y-%m-%d %H:%M +0000')) }}
"""

RETURN = r"""
_value:
  description: C(entries) (the new entries) and C(text) (them as YAML to append to the downtime file).
  type: dict
"""


def topology_downtimes(
    resources,
    start,
    end,
    severity,
    description,
    created,
    notice_hours=SCHEDULED_NOTICE_HOURS,
    existing=None,
    access_points=(),
    services=None,
):
    """The new downtime entries; see DOCUMENTATION."""
    if not isinstance(resources, list) or not all(isinstance(item, Mapping) for item in resources):
        raise AnsibleFilterError("topology_downtimes: the resources are not a list of mappings")
    resources = [
        {"name": item["name"], "services": list(item["services"] or {}), "host": item["host"]}
        for item in site_resources([r for r in resources if "inventory_hostname" in r], list(access_points or ()))
    ] + [r for r in resources if "inventory_hostname" not in r]
    # ansible-core 2.16 renders a none in a multi-line template as "": not given either.
    if services is not None and services != "":
        if not isinstance(services, list) or not all(isinstance(item, str) for item in services):
            raise AnsibleFilterError(f"topology_downtimes: services is {services!r}, not a list of service names")
        chosen = []
        for resource in resources:
            down = [service for service in resource.get("services") or [] if service in services]
            if not down:
                raise AnsibleFilterError(
                    f"topology_downtimes: resource {resource.get('name')} has none of the services {services} "
                    f"(it has {list(resource.get('services') or [])})"
                )
            chosen.append({**resource, "services": down})
        resources = chosen
    try:
        entries = downtimes(resources, start, end, severity, description, created, notice_hours, existing)
    except TopologyError as exc:
        raise AnsibleFilterError(f"topology_downtimes: {exc}") from None
    return {"entries": entries, "text": render_downtimes(entries)}


class FilterModule:
    """The ``topology_downtimes`` filter."""

    def filters(self):
        return {"topology_downtimes": topology_downtimes}
