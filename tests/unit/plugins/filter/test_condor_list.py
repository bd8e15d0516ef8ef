# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ``osg_htc.site.condor_list`` filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.condor_list import FilterModule, condor_list


def test_filter_is_registered():
    assert FilterModule().filters() == {"condor_list": condor_list}


@pytest.mark.parametrize(
    ("items", "separator", "expected"),
    [
        (["a", "b", "c"], ", ", "a, b, c"),
        (["a", "b", "c"], ",", "a,b,c"),
        (["a", "b", "c"], " ", "a b c"),
        (["SCHEDD"], ", ", "SCHEDD"),
        ([], ", ", ""),
        ((9618, "cm-1.ospool.osg-htc.org:9618"), ", ", "9618, cm-1.ospool.osg-htc.org:9618"),
        (
            ["*.example.edu", "user@host/1.2.3.4", "condor_pool@*/*"],
            ", ",
            "*.example.edu, user@host/1.2.3.4, condor_pool@*/*",
        ),
        (["é"], ", ", "é"),
        ([-1, 0], " ", "-1 0"),
    ],
)
def test_join(items, separator, expected):
    assert condor_list(items, separator) == expected


def test_default_separator():
    assert condor_list(["FS", "TOKEN", "SCITOKENS", "SSL"]) == "FS, TOKEN, SCITOKENS, SSL"


def test_generator_input_from_map():
    assert condor_list(item.lower() for item in ["A", "B"]) == "a, b"


def test_str_subclass_items():
    class Tagged(str):
        pass

    assert condor_list([Tagged("a"), Tagged("b")]) == "a, b"


def _error(items, separator=", "):
    with pytest.raises(AnsibleFilterError) as info:
        condor_list(items, separator)
    return str(info.value)


@pytest.mark.parametrize("items", ["SCHEDD", "a, b", ""])
def test_string_input_is_an_error_not_characters(items):
    message = _error(items)
    assert "expected a list, got a string" in message
    assert repr(items) in message
    assert "['SCHEDD']" in message


@pytest.mark.parametrize(("items", "kind"), [({"a": 1}, "dict"), (5, "int"), (None, "None"), (b"ab", "string")])
def test_other_non_list_input(items, kind):
    assert f"got a {kind}" in _error(items)


def test_set_input_asks_for_sort():
    message = _error({"a", "b"})
    assert "set" in message
    assert "sort" in message


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ("", "is empty"),
        ("a b", "whitespace"),
        ("a\tb", "whitespace"),
        ("a\nb", "whitespace"),
        ("a\r", "whitespace"),
        ("a\u00a0b", "whitespace"),
        ("a,b", "a comma"),
        ("#comment", "comment character"),
        ("$(HOSTNAME)", "configuration macro"),
        ("$$(X)", "configuration macro"),
        ("$ENV(HOME)", "configuration macro"),
        ("trail\\", "backslash"),
        ("nul\0", "non-printable"),
        ("esc\x1b", "non-printable"),
        ("zw\u200b", "non-printable"),
        (True, "is a bool"),
        (None, "is a None"),
        (1.5, "is a float"),
        (["nested"], "is a list"),
    ],
)
def test_bad_item_names_index_and_value(item, reason):
    message = _error(["good", item])
    assert message.startswith("condor_list: item 1 (")
    assert repr(item) in message
    assert reason in message
    if not isinstance(item, str):
        assert "non-empty strings or integers" in message


def test_long_bad_item_is_cut():
    message = _error(["x" * 5000 + " y"])
    assert "(5002 characters)" in message
    assert len(message) < 300


@pytest.mark.parametrize("separator", [";", ", ,", "\n", "", ",\n", None, 1])
def test_bad_separator(separator):
    message = _error(["a"], separator)
    assert f"separator {separator!r} is not valid" in message
    assert "', ', ',', ' '" in message
