# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ``osg_htc.site.grid_resource`` filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.grid_resource import FilterModule, grid_resource
from ansible_collections.osg_htc.site.plugins.module_utils._classad import quote, short_repr


def test_filter_is_registered():
    assert FilterModule().filters() == {"grid_resource": grid_resource}


@pytest.mark.parametrize("batch", ["pbs", "slurm", "lsf", "sge", "condor"])
def test_local_batch_system(batch):
    assert grid_resource(batch) == f"batch {batch}"
    assert grid_resource(batch, None) == f"batch {batch}"


@pytest.mark.parametrize(
    "endpoint",
    [
        "login.example.edu",
        "osg01@login.example.edu",
        "osg01@login.example.edu:2222",
        "login:22",
        "localhost",
        "Osg.User-1_x@LOGIN.Example.EDU",
        "_svc@h",
        "user@192.0.2.10",
        "192.0.2.10:65535",
        "u@0.0.0.0:1",
        "a" * 63 + ".example.edu",
        "xn--bcher-kva.example",
        "1host.example.edu",
        ".".join(["a" * 63] * 3 + ["b" * 61]),
    ],
)
def test_remote_endpoint(endpoint):
    assert grid_resource("slurm", endpoint) == f"batch slurm {endpoint}"


def test_result_is_ready_for_classad_quote():
    assert quote(grid_resource("slurm", "osg01@login.example.edu")) == '"batch slurm osg01@login.example.edu"'


def _error(batch, *args):
    with pytest.raises(AnsibleFilterError) as info:
        grid_resource(batch, *args)
    return str(info.value)


@pytest.mark.parametrize("batch", ["SLURM", "Slurm", "htcondor", "", " slurm", "slurm\n", None, 1, ["slurm"]])
def test_bad_batch_system(batch):
    message = _error(batch)
    assert f"batch system {batch!r} is not valid" in message
    assert "pbs, slurm, lsf, sge, condor (lower case)" in message


@pytest.mark.parametrize(
    ("endpoint", "fragment"),
    [
        ("", "is empty"),
        ("user@host name", "whitespace"),
        (" host", "whitespace"),
        ("host\n", "whitespace"),
        ("host\x00", "control character"),
        ("host\x1b", "control character"),
        ('"host"', "invalid label"),
        ("host'", "invalid label"),
        ("$(HOSTNAME)", "invalid label"),
        ("user$@host", "not a login name"),
        ("@host", "not a login name"),
        ("-user@host", "not a login name"),
        ("1user@host", "not a login name"),
        ("us/er@host", "not a login name"),
        ("a@b@host", "invalid label"),
        ("user@", "has no host"),
        ("user@:22", "has no host"),
        ("host:", "has port ''"),
        ("host:0", "has port '0'"),
        ("host:65536", "has port '65536'"),
        ("host:+22", "has port '+22'"),
        ("host:22:33", "IPv6 addresses are not supported"),
        ("host:ssh", "has port 'ssh'"),
        ("host:\uff12\uff12", "has port"),  # full-width digits
        ("-host.example.edu", "invalid label '-host'"),
        ("host-.example.edu", "invalid label 'host-'"),
        ("host..example.edu", "invalid label ''"),
        ("host.example.edu.", "invalid label ''"),
        ("under_score.example.edu", "invalid label 'under_score'"),
        ("a" * 64 + ".example.edu", "invalid label"),
        (".".join(["a" * 63] * 4), "at most 253"),
        ("[2001:db8::1]", "IPv6 addresses are not supported"),
        ("u@[2001:db8::1]:22", "IPv6 addresses are not supported"),
        ("2001:db8::1", "IPv6 addresses are not supported"),
        ("256.1.1.1", "not an IPv4 address"),
        ("1.2.3", "not an IPv4 address"),
        ("01.2.3.4", "not an IPv4 address"),
        ("1234", "not an IPv4 address"),
        ("höst.example.edu", "invalid label"),
        ("host,other", "invalid label"),
        ("host#x", "invalid label"),
    ],
)
def test_bad_endpoint(endpoint, fragment):
    message = _error("slurm", endpoint)
    assert message.startswith(f"grid_resource: endpoint {short_repr(endpoint)}")
    assert fragment in message
    assert "expected [user@]host[:port]" in message


@pytest.mark.parametrize(("endpoint", "kind"), [(22, "int"), (["h"], "list"), ({"host": "h"}, "dict"), (b"h", "bytes")])
def test_endpoint_of_wrong_type(endpoint, kind):
    message = _error("slurm", endpoint)
    assert f"endpoint must be a string [user@]host[:port] or null, not a {kind}" in message


def test_long_endpoint_is_cut_in_messages():
    message = _error("slurm", "x" * 300 + "!")
    assert "(301 characters)" in message
    assert len(message) < 400
