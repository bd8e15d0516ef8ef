#!/usr/bin/python
# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: ce_route_match
short_description: Show which HTCondor-CE job route each job would take, and assert a routing policy
version_added: 0.1.0
author:
  # validate-modules wants a GitHub handle or !UNKNOWN after each author.
  - Contributors to the osg_htc.site collection (!UNKNOWN)
description:
  - Decides offline, with HTCondor's own ClassAd engine (C(classad2)), which job route each of O(jobs) would take
    on an HTCondor-CE, the way C(condor_ce_job_router_info -match-jobs) does on a running CE. Nothing on the host
    changes, so it is safe in CI and in check mode.
  - The routes are tried in C(JOB_ROUTER_ROUTE_NAMES) order (the order of O(routes), or of the names in
    O(routes_file)); the first whose C(REQUIREMENTS) evaluates to true takes the job. A route without
    C(REQUIREMENTS) takes every job that reaches it. A job no route takes is reported as unrouted; on a real CE
    such a job is held after it has been idle for 30 minutes (and removed after 24 hours on hold).
  - Expressions are evaluated with the job as the ad they refer to, so C(Owner), C(MY.Owner) and C(TARGET.Owner)
    all name the job's C(Owner). First the job's C(AuthToken*) attributes are renamed C(orig_AuthToken*), as the
    CE's C(OrigRequests) pre-route transform does, so routes match token identities with
    C(orig_AuthTokenIssuer) and C(orig_AuthTokenSubject). A C(REQUIREMENTS) that evaluates to undefined, an
    error or false does not match; a non-zero number counts as true, as in HTCondor.
  - For each routed job it returns the route's C(GridResource), its C(default_*) variables and the values the
    CE's post-route transforms would give the routed job (batch queue, cores, memory, wall time).
  - With O(expect), a job routed otherwise than expected fails the task with a table of job, expected route,
    actual route and the deciding expression.
  - All jobs are matched against all routes in one child process; the HTCondor Python bindings
    (C(python3-condor), or the C(htcondor) wheel) must be importable by the module's Python. A job or route the
    ClassAd engine cannot parse or evaluate (for example an expression nested too deeply) fails the task naming
    it; the child process may take at most 300 seconds.
  - The worked example and the rules are in docs/route-matching.md in the collection.
extends_documentation_fragment:
  - osg_htc.site._attributes
  - osg_htc.site._attributes.info_module
