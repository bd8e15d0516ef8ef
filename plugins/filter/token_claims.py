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
    before it is installed, for example that C(header.kid) is C(POOL) or that C(payload.sub) names this
    host, not to decide whether to trust it.
  - Whitespace around the token, such as the trailing newline of a token file, is ignored. A token broken
    across lines, several tokens in one string, padding, standard base64 characters, or a header or payload
    that is not a JSON object are errors.
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

- name: Check that the token was issued for this host
  ansible.builtin.assert:
    that:
      - __claims.header.alg == 'HS256'
      - __claims.payload.sub == 'RESOURCE-' ~ inventory_hostname ~ '@cm-1.ospool.osg-htc.org'
      - __claims.payload.exp is not defined or __claims.payload.exp > now(utc=true).timestamp()
    fail_msg: The OSPool token is for {{ __claims.payload.sub }}
  vars:
    __claims: "{{ __ospool_token.content | b64decode | osg_htc.site.token_claims }}"
"""

RETURN = r"""
_value:
  description: The decoded token, without its signature.
  type: dict
  contains:
    header:
      description: 'The JOSE header, for example V({"alg": "HS256", "kid": "POOL"}).'
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


class FilterModule:
    """The ``token_claims`` filter."""

    def filters(self):
        return {"token_claims": token_claims}
