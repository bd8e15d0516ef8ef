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
    (three base64url parts, a JSON header with a C(alg) other than C(none), a non-empty signature, a JSON
    payload with C(sub), C(iss) and C(iat)), already valid (C(iat) and C(nbf) not later than O(clock_skew)
    seconds from now), not expired, with every time claim a number of seconds from 0 to the end of the
    year 9999, and, when asked, issued by O(expected_issuer) for one of the O(expected_subject) subjects
    with O(required_scopes) and at least O(min_remaining_validity) seconds left.
  - O(owner), O(group) and O(mode) are resolved before anything is written, so an unknown user or group or
    a bad mode fails with nothing changed.
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
      - Must be absolute, without C(.) or C(..) components, and must name a file, not end in C(/).
      - If it names a symbolic link, the module fails and changes nothing, for either O(state). Writing
        through a link would leave the token in the link's target with the target's owner and mode (for
        example readable by every user); give the target itself, or replace the link with a plain file.
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
    description:
      - Owner of the token file, a user name or a numeric user id.
      - A user that does not exist fails the task before anything is written.
    type: str
    default: root
  group:
    description:
      - Group of the token file, a group name or a numeric group id.
      - A group that does not exist fails the task before anything is written.
    type: str
    default: root
  mode:
    description:
      - Mode of the token file, in octal (V('0600')) or symbolic (V(u=rw,g=,o=)) form, as for M(ansible.builtin.file).
      - Checked before anything is written; a mode beyond the permission bits (C(07777)) is refused.
    type: raw
    default: '0600'
  expected_issuer:
    description:
      - Refuse a token whose C(iss) claim differs.
      - The issuer is the C(TRUST_DOMAIN) of the pool that signed the token, not a host name. For the OSPool it
        is V(flock.opensciencegrid.org).
    type: str
  expected_subject:
    description:
      - Refuse a token whose C(sub) claim is none of these subjects.
      - A single string is one subject (a comma inside it separates subjects, as for any list option).
      - For an OSPool Access Point the OSG token registry approves C(RESOURCE-<fqdn>@cm-1.ospool.osg-htc.org);
        tokens issued before mid-2022 have C(RESOURCE-<fqdn>@flock.opensciencegrid.org).
    type: list
    elements: str
  required_scopes:
    description:
      - Authorizations the token must carry in its C(scope) claim. Other scopes the token carries are
        accepted and reported in RV(scopes.extra).
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
      - A whole number of seconds from V(0) to V(3155760000) (100 years), as a number or its decimal text.
    type: raw
    default: 0
  clock_skew:
    description:
      - How many seconds a token's C(iat) (issue time) and C(nbf) (not before) claims may lie after this host's
        clock, for clocks that differ a little. A token issued or valid only later is refused as not yet valid.
      - A whole number of seconds from V(0) to V(3600), as a number or its decimal text.
    type: raw
    default: 300
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
  - Every refusal names what is wrong with which input and never quotes the token.
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
    expected_issuer: flock.opensciencegrid.org
    expected_subject:
      - "RESOURCE-{{ inventory_hostname }}@cm-1.ospool.osg-htc.org"
      - "RESOURCE-{{ inventory_hostname }}@flock.opensciencegrid.org"  # tokens issued before mid-2022
    required_scopes: [READ, ADVERTISE_SCHEDD]
    min_remaining_validity: 604800  # a week
  register: ospool_token

- name: Show which scopes the token carries beyond the required ones
  ansible.builtin.debug:
    msg: "{{ ospool_token.scopes.extra | join(' ') or 'none' }}"

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
      sample: {"alg": "HS256", "kid": "flock.opensciencegrid.org"}
    payload:
      description: The claims.
      type: dict
      sample:
        iat: 1767225600
        iss: flock.opensciencegrid.org
        jti: 0123456789abcdef0123456789abcdef
        scope: condor:/READ condor:/ADVERTISE_MASTER condor:/ADVERTISE_SCHEDD
        sub: RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org
    file:
      description: The token file.
      type: str
      sample: /etc/condor/tokens.d/ospool.token
    line:
      description: The line C(condor_token_list) prints for the file.
      type: str
      sample: >-
        Header: {"alg":"HS256","kid":"flock.opensciencegrid.org"} Payload: {"iat":1767225600,
        "iss":"flock.opensciencegrid.org","jti":"0123456789abcdef0123456789abcdef",
        "scope":"condor:\/READ condor:\/ADVERTISE_MASTER condor:\/ADVERTISE_SCHEDD",
        "sub":"RESOURCE-ap.example.edu@cm-1.ospool.osg-htc.org"} File: /etc/condor/tokens.d/ospool.token
