# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for _probe_config's encoding check: a ProbeConfig that is not UTF-8 is named for what it is."""

from __future__ import annotations

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._probe_config import (
    ProbeConfigError,
    check_encoding,
    read_attributes,
    set_attributes,
)

XML = '<?xml version="1.0"?>\n<ProbeConfiguration\n    SiteName="Café"\n/>\n'


@pytest.mark.parametrize(
    ("encoding", "found", "iconv"),
    [
        ("utf-16", "UTF-16 (little-endian, with a byte order mark)", "UTF-16"),
        ("utf-16-le", "UTF-16 (little-endian, without a byte order mark)", "UTF-16LE"),
        ("utf-16-be", "UTF-16 (big-endian, without a byte order mark)", "UTF-16BE"),
        ("utf-32", "UTF-32 (little-endian, with a byte order mark)", "UTF-32"),
        ("utf-32-le", "UTF-32 (little-endian, without a byte order mark)", "UTF-32LE"),
        ("utf-32-be", "UTF-32 (big-endian, without a byte order mark)", "UTF-32BE"),
    ],
)
def test_wide_encodings_are_named(encoding, found, iconv):
    data = XML.encode(encoding)
    with pytest.raises(ProbeConfigError) as failed:
        set_attributes(data, {"SiteName": "X"})
    assert str(failed.value) == (
        f"is encoded as {found}; only UTF-8 files are edited, as the packages ship them: "
        f"convert it with iconv -f {iconv} -t UTF-8"
    )


def test_utf16_big_endian_mark_is_named():
    data = b"\xfe\xff" + XML.encode("utf-16-be")
    with pytest.raises(ProbeConfigError, match=r"UTF-16 \(big-endian, with a byte order mark\)"):
        check_encoding(data)


def test_latin1_is_refused_naming_the_byte():
    data = XML.encode("latin-1")
    with pytest.raises(ProbeConfigError) as failed:
        set_attributes(data, {"SiteName": "X"})
    assert str(failed.value).startswith("is not UTF-8 (invalid continuation byte: byte 0xE9 at offset 59, line 3)")
    assert "iconv -f ISO-8859-1 -t UTF-8" in str(failed.value)


def test_a_nul_byte_is_named():
    with pytest.raises(ProbeConfigError, match=r"holds a NUL byte at offset 4 \(line 1\)"):
        check_encoding(b"<Pro\x00beConfiguration/>")


@pytest.mark.parametrize("data", [XML.encode(), b"\xef\xbb\xbf" + XML.encode(), b"<ProbeConfiguration/>"])
def test_utf8_with_or_without_a_mark_is_edited(data):
    check_encoding(data)
    assert read_attributes(set_attributes(data, {"SiteName": "Zürich"}))["SiteName"] == "Zürich"
