# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.adopt_site`` filter: role variables and an audit from what ``site_facts`` read."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.plugin_utils._adopt import ADOPTERS, adopt, audit_text

DOCUMENTATION = r"""
name: adopt_site
short_description: Role variables and an audit for a host configured by hand, from what site_facts read
version_added: 0.3.0
author:
  - Contributors to the osg_htc.site collection
description:
  - Takes the RV(osg_htc.site.site_facts#module:site_facts) of one host and returns the variables of the roles
    named in O(roles) that reproduce its effective configuration, and an audit of what is deprecated, risky,
    blocks the next HTCondor series step, is kept in place or will differ after a converge.
  - Variables equal to the role's defaults (O(defaults)) are left out.
  - The C(osg_htc.site.adopt) playbook uses it; docs/adopting.md in the collection says what is read
    from where and what each audit item means.
options:
  _input:
    description: The RV(osg_htc.site.site_facts#module:site_facts) of one host.
    type: dict
    required: true
  roles:
    description: The roles to adopt the host into, V(access_point), V(htcondor_ce) and/or V(ce_bosco).
    type: list
    elements: str
    required: true
  defaults:
    description: Per role, its defaults (roles/<role>/defaults/main.yml), to leave out what equals them.
    type: dict
    default: {}
  host:
    description: The host's name, for the first line of RV(_value.text).
    type: str
    default: host
"""

EXAMPLES = r"""
- name: Adopt an Access Point
  ansible.builtin.debug:
    msg: "{{ (site.site_facts | osg_htc.site.adopt_site(['access_point'])).vars }}"
"""

RETURN = r"""
_value:
  description: What was adopted.
  type: dict
  contains:
    vars:
      description: The role variables.
      type: dict
    audit:
      description: The audit, each item with C(id), C(severity), C(where), C(what) and C(fix), the most pressing first.
      type: list
      elements: dict
    tokens:
      description: The OSPool token files found, each its C(path) and the C(claims) of its tokens (never a token).
      type: list
      elements: dict
    text:
      description: The audit as text.
      type: str
"""


def adopt_site(facts, roles, defaults=None, host="host"):
    if not isinstance(facts, Mapping):
        raise AnsibleFilterError(f"adopt_site takes the site_facts of a host (a mapping), not {type(facts).__name__}")
    unknown = [role for role in roles or [] if role not in ADOPTERS]
    if unknown:
        raise AnsibleFilterError(f"adopt_site adopts into {', '.join(ADOPTERS)}, not {', '.join(map(str, unknown))}")
    result = adopt(facts, list(roles), defaults or {})
    result["text"] = audit_text(host, result["audit"])
    return result


class FilterModule:
    def filters(self):
        return {"adopt_site": adopt_site}