options:
  routes:
    description:
      - The routes, in matching order, exactly as M(osg_htc.site.ce_job_route) takes them in its
        O(osg_htc.site.ce_job_route#module:routes) option. They are validated and rendered by the same code,
        then matched as rendered.
      - Mutually exclusive with O(routes_file); one of them is required.
    type: list
    elements: dict
  routes_file:
    description:
      - A routes file on the managed host written by M(osg_htc.site.ce_job_route) (or rendered with the
        P(osg_htc.site.job_routes#filter) filter), for example C(/etc/condor-ce/config.d/20-osg-htc-routes.conf).
    type: path
  jobs:
    description:
      - The jobs to route, each a mapping with a unique C(name) (used in the results and in O(expect)), its C(ad),
        and optionally C(expect), the route the job must take (or V(null) for a job no route may take), as in
        O(expect). These are the items of the C(htcondor_ce) role's C(htcondor_ce_route_tests), which can be
        passed on as they are.
      - C(ad) is the job ClassAd as it arrives at the CE. Either a mapping of attribute to value (values are literal
        values, so V(usatlas1) is the string C("usatlas1")), or ClassAd text, in the new form
        C([ Owner = "usatlas1"; queue = "prod" ]) or as one C(Attr = value) per line as C(condor_ce_q -l) prints it.
        In text, values are ClassAd expressions.
      - In a mapping, names are ClassAd attribute names, each once whatever its case; values are strings,
        booleans, V(null), lists or mappings nested at most 32 levels, and numbers that are finite and, for
        integers, within ClassAd's 64-bit range (-2^63 to 2^63-1).
      - Typical pilot attributes are C(Owner), C(queue), C(xcount), C(maxMemory), C(maxWallTime), C(RequestCpus),
        C(AuthTokenIssuer) and C(AuthTokenSubject) (renamed C(orig_AuthToken*) before matching).
      - The numbers the CE's transforms compute with, C(xcount), C(RequestCpus), C(maxMemory), C(BatchRuntime)
        and the route's C(default_xcount) and C(default_maxMemory), must evaluate to finite numbers from 0 to
        2^63-1; C(maxWallTime) and C(default_maxWallTime) (minutes) from 0 to 153722867280912930, so that
        C(BatchRuntime), 60 times that in seconds, is a ClassAd integer.
      - A job without a name, two jobs with one name, an ad that does not parse and a number out of its range fail
        the task, naming the job and the attribute.
    type: list
    elements: dict
    required: true
  expect:
    description:
      - The route each job must take, a mapping of job name to route name, or to V(null) for a job that no route
        may take. Jobs not named are not checked. A job routed otherwise fails the task, listing every such job.
      - A job may also carry its own C(expect) in O(jobs); naming it here too with another route fails the task.
    type: dict
  routed_job_max_time:
    description:
      - The CE's C(ROUTED_JOB_MAX_TIME) in minutes, the wall time of a job when neither the job nor the route gives
        one. The default is the value of the C(htcondor-ce) package's C(/etc/condor-ce/config.d/01-ce-router.conf).
      - A whole number from V(1) to V(153722867280912930).
    type: int
    default: 4320
notes:
  - Only the unconditional C(REQUIREMENTS), C(GridResource), C(UNIVERSE)/C(TargetUniverse) and C(default_*) lines
    of a route are read; such a line inside an C(if) block fails the task, since it cannot be decided offline.
    C($(name)) references to variables set earlier in the same route are expanded; other configuration macros
    in C(REQUIREMENTS) or C(default_*) values fail the task.
  - C(JOB_ROUTER_SOURCE_JOB_CONSTRAINT), route job limits (C(MaxJobs), C(MaxIdleJobs)) and failure throttling,
    which a running CE also applies, are not modelled.
seealso:
  - module: osg_htc.site.ce_job_route
  - plugin: osg_htc.site.ce_route_match
    plugin_type: filter
  - name: HTCondor-CE, Writing Job Routes
    description: Route requirements and the route variables the CE's transforms use.
    link: https://htcondor.com/htcondor-ce/v24/configuration/writing-job-routes/
  - name: HTCondor manual, The HTCondor Job Router
    description: Route order (JOB_ROUTER_ROUTE_NAMES) and the routing table commands.
    link: https://htcondor.readthedocs.io/en/latest/grid-computing/job-router.html
"""

EXAMPLES = r"""
- name: Check the routing policy before the routes are installed
  osg_htc.site.ce_route_match:
    routes:
      - name: ATLAS
        grid_resource: {batch: slurm}
        requirements: 'regexp("^usatlas", Owner)'
        default_queue: atlas
      - name: CMS
        grid_resource: {batch: slurm}
        requirements: 'orig_AuthTokenIssuer == "https://cms-auth.web.cern.ch/"'
        default_queue: cms
    jobs:
      - name: atlas_pilot
        ad: {Owner: usatlas1, xcount: 8}
      - name: cms_pilot
        ad: {Owner: cmspilot, AuthTokenIssuer: "https://cms-auth.web.cern.ch/"}
      - name: stranger
        ad: '[ Owner = "someone"; ]'
    expect:
      atlas_pilot: ATLAS
      cms_pilot: CMS
      stranger: null

- name: Show where a pilot would land with the installed routes
  osg_htc.site.ce_route_match:
    routes_file: /etc/condor-ce/config.d/20-osg-htc-routes.conf
    jobs:
      - name: pilot
        ad: |
          Owner = "osg"
          queue = "prod"
          maxMemory = 4000
  register: routing

- name: Print the route and batch queue
  ansible.builtin.debug:
    msg: "{{ routing.matches[0].route }} -> {{ routing.matches[0].queue }}"
"""

RETURN = r"""
matches:
  description: One entry per job, in the order of O(jobs).
  returned: always
  type: list
  elements: dict
  contains:
    job:
      description: The job's name.
      type: str
    route:
      description: The route that takes the job; null when no route does.
      type: str
    grid_resource:
      description: The route's C(GridResource) (null for a route without one, such as an HTCondor pool route).
      type: str
    universe:
      description: The universe of the routed job (9 grid, 5 vanilla).
      type: int
    queue:
      description: The batch queue, the job's C(queue) else the route's C(default_queue); null when neither is set.
      type: str
    xcount:
      description: Cores, the job's C(xcount), else its C(RequestCpus) when above 1, else C(default_xcount), else 1.
      type: int
    maxMemory:
      description: Memory in MB, the job's C(maxMemory), else C(default_maxMemory), else 2000.
      type: int
    maxWallTime:
      description:
        - Wall time in minutes, the job's C(maxWallTime), else its C(BatchRuntime) in minutes, else
          C(default_maxWallTime), else O(routed_job_max_time).
      type: raw
    BatchRuntime:
      description: The same wall time in seconds, as the CE sets C(BatchRuntime).
      type: raw
    variables:
      description: The route's C(default_queue), C(default_xcount), C(default_maxMemory) and C(default_maxWallTime)
        that are set, evaluated for this job.
      type: dict
    deciding_expression:
      description: The C(REQUIREMENTS) of the route that took the job; null when unrouted or when the route has none.
      type: str
  sample:
    - job: atlas_pilot
      route: ATLAS
      grid_resource: batch slurm
      universe: 9
      queue: atlas
      xcount: 8
      maxMemory: 2000
      maxWallTime: 4320
      BatchRuntime: 259200
      variables: {default_queue: atlas}
      deciding_expression: regexp("^usatlas", Owner)
unrouted:
  description: Names of the jobs no route takes.
  returned: always
  type: list
  elements: str
  sample: [stranger]
routes:
  description: Names of the routes, in matching order.
  returned: always
  type: list
  elements: str
  sample: [ATLAS, CMS]
mismatches:
  description:
    - The jobs routed otherwise than O(expect) says, each with C(job), C(expected), C(actual) (route names, null
      for unrouted) and C(deciding_expression), the expression that settled the route. That is the
      C(REQUIREMENTS) of the expected route with what it evaluated to, when that route comes first or the job is
      unrouted; otherwise the C(REQUIREMENTS) of the route that took the job. The task fails when it is not empty.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osg_htc.site.plugins.module_utils._arguments import fail_overflowing
from ansible_collections.osg_htc.site.plugins.module_utils._files import FileError, read_input_text
from ansible_collections.osg_htc.site.plugins.module_utils._route_match import (
    MAX_MINUTES,
    ROUTED_JOB_MAX_TIME,
    MatchError,
    check_expectations,
    route_match,
)

ARGUMENT_SPEC = dict(
    routes=dict(type="list", elements="dict"),
    routes_file=dict(type="path"),
    # Jobs are checked by _route_match (the filter shares the checks and their messages).
    jobs=dict(type="list", elements="dict", required=True),
    expect=dict(type="dict"),
    routed_job_max_time=dict(type="int", default=ROUTED_JOB_MAX_TIME),
)
MODULE_OPTIONS = dict(
    mutually_exclusive=[("routes", "routes_file")],
    required_one_of=[("routes", "routes_file")],
    supports_check_mode=True,
)


def main():
    try:
        module = AnsibleModule(argument_spec=ARGUMENT_SPEC, **MODULE_OPTIONS)
    except OverflowError:  # infinity for an int option, on some ansible-core releases
        valid = {"routed_job_max_time": f"a whole number of minutes from 1 to {MAX_MINUTES}"}
        fail_overflowing(ARGUMENT_SPEC, valid, **MODULE_OPTIONS)
    params = module.params
    result = dict(changed=False, matches=[], unrouted=[], routes=[], mismatches=[])
    text = None
    if params["routes_file"]:
        try:
            text = read_input_text(params["routes_file"], "routes_file")
        except FileError as exc:
            module.fail_json(msg=str(exc), **result)
    try:
        found = route_match(
            params["jobs"],
            routes=params["routes"],
            routes_text=text,
            routes_source=f"routes_file {params['routes_file']}",
            expect=params["expect"],
            routed_job_max_time=params["routed_job_max_time"],
        )
    except MatchError as exc:
        module.fail_json(msg=f"Cannot match the jobs to the routes:\n{exc}", problems=exc.problems, **result)
    except RuntimeError as exc:
        module.fail_json(msg=str(exc), **result)
    result.update(found)
    failure = check_expectations(found)
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