scopes:
  description: The scopes of the new token, against O(required_scopes).
  returned: when O(state=present) and the token was accepted
  type: dict
  contains:
    granted:
      description: The token's C(scope) claim as a list; empty for a token without one.
      type: list
      elements: str
      sample: [condor:/READ, condor:/ADVERTISE_MASTER, condor:/ADVERTISE_SCHEDD]
    required:
      description: O(required_scopes), each with its C(condor:/) prefix.
      type: list
      elements: str
      sample: [condor:/READ, condor:/ADVERTISE_SCHEDD]
    found:
      description: The required scopes the token carries (all of them, or the module would have failed).
      type: list
      elements: str
      sample: [condor:/READ, condor:/ADVERTISE_SCHEDD]
    extra:
      description: The token's scopes that were not required (allowed, only reported).
      type: list
      elements: str
      sample: [condor:/ADVERTISE_MASTER]
    unrestricted:
      description: True for a token without a C(scope) claim, which carries every authorization its identity has.
      type: bool
      sample: false
backup_file:
  description: The backup copy of the old file.
  returned: when O(backup=true) and the file was replaced or removed
  type: str
  sample: /etc/condor/tokens.d/ospool.token.12345.2026-01-01@00:00:00~
"""

import grp
import os
import pwd
import re
import stat

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
    MAX_CLOCK_SKEW,
    MAX_VALIDITY,
    JwtError,
    check_claims,
    decode,
    scope_report,
    seconds_option,
    show,
    subjects_option,
    token_list_line,
)

NAME_RE = re.compile(r"\A[A-Za-z0-9_-][A-Za-z0-9._-]*\Z")
DIRECTORY_MODE = "0700"
# File names are at most 255 bytes; the temporary file next to the token adds
# a prefix and a suffix to the token file's name.
MAX_NAME_BYTES = 200
# The largest user or group id chown takes (2**32 - 1 means "leave unchanged").
MAX_ID = 2**32 - 2
# Errors no code path here should raise; if one does, main() reports it
# without a traceback (and without its text, should that quote the token).
UNEXPECTED = (ArithmeticError, AttributeError, LookupError, OSError, RuntimeError, TypeError, ValueError)


class Refusal(Exception):
    """A reason to fail the task; the message names the input and never quotes the token."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path


def token_path(params) -> str:
    """The file the module manages; Refusal on a bad ``name``, ``directory`` or ``path``."""
    if params["path"] is not None:
        path = params["path"]
        option = "path"
    else:
        name = params["name"] or ""
        if not NAME_RE.match(name):
            raise Refusal(
                f"name {show(name)} is not a plain file name: use letters, digits, '.', '_' and '-', "
                "not starting with '.' (or give the full path with the path option)"
            )
        if name.endswith(".token"):
            raise Refusal(f"name {name!r} already ends in .token, which the module adds: use name={name[:-6]!r}")
        path = os.path.join(params["directory"] or "", f"{name}.token")
        option = "directory"
    if "\x00" in path:
        raise Refusal(f"{option} {show(path)} contains a NUL character, which no file name can hold")
    if not os.path.isabs(path):
        raise Refusal(f"{option} {show(path)} is not an absolute path: give the full path from /")
    if any(part in (".", "..") for part in path.split(os.sep)):
        raise Refusal(
            f"{option} {show(path)} has a '.' or '..' component: give the plain path {show(os.path.normpath(path))}"
        )
    name = os.path.basename(path)
    if not name:
        raise Refusal(f"{option} {show(path)} ends in '/': give the path of the token file, not of a directory")
    if len(os.fsencode(name)) > MAX_NAME_BYTES:
        raise Refusal(f"The file name of {option} {show(path)} is longer than {MAX_NAME_BYTES} bytes")
    return path


