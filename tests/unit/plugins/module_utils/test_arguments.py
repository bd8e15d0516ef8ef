# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for _arguments.fail_overflowing: numbers that overflow ansible-core's own checks fail by name."""

from __future__ import annotations

import math

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.validation import check_type_int

from ansible_collections.osg_htc.site.plugins.module_utils._arguments import fail_overflowing
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import (
    AnsibleFailJson,
    patched_exits,
    set_module_args,
)


def _infinity_refused() -> bool:
    """Whether this ansible-core's int check refuses infinity itself (older releases) instead of overflowing."""
    try:
        check_type_int(math.inf)
    except TypeError:
        return True
    except OverflowError:
        return False
    return False


INFINITY_REFUSED = _infinity_refused()
SPEC = {
    "count": {"type": "int", "default": 1},
    "size": {"type": "float", "default": 1.0},
    "ports": {"type": "list", "elements": "int", "default": []},
    "name": {"type": "str", "choices": ["a", "b"], "default": "a"},
}
VALID = {"count": "a whole number from 1 to 10", "ports": "TCP ports (1-65535)"}


def build(args):
    """The module a module's main() builds: AnsibleModule, or on OverflowError fail_overflowing."""
    with patched_exits(), set_module_args(args):
        try:
            return AnsibleModule(argument_spec=SPEC, supports_check_mode=True)
        except OverflowError:
            fail_overflowing(SPEC, VALID, supports_check_mode=True)


def failure(args):
    with pytest.raises(AnsibleFailJson) as failed:
        build(args)
    return failed.value.result["msg"]


def test_ordinary_values_give_the_module():
    module = build({"count": "3", "size": 2, "ports": [1, "2"]})
    assert (module.params["count"], module.params["size"], module.params["ports"]) == (3, 2.0, [1, 2])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"count": math.inf}, "count must be a whole number from 1 to 10, got inf"),
        ({"count": "Infinity"}, "count must be a whole number from 1 to 10, got 'Infinity'"),
        ({"ports": [1, -math.inf]}, "ports must be TCP ports (1-65535), got [1, -inf]"),
        ({"size": 10**400}, "size must be a finite number, got 1000000000"),
        ({"count": math.inf, "size": 10**400}, "size must be a finite number, got 1000000000"),
    ],
)
def test_overflowing_numbers_fail_naming_the_option(args, message):
    got = failure(args)
    # Before 2.19 ansible-core refused infinity for an int itself, also naming the option.
    option = message.split()[0]
    assert message in got or (
        INFINITY_REFUSED and f"option '{option}' is of type" in got.replace("argument", "option")
    ), got


def test_other_bad_options_still_fail_as_ansible_says():
    message = failure({"count": math.inf, "name": "c"})
    assert "value of name must be one of: a, b, got: c" in message or INFINITY_REFUSED
