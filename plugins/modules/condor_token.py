#!/usr/bin/python
# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.condor_token`` module: install or remove an HTCondor IDTOKEN file."""

from __future__ import annotations

DOCUMENTATION = r"""
module: condor_token
short_description: Install or remove an HTCondor IDTOKEN file, checking the token before it goes live
version_added: 0.1.0
author:
  - Contributors to the osg_htc.site collection (!UNKNOWN)
description:
  - Writes an HTCondor IDTOKEN (a compact JWS, C(header.payload.signature)) to a file in the system
    tokens directory, by default C(/etc/condor/tokens.d/<name>.token), as exactly one line, owned
    C(root:root) with mode C(0600), the way the OSG documentation installs the OSPool token.
  - Before anything on the host changes, the token is checked to be one well-formed token on one line
    (three base64url parts, a JSON header with C(alg), a JSON payload with C(sub), C(iss) and C(iat)),
    not expired, and, when asked, issued by O(expected_issuer) for O(expected_subject) with
    O(required_scopes) and at least O(min_remaining_validity) seconds left.
  - The signature is B(not verified); only the HTCondor daemon that holds the signing key can do that.
  - The token text never appears in the module's output, messages or diff. The diff and the return value
    show the claims as C(condor_token_list) does.
  - Creates the file's directory with mode C(0700) if it is missing (its parent must exist), owned by
    O(owner) and O(group). An existing directory is left as it is.
options:
  name:
    description:
      - Name of the token file in O(directory), without the C(.token) suffix, which the module adds.
      - A plain file name of letters, digits, C(.), C(_) and C(-), not starting with C(.).
      - Exactly one of O(name) and O(path) is required.
    type: str
  directory:
    description:
      - Directory for O(name). HTCondor reads system tokens from C(SEC_TOKEN_SYSTEM_DIRECTORY).
      - Ignored when O(path) is given.
    type: path
    default: /etc/condor/tokens.d
  path:
    description:
      - Full path of the token file, instead of O(name) and O(directory).
    type: path
  token:
    description:
      - The token text. Whitespace around it (such as a trailing newline) is ignored.
      - Required when O(state=present).
    type: str
  state:
    description:
      - V(present) writes the token; V(absent) removes the file (O(token) is then ignored).
    type: str
    choices: [present, absent]
    default: present
  owner:
    description: Owner of the token file.
    type: str
    default: root
  group:
    description: Group of the token file.
    type: str
    default: root
  mode:
    description: Mode of the token file.
    type: raw
    default: '0600'
  expected_issuer:
    description:
      - Refuse a token whose C(iss) claim differs, for example V(cm-1.ospool.osg-htc.org).
    type: str
  expected_subject:
    description:
      - Refuse a token whose C(sub) claim differs, for example V(RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org).
    type: str
  required_scopes:
    description:
      - Authorizations the token must carry in its C(scope) claim.
      - Give each as the bare authorization level (V(READ)) or as it appears in the claim
        (V(condor:/READ)); a bare name gets the C(condor:/) prefix.
      - A token without a C(scope) claim is not restricted (it carries every authorization its identity
        is granted), so it passes this check.
    type: list
    elements: str
    default: []
  min_remaining_validity:
    description:
      - Refuse a token whose C(exp) claim lies fewer than this many seconds in the future.
      - A token without C(exp) never expires and passes. An expired token is always refused.
    type: int
    default: 0
  backup:
    description:
      - Keep a timestamped copy of the file before it is replaced or removed. The copy holds the old token,
        with the old file's owner and mode.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.files
  - osg_htc.site._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the claims of the old and new token as C(condor_token_list) lines, never the token.
notes:
  - A file that holds more than one token (one per line, as HTCondor allows) is replaced by the single token given.
  - C(iat) is required because C(condor_token_create) always writes it; C(kid) (the signing key name) is shown
    but not required.
  - The C(claims) return value re-serializes the header and payload the way C(condor_token_create) writes them
    (sorted keys, no spaces, C(/) as C(\/)), so it matches C(condor_token_list) for tokens HTCondor made.
seealso:
  - name: HTCondor token authentication
    description: IDTOKENS in the HTCondor administrators' manual.
    link: https://htcondor.readthedocs.io/en/latest/admin-manual/security.html#token-authentication
  - name: Installing an OSPool Access Point
    description: Where the OSPool token goes and how it is obtained.
    link: https://osg-htc.org/docs/submit/install-ospool-ap/
"""

EXAMPLES = r"""
- name: Install the OSPool token of this Access Point
  osg_htc.site.condor_token:
    name: ospool
    token: "{{ vault_ospool_token }}"
    expected_issuer: cm-1.ospool.osg-htc.org
    expected_subject: "RESOURCE-{{ inventory_hostname }}@cm-1.ospool.osg-htc.org"
    required_scopes: [READ, ADVERTISE_SCHEDD, ADVERTISE_MASTER]
    min_remaining_validity: 604800  # a week

- name: Remove an old token, keeping a backup
  osg_htc.site.condor_token:
    path: /etc/condor/tokens.d/flock.opensciencegrid.org
    state: absent
    backup: true
"""

