# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Edit the attributes of the first ``<ProbeConfiguration .../>`` element of a
Gratia ProbeConfig while keeping every other byte of the file.

The probe reads the file with ``xml.dom.minidom`` and uses only the attributes
of the first ``ProbeConfiguration`` element (gratia-probe
``common/gratia/common/probe_config.py``). Here expat, the parser under
minidom, finds that element's start tag by byte offset (so a
``<ProbeConfiguration`` inside a comment is never taken for it) and checks
that the file is well-formed; the start tag is then split into attribute spans
so that only the value of a changed attribute, or the line of an added one,
differs. ``read_attributes`` reads values back exactly as the probe does.

Runs on managed hosts: Python >= 3.9, standard library only.
"""

from __future__ import annotations

import re
import xml.dom.minidom
import xml.parsers.expat
from typing import Dict, List, NamedTuple, Tuple

ELEMENT = "ProbeConfiguration"

# After expat has accepted the document, a start tag is: name, then
# (whitespace, name, '=', quoted value)*, then optional whitespace and '/>' or '>'.
# A quoted value cannot hold its own quote character, so the lazy match ends at the right one.
_ATTRIBUTE_RE = re.compile(rb"""(\s+)([^\s=/>]+)\s*=\s*(["'])(.*?)\3""", re.DOTALL)
_TAG_END_RE = re.compile(rb"\s*/?>")

# XML 1.0 Char production: anything else cannot appear in a document at all, not even as &#...;
_NOT_XML_CHAR_RE = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_QUOTE_ESCAPES = {'"': "&quot;", "'": "&apos;"}
DEFAULT_INDENT = b"    "


class ProbeConfigError(ValueError):
    """The file cannot be edited safely; the message says why and where."""


class Attribute(NamedTuple):
    name: str
    leading: bytes  # whitespace before the name
    value_start: int  # byte offsets of the raw value, between the quotes
    value_end: int
    quote: str


# Byte order marks, longest first (the UTF-32 LE mark begins with the UTF-16 LE one).
_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian, with a byte order mark)", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian, with a byte order mark)", "UTF-32"),
    (b"\xfe\xff", "UTF-16 (big-endian, with a byte order mark)", "UTF-16"),
    (b"\xff\xfe", "UTF-16 (little-endian, with a byte order mark)", "UTF-16"),
)


def _wide_encoding(data: bytes) -> Tuple[str, str] | None:
    """(description, iconv name) of a UTF-16 or UTF-32 ``data``, told by its byte order mark or its NUL bytes."""
    for bom, description, iconv in _BOMS:
        if data.startswith(bom):
            return description, iconv
    if b"\x00" not in data:
        return None
    # Without a mark: '<' (or any ASCII character) of UTF-16/32 text has NUL bytes beside it.
    head = data[:4].ljust(4, b"\x01")
    if head[:3] == b"\x00\x00\x00":
        return "UTF-32 (big-endian, without a byte order mark)", "UTF-32BE"
    if head[1:4] == b"\x00\x00\x00":
        return "UTF-32 (little-endian, without a byte order mark)", "UTF-32LE"
    if head[0] == 0 and head[1] != 0:
        return "UTF-16 (big-endian, without a byte order mark)", "UTF-16BE"
    if head[0] != 0 and head[1] == 0:
        return "UTF-16 (little-endian, without a byte order mark)", "UTF-16LE"
    return None


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def check_encoding(data: bytes) -> None:
    """Raise ProbeConfigError unless ``data`` is UTF-8 (or ASCII) without NUL bytes, naming what it is instead."""
    wide = _wide_encoding(data)
    if wide is not None:
        description, iconv = wide
        raise ProbeConfigError(
            f"is encoded as {description}; only UTF-8 files are edited, as the packages ship them: "
            f"convert it with iconv -f {iconv} -t UTF-8"
        )
    if b"\x00" in data:
        offset = data.index(b"\x00")
        raise ProbeConfigError(
            f"holds a NUL byte at offset {offset} (line {_line(data, offset)}); it is not a UTF-8 text file"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProbeConfigError(
            f"is not UTF-8 ({exc.reason}: byte 0x{data[exc.start]:02X} at offset {exc.start}, line "
            f"{_line(data, exc.start)}); only UTF-8 files are edited: convert it to UTF-8, for example with "
            "iconv -f ISO-8859-1 -t UTF-8 when it is Latin-1"
        ) from None


def _scan(data: bytes) -> Tuple[int, str | None]:
    """Check ``data`` is well-formed UTF-8 XML; return (offset of the element's '<', declared encoding)."""
    check_encoding(data)
    found: List[int] = []
    declared: List[str | None] = [None]
    parser = xml.parsers.expat.ParserCreate()

    def start(name, _attributes):
        if name == ELEMENT and not found:
            found.append(parser.CurrentByteIndex)

    def declaration(_version, encoding, _standalone):
        declared[0] = encoding

    parser.StartElementHandler = start
    parser.XmlDeclHandler = declaration
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise ProbeConfigError(
            f"is not well-formed XML: {xml.parsers.expat.ErrorString(exc.code)} "
            f"at line {exc.lineno}, column {exc.offset + 1}"
        ) from None
    if not found:
        raise ProbeConfigError(f"has no <{ELEMENT}> element")
    return found[0], declared[0]


def find_attributes(data: bytes) -> Tuple[List[Attribute], int]:
    """The attributes of the first ProbeConfiguration start tag, and the offset where the last one ends."""
    start, encoding = _scan(data)
    if encoding is not None and encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "us-ascii", "ascii"):
        raise ProbeConfigError(f"declares encoding {encoding!r}; only UTF-8 files are edited")
    position = start + 1 + len(ELEMENT)
    attributes = []
    while True:
        match = _ATTRIBUTE_RE.match(data, position)
        if match is None:
            break
        attributes.append(
            Attribute(
                name=match.group(2).decode("utf-8"),
                leading=match.group(1),
                value_start=match.start(4),
                value_end=match.end(4),
                quote=match.group(3).decode("ascii"),
            )
        )
        position = match.end()
    if not _TAG_END_RE.match(data, position):  # pragma: no cover - expat accepted the tag
        raise ProbeConfigError(f"has a <{ELEMENT}> start tag this module cannot split into attributes")
    return attributes, position


