# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the gratia_probe module and its ProbeConfig editor.

The ProbeConfig files come from tests/fixtures/packaged_state, the test double
for what the gratia-probe RPMs install (no OSG repository is reachable here).
"""

from __future__ import annotations

import shutil
import xml.dom.minidom
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.osg_htc.site.plugins.module_utils._probe_config import (
    ProbeConfigError,
    read_attributes,
    set_attributes,
)
from ansible_collections.osg_htc.site.plugins.modules import gratia_probe
from ansible_collections.osg_htc.site.tests.unit.conftest import COLLECTION_ROOT
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

PACKAGED = COLLECTION_ROOT / "tests" / "fixtures" / "packaged_state" / "etc" / "gratia"
AP_CONFIG = (PACKAGED / "condor-ap" / "ProbeConfig").read_bytes()
AP_SETTINGS = {"SiteName": "OSG_US_EXAMPLE_SUBMIT", "ProbeName": "condor-ap:ap.example.edu", "EnableProbe": True}


def run(args, *, check=False, diff=False):
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    return run_module(gratia_probe, args)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "ProbeConfig"
    shutil.copyfile(PACKAGED / "condor-ap" / "ProbeConfig", path)
    return path


def configure(path, attributes, probe="condor-ap", **extra):
    return run(dict(probe=probe, path=str(path), attributes=attributes, **extra))


def replaced(data: bytes, *pairs) -> bytes:
    """``data`` with each (old, new) byte string replaced exactly once: the hand-computed expectation."""
    for old, new in pairs:
        assert data.count(old) == 1, old
        data = data.replace(old, new)
    return data


# ---------------------------------------------------------------- success paths


def test_access_point_settings_change_only_their_values(config):
    result = configure(config, AP_SETTINGS)
    assert result["changed"] is True
    assert config.read_bytes() == replaced(
        AP_CONFIG,
        (b'SiteName="Generic site"', b'SiteName="OSG_US_EXAMPLE_SUBMIT"'),
        (b'ProbeName="condor-ap:localhost.localdomain" \n', b'ProbeName="condor-ap:ap.example.edu" \n'),
        (b'EnableProbe="0"', b'EnableProbe="1"'),
    )
    assert result["attributes"]["SiteName"] == "OSG_US_EXAMPLE_SUBMIT"
    assert result["attributes"]["EnableProbe"] == "1"
    assert result["attributes"]["VOOverride"] == "osg"
    assert list(result["attributes"]) == list(read_attributes(AP_CONFIG))


def test_missing_attribute_is_added_on_its_own_line_before_the_close(config):
    result = configure(config, {"MapGroupToRole": True, "ExtraAttributes": "ProjectName", "DebugLevel": 1})
    assert result["changed"] is True
    assert config.read_bytes() == replaced(
        AP_CONFIG,
        (b'DebugLevel="0" \n', b'DebugLevel="1" \n'),
        (
            b'    MapUnknownToGroup="1"\n\n/>',
            b'    MapUnknownToGroup="1"\n    MapGroupToRole="1"\n    ExtraAttributes="ProjectName"\n\n/>',
        ),
    )


def test_htcondor_ce_probe(tmp_path):
    path = tmp_path / "ProbeConfig"
    shutil.copyfile(PACKAGED / "htcondor-ce" / "ProbeConfig", path)
    result = configure(path, {"ProbeName": "htcondor-ce:ce.example.edu", "SuppressNoDNRecords": "1"}, "htcondor-ce")
    assert result["changed"] is True
    assert result["attributes"]["ProbeName"] == "htcondor-ce:ce.example.edu"
    assert result["attributes"]["SuppressNoDNRecords"] == "1"


def test_special_characters_are_escaped_and_read_back(config):
    value = 'A & B <"site">\nsecond line\ttab'
    result = configure(config, {"Grid": value})
    assert result["attributes"]["Grid"] == value
    assert b'Grid="A &amp; B &lt;&quot;site&quot;&gt;&#10;second line&#9;tab"' in config.read_bytes()
    element = xml.dom.minidom.parse(str(config)).getElementsByTagName("ProbeConfiguration")[0]  # noqa: S318
    assert element.getAttribute("Grid") == value


def test_single_quoted_value_keeps_its_quotes(tmp_path):
    path = tmp_path / "ProbeConfig"
    path.write_bytes(b"<ProbeConfiguration\n  SiteName='Old'\n  Grid=\"OSG\"/>\n")
    configure(path, {"SiteName": 'It\'s "new"'})
    assert path.read_bytes() == b'<ProbeConfiguration\n  SiteName=\'It&apos;s "new"\'\n  Grid="OSG"/>\n'


def test_crlf_file_gets_crlf_lines(tmp_path):
    path = tmp_path / "ProbeConfig"
    path.write_bytes(b'<ProbeConfiguration\r\n\tGrid="OSG"\r\n/>\r\n')
    configure(path, {"SiteName": "X"})
    assert path.read_bytes() == b'<ProbeConfiguration\r\n\tGrid="OSG"\r\n\tSiteName="X"\r\n/>\r\n'


def test_element_in_a_comment_is_not_the_element(tmp_path):
    path = tmp_path / "ProbeConfig"
    original = b'<!-- <ProbeConfiguration SiteName="in comment"/> -->\n<ProbeConfiguration\n    SiteName="Old"\n/>\n'
    path.write_bytes(original)
    result = configure(path, {"SiteName": "New"})
    assert path.read_bytes() == original.replace(b'"Old"', b'"New"')
    assert result["attributes"] == {"SiteName": "New"}


def test_only_the_first_element_changes(tmp_path):
    path = tmp_path / "ProbeConfig"
    path.write_bytes(b'<r><ProbeConfiguration Grid="a"/><ProbeConfiguration Grid="b"/></r>')
    configure(path, {"Grid": "c"})
    assert path.read_bytes() == b'<r><ProbeConfiguration Grid="c"/><ProbeConfiguration Grid="b"/></r>'


def test_second_run_changes_nothing(config):
    configure(config, AP_SETTINGS)
    written = config.read_bytes()
    mtime = config.stat().st_mtime_ns
    result = configure(config, AP_SETTINGS)
    assert result["changed"] is False
    assert config.read_bytes() == written
    assert config.stat().st_mtime_ns == mtime


def test_equivalent_existing_value_is_not_rewritten(tmp_path):
    path = tmp_path / "ProbeConfig"
    original = b'<ProbeConfiguration Grid="O&#83;G"/>'
    path.write_bytes(original)
    assert configure(path, {"Grid": "OSG"})["changed"] is False
    assert path.read_bytes() == original


def test_check_mode_changes_nothing(config):
    result = run(dict(probe="condor-ap", path=str(config), attributes=AP_SETTINGS), check=True)
    assert result["changed"] is True
    assert config.read_bytes() == AP_CONFIG
    assert result["attributes"]["SiteName"] == "OSG_US_EXAMPLE_SUBMIT"


def test_diff_shows_old_and_new_text(config):
    result = run(dict(probe="condor-ap", path=str(config), attributes=AP_SETTINGS), diff=True)
    assert result["diff"]["before"] == AP_CONFIG.decode()
    assert result["diff"]["after"] == config.read_text()
    assert result["diff"]["before_header"] == str(config)


def test_backup(config):
    result = configure(config, AP_SETTINGS, backup=True)
    assert Path(result["backup_file"]).read_bytes() == AP_CONFIG


def test_default_path_follows_the_probe():
    result = run(dict(probe="no-such-probe-here", attributes={"Grid": "OSG"}))
    assert result["path"] == "/etc/gratia/no-such-probe-here/ProbeConfig"


# ---------------------------------------------------------------- refused input


BAD_ATTRIBUTES = [
    ({"EnableProbe": "yes"}, "attribute EnableProbe value 'yes' is not valid: use 1 or 0"),
    ({"SuppressNoDNRecords": "on"}, "attribute SuppressNoDNRecords value 'on' is not a boolean"),
    ({"QuarantineUnknownVORecords": "2"}, "attribute QuarantineUnknownVORecords value '2'"),
    ({"MapUnknownToGroup": "yes"}, "attribute MapUnknownToGroup value 'yes'"),
    ({"MapGroupToRole": "true"}, "attribute MapGroupToRole value 'true' is not valid: use 1 or 0"),
    ({"UseSSL": "True"}, "attribute UseSSL value 'True' is not valid: use 1 or 0"),
    ({"UseSyslog": "yes"}, "attribute UseSyslog value 'yes'"),
    ({"UseGratiaCertificates": ""}, "attribute UseGratiaCertificates value ''"),
    ({"DebugLevel": "-1"}, "attribute DebugLevel value '-1' is not valid: use a whole number"),
    ({"CollectorHost": "gratia.example.org"}, "attribute CollectorHost value 'gratia.example.org' is not host:port"),
    ({"SSLHost": "gratia.example.org:99999"}, "attribute SSLHost value 'gratia.example.org:99999' is not host:port"),
    ({"SSLRegistrationHost": "bad host:80"}, "attribute SSLRegistrationHost value 'bad host:80' is not host:port"),
    ({"ProbeName": "htcondor-ce:ap.example.edu"}, "use condor-ap:<fully qualified host name>"),
    ({"ProbeName": "condor-ap:ap"}, "attribute ProbeName value 'condor-ap:ap' is not valid"),
    ({"SiteName": "Generic site"}, "attribute SiteName value 'Generic site' is not valid"),
    ({"SiteName": " "}, "attribute SiteName value ' ' is not valid"),
    ({"1st": "x"}, "attribute name '1st' is not an XML name"),
    ({"a b": "x"}, "attribute name 'a b' is not an XML name"),
    ({"Grid": "bell\x07"}, "U+0007 at position 5, a character XML 1.0 cannot represent"),
    ({"Grid": ["OSG"]}, "attribute Grid must be a string, number or boolean, not a list"),
]


@pytest.mark.parametrize(("attributes", "fragment"), BAD_ATTRIBUTES)
def test_bad_attribute_is_refused_and_nothing_changes(config, attributes, fragment):
    result = configure(config, dict(AP_SETTINGS, **attributes))
    assert result.get("failed"), result
    assert fragment in result["msg"]
    assert config.read_bytes() == AP_CONFIG


def test_good_boolean_spellings_pass(config):
    result = configure(config, {"EnableProbe": "false", "SuppressNoDNRecords": "T", "UseSSL": 0, "LogLevel": 3})
    assert result["attributes"]["EnableProbe"] == "false"
    assert result["attributes"]["SuppressNoDNRecords"] == "T"
    assert result["attributes"]["UseSSL"] == "0"
    assert result["attributes"]["LogLevel"] == "3"


def test_bad_probe_name(config):
    result = configure(config, {"Grid": "OSG"}, probe="../condor-ap")
    assert "probe '../condor-ap' is not a probe name" in result["msg"]


@pytest.mark.parametrize(
    ("probe", "package"),
    [
        ("condor-ap", "gratia-probe-condor-ap"),
        ("htcondor-ce", "gratia-probe-htcondor-ce"),
        ("slurm", "gratia-probe-slurm"),
    ],
)
def test_missing_file_names_the_package(tmp_path, probe, package):
    path = tmp_path / "ProbeConfig"
    result = configure(path, {"Grid": "OSG"}, probe=probe)
    assert result["msg"] == f"{path} does not exist: install the package {package}, which provides it"
    assert not path.exists()


def test_a_missing_file_can_be_skipped_but_the_attributes_are_still_checked(tmp_path):
    path = tmp_path / "ProbeConfig"
    result = run({"probe": "condor-ap", "path": str(path), "attributes": {"EnableProbe": True}, "missing": "skip"})
    assert result["changed"] is False and result["exists"] is False and "failed" not in result
    assert "attributes" not in result and not path.exists()
    bad = run({"probe": "condor-ap", "path": str(path), "attributes": {"EnableProbe": "maybe"}, "missing": "skip"})
    assert bad["failed"] is True and "EnableProbe" in bad["msg"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'<ProbeConfiguration SiteName="x">', "is not well-formed XML: no element found at line 1"),
        (b'<ProbeConfiguration A="1" A="2"/>', "is not well-formed XML: duplicate attribute"),
        (b"<!-- <ProbeConfiguration/> -->\n<Other/>\n", "has no <ProbeConfiguration> element"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><ProbeConfiguration/>', "declares encoding 'ISO-8859-1'"),
    ],
)
def test_unusable_file_is_refused_and_left_alone(tmp_path, content, fragment):
    path = tmp_path / "ProbeConfig"
    path.write_bytes(content)
    result = configure(path, {"Grid": "OSG"})
    assert result.get("failed")
    assert fragment in result["msg"]
    assert path.read_bytes() == content


def test_set_attributes_refuses_unrepresentable_character():
    with pytest.raises(ProbeConfigError, match=r"U\+0000"):
        set_attributes(AP_CONFIG, {"Grid": "\x00"})


# ---------------------------------------------------------------- properties

XML_TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x0b\x0c\ufffe\uffff").filter(
        lambda char: char in "\t\n\r" or ord(char) >= 0x20
    )
)


@given(value=XML_TEXT, name=st.sampled_from(["Grid", "CondorScheddName", "NewAttribute"]))
def test_any_value_round_trips_through_minidom_and_touches_only_its_span(value, name):
    result = set_attributes(AP_CONFIG, {name: value})
    attributes = read_attributes(result)
    assert attributes[name] == value
    before = read_attributes(AP_CONFIG)
    assert {key: val for key, val in attributes.items() if key != name} == {
        key: val for key, val in before.items() if key != name
    }
    # Whatever changed lies within one contiguous span, the attribute's value or its new line.
    prefix = 0
    while prefix < min(len(result), len(AP_CONFIG)) and result[prefix] == AP_CONFIG[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(result), len(AP_CONFIG)) - prefix and result[-1 - suffix] == AP_CONFIG[-1 - suffix]:
        suffix += 1
    changed_old = AP_CONFIG[prefix : len(AP_CONFIG) - suffix]
    assert b"\n" not in changed_old
    assert b'"' not in changed_old
    # And editing again with the same value is a no-op.
    assert set_attributes(result, {name: value}) == result


# ---------------------------------------------------------------- encodings and numbers


@pytest.mark.parametrize(
    ("encode", "found"),
    [
        (lambda data: data.decode().encode("utf-16"), "is encoded as UTF-16 (little-endian, with a byte order mark)"),
        (lambda data: data.decode().encode("utf-16-be"), "is encoded as UTF-16 (big-endian, without a byte order"),
        (lambda data: data.decode().encode("utf-32"), "is encoded as UTF-32 (little-endian, with a byte order mark)"),
        (lambda data: data.replace(b"Generic site", b"G\xe9n\xe9ric site"), "is not UTF-8 (invalid continuation byte"),
    ],
)
def test_file_in_another_encoding_is_named_and_left_alone(config, encode, found):
    content = encode(AP_CONFIG)
    config.write_bytes(content)
    result = configure(config, AP_SETTINGS)
    assert result.get("failed")
    assert result["msg"].startswith(f"{config} {found}")
    assert "split" not in result["msg"]
    assert config.read_bytes() == content


@pytest.mark.parametrize(
    ("attributes", "fragment"),
    [
        ({"Grid": float("nan")}, "attribute Grid value nan is not valid: numbers must be finite and from"),
        ({"Grid": float("inf")}, "attribute Grid value inf is not valid: numbers must be finite"),
        ({"Grid": 2**63}, "attribute Grid value 9223372036854775808 is not valid: numbers must be finite and from"),
        ({"Grid": 10**400}, "attribute Grid value a very large integer is not valid"),
        ({"DebugLevel": 2**31}, "attribute DebugLevel value '2147483648' is not valid: use a whole number from 0 to"),
        ({"BundleSize": "9" * 5000}, "attribute BundleSize value '9999"),
        ({"ConnectionTimeout": 1e308}, "attribute ConnectionTimeout value 1e+308 is not valid: numbers must be"),
        ({"ConnectionTimeout": 1e18}, "attribute ConnectionTimeout value '1e+18' is not valid: use a whole number"),
    ],
)
def test_numbers_out_of_range_are_refused(config, attributes, fragment):
    result = configure(config, attributes)
    assert result.get("failed"), result
    assert fragment in result["msg"]
    assert config.read_bytes() == AP_CONFIG


def test_largest_count_and_numbers_are_written(config):
    result = configure(config, {"DebugLevel": 2**31 - 1, "Grid": -(2**63), "Other": 1.5e18})
    assert result["attributes"]["DebugLevel"] == "2147483647"
    assert result["attributes"]["Grid"] == str(-(2**63))
    assert result["attributes"]["Other"] == "1.5e+18"
