# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the ``osg_htc.site.osg_configure_ini`` filter and its rules (osg-configure v4.1.1)."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.osg_configure_ini import FilterModule, osg_configure_ini
from ansible_collections.osg_htc.site.plugins.plugin_utils._osg_configure import read_ini

CE = {
    "batch": "slurm",
    "batch_binpath": "/opt/slurm/bin",
    "group": "OSG",
    "host_name": "ce.example.edu",
    "resource": "EXAMPLE_CE",
    "resource_group": "EXAMPLE",
    "worker_node_temp": "",
    "ce_collectors": [],
    "gratia": True,
    "pilots": [{"name": "main", "queue": "osg", "ram_mb": 2000, "max_pilots": 10, "allowed_vos": ["osg", "cms"]}],
    "mappings": [
        {"issuer": "https://scitokens.org/osg-connect", "user": "osg01", "vo": "osg"},
        {"issuer": "https://cms-auth.web.cern.ch/", "user": "cmspilot", "vo": "cms"},
    ],
    "settings": {},
}


def ce(**changes):
    result = copy.deepcopy(CE)
    result.update(changes)
    return result


def problems(**changes) -> str:
    with pytest.raises(AnsibleFilterError) as raised:
        osg_configure_ini(ce(**changes))
    return str(raised.value)


def test_filter_is_registered():
    assert FilterModule().filters() == {"osg_configure_ini": osg_configure_ini}


def test_renders_the_sections_osg_configure_reads():
    text = osg_configure_ini(ce())
    assert text.startswith("# Managed by the osg_htc.site htcondor_ce role")
    assert read_ini(text) == {
        "Gateway": {"htcondor_gateway_enabled": "True"},
        "Site Information": {
            "group": "OSG",
            "host_name": "ce.example.edu",
            "resource": "EXAMPLE_CE",
            "resource_group": "EXAMPLE",
        },
        # osg-configure writes slurm_binpath=<slurm_location>/bin into /etc/blah.config.
        "SLURM": {"enabled": "True", "slurm_location": "/opt/slurm"},
        "Gratia": {"enabled": "True", "resource": "EXAMPLE_CE"},
        "Info Services": {"enabled": "True", "ce_collectors": "PRODUCTION"},
        "Pilot main": {"queue": "osg", "ram_mb": "2000", "max_pilots": "10", "allowed_vos": "osg, cms"},
    }


def test_is_the_same_text_every_time():
    assert osg_configure_ini(ce()) == osg_configure_ini(ce())


@pytest.mark.parametrize(
    ("batch", "binpath", "section", "expected"),
    [
        ("pbs", "/usr/bin", "PBS", {"pbs_location": "/usr"}),
        ("lsf", "/opt/lsf/10.1/linux/bin", "LSF", {"lsf_location": "/opt/lsf/10.1/linux"}),
        # SGE takes the binpath itself; its sge_root has no default.
        ("sge", "/opt/sge/bin/lx-amd64", "SGE", {"sge_bin_location": "/opt/sge/bin/lx-amd64", "sge_root": "/opt/sge"}),
        ("condor", "/usr/bin", "Condor", {}),
    ],
)
def test_each_batch_system_gets_its_section(batch, binpath, section, expected):
    settings = {"SGE": {"sge_root": "/opt/sge"}} if batch == "sge" else {}
    if batch == "lsf":
        settings = {"LSF": {"lsf_profile": "/etc/profile.d/lsf.sh"}}
        expected = {**expected, "lsf_profile": "/etc/profile.d/lsf.sh"}
    read = read_ini(osg_configure_ini(ce(batch=batch, batch_binpath=binpath, settings=settings)))
    assert read[section] == {"enabled": "True", **expected}
    assert "SLURM" not in read


def test_itb_reports_to_the_itb_collector_and_a_list_is_kept():
    assert read_ini(osg_configure_ini(ce(group="OSG-ITB")))["Info Services"]["ce_collectors"] == "ITB"
    collectors = ["collector.example.edu", "[::1]:9619", "10.0.0.1:9620"]
    text = osg_configure_ini(ce(ce_collectors=["collector.example.edu", "10.0.0.1:9620"]))
    assert read_ini(text)["Info Services"]["ce_collectors"] == "collector.example.edu,10.0.0.1:9620"
    assert "not a host name" in problems(ce_collectors=collectors[1:2])


def test_gratia_off_and_worker_node_temp():
    read = read_ini(osg_configure_ini(ce(gratia=False, worker_node_temp="/scratch/osg")))
    assert read["Gratia"] == {"enabled": "False"}
    assert read["Storage"] == {"worker_node_temp": "/scratch/osg"}
    assert "not an absolute path" in problems(worker_node_temp="scratch")


def test_settings_add_sections_and_override_keys_and_percent_survives():
    settings = {
        "Subcluster main": {"name": "main", "node_count": 10, "cores_per_node": 8, "allowed_vos": ["osg"]},
        "Gateway": {"job_envvar_path": "/bin:/usr/bin"},
        "Local Settings": {"Motd": "100% up"},
    }
    read = read_ini(osg_configure_ini(ce(settings=settings)))
    assert read["Subcluster main"]["cores_per_node"] == "8"
    assert read["Gateway"] == {"htcondor_gateway_enabled": "True", "job_envvar_path": "/bin:/usr/bin"}
    # ConfigParser lower-cases keys; "%" must be written "%%" or osg-configure's parser fails on it.
    assert read["Local Settings"] == {"motd": "100% up"}


