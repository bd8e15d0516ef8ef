# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""galaxy.yml names the collection's public home once; every other mention of it follows.

``repository`` in galaxy.yml is the one place the home is named: ``issues``,
``documentation`` and ``homepage`` live under it, the docsite's edit links name the
same repository, and a link in the guides to any URL of the collection's own
repository starts with it. Changing the home means changing galaxy.yml, and this
test then names every file still pointing at the old one.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import yaml

from .conftest import COLLECTION_ROOT

GALAXY = yaml.safe_load((COLLECTION_ROOT / "galaxy.yml").read_text(encoding="utf-8"))
URL = re.compile(r"https?://[^\s)\]>\"'`]+")


def text_files() -> list[str]:
    """The guides and metadata a reader follows links in: Markdown, reStructuredText and YAML of the checkout."""
    # Local tools and output, recorded history and test inputs: not links a reader follows.
    skipped = (".venv", ".cache", ".git", "build", ".ansible", "changelogs", "tests/fixtures", "CHANGELOG.rst")
    found = []
    for pattern in ("*.md", "*.rst", "*.yml", "*.yaml"):
        for path in COLLECTION_ROOT.rglob(pattern):
            relative = path.relative_to(COLLECTION_ROOT).as_posix()
            if path.is_file() and not any(relative == part or relative.startswith(part + "/") for part in skipped):
                found.append(relative)
    return sorted(found)


def test_the_home_and_its_pages_are_named():
    for key in ("repository", "issues", "documentation", "homepage"):
        assert urlparse(GALAXY.get(key) or "").scheme == "https", f"galaxy.yml: {key} must be an https URL"
    home = GALAXY["repository"].rstrip("/")
    for key in ("issues", "documentation", "homepage"):
        assert GALAXY[key] == home or GALAXY[key].startswith(home + "/"), f"galaxy.yml: {key} is not under {home}"


def test_authors_are_named():
    assert GALAXY["authors"], "galaxy.yml: authors is empty"
    assert all(isinstance(author, str) and author.strip() for author in GALAXY["authors"])


def test_docsite_edit_links_name_the_repository():
    links = yaml.safe_load((COLLECTION_ROOT / "docs" / "docsite" / "links.yml").read_text(encoding="utf-8"))
    home = urlparse(GALAXY["repository"])
    assert home.netloc == "github.com", "edit_on_github needs a GitHub repository; change links.yml with galaxy.yml"
    assert links["edit_on_github"]["repository"] == home.path.strip("/")


def stale_links(text: str, home: str) -> list[str]:
    """URLs on a code host whose path names this collection's repository but that are not under ``home``."""
    hosts = {"github.com", "gitlab.com", urlparse(home).netloc}
    found = []
    for url in URL.findall(text):
        parsed = urlparse(url.rstrip(".,;:"))
        segments = parsed.path.strip("/").split("/")
        names_us = parsed.netloc in hosts and any(part in ("osg_htc.site", "osg_htc.site.git") for part in segments)
        if names_us and not (parsed.geturl() == home or parsed.geturl().startswith(home + "/")):
            found.append(url)
    return found


def test_stale_links_are_found():
    home = "https://github.com/osg-htc/osg_htc.site"
    text = (
        f"see {home}/issues and {home}, not https://github.com/someone/osg_htc.site/pulls "
        "nor https://gitlab.com/x/osg_htc.site.git; a site mirror https://git.example.edu/m/osg_htc.site.git is fine"
    )
    assert stale_links(text, home) == [
        "https://github.com/someone/osg_htc.site/pulls",
        "https://gitlab.com/x/osg_htc.site.git;",
    ]


def test_links_to_the_collections_repository_start_at_its_home():
    home = GALAXY["repository"].rstrip("/")
    stale = {
        path: found
        for path in text_files()
        if (found := stale_links((COLLECTION_ROOT / path).read_text(encoding="utf-8", errors="replace"), home))
    }
    assert stale == {}, f"links to the collection's repository outside galaxy.yml's {home}"