def existing_file(path: str):
    """The lstat of ``path``, None if it does not exist; Refusal for a link or anything but a plain file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Refusal(f"Cannot inspect {path}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(st.st_mode):
        try:
            target = f" to {show(os.readlink(path))}"
        except OSError:
            target = ""
        raise Refusal(
            f"{path} is a symbolic link{target}: refusing to manage a token through a link, whose target keeps "
            "its own owner and mode (it could stay readable by other users). Give the target as path, "
            "or replace the link with a plain file"
        )
    if stat.S_ISDIR(st.st_mode):
        raise Refusal(f"{path} is a directory, not a token file")
    if not stat.S_ISREG(st.st_mode):
        raise Refusal(f"{path} is not a regular file (a FIFO, socket or device): refusing to write a token there")
    return st


def _resolve_id(option: str, value, kind: str, lookup) -> None:
    """Refusal unless ``value`` is a numeric id in range or the name of an existing user or group."""
    if value is None:
        return
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is not None:
        if not 0 <= number <= MAX_ID:
            raise Refusal(f"{option} {show(value)} is not a valid {kind} id (0 to {MAX_ID}); nothing was written")
        return
    try:
        lookup(value)
    except KeyError:
        raise Refusal(f"{option} {show(value)}: no such {kind} on this host; nothing was written") from None
    except (TypeError, ValueError):
        raise Refusal(f"{option} {show(value)} is not a valid {kind} name; nothing was written") from None


class _ModeBase:
    """The one field of a stat result that symbolic mode parsing reads."""

    def __init__(self, st_mode: int):
        self.st_mode = st_mode


def resolve_mode(mode, current):
    """``mode`` as permission bits, like AnsibleModule reads it; Refusal naming the value otherwise.

    A symbolic mode applies to the current file's mode, or to 0600 for a new file
    (the mode the module creates a token file with).
    """
    if mode is None:
        return None
    wanted = "mode must be octal (such as '0600') or symbolic (such as 'u=rw,g=,o=') permission bits"
    if isinstance(mode, bool) or not isinstance(mode, (int, str)):
        raise Refusal(f"{wanted}, not a {type(mode).__name__}; nothing was written")
    if isinstance(mode, int):
        bits = mode
    else:
        try:
            bits = int(mode, 8)
        except ValueError:
            base = _ModeBase(current.st_mode if current is not None else stat.S_IFREG | 0o600)
            try:
                bits = AnsibleModule._symbolic_mode_to_octal(base, mode)
            except Exception:  # any parse failure is a bad mode
                raise Refusal(f"{wanted}, not {show(mode)}; nothing was written") from None
    if not 0 <= bits <= 0o7777:
        raise Refusal(f"{wanted} (at most 07777), not {show(mode)}; nothing was written")
    return bits


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


def check_options(params) -> dict:
    """The checked numeric and list options; Refusal naming a bad one."""
    try:
        checked = dict(
            min_remaining_validity=seconds_option(
                "min_remaining_validity", params["min_remaining_validity"], MAX_VALIDITY
            ),
            clock_skew=seconds_option("clock_skew", params["clock_skew"], MAX_CLOCK_SKEW),
            expected_subject=subjects_option(params["expected_subject"]),
        )
    except ValueError as exc:
        raise Refusal(str(exc)) from None
    issuer = params["expected_issuer"]
    if issuer is not None and not issuer.strip():
        raise Refusal(
            "expected_issuer is empty: give the issuer (for the OSPool, flock.opensciencegrid.org) or leave it out"
        )
    bad = [scope for scope in params["required_scopes"] if not scope.strip() or len(scope.split()) > 1]
    if bad:
        raise Refusal(f"required_scopes entries must be single non-empty words such as READ, not {show(bad)}")
    return checked


def manage(module) -> tuple:
    """Check everything, then act; (result, outcome) for exit_with_outcome, or Refusal."""
    params = module.params
    path = token_path(params)
    try:
        return _manage_path(module, path)
    except Refusal as exc:
        exc.path = path
        raise
    except UNEXPECTED as exc:
        raise Refusal(unexpected_message(exc, path, params.get("token")), path) from None


def _manage_path(module, path: str) -> tuple:
    params = module.params
    checked = check_options(params)
    current = existing_file(path)
    result = dict(changed=False, path=path)

    if params["state"] == "absent":
        old_claims, diff_before = describe_existing(path)
        try:
            outcome = remove_file(module, path, backup=params["backup"], diff_before=diff_before, secret=True)
        except FileError as exc:
            raise Refusal(str(exc)) from None
        if old_claims:
            result["claims"] = old_claims
        return result, outcome

    # Everything about the new token and the file's attributes is checked
    # before the host is touched.
    _resolve_id("owner", params["owner"], "user", pwd.getpwnam)
    _resolve_id("group", params["group"], "group", grp.getgrnam)
    mode = resolve_mode(params["mode"], current)
    try:
        decoded = decode(params["token"])
        check_claims(
            decoded,
            expected_issuer=params["expected_issuer"],
            expected_subject=checked["expected_subject"],
            required_scopes=params["required_scopes"],
            min_remaining_validity=checked["min_remaining_validity"],
            clock_skew=checked["clock_skew"],
        )
    except JwtError as exc:
        # A JwtError message never quotes the token, so it is safe to show.
        raise Refusal(f"Refusing the token for {path}: {exc}") from None
    result["claims"] = claims_of(decoded, path)
    result["scopes"] = scope_report(decoded, params["required_scopes"])
    diff_after = result["claims"]["line"] + "\n"
    _old_claims, diff_before = describe_existing(path)

    directory = os.path.dirname(path)
    try:
        if not os.path.isdir(directory):
            result["changed"] = ensure_directory(
                module, directory, owner=params["owner"], group=params["group"], mode=DIRECTORY_MODE
            )
            if module.check_mode:
                # Nothing to compare against: the file cannot exist in a missing directory.
                diff = dict(before="", after=diff_after, before_header=path, after_header=path)
                return result, dict(changed=True, diff=diff if module._diff else None)
        outcome = ensure_file(
            module,
            path,
            params["token"].strip() + "\n",
            owner=params["owner"],
            group=params["group"],
            mode=mode,
            backup=params["backup"],
            diff_before=diff_before,
            diff_after=diff_after,
            secret=True,
        )
    except FileError as exc:
        raise Refusal(str(exc)) from None
    return result, outcome


def mentions_token(text: str, token) -> bool:
    """Whether ``text`` holds the token or any 8 characters in a row of it."""
    if not isinstance(token, str) or not token.strip():
        return False
    token = token.strip()
    if len(token) < 8:
        return token in text
    return any(text[start : start + 8] in token for start in range(max(0, len(text) - 7)))


def unexpected_message(exc: BaseException, where: str, token) -> str:
    """What went wrong, by exception type; its text only if it quotes no piece of the token."""
    message = f"Cannot manage {where}: unexpected {type(exc).__name__}"
    text = str(exc)[:300]
    if text and not mentions_token(text, token):
        message += f": {text}"
    return message


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
            expected_subject=dict(type="list", elements="str"),
            required_scopes=dict(type="list", elements="str", default=[]),
            # raw, not int: the module says itself what is wrong with an
            # infinite, fractional or out-of-range number of seconds.
            min_remaining_validity=dict(type="raw", default=0),
            clock_skew=dict(type="raw", default=300),
            backup=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("name", "path")],
        required_one_of=[("name", "path")],
        required_if=[("state", "present", ("token",))],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    try:
        result, outcome = manage(module)
    except Refusal as exc:
        module.fail_json(msg=str(exc), changed=False, **({"path": exc.path} if exc.path else {}))
    except UNEXPECTED as exc:
        module.fail_json(msg=unexpected_message(exc, "the token file", module.params.get("token")), changed=False)
    exit_with_outcome(module, result, outcome)


if __name__ == "__main__":
    main()
