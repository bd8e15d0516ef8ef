# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.osg_configure_ini`` filter: a CE's osg-configure settings, checked as osg-configure would."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.plugin_utils._osg_configure import osg_configure_ini as _render

DOCUMENTATION = r"""
name: osg_configure_ini
short_description: Render an HTCondor-CE's osg-configure settings (/etc/osg/config.d) and check them first
version_added: 0.2.0
author:
  - Contributors to the osg_htc.site collection
description:
  - An HTCondor-CE installed with the OSG packages is configured by osg-configure from the INI files in
    C(/etc/osg/config.d), read in name order (a later file's value of a key wins). This filter renders one such
    file from the C(htcondor_ce) role's settings, with the sections C([Gateway]), C([Site Information]),
    C([Storage]) (when a worker node temporary directory is given), the batch system's (C([Condor]), C([SLURM]),
    C([PBS]), C([LSF]) or C([SGE])), C([Gratia]), C([Info Services]), one C([Pilot <name>]) per pilot entry and
    any others given.
  - Every value is checked first the way osg-configure checks it (opensciencegrid/osg-configure v4.1.1; the rules
    and their sources are in docs/osg-configure.md of the collection), and the text is read back with the parser
    osg-configure uses; any problem fails the filter with all of them listed.
options:
  _input:
    description:
      - The CE, with C(batch), C(batch_binpath), C(group), C(host_name), C(resource), C(resource_group),
        C(worker_node_temp), C(ce_collectors), C(gratia), C(pilots), C(mappings) and C(settings), as the
        C(htcondor_ce) role builds it from its variables (its C(vars/main.yml)).
    type: dict
    required: true
seealso:
  - plugin: osg_htc.site.resource_catalog_problems
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the CE's osg-configure settings
  ansible.builtin.copy:
    content: "{{ ce | osg_htc.site.osg_configure_ini }}"
    dest: /etc/osg/config.d/99-osg-htc-site.ini
    mode: "0644"
  vars:
    ce:
      batch: slurm
      batch_binpath: /opt/slurm/bin
      group: OSG
      host_name: ce.example.edu
      resource: EXAMPLE_CE
      resource_group: EXAMPLE
      gratia: true
      pilots: [{name: main, max_pilots: 100, allowed_vos: [osg]}]
      mappings: [{issuer: "https://scitokens.org/osg-connect", user: osg01, vo: osg}]
"""

RETURN = r"""
_value:
  description: The INI text.
  type: str
"""


def osg_configure_ini(ce):
    """The osg-configure INI text of ``ce``; see DOCUMENTATION."""
    if not isinstance(ce, dict):
        raise AnsibleFilterError(f"osg_configure_ini: the input is a {type(ce).__name__}, not a mapping")
    try:
        return _render(ce)
    except ValueError as exc:
        raise AnsibleFilterError(f"osg_configure_ini: the osg-configure settings are not valid:\n{exc}") from None


class FilterModule:
    """The ``osg_configure_ini`` filter."""

    def filters(self):
        return {"osg_configure_ini": osg_configure_ini}
