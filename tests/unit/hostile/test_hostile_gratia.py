# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Hostile input for gratia_probe: attribute values that try to end the value or the element, and
ProbeConfig files in odd encodings.

The rule under test: the module either refuses (naming the file and the attribute, or the file and
its encoding) and leaves the file as it was, or writes a file that the probe's own parser,
``xml.dom.minidom``, reads back with exactly the intended attributes: the ones that were there,
with the new values, and nothing else. No value can inject another attribute or end the element.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import xml.dom.minidom
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

from ansible_collections.osg_htc.site.plugins.module_utils._probe_config import read_attributes
from ansible_collections.osg_htc.site.plugins.modules import gratia_probe
from ansible_collections.osg_htc.site.tests.unit.conftest import COLLECTION_ROOT
from ansible_collections.osg_htc.site.tests.unit.hostile import strategies as hs
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

PACKAGED = COLLECTION_ROOT / "tests" / "fixtures" / "packaged_state" / "etc" / "gratia" / "condor-ap" / "ProbeConfig"
AP_CONFIG = PACKAGED.read_bytes()
BEFORE = read_attributes(AP_CONFIG)

# Text that ends an attribute value or the element, or starts another attribute or element.
BREAKOUTS = (
    '"/>',
    '" Injected="1',
    "'",
    '"',
    "<",
    ">",
    "&",
    "&amp;",
    "]]>",
    "<!--",
    "-->",
    "'/><x/>",
    "\n/>\n",
    "&#0;",
)
values = st.one_of(
    hs.hostile_text,
    hs.any_text,
    st.lists(st.one_of(st.sampled_from(BREAKOUTS), hs.hostile_text), min_size=1, max_size=4).map("".join),
    hs.hostile_numbers,
    st.booleans(),
)
names = st.one_of(
    st.sampled_from(["Grid", "SiteName", "CondorScheddName", "NewAttribute", "DebugLevel", "EnableProbe"]),
    st.sampled_from(sorted(BEFORE)),
    hs.hostile_text,
)


def probe_reads(path: Path) -> tuple:
    """What the probe sees: the first ProbeConfiguration element's attributes, and how many such elements."""
    document = xml.dom.minidom.parse(str(path))  # noqa: S318 - a file this test wrote
    try:
        elements = document.getElementsByTagName("ProbeConfiguration")
        return dict(elements[0].attributes.items()), len(elements)
    finally:
        document.unlink()


def as_text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


@settings(max_examples=250, deadline=None)
@given(attributes=st.dictionaries(names, values, min_size=1, max_size=3))
def test_values_never_inject_an_attribute_or_end_the_element(attributes):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ProbeConfig"
        shutil.copyfile(PACKAGED, path)
        result = run_module(gratia_probe, {"probe": "condor-ap", "path": str(path), "attributes": attributes})
        if result.get("failed"):
            event("refused")
            assert result["msg"].startswith(f"{path}: attribute "), result["msg"]
            assert any(str(name) in result["msg"] or repr(name) in result["msg"] for name in attributes)
            assert path.read_bytes() == AP_CONFIG
            return
        event("written")
        for value in attributes.values():
            assert not isinstance(value, float) or math.isfinite(value)
        seen, elements = probe_reads(path)
    assert elements == 1
    assert seen == {**BEFORE, **{name: as_text(value) for name, value in attributes.items()}}
    assert result["attributes"] == seen


def wide(encoding):
    return lambda data: data.decode().encode(encoding)


ENCODINGS = {
    "utf-16": wide("utf-16"),
    "utf-16-le": wide("utf-16-le"),
    "utf-16-be": wide("utf-16-be"),
    "utf-32": wide("utf-32"),
    "utf-32-le": wide("utf-32-le"),
    "utf-32-be": wide("utf-32-be"),
    "latin-1": lambda data: data.replace(b"Generic site", "Générique".encode("latin-1")),
    "cp1252": lambda data: data.replace(b"Generic site", "\u201csite\u201d".encode("cp1252")),
    "utf-8-bom": lambda data: b"\xef\xbb\xbf" + data,
    "utf-8": lambda data: data,
}


@settings(max_examples=200, deadline=None)
@given(
    encoding=st.sampled_from(sorted(ENCODINGS)),
    insert=st.one_of(st.none(), st.tuples(st.integers(0, len(AP_CONFIG)), st.binary(min_size=1, max_size=4))),
)
def test_files_in_odd_encodings_are_named_or_edited(encoding, insert):
    content = ENCODINGS[encoding](AP_CONFIG)
    if insert is not None:
        at, data = insert
        at = min(at, len(content))
        content = content[:at] + data + content[at:]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ProbeConfig"
        path.write_bytes(content)
        args = {"probe": "condor-ap", "path": str(path), "attributes": {"SiteName": "OSG_US_EXAMPLE", "Grid": "OSG"}}
        result = run_module(gratia_probe, args)
        if result.get("failed"):
            event(f"refused: {encoding}")
            message = result["msg"]
            assert message.startswith(str(path)), message
            assert "Traceback" not in message
            assert path.read_bytes() == content
            try:
                content.decode("utf-8")
            except UnicodeDecodeError:
                utf8 = False
            else:
                utf8 = True
            if not utf8 or b"\x00" in content:
                # Not a UTF-8 text file: the message says what it is, never something about attributes.
                assert any(what in message for what in ("UTF-16", "UTF-32", "is not UTF-8", "NUL byte")), message
            return
        event(f"written: {encoding}")
        content.decode("utf-8")  # only UTF-8 is ever edited
        seen, _elements = probe_reads(path)
    assert seen["SiteName"] == "OSG_US_EXAMPLE" and seen["Grid"] == "OSG"
