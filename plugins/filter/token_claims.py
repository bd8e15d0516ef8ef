# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The ``osg_htc.site.token_claims`` filter: the header and payload of a JWT, without verifying it."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.module_utils._jwt import JwtError, decode

DOCUMENTATION = r"""
name: token_claims
short_description: Decode the header and claims of an IDTOKEN or other JWT without verifying it
version_added: 0.1.0
author:
  - Contributors to the osg_htc.site collection
description:
  - Decodes a compact JWS (C(header.payload.signature), each part base64url without padding), such as an
    HTCondor IDTOKEN or a SciToken, and returns its header and payload as dictionaries.
  - The signature is B(not verified) and is not returned. Use the result to check the shape of a token
    before it is installed, for example that C(payload.iss) is the pool's trust domain (for the OSPool
    C(flock.opensciencegrid.org)) or that C(payload.sub) names this host, not to decide whether to trust it.
  - Whitespace around the token, such as the trailing newline of a token file, is ignored. A token broken
    across lines, several tokens in one string, padding, standard base64 characters, or a header or payload
    that is not a JSON object are errors, and so is a number no 64-bit float can hold (such as C(1e400)),
    so the result always serializes as plain JSON.
  - Error messages never contain the token or any part of it, so they are safe to show in logs.
options:
  _input:
    description: The token text, for example the content of a file in C(/etc/condor/tokens.d).
    type: str
    required: true
notes:
  - 'Mark a task C(no_log: true) when it shows or registers the token itself. The filter result holds
    no signature, but the token is still a secret.'
seealso:
  - name: HTCondor token authentication
    description: IDTOKENS in the HTCondor administrators' manual.
    link: https://htcondor.readthedocs.io/en/latest/admin-manual/security.html#token-authentication
"""

EXAMPLES = r"""
- name: Read the OSPool token
  ansible.builtin.slurp:
    src: /etc/condor/tokens.d/ospool.token
  register: __ospool_token
  no_log: true

- name: Check that the OSPool issued the token for this host
  ansible.builtin.assert:
    that:
      - __claims.header.alg == 'HS256'
      - __claims.payload.iss == 'flock.opensciencegrid.org'
      - __claims.payload.sub in __subjects
      - __claims.payload.exp is not defined or __claims.payload.exp > now(utc=true).timestamp()
    fail_msg: The OSPool token is for {{ __claims.payload.sub }}, issued by {{ __claims.payload.iss }}
  vars:
    __claims: "{{ __ospool_token.content | b64decode | osg_htc.site.token_claims }}"
    # The registry's subject, and the one of tokens issued before mid-2022.
    __subjects:
      - RESOURCE-{{ inventory_hostname }}@cm-1.ospool.osg-htc.org
      - RESOURCE-{{ inventory_hostname }}@flock.opensciencegrid.org

- name: Show the token's scopes
  ansible.builtin.debug:
    msg: "{{ __claims.payload.scope | default('none: unrestricted') }}"
  vars:
    __claims: "{{ __ospool_token.content | b64decode | osg_htc.site.token_claims }}"
"""

RETURN = r"""
_value:
  description: The decoded token, without its signature.
  type: dict
  contains:
    header:
      description: 'The JOSE header, for example V({"alg": "HS256", "kid": "flock.opensciencegrid.org"}).'
      type: dict
    payload:
      description: The claims, for an IDTOKEN C(sub), C(iss), C(iat) and optionally C(exp), C(jti), C(scope).
      type: dict
"""


def token_claims(token):
    """Return ``{"header": ..., "payload": ...}`` of ``token``; see DOCUMENTATION."""
    try:
        return decode(token)
    except JwtError as exc:
        # The message of a JwtError never contains the token; "from None" keeps any
        # underlying exception (which might) out of the error Ansible shows.
        raise AnsibleFilterError(f"token_claims: {exc}") from None
    except Exception as exc:
        # decode raises only JwtError; should anything else slip through, say
        # what kind of error it was, but not its text, which might quote the token.
        raise AnsibleFilterError(f"token_claims: cannot decode the token ({type(exc).__name__})") from None


class FilterModule:
    """The ``token_claims`` filter."""

    def filters(self):
        return {"token_claims": token_claims}
