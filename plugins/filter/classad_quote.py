# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.classad_quote`` filter: a value as ClassAd literal text for an HTCondor config file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.module_utils._classad import quote

DOCUMENTATION = r"""
name: classad_quote
short_description: Write a value as a ClassAd literal that is safe in an HTCondor configuration file
version_added: 0.1.0
author:
  - Contributors to the osg_htc.site collection
description:
  - Turns a value into ClassAd literal text, for example the value in C(GridResource = ...) or
    C(SET <attribute> ...) in an HTCondor-CE job route, or in an C(ATTR = value) line in an HTCondor
    configuration file.
  - 'A string becomes a double-quoted ClassAd string. Backslash, double quote and every control character
    (newline, carriage return, tab, ...) are escaped, so the result is always one line.'
  - 'Every V($) in a string is written as the octal escape C(\044). HTCondor therefore never sees
    V($(NAME\)), V($$(NAME\)) or V($ENV(NAME\)) in the text and cannot expand it as a configuration macro;
    the ClassAd parser turns C(\044) back into V($) when it reads the expression.'
  - A boolean becomes C(true) or C(false), an integer a decimal number (64-bit range), a float its Python
    C(repr) (finite values only), V(null)/V(None) becomes C(undefined).
  - A list becomes a ClassAd list C({ a, b }); a dictionary becomes a nested ClassAd C([ k = v; ... ]).
    Dictionary keys must be ClassAd attribute names (C([A-Za-z_][A-Za-z0-9_]*)), not a reserved word
    (C(true), C(false), C(undefined), C(error), C(is), C(isnt), C(parent)) and not equal to another key
    ignoring case.
options:
  _input:
    description: The value to write.
    type: raw
    required: true
notes:
  - A string that contains a NUL character is rejected, because no HTCondor configuration line can hold it.
  - The result never contains a V($) and never spans lines, whatever the input.
seealso:
  - plugin: osg_htc.site.grid_resource
    plugin_type: filter
  - plugin: osg_htc.site.condor_list
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Route jobs to a remote Slurm cluster through SSH
  ansible.builtin.copy:
    dest: /etc/condor-ce/config.d/90-local-routes.conf
    content: |
      JOB_ROUTER_ROUTE_Bosco_Slurm @=jrt
        TargetUniverse = 9
        GridResource = {{ bosco_grid_resource | osg_htc.site.classad_quote }}
        SET AccountingGroup = {{ ce_accounting_group | osg_htc.site.classad_quote }}
      @jrt
    mode: "0644"
  vars:
    bosco_grid_resource: "{{ 'slurm' | osg_htc.site.grid_resource('osg01@login.example.edu') }}"

- name: Show the literals (the comment after each item is the text it produces)
  ansible.builtin.debug:
    msg:
      - "{{ 'batch slurm' | osg_htc.site.classad_quote }}"  # "batch slurm"
      - "{{ 'cost $(HOME)' | osg_htc.site.classad_quote }}"  # "cost \044(HOME)" (no macro expansion)
      - "{{ 'line 1\nline 2' | osg_htc.site.classad_quote }}"  # "line 1\nline 2" (one line)
      - "{{ ['a', 1, true, none] | osg_htc.site.classad_quote }}"  # { "a", 1, true, undefined }
      - "{{ {'MaxJobs': 100, 'Queue': 'osg'} | osg_htc.site.classad_quote }}"  # [ MaxJobs = 100; Queue = "osg" ]
"""

RETURN = r"""
_value:
  description: ClassAd literal text on a single line, containing no V($).
  type: string
"""


def classad_quote(value):
    """Return ``value`` as ClassAd literal text; see DOCUMENTATION."""
    try:
        return quote(value)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"classad_quote: {exc}") from None


class FilterModule:
    """The ``classad_quote`` filter."""

    def filters(self):
        return {"classad_quote": classad_quote}
