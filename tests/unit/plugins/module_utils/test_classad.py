# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for ``module_utils/_classad.py``.

The strongest checks hand the output to HTCondor's own ClassAd parser
(``classad2``) and configuration reader (``htcondor2``) and require the original
value back; they are skipped where those bindings are not installed.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.osg_htc.site.plugins.module_utils._classad import (
    ATTRIBUTE_NAME_RE,
    INT_MAX,
    INT_MIN,
    is_attribute_name,
    quote,
    quote_string,
    short_repr,
    type_name,
)

try:
    import classad2
except ImportError:  # pragma: no cover - depends on the environment
    classad2 = None

needs_classad2 = pytest.mark.skipif(
    classad2 is None, reason="the HTCondor Python bindings (classad2) are not installed"
)


HOSTILE_STRINGS = [
    "",
    "plain",
    'double "quotes" inside',
    "single 'quotes' inside",
    "back\\slash",
    "trailing backslash\\",
    "\\",
    "\\\\",
    '\\"',
    "line 1\nline 2",
    "\n",
    "carriage\rreturn",
    "crlf\r\n",
    "tab\there",
    "bell\a backspace\b formfeed\f vtab\v esc\x1b del\x7f",
    "\x01\x02\x1f",
    "$(HOSTNAME)",
    "$$(X)",
    "$$([ 1 + 2 ])",
    "$ENV(HOME)",
    "$RANDOM_INTEGER(1, 9)",
    "$",
    "trailing $",
    "$(",
    "\\044 literal backslash-044",
    "\\$(HOSTNAME)",
    "digits after dollar $1234",
    "# not a comment",
    "a = b; c = d",
    "@jrt",
    "]} ) [ {",
    "unicode é ü ß 中文 😀",
    "line separators \u2028 \u2029 next-line \x85 c1 \x9f",
    "zero width \u200b joiner \u200d bom \ufeff",
    "x" * 10000,
    ('"$(A)\\\n' * 500),
]


def to_python(value):
    """A classad2 evaluation result as plain Python values."""
    if classad2 is not None and isinstance(value, classad2.ClassAd):
        return {key: to_python(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_python(item) for item in value]
    if classad2 is not None and isinstance(value, classad2.Value):
        if value == classad2.Value.Undefined:
            return None
        raise AssertionError(f"unexpected ClassAd value {value!r}")
    return value


def classad_eval(text):
    return to_python(classad2.ExprTree(text).eval())


# ---------------------------------------------------------------- exact output


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", '"abc"'),
        ("", '""'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("a\nb", '"a\\nb"'),
        ("a\rb", '"a\\rb"'),
        ("a\tb", '"a\\tb"'),
        ("\b\f", '"\\b\\f"'),
        ("\x01", '"\\001"'),
        ("\x1b", '"\\033"'),
        ("\x7f", '"\\177"'),
        ("\x85", '"\\302\\205"'),
        ("\u2028", '"\\342\\200\\250"'),
        ("$", '"\\044"'),
        ("$(HOSTNAME)", '"\\044(HOSTNAME)"'),
        ("$$(X)", '"\\044\\044(X)"'),
        ("$1", '"\\0441"'),
        ("é😀", '"é😀"'),
        (True, "true"),
        (False, "false"),
        (None, "undefined"),
        (0, "0"),
        (-5, "-5"),
        (INT_MAX, "9223372036854775807"),
        (INT_MIN, "-9223372036854775808"),
        (1.5, "1.5"),
        (-0.0, "-0.0"),
        (1e100, "1e+100"),
        ([], "{ }"),
        ((), "{ }"),
        ([1, "a", True, None], '{ 1, "a", true, undefined }'),
        ((1, [2, [3]]), "{ 1, { 2, { 3 } } }"),
        ({}, "[ ]"),
        ({"MaxJobs": 100, "Queue": "osg"}, '[ MaxJobs = 100; Queue = "osg" ]'),
        ({"a": {"b": [1, {"c": None}]}}, "[ a = [ b = { 1, [ c = undefined ] } ] ]"),
    ],
)
def test_quote_exact(value, expected):
    assert quote(value) == expected


def test_bool_is_not_written_as_int():
    assert quote(True) == "true"
    assert quote([True, 1]) == "{ true, 1 }"


def test_quote_string_matches_quote():
    assert quote_string("a$b") == quote("a$b")


def test_str_subclass_is_a_string():
    class Tagged(str):
        pass

    assert quote(Tagged("$(X)")) == '"\\044(X)"'


@pytest.mark.parametrize("value", HOSTILE_STRINGS, ids=range(len(HOSTILE_STRINGS)))
def test_string_is_one_line_without_dollar(value):
    text = quote(value)
    assert "$" not in text
    assert "\n" not in text
    assert "\r" not in text
    assert len(text.splitlines()) == 1
    assert text.startswith('"')
    assert text.endswith('"')


