# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The GridResource of an HTCondor-CE batch route: ``batch <batch>`` or ``batch <batch> <endpoint>``.

Shared by the ``osg_htc.site.grid_resource`` filter and the ``ce_job_route`` module.
Errors are ``ValueError`` whose message names the bad value and what is valid.
Runs on managed hosts: Python >= 3.9, standard library only.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.osg_htc.site.plugins.module_utils._classad import short_repr, type_name

BATCH_SYSTEMS = ("pbs", "slurm", "lsf", "sge", "condor")

USER_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_.-]*\Z")
LABEL_RE = re.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
PORT_RE = re.compile(r"\A[0-9]{1,5}\Z")
ENDPOINT_FORM = "[user@]host[:port]"


def _fail(endpoint, problem):
    raise ValueError(f"endpoint {short_repr(endpoint)} {problem}; expected {ENDPOINT_FORM}")


def _check_host(endpoint, host):
    if not host:
        _fail(endpoint, "has no host")
    labels = host.split(".")
    if all(label.isascii() and label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            _fail(endpoint, f"has host {short_repr(host)}, which is all digits but not an IPv4 address a.b.c.d")
        return
    if len(host) > 253:
        _fail(endpoint, f"has a host name of {len(host)} characters; at most 253 are allowed")
    for label in labels:
        if not LABEL_RE.match(label):
            _fail(
                endpoint,
                f"has host {short_repr(host)} with invalid label {short_repr(label)}: a label is 1 to 63 "
                "letters, digits or hyphens and does not start or end with a hyphen (no trailing dot, "
                "no underscore; IPv6 addresses are not supported)",
            )


def _check_endpoint(endpoint):
    if not isinstance(endpoint, str):
        raise ValueError(
            f"endpoint must be a string {ENDPOINT_FORM} or null, not a {type_name(endpoint)} {short_repr(endpoint)}"
        )
    if not endpoint:
        _fail(endpoint, "is empty (omit it, or pass null, for a batch system on the CE host)")
    if any(char.isspace() or not char.isprintable() for char in endpoint):
        _fail(endpoint, "contains whitespace or a control character")
    rest = endpoint
    if "[" in rest or rest.count(":") > 1:
        _fail(endpoint, "looks like an IPv6 address; IPv6 addresses are not supported, use a host name")
    if "@" in rest:
        user, rest = rest.split("@", 1)
        if not USER_RE.match(user):
            _fail(
                endpoint,
                f"has user {short_repr(user)}, which is not a login name [A-Za-z_][A-Za-z0-9_.-]*",
            )
    if ":" in rest:
        host, port = rest.split(":", 1)
        if not PORT_RE.match(port) or not 1 <= int(port) <= 65535:
            _fail(endpoint, f"has port {short_repr(port)}; a port is a number from 1 to 65535")
    else:
        host = rest
    _check_host(endpoint, host)


def grid_resource(batch, endpoint=None):
    """Return ``batch <batch>`` or ``batch <batch> <endpoint>``; raise ValueError for bad input."""
    if not isinstance(batch, str) or batch not in BATCH_SYSTEMS:
        raise ValueError(
            f"batch system {short_repr(batch)} is not valid; use one of {', '.join(BATCH_SYSTEMS)} (lower case)"
        )
    if endpoint is None:
        return f"batch {batch}"
    _check_endpoint(endpoint)
    return f"batch {batch} {endpoint}"
