#!/usr/bin/python
# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: ce_job_route
short_description: Manage HTCondor-CE job routes in the ClassAd transform syntax
version_added: 0.1.0
author:
  # validate-modules wants a GitHub handle or !UNKNOWN after each author.
  - Contributors to the osg_htc.site collection (!UNKNOWN)
description:
  - Writes one HTCondor-CE configuration file holding C(JOB_ROUTER_ROUTE_<name> @=jrt ... @jrt) blocks and
    C(JOB_ROUTER_ROUTE_NAMES) in the order of O(routes); the first route whose requirements match a job routes it.
  - The file is managed as a whole; with O(state=present) it holds exactly O(routes).
  - Everything is checked before the file is touched, and every problem is reported at once, each naming the
    route, the key or command line and the problem. Route names, keys, attribute names, transform commands
    (C(UNIVERSE), C(REQUIREMENTS), C(SET), C(DEFAULT), C(EVALSET), C(EVALMACRO), C(COPY), C(RENAME), C(DELETE),
    C(NAME), C(if)/C(elif)/C(else)/C(endif), comments and C(name = value) lines) and, in one batch, every ClassAd
    expression with HTCondor's C(classad2) parser. The rendered file is then loaded with HTCondor's configuration
    parser in its place among the CE's configuration files.
  - Converts routes in the old C(JOB_ROUTER_ENTRIES) ClassAd syntax, which HTCondor-CE 24 no longer reads, with
    O(convert_from), O(convert_from_file) and/or O(convert_config_root). Configuration is read with HTCondor's own
    configuration reader, so config macros are expanded and the site's C(JOB_ROUTER_DEFAULTS) additions are merged
    into every route, as the old router did. The result is returned as structured routes to paste into an
    inventory, and written as the file with O(write_converted=true).
  - The full reference (keys, render order, value rule, conversion semantics and limits) is docs/job-routes.md
    in the collection.
