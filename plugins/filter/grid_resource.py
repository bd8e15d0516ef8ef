# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.grid_resource`` filter: the GridResource value of an HTCondor-CE batch route."""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.module_utils._classad import short_repr, type_name

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
      JOB_ROUTER_ROUTE_Local_Slurm @=jrt
        TargetUniverse = 9
        GridResource = {{ 'slurm' | osg_htc.site.grid_resource | osg_htc.site.classad_quote }}
      @jrt
      JOB_ROUTER_ROUTE_Remote_PBS @=jrt
        TargetUniverse = 9
        GridResource = {{ 'pbs' | osg_htc.site.grid_resource(pbs_endpoint) | osg_htc.site.classad_quote }}
      @jrt
      JOB_ROUTER_ROUTE_NAMES = Local_Slurm Remote_PBS
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

BATCH_SYSTEMS = ("pbs", "slurm", "lsf", "sge", "condor")

USER_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_.-]*\Z")
LABEL_RE = re.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
PORT_RE = re.compile(r"\A[0-9]{1,5}\Z")
ENDPOINT_FORM = "[user@]host[:port]"


def _fail(endpoint, problem):
    raise AnsibleFilterError(f"grid_resource: endpoint {short_repr(endpoint)} {problem}; expected {ENDPOINT_FORM}")


def _check_host(endpoint, host):
    if not host:
        _fail(endpoint, "has no host")
    labels = host.split(".")
    if all(label.isascii() and label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            _fail(endpoint, f"has host {short_repr(host)}, which is all digits but not an IPv4 address a.b.c.d")
        return
    if len(host) > 253:
        _fail(endpoint, f"has a host name of {len(host)} characters; at most 253 are allowed")
    for label in labels:
        if not LABEL_RE.match(label):
            _fail(
                endpoint,
                f"has host {short_repr(host)} with invalid label {short_repr(label)}: a label is 1 to 63 "
                "letters, digits or hyphens and does not start or end with a hyphen (no trailing dot, "
                "no underscore; IPv6 addresses are not supported)",
            )


def _check_endpoint(endpoint):
    if not isinstance(endpoint, str):
        raise AnsibleFilterError(
            f"grid_resource: endpoint must be a string {ENDPOINT_FORM} or null, not a {type_name(endpoint)} "
            f"{short_repr(endpoint)}"
        )
    if not endpoint:
        _fail(endpoint, "is empty (omit it, or pass null, for a batch system on the CE host)")
    if any(char.isspace() or not char.isprintable() for char in endpoint):
        _fail(endpoint, "contains whitespace or a control character")
    rest = endpoint
    if "[" in rest or rest.count(":") > 1:
        _fail(endpoint, "looks like an IPv6 address; IPv6 addresses are not supported, use a host name")
    if "@" in rest:
        user, rest = rest.split("@", 1)
        if not USER_RE.match(user):
            _fail(
                endpoint,
                f"has user {short_repr(user)}, which is not a login name [A-Za-z_][A-Za-z0-9_.-]*",
            )
    if ":" in rest:
        host, port = rest.split(":", 1)
        if not PORT_RE.match(port) or not 1 <= int(port) <= 65535:
            _fail(endpoint, f"has port {short_repr(port)}; a port is a number from 1 to 65535")
    else:
        host = rest
    _check_host(endpoint, host)


def grid_resource(batch, endpoint=None):
    """Return ``batch <batch>`` or ``batch <batch> <endpoint>``; see DOCUMENTATION."""
    if not isinstance(batch, str) or batch not in BATCH_SYSTEMS:
        raise AnsibleFilterError(
            f"grid_resource: batch system {short_repr(batch)} is not valid; use one of "
            f"{', '.join(BATCH_SYSTEMS)} (lower case)"
        )
    if endpoint is None:
        return f"batch {batch}"
    _check_endpoint(endpoint)
    return f"batch {batch} {endpoint}"


class FilterModule:
    """The ``grid_resource`` filter."""

    def filters(self):
        return {"grid_resource": grid_resource}
