# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.ce_route_match`` filter: which HTCondor-CE job route each job would take."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.module_utils._classad import short_repr
from ansible_collections.osg_htc.site.plugins.module_utils._route_match import (
    ROUTED_JOB_MAX_TIME,
    MatchError,
    check_expectations,
    route_match,
)

DOCUMENTATION = r"""
name: ce_route_match
short_description: Which HTCondor-CE job route each job would take, decided with HTCondor's ClassAd engine
version_added: 0.1.0
author:
  - Contributors to the osg_htc.site collection
description:
  - The controller-side twin of M(osg_htc.site.ce_route_match), with the same code and the same rules. The
    routes are tried in order, the first whose C(REQUIREMENTS) is true for the job takes it, a route without
    C(REQUIREMENTS) takes every job, and the job's C(AuthToken*) attributes are renamed C(orig_AuthToken*) first.
    A job no route takes is unrouted; on a real CE it is held after 30 minutes idle.
  - Needs the HTCondor Python bindings (C(classad2), from C(python3-condor) or the C(htcondor) wheel) for the
    controller's Python; all jobs are matched against all routes in one child process.
  - Bad input (a job without a name, two jobs with one name, an ad or C(REQUIREMENTS) that does not parse, an
    O(expect) naming an unknown job or route) raises an error naming it; so does a job routed otherwise than
    O(expect) says, with a table of job, expected route, actual route and deciding expression.
  - The rules and a worked example are in docs/route-matching.md of the collection.
options:
  _input:
    description:
      - The jobs, each a mapping with a unique C(name), its C(ad), a mapping of attribute to literal value
        or ClassAd text (C([ Owner = "x"; ]) or one C(Attr = value) per line), and optionally C(expect), the route
        the job must take or V(null), as in O(expect).
      - The items of the C(htcondor_ce) role's C(htcondor_ce_route_tests) have this shape and can be given as
        they are.
      - The rules for names, values and numbers are those of the module's
        O(osg_htc.site.ce_route_match#module:jobs) option.
    type: list
    elements: dict
    required: true
  routes:
    description:
      - The routes in matching order, as M(osg_htc.site.ce_job_route) takes them in
        O(osg_htc.site.ce_job_route#module:routes). Give this or O(routes_file).
    type: list
    elements: dict
  routes_file:
    description: A routes file on the controller written by M(osg_htc.site.ce_job_route) or the
      P(osg_htc.site.job_routes#filter) filter.
    type: path
  expect:
    description:
      - Job name to the route it must take, or to V(null) for a job that no route may take.
      - A job may also carry its own C(expect) in O(_input); naming it here too with another route is an error.
    type: dict
  routed_job_max_time:
    description:
      - The CE's C(ROUTED_JOB_MAX_TIME) in minutes, the wall time when neither job nor route gives one.
      - A whole number from V(1) to V(153722867280912930).
    type: int
    default: 4320
seealso:
  - module: osg_htc.site.ce_route_match
  - module: osg_htc.site.ce_job_route
"""

EXAMPLES = r"""
- name: Fail early when a pilot would not land on the route meant for it
  ansible.builtin.assert:
    that: (pilots | osg_htc.site.ce_route_match(routes=ce_routes)).unrouted == []
  vars:
    ce_routes:
      - name: ATLAS
        grid_resource: {batch: slurm}
        requirements: 'regexp("^usatlas", Owner)'
        default_queue: atlas
    pilots:
      - name: atlas_pilot
        ad: {Owner: usatlas1, xcount: 8}

- name: Show the batch queue of each job
  ansible.builtin.debug:
    msg: "{{ (pilots | osg_htc.site.ce_route_match(routes=ce_routes, expect={'atlas_pilot': 'ATLAS'})).matches
             | map(attribute='queue') }}"
"""

RETURN = r"""
_value:
  description:
    - A mapping with C(matches) (one entry per job with C(job), C(route), C(grid_resource), C(universe), C(queue),
      C(xcount), C(maxMemory), C(maxWallTime), C(BatchRuntime), C(variables), C(deciding_expression)),
      C(unrouted) (job names), C(routes) (route names in order) and C(mismatches) (always empty, since a
      mismatch raises), as the module returns them.
  type: dict
"""


def ce_route_match(jobs, routes=None, routes_file=None, expect=None, routed_job_max_time=ROUTED_JOB_MAX_TIME):
    """Match ``jobs`` to ``routes`` (or the routes of ``routes_file``); see DOCUMENTATION."""
    text = None
    if routes_file is not None:
        if not isinstance(routes_file, str) or "\x00" in routes_file:
            raise AnsibleFilterError(f"ce_route_match: routes_file {short_repr(routes_file)} is not a path")
        try:
            with open(routes_file, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise AnsibleFilterError(f"ce_route_match: cannot read routes_file {routes_file}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise AnsibleFilterError(
                f"ce_route_match: cannot read routes_file {routes_file}: not valid UTF-8 "
                f"({exc.reason} at byte {exc.start})"
            ) from None
    try:
        result = route_match(
            jobs,
            routes=routes,
            routes_text=text,
            routes_source=f"routes_file {routes_file}",
            expect=expect,
            routed_job_max_time=routed_job_max_time,
        )
    except MatchError as exc:
        raise AnsibleFilterError(f"ce_route_match: cannot match the jobs to the routes:\n{exc}") from None
    except RuntimeError as exc:
        raise AnsibleFilterError(f"ce_route_match: {exc}") from None
    failure = check_expectations(result)
    if failure:
        raise AnsibleFilterError(f"ce_route_match: {failure}")
    return result


class FilterModule:
    """The ``ce_route_match`` filter."""

    def filters(self):
        return {"ce_route_match": ce_route_match}
