# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the configuration-text rule (_config_text), with HTCondor's parser where it is the judge."""

from __future__ import annotations

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import check_config_text
from ansible_collections.osg_htc.site.plugins.module_utils._config_text import (
    ConfigTextError,
    bad_character,
    block_line,
    block_lines,
    block_read_value,
    command_lines,
    comment_lines,
    config_name,
    include_targets,
    line_value,
    list_item,
    logical_lines,
)

pytest.importorskip("htcondor2")


@pytest.mark.parametrize(
    "text, found",
    [
        ("plain value with tab\tand é", None),
        ("a\nb", "a line feed (U+000A)"),
        ("a\rb", "a carriage return (U+000D)"),
        ("a\x00b", "a NUL character (U+0000)"),
        ("a\x0bb", "a vertical tab (U+000B)"),
        ("a\x1bb", "the control character (U+001B)"),
        ("a\x7fb", "the control character (U+007F)"),
        ("a\x85b", "a next-line character (U+0085)"),
        ("a\u2029b", "a Unicode paragraph separator (U+2029)"),
    ],
)
def test_bad_character_names_the_character(text, found):
    assert bad_character(text) == found


def test_line_value_strips_and_refuses_a_trailing_backslash():
    assert line_value("o", "  x $(Y)  ") == "x $(Y)"
    with pytest.raises(ConfigTextError, match=r"^o: the value ends in a backslash"):
        line_value("o", "x \\ ")


@pytest.mark.parametrize("line", ["@end", "  @jrt", "x \\", "a\nb"])
def test_block_line_refusals(line):
    with pytest.raises(ConfigTextError, match=r"^opt: "):
        block_line("opt", line)


def test_block_read_value_is_what_htcondor_reads():
    lines = block_lines("o", "  first \n\n# comment\n\tsecond")
    text = "V @=end\n" + "".join(f"{line}\n" for line in lines) + "@end\n"
    check = check_config_text(text, ["V"])
    assert check.values["V"] == block_read_value(lines) == "first\nsecond"


def test_comment_lines_refuse_a_continuation():
    assert comment_lines("comment", "why\n") == ["# why", "#"]
    with pytest.raises(ConfigTextError, match="ends in a backslash"):
        comment_lines("comment", "why \\")


@pytest.mark.parametrize("name", ["A", "SCHEDD.SEC_X", "a_1.B_2"])
def test_config_names(name):
    assert config_name("n", name) == name


@pytest.mark.parametrize("name, why", [("A B", "' '"), ("A$", "'$'"), ("A\n", "line feed"), ("1A", None), (5, None)])
def test_bad_config_names(name, why):
    with pytest.raises(ConfigTextError, match="is not an HTCondor configuration name") as exc:
        config_name("n", name)
    if why:
        assert why in str(exc.value)


def test_list_items():
    assert list_item("o", "$(X)") == "$(X)"
    assert list_item("o", 9618) == "9618"
    for item, why in [("a,b", "comma"), ("a b", "whitespace"), ("a#", "'#'"), ("a\\", "backslash"), ("", "empty")]:
        with pytest.raises(ConfigTextError, match=why):
            list_item("o", item)
    with pytest.raises(ConfigTextError, match="macro"):
        list_item("o", "$(X)", allow_macros=False)


def test_logical_lines_join_continuations_and_skip_heredocs():
    text = "A = 1 \\\n  2\n# c \\\nB = 3\nR @=x\ninclude command : no\n@x\nC = 4\n"
    assert list(logical_lines(text)) == [(1, "A = 1 2"), (4, "B = 3"), (8, "C = 4")]


@pytest.mark.parametrize(
    "text",
    [
        "include command : touch x",
        "INCLUDE OUTPUT : touch x",
        "@include ifexist command into /tmp/f : touch x",
        "include : touch x |",
        "include : $(SCRIPT)",
        "include : a \\\n b |",
        "LOCAL_CONFIG_FILE = touch x |",
        "master.local_config_file = touch x|",
        "LOCAL_ROOT_CONFIG_FILE : touch x |",
    ],
)
def test_command_lines_find_every_form(text):
    assert command_lines(text)


@pytest.mark.parametrize(
    "text",
    [
        "include : /etc/condor/other.conf",
        "INCLUDE = $(RELEASE_DIR)/include/condor",
        "A = x | y",
    ],
)
def test_command_lines_leave_harmless_lines(text):
    assert command_lines(text) == []


def test_command_lines_err_on_the_side_of_caution():
    # Physical lines are looked at too, so a reader that joins lines differently
    # from this model can never hide a command: data that looks like one counts.
    assert command_lines("R @=x\ninclude command : data, not a directive\n@x") == [
        (2, "include command : data, not a directive")
    ]


def test_a_piped_local_config_file_can_be_allowed_in_host_files():
    assert command_lines("LOCAL_CONFIG_FILE = /usr/share/condor-ce/condor_ce_router_defaults|", False) == []


def test_include_targets():
    assert include_targets("include : /a.conf\ninclude command : x\ninclude ifexist : /b.conf\n") == [
        "/a.conf",
        "/b.conf",
    ]
