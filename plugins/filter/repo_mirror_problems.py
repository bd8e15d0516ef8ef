# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.repo_mirror_problems`` filter: what is wrong with a role's repository mirror settings."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.module_utils._classad import short_repr, type_name

DOCUMENTATION = r"""
name: repo_mirror_problems
short_description: Check the package repository mirror settings of a role
version_added: 0.2.0
author:
  - Contributors to the osg_htc.site collection
description:
  - The roles take their EPEL, OSG and HTCondor repositories from the public servers unless the site names a
    mirror (the C(<role>_repo_mirror) variable). This filter checks such a mapping before anything changes and
    lists every problem, naming the key, its value and what is valid.
  - Base URLs and GPG keys (C(epel_baseurl), C(epel_gpgkey), C(osg_baseurl), C(osg_gpgkey), C(htcondor_apt_url),
    C(htcondor_apt_key)) must be one C(http://), C(https://), C(ftp://) or C(file://) URL without white space
    (apt takes only C(http), C(https) and C(file)); dnf's variables such as C($releasever) and C($basearch) may
    appear in them.
  - Release packages (C(epel_release_package), C(osg_release_package)) may be such a URL, an absolute path on the
    host, or a package name.
  - A GPG key is only used with the base URL it signs, so C(epel_gpgkey) needs C(epel_baseurl) and C(osg_gpgkey)
    needs C(osg_baseurl). Keys that are not listed here are refused with the list of valid keys.
  - Empty or null values mean the public default and are fine.
options:
  _input:
    description: The mirror settings.
    type: dict
    required: true
  name:
    description: The variable's name, used in the messages.
    type: str
    required: true
  keys:
    description: The keys the role accepts; default all of them.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Stop before any change when the mirror settings are wrong
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('; ') }}"
  vars:
    __problems: "{{ access_point_repo_mirror | osg_htc.site.repo_mirror_problems('access_point_repo_mirror') }}"
"""

RETURN = r"""
_value:
  description: One message per problem. Empty when the settings are fine.
  type: list
  elements: string
"""

# dnf's URLs and apt's: one URL, no white space (a line break would start a new
# setting in a .repo file).
_DNF_URL = re.compile(r"(https?|ftp|file)://\S+\Z")
_APT_URL = re.compile(r"(https?|file)://\S+\Z")
_ABSOLUTE_PATH = re.compile(r"/\S+\Z")
_PACKAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\Z")

_URL_KEYS = {
    "epel_baseurl": _DNF_URL,
    "epel_gpgkey": _DNF_URL,
    "osg_baseurl": _DNF_URL,
    "osg_gpgkey": _DNF_URL,
    "htcondor_apt_url": _APT_URL,
    "htcondor_apt_key": _APT_URL,
}
_PACKAGE_KEYS = ("epel_release_package", "osg_release_package")
ALL_KEYS = (*_PACKAGE_KEYS, *_URL_KEYS)
# A key that is used only together with another.
_NEEDS = {"epel_gpgkey": "epel_baseurl", "osg_gpgkey": "osg_baseurl", "htcondor_apt_key": "htcondor_apt_url"}


def _problem(name: str, key: str, value) -> str | None:
    where = f"{name}.{key}"
    if not isinstance(value, str):
        return f"{where} is a {type_name(value)} ({short_repr(value)}): give a string"
    if key in _URL_KEYS:
        if _URL_KEYS[key].match(value):
            return None
        schemes = (
            "http://, https:// or file://" if _URL_KEYS[key] is _APT_URL else "http://, https://, ftp:// or file://"
        )
        return f"{where} is {short_repr(value)}: give one URL starting with {schemes}, without spaces"
    if _DNF_URL.match(value) or _ABSOLUTE_PATH.match(value) or _PACKAGE_NAME.match(value):
        return None
    return (
        f"{where} is {short_repr(value)}: give a URL (http://, https://, ftp:// or file://), an absolute path on the "
        "host or a package name"
    )


def repo_mirror_problems(mirror, name, keys=None):
    """The problems of a repository mirror mapping; see DOCUMENTATION."""
    if mirror is None:
        return []
    if not isinstance(name, str) or not name:
        raise AnsibleFilterError("repo_mirror_problems: name must be the variable's name")
    valid = list(ALL_KEYS if keys is None else keys)
    if not isinstance(mirror, Mapping):
        return [f"{name} is a {type_name(mirror)} ({short_repr(mirror)}): give a mapping of {', '.join(valid)}"]
    found = []
    unknown = [str(key) for key in mirror if key not in valid]
    if unknown:
        found.append(f"{name} has unknown keys {', '.join(sorted(unknown))}; valid keys are {', '.join(valid)}")
    given = {key: value for key, value in mirror.items() if key in valid and value not in (None, "")}
    for key, value in given.items():
        problem = _problem(name, key, value)
        if problem:
            found.append(problem)
    for key, needed in _NEEDS.items():
        if key in given and needed not in given:
            found.append(f"{name}.{key} is set but {name}.{needed} is not: the key is used only for that mirror")
    return found


class FilterModule:
    """The ``repo_mirror_problems`` filter."""

    def filters(self):
        return {"repo_mirror_problems": repo_mirror_problems}