# ---------------------------------------------------------------- errors


def test_nul_is_rejected():
    with pytest.raises(ValueError, match=r"NUL character") as info:
        quote("before\0after")
    assert "'before\\x00after'" in str(info.value)


def test_nul_inside_list_is_rejected():
    with pytest.raises(ValueError, match=r"NUL"):
        quote(["ok", "\0"])


def test_lone_surrogate_is_rejected():
    with pytest.raises(ValueError, match=r"surrogate"):
        quote("a\ud800b")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_float_is_rejected(value):
    with pytest.raises(ValueError, match=r"only finite numbers") as info:
        quote(value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [INT_MAX + 1, INT_MIN - 1, 10**30])
def test_out_of_range_int_is_rejected(value):
    with pytest.raises(ValueError, match=r"outside the ClassAd integer range") as info:
        quote(value)
    assert str(value) in str(info.value)


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ({1, 2}, "set"),
        (frozenset(), "frozenset"),
        (b"bytes", "bytes"),
        (bytearray(b"x"), "bytearray"),
        (object(), "object"),
        (1 + 2j, "complex"),
        ([1, {2}], "set"),
    ],
)
def test_unsupported_type_is_rejected(value, name):
    with pytest.raises(TypeError, match=rf"Cannot write a {name} as a ClassAd literal") as info:
        quote(value)
    assert "valid types are str, bool, int, float, None, list, tuple and dict" in str(info.value)


@pytest.mark.parametrize("key", ["", "1abc", "a-b", "a b", "a.b", "é", "a\n", "$(X)", "x" * 100 + "-"])
def test_bad_record_key_is_rejected(key):
    with pytest.raises(ValueError, match=r"Invalid ClassAd attribute name") as info:
        quote({key: 1})
    assert short_repr(key) in str(info.value)
    assert "[A-Za-z_][A-Za-z0-9_]*" in str(info.value)


@pytest.mark.parametrize("key", ["true", "FALSE", "Undefined", "error", "is", "ISNT", "parent"])
def test_reserved_record_key_is_rejected(key):
    with pytest.raises(ValueError, match=r"reserved word") as info:
        quote({key: 1})
    assert repr(key) in str(info.value)


def test_non_string_record_key_is_rejected():
    with pytest.raises(TypeError, match=r"attribute name 1 is a int; it must be a string"):
        quote({1: "a"})


def test_keys_differing_only_in_case_are_rejected():
    with pytest.raises(ValueError, match=r"'Queue' and 'QUEUE' are the same attribute"):
        quote({"Queue": "a", "QUEUE": "b"})


def test_self_containing_list_is_rejected():
    looped = [1]
    looped.append(looped)
    with pytest.raises(ValueError, match=r"contains itself"):
        quote(looped)


def test_shared_but_not_looped_values_are_fine():
    shared = [1]
    assert quote([shared, shared]) == "{ { 1 }, { 1 } }"


def test_long_string_is_cut_in_messages():
    value = "\0" + "y" * 5000
    with pytest.raises(ValueError) as info:
        quote(value)
    assert len(str(info.value)) < 300
    assert "(5001 characters)" in str(info.value)


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize("name", ["a", "_", "A1", "GridResource", "default_xcount", "_x_9", "Parents", "isn"])
def test_is_attribute_name_true(name):
    assert is_attribute_name(name)


@pytest.mark.parametrize(
    "name", ["", "1a", "a-b", "a.b", "a b", "abc\n", "é", "true", "TRUE", "parent", "isnt", None, 5, b"abc"]
)
def test_is_attribute_name_false(name):
    assert not is_attribute_name(name)


def test_attribute_name_re_is_anchored_at_the_real_end():
    assert ATTRIBUTE_NAME_RE.match("abc")
    assert not ATTRIBUTE_NAME_RE.match("abc\n")
    assert not ATTRIBUTE_NAME_RE.match("abc def")


def test_short_repr():
    assert short_repr("abc") == "'abc'"
    assert short_repr("x" * 100) == repr("x" * 40) + "... (100 characters)"
    assert len(short_repr(list(range(1000)))) <= 63


def test_type_name_uses_plain_names():
    class Tagged(dict):
        pass

    assert type_name(Tagged()) == "dict"
    assert type_name(True) == "bool"
    assert type_name(None) == "None"
    assert type_name(object()) == "object"


# ---------------------------------------------------------------- HTCondor's ClassAd parser


@needs_classad2
@pytest.mark.parametrize("value", HOSTILE_STRINGS, ids=range(len(HOSTILE_STRINGS)))
def test_classad2_reads_hostile_strings_back(value):
    assert classad2.ExprTree(quote(value)).eval() == value


