# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ``osg_htc.site.mapfile_regex`` filter, matched with the PCRE2 library HTCondor uses."""

from __future__ import annotations

import ctypes
import ctypes.util

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.osg_htc.site.plugins.filter.mapfile_regex import FilterModule, mapfile_regex


def _load_pcre2():
    name = ctypes.util.find_library("pcre2-8") or "libpcre2-8.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError:  # pragma: no cover - depends on the machine
        return None
    lib.pcre2_compile_8.restype = ctypes.c_void_p
    lib.pcre2_compile_8.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.c_void_p,
    ]
    lib.pcre2_match_data_create_from_pattern_8.restype = ctypes.c_void_p
    lib.pcre2_match_data_create_from_pattern_8.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.pcre2_match_8.restype = ctypes.c_int
    lib.pcre2_match_8.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_size_t,
        ctypes.c_uint32,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.pcre2_match_data_free_8.argtypes = [ctypes.c_void_p]
    lib.pcre2_code_free_8.argtypes = [ctypes.c_void_p]
    return lib


PCRE2 = _load_pcre2()
needs_pcre2 = pytest.mark.skipif(PCRE2 is None, reason="libpcre2-8 (the library HTCondor's MapFile uses) is absent")


def map_line_regex(line: str) -> str:
    """The PCRE pattern HTCondor compiles from the second field of a map file line.

    Follows MapFile::ParseField of htcondor/htcondor (src/condor_utils/MapFile.cpp) for a field that starts
    with '/': it ends at the next unescaped '/', a backslash before '/' or another backslash is dropped,
    any other backslash is kept for PCRE.
    """
    method, rest = line.split(" ", 1)
    assert method and rest.startswith("/")
    field, i = [], 1
    while i < len(rest) and rest[i] != "/":
        if rest[i] == "\\" and i + 1 < len(rest):
            i += 1
            field.append(rest[i] if rest[i] in "/\\" else "\\" + rest[i])
        else:
            field.append(rest[i])
        i += 1
    assert i < len(rest), f"unterminated regex field in {line!r}"
    return "".join(field)


def pcre2_matches(pattern: str, subject: str) -> bool:
    """Compile and match with libpcre2-8 the way HTCondor does (no options, byte strings)."""
    error, offset = ctypes.c_int(), ctypes.c_size_t()
    raw = pattern.encode()
    code = PCRE2.pcre2_compile_8(raw, len(raw), 0, ctypes.byref(error), ctypes.byref(offset), None)
    assert code, f"PCRE2 rejects {pattern!r} at offset {offset.value} (error {error.value})"
    data = PCRE2.pcre2_match_data_create_from_pattern_8(code, None)
    try:
        text = subject.encode()
        return PCRE2.pcre2_match_8(code, text, len(text), 0, 0, data, None) > 0
    finally:
        PCRE2.pcre2_match_data_free_8(data)
        PCRE2.pcre2_code_free_8(code)


def scitokens_line(issuer: str, subject: str | None = None) -> str:
    tail = mapfile_regex(subject) + "$" if subject else ""
    return f"SCITOKENS /^{mapfile_regex(issuer)},{tail}/ osg"


def test_filter_is_registered():
    assert FilterModule().filters() == {"mapfile_regex": mapfile_regex}


def test_issuer_is_escaped_as_the_ce_documentation_writes_it():
    # HTCondor-CE config/mapfiles.d/90-ban.conf writes exactly this for the OSPool issuer.
    assert mapfile_regex("https://scitokens.org/osg-connect") == r"https\:\/\/scitokens\.org\/osg\-connect"


def test_letters_digits_underscore_and_non_ascii_stay():
    assert mapfile_regex("abc_XYZ_019") == "abc_XYZ_019"
    assert mapfile_regex("é") == "é"


def test_backslash_becomes_four():
    assert mapfile_regex("a\\b") == "a\\\\\\\\b"


@needs_pcre2
@pytest.mark.parametrize(
    ("issuer", "subject", "principal", "matches"),
    [
        ("https://scitokens.org/osg-connect", None, "https://scitokens.org/osg-connect,anyone", True),
        ("https://scitokens.org/osg-connect", None, "https://scitokensXorg/osg-connect,anyone", False),
        ("https://scitokens.org/osg-connect", None, "https://scitokens.org/osg-connect2,anyone", False),
        ("https://scitokens.org/osg-connect", None, "xhttps://scitokens.org/osg-connect,anyone", False),
        ("https://cms-auth.web.cern.ch/", "bad55f4e-602c", "https://cms-auth.web.cern.ch/,bad55f4e-602c", True),
        ("https://cms-auth.web.cern.ch/", "bad55f4e-602c", "https://cms-auth.web.cern.ch/,bad55f4e-602cX", False),
        ("https://cms-auth.web.cern.ch/", "bad55f4e-602c", "https://cms-auth.web.cern.ch/,other", False),
        ("https://a.org/$(x)[y]{z}", "u+v*w?|(.)^", "https://a.org/$(x)[y]{z},u+v*w?|(.)^", True),
        ("https://a.org/", "back\\slash", "https://a.org/,back\\slash", True),
        ("https://a.org/", "back\\slash", "https://a.org/,backslash", False),
    ],
)
def test_lines_match_literally_with_htcondors_parser_and_pcre2(issuer, subject, principal, matches):
    assert pcre2_matches(map_line_regex(scitokens_line(issuer, subject)), principal) is matches


@needs_pcre2
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40))
def test_any_printable_text_matches_exactly_itself(text):
    pattern = map_line_regex(f"SSL /^{mapfile_regex(text)}$/ osg")
    assert pcre2_matches(pattern, text)
    assert not pcre2_matches(pattern, text + "x")
    assert not pcre2_matches(pattern, "x" + text)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", r"the string is empty"),
        ("a\nb", r"control character '\\n' at position 1"),
        ("tab\there", r"control character '\\t' at position 3"),
        (5, r"expected a string, got int 5"),
        (None, r"expected a string, got NoneType None"),
    ],
)
def test_bad_input_is_refused(value, message):
    with pytest.raises(AnsibleFilterError, match=message):
        mapfile_regex(value)
