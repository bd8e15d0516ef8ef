# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The Topology filters: the resource group and its checks, and downtime entries with their class."""

from __future__ import annotations

import datetime

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.topology_downtimes import topology_downtimes
from ansible_collections.osg_htc.site.plugins.filter.topology_resource_group import topology_resource_group
from ansible_collections.osg_htc.site.plugins.plugin_utils._topology import (
    downtime_class,
    downtime_id,
    parse_time,
)

ADMIN = {"name": "Ada Admin", "id": "0123456789abcdef0123456789abcdef01234567"}
SECURITY = {"name": "Sam Security", "id": "OSG1000001"}
GROUP = {
    "name": "EXAMPLE_EDU",
    "support_center": "Self Supported",
    "description": "The Example cluster",
    "contacts": {"administrative": [ADMIN], "security": [SECURITY]},
}
HOSTS = [
    {"inventory_hostname": "ap.example.edu", "access_point_gratia_site_name": "EXAMPLE_AP"},
    {
        "inventory_hostname": "ce.example.edu",
        "htcondor_ce_site_name": "EXAMPLE_CE",
        "topology_active": True,
        "topology_dn": "/DC=org/DC=incommon/C=US/CN=ce.example.edu",
    },
]


def rendered(hosts=None, **group):
    hosts = HOSTS if hosts is None else hosts
    return topology_resource_group({**GROUP, **group}, hosts=hosts, access_points=["ap.example.edu"])


def test_hosts_become_resources_named_by_their_gratia_site_name():
    result = rendered()
    assert result["problems"] == []
    document = yaml.safe_load(result["text"])
    assert document == result["document"]
    assert list(document) == ["Production", "SupportCenter", "GroupDescription", "Resources"]
    ap, ce = document["Resources"]["EXAMPLE_AP"], document["Resources"]["EXAMPLE_CE"]
    assert ap == {
        "Active": False,
        "Description": "Submit Node ap.example.edu",
        "ContactLists": {
            "Administrative Contact": {"Primary": {"Name": "Ada Admin", "ID": ADMIN["id"]}},
            "Security Contact": {"Primary": {"Name": "Sam Security", "ID": "OSG1000001"}},
        },
        "FQDN": "ap.example.edu",
        "Services": {"Submit Node": {"Description": "OSPool Access Point"}},
        "Tags": ["OSPool"],
    }
    assert ce["Active"] is True and ce["Services"] == {"CE": {"Description": "HTCondor-CE"}}
    assert ce["DN"] == "/DC=org/DC=incommon/C=US/CN=ce.example.edu" and "Tags" not in ce


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"group": {"name": ""}}, "the resource group name is ''"),
        ({"group": {"name": "a/b"}}, "the resource group name is 'a/b'"),
        ({"group": {"support_center": None}}, "the support center is None"),
        ({"group": {"contacts": {"administrative": [ADMIN]}}}, "contacts.security is None, not a list of 1 to 3"),
        ({"group": {"contacts": {"administrative": [{"name": "A", "id": "abc"}], "security": [SECURITY]}}},
         "contacts.administrative Primary id is 'abc', not a Topology contact ID"),
        ({"host": {"access_point_gratia_site_name": ""}},
         "host ap.example.edu: the resource name (access_point_gratia_site_name) is ''"),
        ({"host": {"access_point_gratia_site_name": "EXAMPLE_CE"}},
         "the resource name 'EXAMPLE_CE' is also host ap.example.edu's; resource names are unique"),
        ({"host": {"topology_fqdn": "ce.example.edu"}}, "the FQDN ce.example.edu is also host ap.example.edu's"),
        ({"host": {"topology_fqdn": "not a host"}}, "the FQDN is 'not a host', not a fully qualified host name"),
        ({"host": {"topology_vo_ownership": {"osg": 60, "cms": 50}}}, "vo_ownership adds up to 110%; at most 100"),
        ({"host": {"topology_services": {}}}, "services is {}, not a mapping of service to description"),
        ({"host": {"topology_active": "yes"}}, "active is 'yes', not true or false"),
        ({"host": {"topology_dn": "CN=x"}}, "the DN is 'CN=x', not a certificate subject"),
    ],
)  # fmt: skip
def test_bad_input_is_named(change, message):
    hosts = [dict(HOSTS[0], **change.get("host", {})), HOSTS[1]]
    problems = rendered(hosts, **change.get("group", {}))["problems"]
    assert any(message in problem for problem in problems), problems