def read_attributes(data: bytes) -> Dict[str, str]:
    """All attributes of the first ProbeConfiguration element, in file order, as the probe reads them."""
    # A root-owned local file, read with the parser the probe itself uses (defusedxml
    # is not on managed hosts; expat refuses external entities and caps entity expansion).
    document = xml.dom.minidom.parseString(data)  # noqa: S318
    try:
        element = document.getElementsByTagName(ELEMENT)[0]
        return dict(element.attributes.items())
    finally:
        document.unlink()


def unrepresentable(value: str) -> str | None:
    """Describe the first character XML 1.0 cannot hold, or None."""
    match = _NOT_XML_CHAR_RE.search(value)
    if match is None:
        return None
    return f"U+{ord(match.group()):04X} at position {match.start() + 1}"


def escape(value: str, quote: str = '"') -> str:
    """``value`` as the text between ``quote`` characters of an attribute that reads back as ``value``.

    Tabs and line breaks become character references: written literally, XML
    attribute-value normalization would turn them into spaces.
    """
    bad = unrepresentable(value)
    if bad is not None:
        raise ProbeConfigError(f"holds {bad}, a character XML 1.0 cannot represent")
    escapes = dict(_ESCAPES, **{quote: _QUOTE_ESCAPES[quote]})
    return "".join(escapes.get(char, char) for char in value)


def set_attributes(data: bytes, values: Dict[str, str]) -> bytes:
    """``data`` with ``values`` set on the first ProbeConfiguration element.

    An existing attribute whose value already reads back as wanted keeps its
    bytes; another gets its value replaced between its own quotes. A missing
    one is added on its own line after the last attribute, indented like the
    last attribute that starts a line.
    """
    attributes, tag_rest = find_attributes(data)
    current = read_attributes(data)
    by_name = {attribute.name: attribute for attribute in attributes}
    edits: List[Tuple[int, int, bytes]] = []
    added: List[bytes] = []
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    indented = [a.leading for a in attributes if b"\n" in a.leading]
    indent = re.split(rb"\r?\n", indented[-1])[-1] if indented else DEFAULT_INDENT
    for name, value in values.items():
        if name in by_name:
            if current[name] != value:
                attribute = by_name[name]
                raw = escape(value, attribute.quote).encode("utf-8")
                edits.append((attribute.value_start, attribute.value_end, raw))
        else:
            added.append(newline + indent + f'{name}="{escape(value)}"'.encode())
    if added:
        edits.append((tag_rest, tag_rest, b"".join(added)))
    result = data
    for start, end, raw in sorted(edits, reverse=True):
        result = result[:start] + raw + result[end:]
    return result