RETURN = r"""
path:
  description: The token file.
  returned: always
  type: str
  sample: /etc/condor/tokens.d/ospool.token
claims:
  description:
    - The token's header and payload, as C(condor_token_list) shows them; never the signature.
    - For O(state=present) the new token; for O(state=absent) the removed token if the file held a valid one.
  returned: when a token is known
  type: dict
  contains:
    header:
      description: The JOSE header.
      type: dict
      sample: {"alg": "HS256", "kid": "POOL"}
    payload:
      description: The claims.
      type: dict
      sample:
        iat: 1700000000
        iss: cm-1.ospool.osg-htc.org
        scope: condor:/READ condor:/ADVERTISE_SCHEDD
        sub: RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org
    file:
      description: The token file.
      type: str
      sample: /etc/condor/tokens.d/ospool.token
    line:
      description: The line C(condor_token_list) prints for the file.
      type: str
      sample: >-
        Header: {"alg":"HS256","kid":"POOL"} Payload: {"iat":1700000000,"iss":"cm-1.ospool.osg-htc.org"}
        File: /etc/condor/tokens.d/ospool.token
backup_file:
  description: The backup copy of the old file.
  returned: when O(backup=true) and the file was replaced or removed
  type: str
  sample: /etc/condor/tokens.d/ospool.token.12345.2026-01-01@00:00:00~
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osg_htc.site.plugins.module_utils._files import (
    FileError,
    ensure_directory,
    ensure_file,
    exit_with_outcome,
    read_bytes,
    remove_file,
)
from ansible_collections.osg_htc.site.plugins.module_utils._jwt import (
    JwtError,
    check_claims,
    decode,
    token_list_line,
)

NAME_RE = re.compile(r"\A[A-Za-z0-9_-][A-Za-z0-9._-]*\Z")
DIRECTORY_MODE = "0700"


def token_path(params) -> str:
    """The file the module manages; fails with ValueError on a bad ``name``."""
    if params["path"]:
        return params["path"]
    name = params["name"]
    if not NAME_RE.match(name):
        raise ValueError(
            f"name {name!r} is not a plain file name: use letters, digits, '.', '_' and '-', "
            "not starting with '.' (or give the full path with the path option)"
        )
    if name.endswith(".token"):
        raise ValueError(f"name {name!r} already ends in .token, which the module adds: use name={name[:-6]!r}")
    return os.path.join(params["directory"], f"{name}.token")


def claims_of(decoded, path: str) -> dict:
    return dict(decoded, file=path, line=token_list_line(decoded, path))


def describe_existing(path: str) -> tuple:
    """(claims or None, diff text) for the file now at ``path``; never its content."""
    try:
        data = read_bytes(path)
    except FileError as exc:
        return None, f"({exc})"
    if data is None:
        return None, ""
    try:
        decoded = decode(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "(the file does not hold a valid token: it is not UTF-8 text)"
    except JwtError as exc:
        return None, f"(the file does not hold a valid token: {exc})"
    return claims_of(decoded, path), token_list_line(decoded, path) + "\n"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str"),
            directory=dict(type="path", default="/etc/condor/tokens.d"),
            path=dict(type="path"),
            token=dict(type="str", no_log=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
            mode=dict(type="raw", default="0600"),
            expected_issuer=dict(type="str"),
            expected_subject=dict(type="str"),
            required_scopes=dict(type="list", elements="str", default=[]),
            min_remaining_validity=dict(type="int", default=0),
            backup=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("name", "path")],
        required_one_of=[("name", "path")],
        required_if=[("state", "present", ("token",))],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    try:
        path = token_path(params)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if params["min_remaining_validity"] < 0:
        module.fail_json(
            msg=f"min_remaining_validity must be 0 or more seconds, not {params['min_remaining_validity']}"
        )
    blank = [scope for scope in params["required_scopes"] if not scope.strip() or len(scope.split()) > 1]
    if blank:
        module.fail_json(msg=f"required_scopes entries must be single non-empty words such as READ, not {blank!r}")

    old_claims, diff_before = describe_existing(path)
    result = dict(changed=False, path=path)

    if params["state"] == "absent":
        try:
            outcome = remove_file(module, path, backup=params["backup"], diff_before=diff_before, secret=True)
        except FileError as exc:
            module.fail_json(msg=str(exc), **result)
        if old_claims:
            result["claims"] = old_claims
        exit_with_outcome(module, result, outcome)

    # Everything about the new token is checked before the host is touched.
    try:
        decoded = decode(params["token"])
        check_claims(
            decoded,
            expected_issuer=params["expected_issuer"],
            expected_subject=params["expected_subject"],
            required_scopes=params["required_scopes"],
            min_remaining_validity=params["min_remaining_validity"],
        )
    except JwtError as exc:
        # A JwtError message never quotes the token, so it is safe to show.
        module.fail_json(msg=f"Refusing the token for {path}: {exc}", **result)
    result["claims"] = claims_of(decoded, path)
    diff_after = result["claims"]["line"] + "\n"

    directory = os.path.dirname(path)
    try:
        if not os.path.isdir(directory):
            result["changed"] = ensure_directory(
                module, directory, owner=params["owner"], group=params["group"], mode=DIRECTORY_MODE
            )
            if module.check_mode:
                # Nothing to compare against: the file cannot exist in a missing directory.
                outcome = dict(
                    changed=True, diff=dict(before="", after=diff_after, before_header=path, after_header=path)
                )
                exit_with_outcome(module, result, outcome if module._diff else dict(changed=True))
        outcome = ensure_file(
            module,
            path,
            params["token"].strip() + "\n",
            owner=params["owner"],
            group=params["group"],
            mode=params["mode"],
            backup=params["backup"],
            diff_before=diff_before,
            diff_after=diff_after,
            secret=True,
        )
    except FileError as exc:
        module.fail_json(msg=str(exc), **result)
    exit_with_outcome(module, result, outcome)


if __name__ == "__main__":
    main()