def test_give_resources_or_hosts():
    with pytest.raises(AnsibleFilterError, match="give resources or hosts"):
        topology_resource_group(GROUP)
    resources = [{"name": "R", "fqdn": "r.example.edu", "services": {"CE": "gateway"}}]
    assert topology_resource_group(GROUP, resources=resources)["problems"] == []


# --- against a clone of opensciencegrid/topology (a few files of its layout stand for it) -----------


@pytest.fixture
def checkout(tmp_path):
    """The layout of opensciencegrid/topology at 5270db32f, with one site of another facility."""
    root = tmp_path / "topology"
    (root / "topology" / "Other U" / "Other Site").mkdir(parents=True)
    (root / "virtual-organizations").mkdir()
    (root / "virtual-organizations" / "OSG.yaml").write_text("Name: OSG\n")
    (root / "topology" / "services.yaml").write_text("CE: 1\nSubmit Node: 109\n")
    (root / "topology" / "support-centers.yaml").write_text("Self Supported:\n  ID: 0\n")
    (root / "topology" / "Other U" / "Other Site" / "SITE.yaml").write_text("ID: 1\n")
    other = {"Resources": {"OTHER_CE": {"FQDN": "old-ce.example.edu", "Services": {"CE": {}}}}}
    (root / "topology" / "Other U" / "Other Site" / "OTHER_RG.yaml").write_text(yaml.safe_dump(other))
    return root


def test_a_clean_group_passes_the_checkout_checks(checkout):
    (checkout / "topology" / "Example U" / "Campus").mkdir(parents=True)
    (checkout / "topology" / "Example U" / "Campus" / "SITE.yaml").write_text("ID: 2\n")
    result = topology_resource_group(GROUP, hosts=HOSTS, access_points=["ap.example.edu"],
                                     path="Example U/Campus/EXAMPLE_EDU.yaml", checkout=str(checkout))  # fmt: skip
    assert result["problems"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"group": {"support_center": "Nobody"}}, "support center 'Nobody' is not in topology/support-centers.yaml"),
        ({"group": {"name": "OTHER_RG"}}, "the resource group 'OTHER_RG' already exists as topology/Other U"),
        ({"host": {"access_point_gratia_site_name": "OTHER_CE"}}, "the resource name 'OTHER_CE' is already in"),
        ({"host": {"topology_fqdn": "old-ce.example.edu"}},
         "the FQDN old-ce.example.edu is already the FQDN of resource 'OTHER_CE'"),
        ({"host": {"topology_vo_ownership": {"NOPE": 10}}}, "VOOwnership names VOs the checkout does not have"),
        ({"host": {"topology_services": {"XRootD cache server": "cache"}}},
         "services ['XRootD cache server'] are not in topology/services.yaml"),
        ({"path": "Other U/Other Site/EXAMPLE_EDU.yaml", "nosite": True}, "has no SITE.yaml"),
    ],
)  # fmt: skip
def test_the_checkout_checks_name_what_topology_would_refuse(checkout, change, message):
    if change.get("nosite"):
        (checkout / "topology" / "Other U" / "Other Site" / "SITE.yaml").unlink()
    hosts = [dict(HOSTS[0], **change.get("host", {})), HOSTS[1]]
    result = topology_resource_group({**GROUP, **change.get("group", {})}, hosts=hosts,
                                     access_points=["ap.example.edu"], path=change.get("path"),
                                     checkout=str(checkout))  # fmt: skip
    assert any(message in problem for problem in result["problems"]), result["problems"]


def test_a_checkout_that_is_not_one_is_named(tmp_path):
    result = topology_resource_group(GROUP, hosts=HOSTS, access_points=["ap.example.edu"], checkout=str(tmp_path))
    assert result["problems"] == [f"topology_checkout {tmp_path} has no topology/ directory: it is not a clone of "
                                  "opensciencegrid/topology"]  # fmt: skip


# --- downtimes ----------------------------------------------------------------------------------------

CE = [{"name": "EXAMPLE_CE", "services": ["CE"]}]


def declare(created, start="2026-12-10 08:00 -0600", end="2026-12-10 17:00 -0600", **options):
    return topology_downtimes(CE, start=start, end=end, severity="Outage", description="Kernel updates",
                              created=created, **options)  # fmt: skip


