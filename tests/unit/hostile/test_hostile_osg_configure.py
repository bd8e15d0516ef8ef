# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Hostile input for the osg-configure file (``osg_htc.site.osg_configure_ini``).

The rule under test: any text in a name, a section, a key or a value either goes into the file so that
osg-configure's parser (Python's ConfigParser with ``%`` interpolation, reading the file as latin-1 with
universal newlines, as opensciencegrid/osg-configure v4.1.1 does) reads back exactly the intended sections,
keys and values and nothing else, or the filter refuses it with an AnsibleFilterError; never another error.
The oracle is a ConfigParser of its own here, not the collection's read-back.
"""

from __future__ import annotations

import configparser
import copy

from ansible.errors import AnsibleFilterError
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.osg_htc.site.plugins.filter.osg_configure_ini import osg_configure_ini
from ansible_collections.osg_htc.site.tests.unit.hostile import strategies as hs

CE = {
    "batch": "slurm",
    "batch_binpath": "/usr/bin",
    "group": "OSG",
    "host_name": "ce.example.edu",
    "resource": "EXAMPLE_CE",
    "resource_group": "EXAMPLE",
    "gratia": True,
    "pilots": [{"name": "main", "max_pilots": 10, "allowed_vos": ["osg"]}],
    "mappings": [{"issuer": "https://scitokens.org/osg-connect", "user": "osg01", "vo": "osg"}],
    "settings": {},
}


# The pieces HTCondor's reader treats specially, and ConfigParser's: % interpolation, [sections], key = value.
INI_PIECES = ("%", "%%", "%(group)s", "%(", "[Gateway]", "\n[Gateway]\n", "x = y", "\nx = y\n", "; c", "DEFAULT")
ini_text = st.one_of(
    st.lists(st.one_of(hs.config_pieces, hs.plain_words, st.sampled_from(INI_PIECES)), min_size=1, max_size=6).map(
        "".join
    ),
    st.text(max_size=20),
)


def as_osg_configure_reads(text: str) -> dict:
    parser = configparser.ConfigParser()
    with_newlines = text.encode("utf-8").decode("latin-1").replace("\r\n", "\n").replace("\r", "\n")
    parser.read_string(with_newlines)
    return {name: dict(parser.items(name)) for name in parser.sections()}


def render(ce: dict) -> dict | None:
    try:
        return as_osg_configure_reads(osg_configure_ini(ce))
    except AnsibleFilterError:
        return None


@settings(max_examples=300, deadline=None)
@given(section=ini_text, key=ini_text, value=ini_text)
def test_extra_settings_read_back_exactly_or_are_refused(section, key, value):
    ce = copy.deepcopy(CE)
    ce["settings"] = {f"Local {section}": {key: value}}
    read = render(ce)
    if read is not None:
        assert read[f"Local {section}"] == {key.lower(): value}
        assert len(read) == 7  # the role's six sections and this one, nothing else


@settings(max_examples=300, deadline=None)
@given(resource=ini_text, group=ini_text, temp=st.one_of(ini_text, st.just("/scratch")))
def test_site_values_read_back_exactly_or_are_refused(resource, group, temp):
    ce = copy.deepcopy(CE)
    ce.update(resource=resource, resource_group=group, worker_node_temp=temp)
    read = render(ce)
    if read is not None:
        assert read["Site Information"]["resource"] == resource
        assert read["Site Information"]["resource_group"] == group
        assert read["Gratia"]["resource"] == resource
        assert read.get("Storage", {}).get("worker_node_temp", "") == temp