def test_allowed_vos_star_is_written_as_osg_configure_reads_it():
    pilots = [{"name": "any", "max_pilots": 5, "allowed_vos": ["*"], "require_singularity": False, "os": "rhel9"}]
    read = read_ini(osg_configure_ini(ce(pilots=pilots)))
    assert read["Pilot any"] == {"max_pilots": "5", "allowed_vos": "*", "require_singularity": "False", "os": "rhel9"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"group": "osg"}, "htcondor_ce_osg_group is 'osg', not one of OSG, OSG-ITB"),
        ({"resource": ""}, "[Site Information] resource is ''"),
        ({"resource": "UNAVAILABLE"}, "empty, UNAVAILABLE and DEFAULT count as unset"),
        ({"resource_group": "default"}, "[Site Information] resource_group is 'default'"),
        ({"host_name": "ce..example.edu"}, "host_name 'ce..example.edu' is not a host name or IP address"),
        ({"resource": "A\nB"}, "one line"),
        ({"batch_binpath": "/opt/slurm/sbin"}, "use a path that ends in /bin"),
        ({"batch_binpath": "/bin"}, "use a path that ends in /bin"),
        ({"batch_binpath": "/opt/slurm/bin/"}, "write it as osg-configure writes it back"),
        ({"batch_binpath": "bin"}, "not an absolute path"),
        ({"batch": "lsf", "batch_binpath": "/usr/bin"}, "[LSF] lsf_profile is required by osg-configure"),
        ({"batch": "sge", "batch_binpath": "/usr/bin"}, "[SGE] sge_root is required by osg-configure"),
        ({"batch": "bosco"}, "set htcondor_ce_osg_configure to false"),
        ({"pilots": []}, "at least one [Pilot ...], [Subcluster ...] or [Resource Entry ...] section"),
        ({"pilots": [{"name": "main", "allowed_vos": ["osg"]}]}, "pilot main: max_pilots is required"),
        ({"settings": {"DEFAULT": {"x": 1}}}, "not a section name"),
        ({"settings": {"Bad]": {"x": 1}}}, "not a section name"),
        ({"settings": {"Gateway": {"a=b": 1}}}, "is not a key"),
        ({"settings": {"Gateway": {"x": {"y": 1}}}}, "not a string, number, boolean or list"),
        ({"settings": {"Gateway": {"x": " padded"}}}, "one line of printable ASCII"),
        ({"settings": ["Gateway"]}, "not a mapping of sections"),
        ({"ce_collectors": "collector.example.edu"}, "not a list of host[:port]"),
    ],
)
def test_refuses_what_osg_configure_refuses(changes, message):
    assert message in problems(**changes)


def test_lists_every_problem_at_once():
    text = problems(group="x", resource="", batch_binpath="/opt/slurm/sbin")
    assert text.count("\n- ") == 3


def test_a_subcluster_is_enough_without_pilots():
    settings = {"Subcluster main": {"name": "main", "allowed_vos": ["osg"]}}
    assert "[Subcluster main]" in osg_configure_ini(ce(pilots=[], settings=settings))


def test_a_non_mapping_input_is_refused():
    with pytest.raises(AnsibleFilterError, match="not a mapping"):
        osg_configure_ini(["slurm"])


SUBCLUSTER = {"name": "red", "node_count": 10, "cores_per_node": 8, "ram_mb": 32000, "allowed_vos": ["osg"]}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"Subcluster main": {**SUBCLUSTER, "cores_per_node": 0}},
            "[Subcluster main] cores_per_node is 0, outside 1-8192",
        ),
        ({"Subcluster main": {**SUBCLUSTER, "ram_mb": "lots"}}, "ram_mb is 'lots', not a non-negative integer"),
        ({"Subcluster main": {**SUBCLUSTER, "cpu_speed_mhz": -1}}, "cpu_speed_mhz is '-1', not a non-negative number"),
        (
            {"Subcluster main": {**SUBCLUSTER, "outbound_network": "maybe"}},
            "outbound_network is 'maybe', not a boolean",
        ),
        ({"Subcluster main": {**SUBCLUSTER, "name": "SUBCLUSTER_NAME"}}, "name is the template's 'SUBCLUSTER_NAME'"),
        ({"Subcluster CHANGEME": SUBCLUSTER}, "a section named with 'changeme' is refused"),
        ({"Subcluster main": {"name": "red"}}, "[Subcluster main] allowed_vos is required"),
        ({"Resource Entry big": {"allowed_vos": "osg", "cpucount": 8}}, "[Resource Entry big] queue is required"),
        (
            {
                "Subcluster red": SUBCLUSTER,
                "Resource Entry big": {"allowed_vos": "osg", "queue": "q", "subclusters": "red, blue"},
            },
            "subclusters names 'blue', which no [Subcluster ...] section defines",
        ),
        ({"Pilot extra": {"allowed_vos": "osg"}}, "[Pilot extra] max_pilots is required in a pilot section"),
        (
            {"Pilot extra": {"allowed_vos": "osg", "max_pilots": 1, "require_singularity": False}},
            "[Pilot extra] os is required when require_singularity is false",
        ),
        # The role's own pilot section, changed through the settings, is checked as a whole.
        ({"Pilot main": {"ram_mb": 100}}, "[Pilot main] ram_mb is 100, outside 512-8388608"),
    ],
)
def test_catalog_sections_in_the_settings_are_checked_as_osg_configure_does(settings, message):
    assert message in problems(settings=settings)


def test_a_valid_subcluster_and_resource_entry_pass():
    settings = {
        "Subcluster red": SUBCLUSTER,
        "Resource Entry big": {"allowed_vos": "*", "queue": "big", "cpucount": 8, "subclusters": "red"},
    }
    read = read_ini(osg_configure_ini(ce(settings=settings)))
    assert read["Subcluster red"]["allowed_vos"] == "osg"
    assert read["Resource Entry big"]["subclusters"] == "red"
