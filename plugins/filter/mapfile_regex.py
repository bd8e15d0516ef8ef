# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.mapfile_regex`` filter: a literal string as the body of a ``/regex/`` map file field."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: mapfile_regex
short_description: Escape a literal string for the C(/regex/) field of an HTCondor map file line
version_added: 0.1.0
author:
  - Contributors to the osg_htc.site collection
description:
  - Returns text to put between the slashes of the second field of an HTCondor (or HTCondor-CE) map file
    line, such as C(SCITOKENS /^<issuer>,<subject>$/ <user>), so that the regular expression HTCondor
    compiles matches the input string literally (PCRE2, as HTCondor's C(MapFile) uses).
  - Letters, digits and C(_) stay as they are. Every other character is preceded by a backslash, which PCRE
    reads as the literal character (C(https://a.org) becomes C(https\:\/\/a\.org), as the HTCondor-CE
    documentation writes issuers). A backslash becomes four backslashes, because HTCondor's map file reader
    turns C(\\) into one backslash before PCRE sees the pattern.
  - Add anchors yourself, for example C(^) before an issuer and C($) after a subject.
options:
  _input:
    description: The literal text, for example a token issuer URL or subject.
    type: string
    required: true
notes:
  - Empty strings and strings with control characters (newline, tab, ...) are refused, because a map file
    line cannot hold them and an empty field means something else.
seealso:
  - name: HTCondor-CE, Configuring authentication
    description: SciTokens and SSL mappings in C(/etc/condor-ce/mapfiles.d/).
    link: https://htcondor.com/htcondor-ce/v24/installation/htcondor-ce/#configuring-authentication
"""

EXAMPLES = r"""
- name: Map pilots of one token issuer to the osg user
  ansible.builtin.copy:
    dest: /etc/condor-ce/mapfiles.d/50-local.conf
    content: |
      SCITOKENS /^{{ 'https://scitokens.org/osg-connect' | osg_htc.site.mapfile_regex }},/ osg
    mode: "0644"
  # SCITOKENS /^https\:\/\/scitokens\.org\/osg\-connect,/ osg
"""

RETURN = r"""
_value:
  description: The escaped text, without the enclosing slashes.
  type: string
"""

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PLAIN = re.compile(r"[A-Za-z0-9_]")


def mapfile_regex(value):
    """Return ``value`` escaped for a map file's ``/regex/`` field; see DOCUMENTATION."""
    if not isinstance(value, str):
        raise AnsibleFilterError(f"mapfile_regex: expected a string, got {type(value).__name__} {value!r}")
    if not value:
        raise AnsibleFilterError("mapfile_regex: the string is empty; an empty map file field is not a literal")
    bad = CONTROL.search(value)
    if bad:
        raise AnsibleFilterError(
            f"mapfile_regex: {value!r} holds the control character {bad.group()!r} at position {bad.start()}; "
            "a map file line cannot"
        )
    out = []
    for char in value:
        if char == "\\":
            out.append("\\\\\\\\")
        elif PLAIN.match(char) or ord(char) > 127:
            out.append(char)
        else:
            out.append("\\" + char)
    return "".join(out)


class FilterModule:
    """The ``mapfile_regex`` filter."""

    def filters(self):
        return {"mapfile_regex": mapfile_regex}
