"""Helpers to drive a module's ``main()`` from pytest, as community.general does.

``set_module_args`` hands arguments to ``AnsibleModule``; ``exit_json`` and
``fail_json`` are patched to raise, so a test catches the result instead of
the process exiting.
"""

from __future__ import annotations

import contextlib
import json
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:  # ansible-core >= 2.19
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # pragma: no cover - older ansible-core
    patch_module_args = None


class AnsibleExitJson(Exception):
    """Raised in place of ``exit_json``; ``.result`` is what the module returned."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class AnsibleFailJson(Exception):
    """Raised in place of ``fail_json``; ``.result`` holds ``msg`` and the rest."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


@contextlib.contextmanager
def set_module_args(args):
    """Expose ``args`` (plus the internal keys tests need) to AnsibleModule."""
    args = dict(args)
    args.setdefault("_ansible_remote_tmp", "/tmp")
    args.setdefault("_ansible_keep_remote_files", False)
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    payload = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
        yield


def exit_json(*args, **kwargs):
    kwargs.setdefault("changed", False)
    raise AnsibleExitJson(kwargs)


def fail_json(*args, **kwargs):
    kwargs["failed"] = True
    raise AnsibleFailJson(kwargs)


@contextlib.contextmanager
def patched_exits():
    """Patch ``AnsibleModule.exit_json``/``fail_json`` to raise for the duration."""
    with mock.patch.multiple(basic.AnsibleModule, exit_json=exit_json, fail_json=fail_json):
        yield


def run_module(module, args: dict) -> dict:
    """Run ``module.main()`` with ``args``; what it exited with, or its failure (which has ``failed: True``)."""
    with patched_exits(), set_module_args(args):
        try:
            module.main()
        except (AnsibleExitJson, AnsibleFailJson) as outcome:
            return outcome.result
    raise AssertionError(f"{module.__name__}.main() returned without exit_json or fail_json")
