# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ``osg_htc.site.classad_quote`` filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.classad_quote import FilterModule, classad_quote

try:
    import classad2
except ImportError:  # pragma: no cover - depends on the environment
    classad2 = None


def test_filter_is_registered():
    assert FilterModule().filters() == {"classad_quote": classad_quote}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("batch slurm", '"batch slurm"'),
        ("cost $(HOME)", '"cost \\044(HOME)"'),
        ("line 1\nline 2", '"line 1\\nline 2"'),
        (["a", 1, True, None], '{ "a", 1, true, undefined }'),
        ({"MaxJobs": 100, "Queue": "osg"}, '[ MaxJobs = 100; Queue = "osg" ]'),
        (2.5, "2.5"),
    ],
)
def test_documented_examples(value, expected):
    assert classad_quote(value) == expected


@pytest.mark.parametrize(
    "value",
    ['say "hi"', "C:\\path\\", "a\r\nb\tc", "$(HOSTNAME) $$(X) $ENV(HOME)", "é😀", "x" * 5000],
)
def test_hostile_strings_round_trip(value):
    text = classad_quote(value)
    assert "$" not in text
    assert len(text.splitlines()) == 1
    if classad2 is not None:
        assert classad2.ExprTree(text).eval() == value


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("bad\0value", ["classad_quote:", "'bad\\x00value'", "NUL character"]),
        (float("nan"), ["classad_quote:", "nan", "only finite numbers"]),
        (2**64, ["classad_quote:", str(2**64), "integer range"]),
        ({"bad-key": 1}, ["classad_quote:", "'bad-key'", "[A-Za-z_][A-Za-z0-9_]*"]),
        ({"true": 1}, ["classad_quote:", "'true'", "reserved word"]),
        ({1, 2}, ["classad_quote:", "set", "valid types are"]),
        (b"raw", ["classad_quote:", "bytes", "valid types are"]),
    ],
)
def test_errors_name_the_value_and_what_is_valid(value, fragments):
    with pytest.raises(AnsibleFilterError) as info:
        classad_quote(value)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