def test_48_hours_ahead_is_scheduled_less_is_not():
    # The start is 2026-12-10 14:00 UTC.
    assert declare("2026-12-08 14:00 +0000")["entries"][0]["Class"] == "SCHEDULED"
    assert declare("2026-12-08 14:01 +0000")["entries"][0]["Class"] == "UNSCHEDULED"
    assert declare("2026-12-09 14:00 +0000", notice_hours=24)["entries"][0]["Class"] == "SCHEDULED"


def test_the_entry_is_in_the_templates_order_and_time_format():
    result = declare("2026-12-01 11:07 +0000")
    entry = result["entries"][0]
    assert list(entry) == ["Class", "ID", "Description", "Severity", "StartTime", "EndTime", "CreatedTime",
                           "ResourceName", "Services"]  # fmt: skip
    assert entry["StartTime"] == "Dec 10, 2026 08:00 -0600" and entry["CreatedTime"] == "Dec 01, 2026 11:07 +0000"
    assert entry["ID"] == downtime_id(parse_time("", "2026-12-01 11:07 +0000"))
    assert yaml.safe_load(result["text"]) == [entry]
    assert result["text"].endswith("# ---------------------------------------------------------\n")


def test_topology_times_round_trip_and_an_entry_already_there_is_not_added_again():
    first = declare("2026-12-01 11:07 +0000")["entries"]
    again = declare("2026-12-02 09:00 +0000", existing=first)
    assert again == {"entries": [], "text": ""}
    longer = declare("2026-12-02 09:00 +0000", end="2026-12-10 18:00 -0600", existing=first)["entries"]
    assert len(longer) == 1


def test_the_file_may_be_given_as_text_and_must_be_a_list():
    text = declare("2026-12-01 11:07 +0000")["text"]
    assert declare("2026-12-02 09:00 +0000", existing="# comment\n" + text)["entries"] == []
    with pytest.raises(AnsibleFilterError, match="the downtime file is not valid YAML"):
        declare("2026-12-02 09:00 +0000", existing="- [unclosed")
    with pytest.raises(AnsibleFilterError, match="the downtime file holds dict, not a list"):
        declare("2026-12-02 09:00 +0000", existing="Class: SCHEDULED\n")


def test_the_id_is_the_web_forms():
    created = datetime.datetime(2026, 12, 1, 11, 7, tzinfo=datetime.timezone.utc)
    assert downtime_id(created) == int((created.timestamp() - 1_535_000_000) * 10)
    assert downtime_class(created + datetime.timedelta(hours=48), created, 48) == "SCHEDULED"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start": "2026-12-10 08:00"}, "not a time with its UTC offset"),
        ({"end": "2026-12-10 07:00 -0600"}, "is not after the start"),
        ({"severity": "Bad"}, "the severity is 'Bad', not one of Outage, Severe"),
        ({"description": " "}, "the description is ' ', not a non-empty text"),
        ({"notice_hours": -1}, "the scheduled notice is -1 hours"),
        ({"services": ["Squid"]}, "resource EXAMPLE_CE has none of the services ['Squid']"),
    ],
)
def test_bad_downtime_input_is_named(options, message):
    arguments = {"start": "2026-12-10 08:00 -0600", "end": "2026-12-10 17:00 -0600", "severity": "Outage",
                 "description": "x", "created": "2026-12-01 11:07 +0000", **options}  # fmt: skip
    with pytest.raises(AnsibleFilterError, match="topology_downtimes: ") as error:
        topology_downtimes(CE, **arguments)
    assert message in str(error.value)


def test_hosts_give_their_resources_and_services_are_chosen():
    hosts = [
        {"inventory_hostname": "ce.example.edu", "htcondor_ce_site_name": "EXAMPLE_CE",
         "topology_services": {"CE": "gateway", "Squid": "proxy"}},
    ]  # fmt: skip
    result = topology_downtimes(hosts, start="2026-12-10 08:00 -0600", end="2026-12-10 17:00 -0600",
                                severity="Severe", description="x", created="2026-12-01 11:07 +0000",
                                services=["Squid"])  # fmt: skip
    assert [(e["ResourceName"], e["Services"]) for e in result["entries"]] == [("EXAMPLE_CE", ["Squid"])]
    with pytest.raises(AnsibleFilterError, match=r"the resource name of ap\.example\.edu is ''"):
        topology_downtimes([{"inventory_hostname": "ap.example.edu"}], start="2026-12-10 08:00 -0600",
                           end="2026-12-10 17:00 -0600", severity="Severe", description="x",
                           created="2026-12-01 11:07 +0000", access_points=["ap.example.edu"])  # fmt: skip
