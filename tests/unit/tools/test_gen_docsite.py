# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""tools/gen_docsite.py: the guides as docsite pages, with labels, refs and links antsibull-docs accepts."""

from __future__ import annotations

import pytest
import yaml

pytest.importorskip("pypandoc", reason="pypandoc-binary is in requirements-dev.txt, not requirements-compat.txt")

import gen_docsite  # tools/ is on pytest's pythonpath (pyproject.toml)

METADATA = {"namespace": "osg_htc", "name": "site", "repository": "https://github.com/example/osg_htc.site"}
GUIDE = """\
# A guide

See [the other guide](other.md), [its part](other.md#a-part), [below](#next-steps),
[`tools/lab.py`](../tools/lab.py), [the examples](examples/ansible-pull/) and [the web](https://example.org/).

## Next steps

Text.
"""


@pytest.fixture
def converted(tmp_path, monkeypatch):
    (tmp_path / "guide.md").write_text(GUIDE)
    monkeypatch.setattr(gen_docsite, "DOCS", tmp_path)
    monkeypatch.setattr(gen_docsite, "SECTIONS", {"Guides": ["guide", "other"]})
    return gen_docsite.page("guide", METADATA)


def test_headings_get_labels_under_the_collection_prefix(converted):
    assert ".. _ansible_collections.osg_htc.site.docsite.guide:\n\nA guide\n=======" in converted
    assert ".. _ansible_collections.osg_htc.site.docsite.guide.next-steps:\n\nNext steps\n----------" in converted


def test_links_between_guides_and_to_headings_are_refs(converted):
    assert ":ref:`the other guide <ansible_collections.osg_htc.site.docsite.other>`" in converted
    assert ":ref:`its part <ansible_collections.osg_htc.site.docsite.other.a-part>`" in converted
    assert ":ref:`below <ansible_collections.osg_htc.site.docsite.guide.next-steps>`" in converted


def test_links_to_repository_files_point_at_the_repository(converted):
    # Plain text: reStructuredText cannot nest a literal in a link.
    assert "`tools/lab.py <https://github.com/example/osg_htc.site/blob/main/tools/lab.py>`__" in converted
    assert "`the examples <https://github.com/example/osg_htc.site/blob/main/docs/examples/ansible-pull/>`__" in (
        converted
    )
    assert "`the web <https://example.org/>`__" in converted


def test_the_edit_links_name_galaxy_yml_s_repository(monkeypatch):
    links = yaml.safe_load(gen_docsite.expected()[gen_docsite.DOCSITE / "links.yml"])
    assert links == {"edit_on_github": {"repository": "osg-htc/osg_htc.site", "branch": "main", "path_prefix": ""}}


def test_a_repository_off_github_is_refused():
    with pytest.raises(SystemExit, match="not a GitHub repository URL"):
        gen_docsite.github_repository({**METADATA, "repository": "https://gitlab.com/example/osg_htc.site"})


def test_every_guide_has_a_page_or_a_reason():
    assert gen_docsite.unlisted_guides() == []


def test_a_new_guide_must_be_placed(tmp_path, monkeypatch):
    (tmp_path / "new-guide.md").write_text("# New\n")
    monkeypatch.setattr(gen_docsite, "DOCS", tmp_path)
    assert gen_docsite.unlisted_guides() == ["new-guide"]
