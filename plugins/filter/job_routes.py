# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.job_routes`` filter: HTCondor-CE job routes rendered as a configuration file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import check_config_text
from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import RouteError, render_routes

DOCUMENTATION = r"""
name: job_routes
short_description: Render HTCondor-CE job routes as a configuration file in the ClassAd transform syntax
version_added: 0.1.0
author:
  - Contributors to the osg_htc.site collection
description:
  - Renders a list of routes, in the form M(osg_htc.site.ce_job_route) takes in its
    O(osg_htc.site.ce_job_route#module:routes) option, to the text that module writes, with the same code
    and the same checks, so a template can use it.
  - Every problem is reported at once, naming the route, the key or command line and the problem.
  - ClassAd expressions are checked with C(classad2) where the HTCondor Python bindings are installed on the
    controller; otherwise a warning says that only quotes and brackets were checked.
  - Every line of a route must stay one line of its block (no line break or control character, no trailing
    backslash, no leading C(@)); with the bindings, HTCondor's configuration parser then reads the text back and
    must find exactly the routes rendered, so no value can add a setting to the file.
  - The keys, their render order and the value rule are described in the module's documentation and in
    docs/job-routes.md of the collection.
options:
  _input:
    description: The routes, in matching order.
    type: list
    elements: dict
    required: true
  check_expressions:
    description: Check the ClassAd expressions (one child process for all of them).
    type: bool
    default: true
seealso:
  - module: osg_htc.site.ce_job_route
"""

EXAMPLES = r"""
- name: Write the routes with a template of your own
  ansible.builtin.copy:
    dest: /etc/condor-ce/config.d/20-site-routes.conf
    content: "{{ routes | osg_htc.site.job_routes }}"
    mode: "0644"
  vars:
    routes:
      - name: Slurm_Cluster
        grid_resource: {batch: slurm}
        default_queue: osg
"""

RETURN = r"""
_value:
  description: The configuration file text, C(JOB_ROUTER_ROUTE_<name>) blocks then C(JOB_ROUTER_ROUTE_NAMES).
  type: string
"""

display = Display()


def job_routes(routes, check_expressions=True):
    """Render ``routes``; see DOCUMENTATION."""
    try:
        rendered = render_routes(routes, check_expressions=check_expressions)
    except RouteError as exc:
        raise AnsibleFilterError(f"job_routes: invalid routes:\n{exc}") from None
    for warning in rendered.warnings:
        display.warning(f"job_routes: {warning}")
    if check_expressions:
        check = check_config_text(rendered.text, readback=rendered.settings)
        if check.ok is False:
            raise AnsibleFilterError(f"job_routes: HTCondor's parser rejects the rendered routes: {check.error}")
    return rendered.text


class FilterModule:
    """The ``job_routes`` filter."""

    def filters(self):
        return {"job_routes": job_routes}