extends_documentation_fragment:
  - ansible.builtin.files
  - osg_htc.site._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  path:
    description:
      - The configuration file that holds the routes. It should sort after the packaged C(02-ce-<batch>.conf)
        files so its C(JOB_ROUTER_ROUTE_NAMES) wins.
      - It must be a file HTCondor-CE reads. When O(ce_config) exists, a directory that is not in its
        C(LOCAL_CONFIG_DIR), a name that its effective C(LOCAL_CONFIG_DIR_EXCLUDE_REGEXP) skips, and a path with
        C($), a control character, surrounding whitespace or a trailing backslash are refused.
    type: path
    default: /etc/condor-ce/config.d/20-osg-htc-routes.conf
  routes:
    description:
      - The routes, in matching order. Each is a mapping with O(routes[].name) and structured keys and/or
        O(routes[].commands).
      - B(Value rule.) Keys described as an expression take a ClassAd expression written as a string, verbatim
        (C('Owner == "osg"') as O(routes[].requirements)); a string literal is therefore quoted inside the YAML
        string (C('"bar"') as a value of O(routes[].set) is the string C(bar)), or built with the
        P(osg_htc.site.classad_quote#filter) filter. Integers,
        floats and booleans are written as ClassAd literals.
      - B(Render order.) universe, target_universe, grid_resource, requirements, max_jobs, max_idle_jobs,
        default_queue, default_xcount, default_maxMemory, default_maxWallTime, default_pilot_job_env, copy,
        delete, rename, set, default_CERequirements, default, evalset, then commands. Within copy, rename, set,
        default and evalset the mapping's order is kept. The transform language runs the commands in this order.
      - With O(state=absent), the routes to remove; only their O(routes[].name) counts.
    type: list
    elements: dict
    suboptions:
      name:
        description: Route name, letters, digits and C(_) only; unique, case-insensitively.
        type: str
        required: true
      universe:
        description:
          - C(UNIVERSE) command of the routed job, a name (V(vanilla), V(grid), V(local), V(scheduler),
            V(parallel), V(java), V(vm), V(standard)) or its number. V(vanilla) for an HTCondor batch system.
          - Mutually exclusive with O(routes[].target_universe).
        type: raw
      target_universe:
        description: The same as a C(TargetUniverse = <number>) line, as the packaged routes write it.
        type: raw
      grid_resource:
        description:
          - C(GridResource) of the routed job, either a string
            C(batch <pbs|slurm|lsf|sge|condor> [[user@]host[:port]]) or
            C(condor <schedd> <collector>), where a word may be a config macro such as C($(BOSCO_RMS)); or a mapping
            C({batch, user, host, port}) built by the same code as the P(osg_htc.site.grid_resource#filter) filter.
        type: raw
      requirements:
        description:
          - C(REQUIREMENTS), an expression evaluated against the incoming job; omitted, the route takes every job.
        type: str
      max_jobs:
        description: C(MaxJobs), the most jobs on this route at once (0 to 2147483647).
        type: int
      max_idle_jobs:
        description: C(MaxIdleJobs), the most idle routed jobs before the route takes no more (0 to 2147483647).
        type: int
      default_queue:
        description: CE route variable, the batch queue for jobs that name none (plain name, not quoted).
        type: str
      default_xcount:
        description: CE route variable, cores for jobs that request none (integer, or an expression string).
        type: raw
      default_maxMemory:
        description: CE route variable, memory in MB for jobs that request none (integer, or an expression string).
        type: raw
      default_maxWallTime:
        description: CE route variable, wall time in minutes for jobs that request none (integer, or an expression).
        type: raw
      default_pilot_job_env:
        description: CE route variable, an expression giving the pilot's environment, for example C('"A=1 B=2"').
        type: raw
      default_CERequirements:
        description:
          - Attributes passed to the BLAHP local submit attributes script, a list of names or a comma-separated string;
            rendered as C(SET default_CERequirements "a,b") as the HTCondor-CE documentation writes it.
        type: raw
      copy:
        description: C(COPY <attr> <new>) per item; a key C(/regex/) copies every matching attribute to the pattern.
        type: dict
      delete:
        description: C(DELETE) per item, an attribute name or a C(/regex/).
        type: list
        elements: str
      rename:
        description: C(RENAME <attr> <new>) per item; a key may be a C(/regex/).
        type: dict
      set:
        description: C(SET <attr> <expression>) per item.
        type: dict
      default:
        description: C(DEFAULT <attr> <expression>) per item (only where the job lacks the attribute).
        type: dict
      evalset:
        description: C(EVALSET <attr> <expression>) per item (evaluated when the job is routed).
        type: dict
      commands:
        description: Raw transform lines, one per item, appended after the structured keys.
        type: list
        elements: str
  state:
    description:
      - V(present) writes the file with O(routes).
      - V(absent) with O(routes) removes those routes from the file (the file is removed when none remain);
        without O(routes) it removes the file.
    type: str
    choices: [present, absent]
    default: present
  convert_from:
    description:
      - Old-syntax routes to convert, either the value of C(JOB_ROUTER_ENTRIES) alone (text whose first item is
        C([)), taken as written, or configuration that sets it (C(JOB_ROUTER_ENTRIES @=jre ... @jre) or with line
        continuations), read with HTCondor's configuration reader on the managed host. There
        C(JOB_ROUTER_ENTRIES) and C(JOB_ROUTER_DEFAULTS) are read as the CE read them, so config macros such as
        C(FULL_HOSTNAME) are expanded (one the configuration does not define is kept as written), and with
        C(MERGE_JOB_ROUTER_DEFAULT_ADS) true the ads a site appends to C(JOB_ROUTER_DEFAULTS) are merged into
        every route, a route's own attribute winning. HTCondor-CE's generated defaults
        (C(JOB_ROUTER_DEFAULTS_GENERATED)) are not merged.
      - Configuration that would run a command when read (C(include command), a piped or macro C(include) target,
        also in an included file) is refused; nothing is run.
      - Each expression keeps the text written (C(=?=), C(1.0), spacing); comments are dropped and line breaks become
        spaces. Needs C(classad2) (and for configuration C(htcondor2) or C(condor_config_val)) on the managed host.
      - Mutually exclusive with O(routes) and O(convert_from_file).
    type: str
  convert_from_file:
    description:
      - Like O(convert_from), read from this file on the managed host, e.g. an old C(02-ce-slurm.conf) or its
        C(.rpmsave) copy. With O(convert_config_root), the file is read in its place among the CE's configuration
        files, or after all of them when the CE does not read it (a C(.rpmsave) name, another directory).
    type: path
  convert_config_root:
    description:
      - The CE's base configuration, for example C(/etc/condor-ce/condor_config), read with the files of its
        C(LOCAL_CONFIG_DIR) in HTCondor's order, so that C(JOB_ROUTER_DEFAULTS) additions and macros set in any
        of them apply. Files that would run a command when read are left out, and a note names them.
      - Alone, converts the effective C(JOB_ROUTER_ENTRIES) of that configuration; with O(convert_from_file) or
        O(convert_from), reads the old routes from those, and the defaults and macros from both.
      - Without it, only O(convert_from) or O(convert_from_file) is read, with HTCondor's built-in defaults.
      - Mutually exclusive with O(routes).
    type: path
  write_converted:
    description:
      - Write the converted routes as the file. Refused when the conversion reported problems (see
        RV(conversion_problems)); otherwise only RV(converted_routes) is returned and nothing is written.
    type: bool
    default: false
  ce_config:
    description:
      - The CE's base configuration. When it exists, the new file is checked in its place among the files of its
        C(LOCAL_CONFIG_DIR), and the effective C(JOB_ROUTER_ROUTE_NAMES) is read back; otherwise the file is
        checked alone.
    type: path
    default: /etc/condor-ce/condor_config
  backup:
    description: Keep a timestamped copy of the previous file when it changes or is removed.
    type: bool
    default: false
notes:
  - Run C(condor_ce_reconfig) after a change (for example from a handler) for the CE to use the new routes.
  - Raw O(routes[].commands) are checked line by line, not run; C(condor_ce_job_router_info -config) shows how the
    running CE reads them.
seealso:
  - plugin: osg_htc.site.job_routes
    plugin_type: filter
  - plugin: osg_htc.site.grid_resource
    plugin_type: filter
  - name: HTCondor-CE, Writing Job Routes
    description: The job route syntax and recipes this module renders.
    link: https://htcondor.com/htcondor-ce/v24/configuration/writing-job-routes/
"""

EXAMPLES = r"""
- name: Route production pilots to Slurm's prod queue, everything else to the default queue
  osg_htc.site.ce_job_route:
    routes:
      - name: Slurm_Prod
        grid_resource: {batch: slurm}
        requirements: 'queue == "prod"'
        default_queue: prod
        default_maxMemory: 4000
        set:
          IsProduction: true
      - name: Slurm_Default
        grid_resource: {batch: slurm}
        default_queue: osg
        max_idle_jobs: 200
  notify: Reconfigure the CE

- name: An HTCondor pool route with raw commands
  osg_htc.site.ce_job_route:
    path: /etc/condor-ce/config.d/20-osg-htc-routes.conf
    routes:
      - name: Condor_Pool
        universe: vanilla
        commands:
          - "if defined MY.queue"
          - '  SET AccountingGroup strcat("group_", queue)'
          - "endif"
          - "DEFAULT RequestGPUs 0"

- name: Convert the routes of an old CE 23 configuration, with the CE's defaults and macros; write nothing
  osg_htc.site.ce_job_route:
    convert_from_file: /etc/condor-ce/config.d/02-ce-slurm.conf.rpmsave
    convert_config_root: /etc/condor-ce/condor_config
  register: converted

- name: Show the routes to paste into the inventory
  ansible.builtin.debug:
    var: converted.converted_routes

- name: Remove one route, keeping the others
  osg_htc.site.ce_job_route:
    state: absent
    routes:
      - name: Slurm_Default
"""

RETURN = r"""
path:
  description: The managed file.
  returned: always
  type: str
routes:
  description: Names of the routes in the file after the run, in matching order.
  returned: always
  type: list
  elements: str
  sample: [Slurm_Prod, Slurm_Default]
effective_route_names:
  description:
    - C(JOB_ROUTER_ROUTE_NAMES) as the CE reads it with the new file in place, split into names; null when no
      HTCondor parser was available or the file was removed. A warning says when another file overrides it.
  returned: always
  type: list
  elements: str
backup_file:
  description: The backup of the previous file, when O(backup=true) and it changed.
  returned: changed and backup requested
  type: str
converted_routes:
  description:
    - The structured routes converted from O(convert_from), O(convert_from_file) or O(convert_config_root), ready
      for O(routes).
  returned: when converting
  type: list
  elements: dict
  sample:
    - name: Slurm_Cluster
      grid_resource: batch slurm
      target_universe: 9
conversion_notes:
  description:
    - Changes of form made while converting, and what was read, for example renamed routes, merged
      C(JOB_ROUTER_DEFAULTS) attributes, HTCondor-CE's generated defaults left out, undefined macros kept as written,
      expressions written as the ClassAd unparser prints them, and CE files left out of the reading.
  returned: when converting
  type: list
  elements: str
conversion_problems:
  description: What could not be converted faithfully; O(write_converted) is refused while this is not empty.
  returned: when converting
  type: list
  elements: str
"""


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import check_config_text_in_place, includable
from ansible_collections.osg_htc.site.plugins.module_utils._files import (
    FileError,
    ensure_file,
    exit_with_outcome,
    read_input_text,
    read_text,
    remove_file,
)
from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import (
    RouteError,
    parse_managed_file,
    render_routes,
)
from ansible_collections.osg_htc.site.plugins.module_utils._route_conversion import convert_old_routes

NAMES = "JOB_ROUTER_ROUTE_NAMES"
ROUTE_OPTIONS = dict(
    name=dict(type="str", required=True),
    universe=dict(type="raw"),
    target_universe=dict(type="raw"),
    grid_resource=dict(type="raw"),
    requirements=dict(type="str"),
    max_jobs=dict(type="int"),
    max_idle_jobs=dict(type="int"),
    default_queue=dict(type="str"),
    default_xcount=dict(type="raw"),
    default_maxMemory=dict(type="raw"),
    default_maxWallTime=dict(type="raw"),
    default_pilot_job_env=dict(type="raw"),
    default_CERequirements=dict(type="raw"),
    copy=dict(type="dict"),
    delete=dict(type="list", elements="str"),
    rename=dict(type="dict"),
    set=dict(type="dict"),
    default=dict(type="dict"),
    evalset=dict(type="dict"),
    commands=dict(type="list", elements="str"),
)


def _check_in_place(module, path, rendered):
    """Load the routes with HTCondor's parser where ``path`` sits; return the effective route names or None.

    The parser must also read the file on its own back as exactly the routes rendered (nothing more, nothing less).
    """
    result, where = check_config_text_in_place(
        rendered.text, path, module.params["ce_config"], [NAMES], readback=rendered.settings
    )
    if where.error:
        module.fail_json(msg=f"The CE configuration {where.error}")
    if where.unread:
        module.fail_json(msg=f"Not writing {path}: HTCondor-CE would never read it, since {where.unread}")
    for skipped in where.skipped:
        module.warn(f"{skipped} was left out of the check of {path}")
    if result.ok is None:
        module.warn(f"{path} was not checked with HTCondor's configuration parser: {result.error}")
        return None
    if result.ok is False:
        module.fail_json(msg=f"HTCondor's configuration parser rejects the routes for {path}: {result.error}")
    effective = (result.values.get(NAMES) or "").replace(",", " ").split()
    if effective != rendered.names:
        overriding = [f for f in where.after if NAMES in (read_text(f) or "")]
        module.warn(
            f"The CE's effective JOB_ROUTER_ROUTE_NAMES is {' '.join(effective) or '(empty)'}, not the order of "
            f"{path}" + (f"; it is set again in {', '.join(overriding)}" if overriding else "")
        )
    return effective


def _converted(module, result):
    params = module.params
    text, path = params["convert_from"], params["convert_from_file"]
    if path:
        try:
            text = read_input_text(path, "convert_from_file")
        except FileError as exc:
            module.fail_json(msg=str(exc), **result)
    try:
        routes, notes, problems = convert_old_routes(text, path=path, config_root=params["convert_config_root"])
    except (ValueError, RuntimeError) as exc:
        module.fail_json(msg=f"Cannot convert the old routes: {exc}", **result)
    result.update(converted_routes=routes, conversion_notes=notes, conversion_problems=problems)
    if params["write_converted"] and problems:
        module.fail_json(
            msg="Not writing the converted routes: they cannot be converted faithfully:\n" + "\n".join(problems),
            **result,
        )
    return routes


def _remaining(module, path, remove, result):
    names = [r["name"] for r in remove]
    try:
        current = read_text(path)
    except FileError as exc:
        module.fail_json(msg=str(exc), **result)
    if current is None:
        return []
    try:
        routes = parse_managed_file(current)
    except ValueError as exc:
        module.fail_json(msg=f"Cannot remove routes from {path}: {exc}", **result)
    drop = {str(n).lower() for n in names}
    return [r for r in routes if r["name"].lower() not in drop]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/condor-ce/config.d/20-osg-htc-routes.conf"),
            routes=dict(type="list", elements="dict", options=ROUTE_OPTIONS),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            convert_from=dict(type="str"),
            convert_from_file=dict(type="path"),
            convert_config_root=dict(type="path"),
            write_converted=dict(type="bool", default=False),
            ce_config=dict(type="path", default="/etc/condor-ce/condor_config"),
            backup=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("routes", "convert_from", "convert_from_file"), ("routes", "convert_config_root")],
        required_if=[("write_converted", True, ("convert_from", "convert_from_file", "convert_config_root"), True)],
        supports_check_mode=True,
        add_file_common_args=True,
    )
    params = module.params
    path = params["path"]
    result = dict(changed=False, path=path, routes=[], effective_route_names=None)
    if includable(path):
        module.fail_json(msg=f"path: HTCondor-CE cannot read {path!r}: {includable(path)}", **result)

    converting = any(params[key] is not None for key in ("convert_from", "convert_from_file", "convert_config_root"))
    if converting:
        if params["state"] == "absent":
            module.fail_json(
                msg="convert_from, convert_from_file and convert_config_root work with state=present only", **result
            )
        routes = _converted(module, result)
        if not params["write_converted"]:
            module.exit_json(**result)
    elif params["state"] == "absent" and params["routes"]:
        routes = _remaining(module, path, params["routes"], result)
    elif params["state"] == "absent":
        routes = []
    else:
        routes = params["routes"]
        if not routes:
            module.fail_json(msg="state=present needs at least one route in routes; state=absent removes the file")

    try:
        if not routes:
            outcome = remove_file(module, path, backup=params["backup"])
        else:
            try:
                rendered = render_routes(routes)
            except RouteError as exc:
                module.fail_json(msg=f"Invalid routes for {path}:\n{exc}", problems=exc.problems, **result)
            for warning in rendered.warnings:
                module.warn(warning)
            result["routes"] = rendered.names
            result["effective_route_names"] = _check_in_place(module, path, rendered)
            outcome = ensure_file(module, path, rendered.text, backup=params["backup"])
    except FileError as exc:
        module.fail_json(msg=str(exc), **result)
    exit_with_outcome(module, result, outcome)


if __name__ == "__main__":
    main()
