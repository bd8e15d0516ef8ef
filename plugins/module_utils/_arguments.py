# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Numeric options given infinite or overlong numbers fail by name, not in a traceback.

ansible-core's argument checks convert an ``int`` option with ``int(Decimal(value))`` and a
``float`` option with ``float(value)``. For infinity (``.inf``, ``"inf"``) the first, and for an
integer too large for a float the second, raise OverflowError, which some ansible-core releases do
not catch (ansible/ansible pull request 87253 catches it for ``int``): argument validation then ends
in a traceback instead of a message naming the option. A module catches that OverflowError around
its ``AnsibleModule(...)`` and calls :func:`fail_overflowing`, which fails naming the option, its
value and the valid range.

Runs on managed hosts: Python >= 3.9, standard library and ansible-core's module_utils.
"""

from __future__ import annotations

from typing import Any, Dict, List, NoReturn

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.validation import check_type_float, check_type_int

_CHECKERS = {"int": check_type_int, "float": check_type_float}


def fail_overflowing(argument_spec: Dict[str, Any], valid: Dict[str, str], **kwargs) -> NoReturn:
    """Fail naming the numeric options whose values made ``AnsibleModule(argument_spec, **kwargs)`` overflow.

    Call it when that construction raised OverflowError. ``valid`` describes the valid values of
    numeric options by name (for example ``{"min_cores": "a whole number from 0 to 1000000"}``).
    """
    # Again with every int and float option taken as it comes, to read the values and fail.
    module = AnsibleModule(argument_spec=_loosened(argument_spec), **kwargs)
    problems = []
    for name in _overflowing(argument_spec, module.params):
        what = valid.get(name, "a finite number")
        problems.append(f"{name} must be {what}, got {_shown(module.params[name])}")
    module.fail_json(msg="; ".join(problems) or "a numeric option is out of range")
    raise AssertionError("fail_json returned")  # pragma: no cover - fail_json exits


def _loosened(spec: Dict[str, Any]) -> Dict[str, Any]:
    loose = {}
    for name, option in spec.items():
        option = dict(option)
        if option.get("type") in _CHECKERS:
            option["type"] = "raw"
        if option.get("elements") in _CHECKERS:
            option["elements"] = "raw"
        loose[name] = option
    return loose


def _overflowing(spec: Dict[str, Any], params: Dict[str, Any]) -> List[str]:
    """The numeric options whose value makes their type check overflow."""
    names = []
    for name, option in spec.items():
        value = params.get(name)
        if value is None:
            continue
        if option.get("type") in _CHECKERS:
            checker, values = _CHECKERS[option["type"]], [value]
        elif option.get("type") == "list" and option.get("elements") in _CHECKERS:
            checker, values = _CHECKERS[option["elements"]], value if isinstance(value, list) else [value]
        else:
            continue
        for item in values:
            try:
                checker(item)
            except OverflowError:
                names.append(name)
                break
            except (TypeError, ValueError):
                pass
    return names


def _shown(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an integer with more digits than Python prints
        return "a number too long to show"
    return text if len(text) <= 100 else f"{text[:100]}..."