@needs_classad2
@given(st.text(alphabet=st.characters(exclude_characters="\0", exclude_categories=("Cs",))))
def test_classad2_round_trip_any_text(value):
    text = quote(value)
    assert "$" not in text
    assert len(text.splitlines()) == 1
    assert classad2.ExprTree(text).eval() == value


@needs_classad2
@given(st.text(alphabet="$()\\\"'\n\r\t#0123456789a ", max_size=40))
def test_classad2_round_trip_dense_hostile_text(value):
    assert classad2.ExprTree(quote(value)).eval() == value


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=INT_MIN, max_value=INT_MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_characters="\0", exclude_categories=("Cs",)), max_size=20)
)
attribute_names = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,10}\Z").filter(is_attribute_name)


def _unique_ignoring_case(mapping):
    return len({key.lower() for key in mapping}) == len(mapping)


values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(attribute_names, children, max_size=4).filter(_unique_ignoring_case)
    ),
    max_leaves=12,
)


@needs_classad2
@given(values)
def test_classad2_round_trip_nested_values(value):
    text = quote(value)
    assert len(text.splitlines()) == 1
    assert "$" not in text
    result = classad_eval(text)
    assert result == value
    if isinstance(value, float):
        assert math.copysign(1.0, result) == math.copysign(1.0, value)


@needs_classad2
@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        None,
        0,
        INT_MAX,
        INT_MIN,
        -1,
        0.1,
        -2.5e-300,
        5e-324,
        1.7976931348623157e308,
        [],
        [None, True, "x", [1.5]],
        {},
        {"GridResource": "batch slurm", "MaxJobs": 100, "Ok": True, "Nothing": None, "L": ["$(X)"]},
        {"outer": {"inner": {"deep": [{"k": "\n"}]}}},
    ],
)
def test_classad2_reads_other_values_back(value):
    assert classad_eval(quote(value)) == value


@needs_classad2
def test_classad2_reads_undefined_as_undefined():
    assert classad2.ExprTree(quote(None)).eval() == classad2.Value.Undefined


@needs_classad2
def test_classad2_reads_a_record_as_a_classad():
    result = classad2.ExprTree(quote({"A": 1})).eval()
    assert isinstance(result, classad2.ClassAd)
    assert result["A"] == 1


# ---------------------------------------------------------------- HTCondor's configuration reader

CONFIG_READER = textwrap.dedent(
    """
    import json, sys
    import classad2, htcondor2
    count = int(sys.argv[1])
    values = [classad2.ExprTree(htcondor2.param["X%d" % i]).eval() for i in range(count)]
    route = htcondor2.param["JOB_ROUTER_ROUTE_T"]
    json.dump(
        {
            "values": values,
            "raw_macro": htcondor2.param["RAW_MACRO"],
            "sentinel": htcondor2.param["SENTINEL"],
            "route": route,
        },
        sys.stdout,
    )
    """
)

CONFIG_CASES = [
    "$(HOSTNAME)",
    "$$(HOSTNAME)",
    "$ENV(HOME)",
    "$(FULL_HOSTNAME) and $(DOES_NOT_EXIST)",
    "trailing backslash\\",
    "line 1\nline 2\r\n",
    'quote " and backslash \\ and # hash',
    "unicode é 😀 \u2028",
    "@jrt",
    "digits after dollar $1234",
]


@needs_classad2
def test_config_file_round_trip_has_no_macro_expansion(tmp_path):
    pytest.importorskip("htcondor2")
    lines = [f"X{index} = {quote(value)}" for index, value in enumerate(CONFIG_CASES)]
    lines += [
        # A plain quoted macro is expanded: this shows the reader does expand macros.
        'RAW_MACRO = "$(HOSTNAME)"',
        "JOB_ROUTER_ROUTE_T @=jrt",
        f"  GridResource = {quote('batch slurm $(HOSTNAME)')}",
        "@jrt",
        "SENTINEL = still here",
        "",
    ]
    config = tmp_path / "condor_config"
    config.write_text("\n".join(lines), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.upper().startswith(("_CONDOR_", "CONDOR_"))}
    env["CONDOR_CONFIG"] = str(config)
    result = subprocess.run(
        [sys.executable, "-c", CONFIG_READER, str(len(CONFIG_CASES))],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["values"] == CONFIG_CASES
    assert data["sentinel"] == "still here"
    # The control line proves that the reader would have expanded an unescaped macro.
    assert "$(HOSTNAME)" not in data["raw_macro"]
    assert data["raw_macro"] != '"$(HOSTNAME)"'
    assert 'GridResource = "batch slurm \\044(HOSTNAME)"' in data["route"]
