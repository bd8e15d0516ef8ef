# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.spec_type_problems`` filter: values whose type an argument spec would only convert."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.module_utils._classad import short_repr, type_name

DOCUMENTATION = r"""
name: spec_type_problems
short_description: List the variables whose type differs from what a role's argument spec says
version_added: 0.2.0
author:
  - Contributors to the osg_htc.site collection
description:
  - "A role's C(meta/argument_specs.yml) checks its variables before the role runs, but Ansible does not convert
    them: a string given where the spec says C(list) passes the check (Ansible would split it at commas) and
    reaches the tasks as a string, and a number given where it says C(str) reaches them as a number."
  - This filter takes the values and the C(options) of an argument spec entry point and lists, strictly, every
    value that is not already of its declared type, in nested C(elements) and C(options) too.
  - V(str) must be a string; V(list) a list; V(dict) a mapping; V(int) an integer or a string of digits (what
    C(-e name=value) gives); V(float) a number or such a string; V(bool) a boolean or one of the strings Ansible
    reads as one. V(raw), V(path) (a string) and unknown types follow the same rule as their base. Null is fine
    (the spec itself decides whether a value is required).
  - The roles of this collection run it as their first check, so a bad type stops them with a clear message
    before any change.
options:
  _input:
    description: The values, by variable name. Names that are not in O(options) are ignored.
    type: dict
    required: true
  options:
    description: The C(options) mapping of an argument spec entry point.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Stop before any change when a variable has the wrong type
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('; ') }}"
  vars:
    __spec: "{{ lookup('ansible.builtin.file', role_path ~ '/meta/argument_specs.yml') | from_yaml }}"
    __options: "{{ __spec.argument_specs.main.options }}"
    __names: "{{ __options | list }}"
    __values: "{{ dict(__names | zip(query('ansible.builtin.vars', *__names, default=none))) }}"
    __problems: "{{ __values | osg_htc.site.spec_type_problems(__options) }}"
"""

RETURN = r"""
_value:
  description: One message per problem, naming the variable (and the item or key inside it), its type and the type
    the spec declares. Empty when every value is of its type.
  type: list
  elements: string
"""

_BOOL_STRINGS = frozenset(("yes", "no", "true", "false", "on", "off", "1", "0", "y", "n", "t", "f"))


def _number_text(value, kind) -> bool:
    try:
        kind(str(value).strip())
    except ValueError:
        return False
    return True


def _fits(value, kind: str) -> bool:
    if kind in ("str", "path"):
        return isinstance(value, str)
    if kind == "list":
        return isinstance(value, (list, tuple))
    if kind == "dict":
        return isinstance(value, Mapping)
    if kind == "int":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, str) and _number_text(value, int))
    if kind == "float":
        if isinstance(value, bool):
            return False
        return isinstance(value, (int, float)) or (isinstance(value, str) and _number_text(value, float))
    if kind == "bool":
        return isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in _BOOL_STRINGS)
    return True  # raw, or a type this filter does not know


def _problems(where: str, value, spec: Mapping) -> list:
    if value is None:
        return []
    kind = spec.get("type", "str")
    if not _fits(value, kind):
        found = type_name(value)
        article = "an" if found[0] in "aeiou" else "a"
        return [f"{where} is {article} {found} ({short_repr(value)}), but the argument spec says {kind}"]
    found = []
    if kind == "list" and spec.get("elements"):
        item_spec = {"type": spec["elements"], "options": spec.get("options") or {}}
        for index, item in enumerate(value):
            found.extend(_problems(f"{where}[{index}]", item, item_spec))
    elif kind == "dict" and spec.get("options"):
        found.extend(_option_problems(where, value, spec["options"]))
    return found


def _option_problems(prefix: str, values: Mapping, options: Mapping) -> list:
    found = []
    for name, spec in options.items():
        if name in values:
            found.extend(_problems(f"{prefix}.{name}" if prefix else name, values[name], spec or {}))
    return found


def spec_type_problems(values, options):
    """The values that are not of their declared type; see DOCUMENTATION."""
    if not isinstance(values, Mapping):
        raise AnsibleFilterError(
            f"spec_type_problems: the input must be a mapping of values, not a {type_name(values)}"
        )
    if not isinstance(options, Mapping):
        raise AnsibleFilterError(
            f"spec_type_problems: options must be the options mapping of an argument spec, not a {type_name(options)}"
        )
    return _option_problems("", values, options)


class FilterModule:
    """The ``spec_type_problems`` filter."""

    def filters(self):
        return {"spec_type_problems": spec_type_problems}
