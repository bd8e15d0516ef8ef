# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Documentation fragments for the attributes every module of the collection declares."""

from __future__ import annotations


class ModuleDocFragment:
    # Every module: check mode and diff mode descriptions, to be set per module.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing the target.
  diff_mode:
    description: Returns details of what changed (or would change in check mode) when run in diff mode.
"""

    # Modules that only read the host: they support check mode fully and have nothing to diff. List it after
    # the default fragment (osg_htc.site._attributes, then osg_htc.site._attributes.info_module), which
    # gives the descriptions this one lacks.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: This module changes nothing on the host, so it runs the same way in check mode.
  diff_mode:
    support: N/A
    details: This module changes nothing on the host.
"""
