# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ``osg_htc.site.repo_mirror_problems`` filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.repo_mirror_problems import (
    ALL_KEYS,
    FilterModule,
    repo_mirror_problems,
)

NAME = "access_point_repo_mirror"
EL_KEYS = [key for key in ALL_KEYS if not key.startswith("htcondor_apt")]


def test_filter_is_registered():
    assert FilterModule().filters() == {"repo_mirror_problems": repo_mirror_problems}


@pytest.mark.parametrize("mirror", [None, {}, {key: "" for key in ALL_KEYS}, {key: None for key in ALL_KEYS}])
def test_nothing_given_means_the_public_repositories(mirror):
    assert repo_mirror_problems(mirror, NAME) == []


def test_a_whole_mirror_with_dnf_variables_passes():
    mirror = {
        "epel_release_package": "https://mirror.example.edu/epel/epel-release-latest-9.noarch.rpm",
        "epel_baseurl": "https://mirror.example.edu/epel/$releasever/Everything/$basearch/",
        "epel_gpgkey": "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-9",
        "osg_release_package": "/root/osg-24-main-el9-release-latest.rpm",
        "osg_baseurl": "ftp://mirror.example.edu/osg/24-main/el$releasever/release/$basearch",
        "osg_gpgkey": "http://mirror.example.edu/keys/RPM-GPG-KEY-OSG-24-developer",
        "htcondor_apt_url": "http://192.0.2.10:8080/htcondor/",
        "htcondor_apt_key": "file:///usr/share/keyrings/site-mirror.asc",
    }
    assert repo_mirror_problems(mirror, NAME) == []


@pytest.mark.parametrize("package", ["epel-release", "osg-release", "epel-release-9-7.el9.noarch"])
def test_a_release_package_may_be_a_package_name(package):
    assert repo_mirror_problems({"epel_release_package": package}, NAME) == []


@pytest.mark.parametrize(
    "key, value",
    [
        ("osg_baseurl", "mirror.example.edu/osg"),  # no scheme
        ("osg_baseurl", "https://mirror.example.edu/osg/\nmirrorlist=https://attacker.example"),
        ("osg_baseurl", "https://mirror.example.edu/osg/ https://other.example"),
        ("epel_baseurl", "gopher://mirror.example.edu/epel"),
        ("epel_baseurl", "https://mirror.example.edu/epel\n"),  # \Z, not $
        ("htcondor_apt_url", "ftp://mirror.example.edu/htcondor"),  # apt has no ftp
        ("osg_release_package", "osg-release --nogpgcheck"),
        ("osg_release_package", "relative/path.rpm"),
        ("epel_release_package", "-epel-release"),
    ],
)
def test_each_malformed_value_is_named_with_what_is_valid(key, value):
    mirror = {key: value}
    if key == "osg_gpgkey":
        mirror["osg_baseurl"] = "https://mirror.example.edu/osg"
    (problem,) = repo_mirror_problems(mirror, NAME)
    assert problem.startswith(f"{NAME}.{key} is ")
    assert "give" in problem


def test_a_key_is_refused_without_the_base_url_it_signs():
    problems = repo_mirror_problems(
        {"epel_gpgkey": "file:///k", "osg_gpgkey": "file:///k", "htcondor_apt_key": "file:///k"}, NAME
    )
    assert problems == [
        f"{NAME}.epel_gpgkey is set but {NAME}.epel_baseurl is not: the key is used only for that mirror",
        f"{NAME}.osg_gpgkey is set but {NAME}.osg_baseurl is not: the key is used only for that mirror",
        f"{NAME}.htcondor_apt_key is set but {NAME}.htcondor_apt_url is not: the key is used only for that mirror",
    ]


def test_unknown_and_unaccepted_keys_are_listed_with_the_valid_ones():
    (problem,) = repo_mirror_problems(
        {"osg_baseurll": "https://x.example", "htcondor_apt_url": "https://x"}, NAME, EL_KEYS
    )
    assert problem == (f"{NAME} has unknown keys htcondor_apt_url, osg_baseurll; valid keys are " + ", ".join(EL_KEYS))


@pytest.mark.parametrize("value", [5, ["https://x.example"], {"url": "https://x.example"}, True])
def test_a_value_that_is_not_a_string_is_refused(value):
    (problem,) = repo_mirror_problems({"osg_baseurl": value}, NAME)
    assert problem.startswith(f"{NAME}.osg_baseurl is a ")
    assert problem.endswith("give a string")


def test_a_mirror_that_is_not_a_mapping_is_refused():
    (problem,) = repo_mirror_problems("https://mirror.example.edu", NAME)
    assert problem.startswith(f"{NAME} is a str")


def test_the_name_is_required():
    with pytest.raises(AnsibleFilterError, match="name"):
        repo_mirror_problems({}, "")
