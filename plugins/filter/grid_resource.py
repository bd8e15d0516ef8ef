# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.grid_resource`` filter: the GridResource value of an HTCondor-CE batch route."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.module_utils import _grid_resource

DOCUMENTATION = r"""
name: grid_resource
short_description: Build the GridResource of an HTCondor-CE route to a batch system
version_added: 0.1.0
author:
  - Contributors to the osg_htc.site collection
description:
  - Returns C(batch <batch>) for a batch system reached from the CE itself, or C(batch <batch> <endpoint>)
    for a remote cluster reached through SSH (HTCondor-CE-Bosco), for example C(batch slurm osg01@login.example.edu).
  - The result is plain text. Pass it through P(osg_htc.site.classad_quote#filter) to write it as
    C(GridResource = "...") in a job route.
options:
  _input:
    description: The batch system, in lower case.
    type: str
    required: true
    choices: [pbs, slurm, lsf, sge, condor]
  endpoint:
    description:
      - The SSH endpoint of a remote cluster, C([user@]host[:port]), as given to C(condor_remote_cluster -a).
        Omit it (or pass V(null)) for a batch system on the CE host.
      - C(user) is a portable login name, C([A-Za-z_][A-Za-z0-9_.-]*). Upper case is accepted because
        some sites take accounts from a directory service; C($) (Samba machine accounts) is not.
      - C(host) is a DNS host name (labels of 1 to 63 letters, digits or hyphens that do not start or end
        with a hyphen, at most 253 characters, no trailing dot, no underscore) or an IPv4 address in
        dotted-decimal form. IPv6 addresses are not accepted.
      - C(port) is a decimal number from 1 to 65535.
    type: str
positional: _input, endpoint
seealso:
  - plugin: osg_htc.site.classad_quote
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Route jobs to the local Slurm cluster and to a remote PBS cluster
  ansible.builtin.copy:
    dest: /etc/condor-ce/config.d/90-local-routes.conf
    content: |
      JOB_ROUTER_ROUTE_Slurm_Cluster @=jrt
        TargetUniverse = 9
        GridResource = {{ 'slurm' | osg_htc.site.grid_resource | osg_htc.site.classad_quote }}
      @jrt
      JOB_ROUTER_ROUTE_Remote_PBS @=jrt
        TargetUniverse = 9
        GridResource = {{ 'pbs' | osg_htc.site.grid_resource(pbs_endpoint) | osg_htc.site.classad_quote }}
      @jrt
      JOB_ROUTER_ROUTE_NAMES = Slurm_Cluster Remote_PBS
    mode: "0644"
  vars:
    pbs_endpoint: osg01@login.example.edu:2222

- name: Show the results (the comment after each item is the text it produces)
  ansible.builtin.debug:
    msg:
      - "{{ 'slurm' | osg_htc.site.grid_resource }}"  # batch slurm
      - "{{ 'slurm' | osg_htc.site.grid_resource('osg01@login.example.edu') }}"  # batch slurm osg01@login.example.edu
"""

RETURN = r"""
_value:
  description: The GridResource text, C(batch <batch>) or C(batch <batch> <endpoint>).
  type: string
"""


def grid_resource(batch, endpoint=None):
    """Return ``batch <batch>`` or ``batch <batch> <endpoint>``; see DOCUMENTATION."""
    try:
        return _grid_resource.grid_resource(batch, endpoint)
    except ValueError as exc:
        raise AnsibleFilterError(f"grid_resource: {exc}") from None


class FilterModule:
    """The ``grid_resource`` filter."""

    def filters(self):
        return {"grid_resource": grid_resource}
