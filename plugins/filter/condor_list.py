# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.condor_list`` filter: a list as the text of an HTCondor configuration list."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.module_utils._classad import short_repr, type_name

DOCUMENTATION = r"""
name: condor_list
short_description: Join items into an HTCondor configuration list such as C(a, b, c)
version_added: 0.1.0
author:
  - Contributors to the osg_htc.site collection
description:
  - Joins a list of literal items into the text of an HTCondor configuration list, for example the value of
    C(DAEMON_LIST), C(SEC_CLIENT_AUTHENTICATION_METHODS), C(FLOCK_TO) or C(JOB_ROUTER_ROUTE_NAMES).
  - Each item must be a non-empty string or an integer. A string item must be printable and must not contain
    whitespace, a comma, C(#), a backslash or V($). These would split the item, read as a comment, continue the
    line or start a configuration macro such as V($(NAME\)) or V($ENV(NAME\)).
  - The input must be a list (a tuple or the generator of a filter such as C(map) also works).
    A string is rejected rather than being split into characters. A set is rejected because its order is
    not stable, so sort it first with C(sort).
  - An empty list gives an empty string.
options:
  _input:
    description: The items, in order.
    type: list
    elements: raw
    required: true
  separator:
    description: Text placed between items.
    type: str
    default: ", "
    choices:
      - ", "
      - ","
      - " "
positional: _input, separator
notes:
  - The filter writes literal items only. To extend a list defined elsewhere, put the macro in the
    template yourself, for example V(DAEMON_LIST = $(DAEMON_LIST\), {{ extra | osg_htc.site.condor_list }}).
seealso:
  - plugin: osg_htc.site.classad_quote
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the authentication methods of an Access Point
  ansible.builtin.copy:
    dest: /etc/condor/config.d/90-local-auth.conf
    content: |
      SEC_CLIENT_AUTHENTICATION_METHODS = {{ ['FS', 'TOKEN', 'SCITOKENS', 'SSL'] | osg_htc.site.condor_list }}
      JOB_ROUTER_ROUTE_NAMES = {{ ce_route_names | osg_htc.site.condor_list(' ') }}
    mode: "0644"

- name: Show the results (the comment after each item is the text it produces)
  ansible.builtin.debug:
    msg:
      - "{{ ['cm-1.ospool.osg-htc.org', 'cm-2.ospool.osg-htc.org'] | osg_htc.site.condor_list }}"
      # cm-1.ospool.osg-htc.org, cm-2.ospool.osg-htc.org
      - "{{ ['MASTER', 'SCHEDD'] | osg_htc.site.condor_list(',') }}"  # MASTER,SCHEDD
      - "{{ [9618, 9619] | osg_htc.site.condor_list(' ') }}"  # 9618 9619
"""

RETURN = r"""
_value:
  description: The items joined by O(separator), on one line.
  type: string
"""

SEPARATORS = (", ", ",", " ")
FORBIDDEN_CHARACTERS = {
    ",": "a comma (it would split the item)",
    "#": "'#' (the HTCondor comment character)",
    "\\": "a backslash (at the end of a line it continues the line)",
    "$": "'$' (it starts a configuration macro such as $(NAME) or $ENV(NAME))",
}


def _check_item(index, item):
    where = f"condor_list: item {index} ({short_repr(item)})"
    if isinstance(item, bool) or not isinstance(item, (str, int)):
        raise AnsibleFilterError(f"{where} is a {type_name(item)}; items must be non-empty strings or integers")
    if isinstance(item, int):
        return str(int(item))
    if not item:
        raise AnsibleFilterError(f"{where} is empty; items must be non-empty strings or integers")
    if any(char.isspace() for char in item):
        raise AnsibleFilterError(f"{where} contains whitespace (a space, tab or line break), which would split it")
    for char, why in FORBIDDEN_CHARACTERS.items():
        if char in item:
            raise AnsibleFilterError(f"{where} contains {why}")
    if not item.isprintable():
        raise AnsibleFilterError(f"{where} contains a control or other non-printable character")
    return str(item)


def condor_list(items, separator=", "):
    """Return ``items`` joined into an HTCondor configuration list; see DOCUMENTATION."""
    if not isinstance(separator, str) or separator not in SEPARATORS:
        raise AnsibleFilterError(
            f"condor_list: separator {short_repr(separator)} is not valid; use one of "
            + ", ".join(repr(valid) for valid in SEPARATORS)
        )
    if isinstance(items, (str, bytes)):
        raise AnsibleFilterError(
            f"condor_list: expected a list, got a string {short_repr(items)}; "
            "put a single item in a list, for example ['SCHEDD'], instead of passing the string itself"
        )
    if isinstance(items, (set, frozenset)):
        raise AnsibleFilterError(
            "condor_list: expected a list, got a set, whose order is not stable; sort it first with | sort"
        )
    if isinstance(items, Mapping) or not isinstance(items, (list, tuple, Iterator)):
        raise AnsibleFilterError(f"condor_list: expected a list, got a {type_name(items)} {short_repr(items)}")
    return separator.join(_check_item(index, item) for index, item in enumerate(items))


class FilterModule:
    """The ``condor_list`` filter."""

    def filters(self):
        return {"condor_list": condor_list}
