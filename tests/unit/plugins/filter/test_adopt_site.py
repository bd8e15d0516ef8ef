# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the adopt_site filter: role variables that reproduce what runs, and an audit that names every
legacy, risky or upgrade-blocking item with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.osg_htc.site.plugins.filter.adopt_site import adopt_site
from ansible_collections.osg_htc.site.plugins.plugin_utils._adopt import MINIMUM_BEFORE, mapping_of

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = {
    role: yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())
    for role in ("access_point", "htcondor_ce", "ce_bosco")
}
NOW = 1_800_000_000


def ap_facts(**values):
    base = {
        "CONDOR_HOST": "cm-1.ospool.osg-htc.org,cm-2.ospool.osg-htc.org",
        "FLOCK_TO": None,
        "SEC_TOKEN_SYSTEM_DIRECTORY": "/etc/condor/tokens.d",
        "SUBMIT_REQUIREMENT_NAMES": None,
    }
    base.update(values)
    return {
        "fqdn": "ap.example.org",
        "condor": {
            "config_root": "/etc/condor/condor_config",
            "dirs": ["/usr/share/condor/config.d", "/etc/condor/config.d"],
            "files": [],
            "values": base,
            "notes": [],
            "error": None,
        },
        "ce": None,
        "tokens": [],
        "packages": {"condor": "24.0.13-1.el9", "gratia-probe-condor-ap": "2.8.4-2.el9"},
        "probe_configs": {
            "/etc/gratia/condor-ap/ProbeConfig": {
                "SiteName": "SITE_SUBMIT",
                "ProbeName": "condor-ap:ap.example.org",
                "VOOverride": "osg",
            }
        },
        "package_owners": {},
    }


def adopt(facts, roles):
    return adopt_site(facts, roles, DEFAULTS, "h")


def ids(result):
    return [entry["id"] for entry in result["audit"]]


def find(result, id_):
    return [entry for entry in result["audit"] if entry["id"] == id_]


def test_an_ospool_direct_access_point_needs_only_what_differs_from_the_defaults():
    result = adopt(ap_facts(), ["access_point"])
    assert result["vars"] == {"access_point_gratia_site_name": "SITE_SUBMIT"}
    # No token, no ProjectName policy, no role file yet: each named, with a fix.
    assert {"token-missing", "project-name-policy", "role-file"} <= set(ids(result))
    assert result["text"].startswith("h: ")


def test_a_flocking_access_point():
    facts = ap_facts(CONDOR_HOST="cm.site.edu", FLOCK_TO="cm-1.ospool.osg-htc.org, cm-2.ospool.osg-htc.org")
    result = adopt(facts, ["access_point"])
    assert result["vars"]["access_point_mode"] == "flocking"
    assert result["vars"]["access_point_local_central_manager"] == "cm.site.edu"
    assert "access_point_ospool_central_managers" not in result["vars"]


def test_the_token_is_found_by_its_issuer_and_never_copied():
    facts = ap_facts(SEC_TOKEN_SYSTEM_DIRECTORY="/etc/condor/tokens.d")
    facts["tokens"] = [
        {
            "path": "/etc/condor/tokens.d/flock.token",
            "owner": "condor",
            "group": "condor",
            "mode": "0644",
            "tokens": [{"line": 1, "claims": {"iss": "flock.opensciencegrid.org", "exp": NOW - 10}}],
        }
    ]
    result = adopt_site(facts, ["access_point"], DEFAULTS, "h")
    assert result["vars"]["access_point_token_path"] == "/etc/condor/tokens.d/flock.token"
    assert result["tokens"] == [
        {"path": "/etc/condor/tokens.d/flock.token", "claims": [facts["tokens"][0]["tokens"][0]["claims"]]}
    ]
    assert {"token-permissions", "token-source"} <= set(ids(result))


def test_project_name_policies():
    role = ap_facts(
        SUBMIT_REQUIREMENT_NAMES="OSGHTCRequireProjectName",
        SUBMIT_REQUIREMENT_OSGHTCRequireProjectName='isString(TARGET.ProjectName) && TARGET.ProjectName != ""',
        SUBMIT_REQUIREMENT_OSGHTCRequireProjectName_REASON='"Say \\"ProjectName\\""',
        JOB_TRANSFORM_OSGHTCDefaultProjectName='DEFAULT ProjectName "Lab"',
    )
    result = adopt(role, ["access_point"])
    assert result["vars"]["access_point_require_project_name"] is True
    assert result["vars"]["access_point_project_name_reason"] == 'Say "ProjectName"'
    assert result["vars"]["access_point_default_project_name"] == "Lab"
    assert "project-name-policy" not in ids(result)
    own = adopt(
        ap_facts(SUBMIT_REQUIREMENT_NAMES="Mine", SUBMIT_REQUIREMENT_Mine="ProjectName =!= undefined"), ["access_point"]
    )
    assert ids(own).count("project-name-policy-own") == 1
    assert "access_point_require_project_name" not in own["vars"]


def test_site_settings_are_carried_unless_they_add_to_themselves_after_the_role_file():
    facts = ap_facts(MAX_JOBS_RUNNING=5000, SCHEDD_ATTRS="X SiteContact", EARLY="$", USE_X=True)
    facts["condor"]["files"] = [
        {
            "path": "/etc/condor/config.d/10-early.conf",
            "sets": ["EARLY", "USE_X", "LOCAL_CONFIG_DIR"],
            "uses": [],
            "adds": [],
        },
        {
            "path": "/etc/condor/config.d/99-local.conf",
            "sets": ["MAX_JOBS_RUNNING", "SCHEDD_ATTRS", "CONDOR_HOST"],
            "uses": ["use ROLE : Submit"],
            "adds": ["SCHEDD_ATTRS"],
        },
        {"path": "/etc/condor/config.d/80-osg-flocking.conf", "sets": ["DAEMON_LIST"], "uses": [], "adds": []},
        {
            "path": "/etc/condor/config.d/50-gen.conf",
            "sets": ["OSG_X"],
            "uses": [],
            "adds": [],
            "generated_by": "osg-configure",
        },
    ]
    facts["package_owners"] = {"/etc/condor/config.d/80-osg-flocking.conf": "ospool-ap"}
    result = adopt(facts, ["access_point"])
    # CONDOR_HOST is the role's own; SCHEDD_ATTRS would be added to twice from after 90-...; a package's and a
    # generated file are not the site's.
    assert result["vars"]["access_point_extra_config"] == {"EARLY": "$", "USE_X": "true", "MAX_JOBS_RUNNING": "5000"}
    local = {entry["where"]: entry for entry in find(result, "local-config-file")}
    assert set(local) == {"/etc/condor/config.d/10-early.conf", "/etc/condor/config.d/99-local.conf"}
    assert "SCHEDD_ATTRS" in local["/etc/condor/config.d/99-local.conf"]["what"]
    assert "use ROLE : Submit" in local["/etc/condor/config.d/99-local.conf"]["what"]


def test_gratia_probe_name_and_missing_probe():
    facts = ap_facts()
    facts["probe_configs"]["/etc/gratia/condor-ap/ProbeConfig"]["ProbeName"] = "condor-ap:localhost.localdomain"
    result = adopt(facts, ["access_point"])
    assert result["vars"]["access_point_gratia_probe_name"] == "condor-ap:localhost.localdomain"
    assert find(result, "gratia-probe-name")
    facts = ap_facts()
    facts["probe_configs"] = {}
    facts["packages"] = {"condor": "24.0.13-1.el9"}
    result = adopt(facts, ["access_point"])
    assert result["vars"]["access_point_manage_gratia"] is False
    assert find(result, "gratia-missing")


def ce_facts(values=None, files=None, old=None, packages=None):
    base = {"JOB_ROUTER_ROUTE_NAMES": "Slurm_Cluster", "CONDORCE_MAX_JOBS": "10000"}
    base.update(values or {})
    return {
        "fqdn": "ce.example.org",
        "condor": None,
        "ce": {
            "config_root": "/etc/condor-ce/condor_config",
            "dirs": ["/usr/share/condor-ce/config.d", "/etc/condor-ce/config.d"],
            "files": files
            or [
                {
                    "path": "/etc/condor-ce/config.d/02-ce-slurm.conf",
                    "sets": ["JOB_ROUTER_ROUTE_NAMES"],
                    "uses": [],
                    "adds": [],
                }
            ],
            "values": base,
            "notes": [],
            "error": None,
            "old_routes": old,
        },
        "packages": {"condor": "24.0.13-1.el9", "osg-ce-slurm": "24-1.el9", "htcondor-ce-slurm": "24.10.1-1.el9"}
        | (packages or {}),
        "package_owners": {"/etc/condor-ce/config.d/02-ce-slurm.conf": "htcondor-ce-slurm"},
        "mapfiles": [],
        "users": {},
        "blah_config": {"slurm_binpath": "/opt/slurm/bin"},
        "probe_configs": {"/etc/gratia/htcondor-ce/ProbeConfig": {"SiteName": "CE_1", "SuppressNoDNRecords": "1"}},
        "osg_configure": {},
        "tokens": [],
    }


OLD = {
    "routes": [{"name": "OSG_Pilots", "grid_resource": {"batch": "slurm"}, "default_queue": "osg"}],
    "notes": [],
    "problems": [],
    "same_as_live": {},
    "error": None,
}


def test_a_packaged_route_ce():
    result = adopt(ce_facts(), ["htcondor_ce"])
    assert result["vars"] == {
        "htcondor_ce_batch": "slurm",
        "htcondor_ce_batch_binpath": "/opt/slurm/bin",
        "htcondor_ce_site_name": "CE_1",
    }
    assert {entry["where"] for entry in find(result, "role-file")} == {
        "/etc/condor-ce/config.d/90-osg-htc-site.conf",
        "/etc/condor-ce/config.d/20-osg-htc-routes.conf",
        "/etc/condor-ce/mapfiles.d/50-osg-htc-site.conf",
        "/etc/osg/config.d/99-osg-htc-site.ini",
    }


def test_old_routes_the_ce_ignores_are_audited_not_adopted():
    result = adopt(ce_facts(values={"JOB_ROUTER_ENTRIES": "[...]"}, old=OLD), ["htcondor_ce"])
    assert "htcondor_ce_routes" not in result["vars"]
    (entry,) = find(result, "old-route-syntax")
    assert entry["severity"] == "deprecated"
    assert entry["converted_routes"] == OLD["routes"]
    assert "not adopted" in entry["what"]


def test_old_routes_a_24_0_router_still_reads_are_adopted_converted():
    values = {"JOB_ROUTER_ENTRIES": "[...]", "JOB_ROUTER_USE_DEPRECATED_ROUTER_ENTRIES": True}
    result = adopt(ce_facts(values=values, old=OLD), ["htcondor_ce"])
    assert result["vars"]["htcondor_ce_routes"] == OLD["routes"]
    newer = adopt(ce_facts(values=values, old=OLD, packages={"condor": "24.12.4-1.el9"}), ["htcondor_ce"])
    assert "htcondor_ce_routes" not in newer["vars"]


def test_site_routes_in_the_new_syntax_and_a_shadowed_old_route():
    files = [
        {
            "path": "/etc/condor-ce/config.d/02-ce-slurm.conf",
            "sets": ["JOB_ROUTER_ROUTE_NAMES"],
            "uses": [],
            "adds": [],
        },
        {
            "path": "/etc/condor-ce/config.d/20-local.conf",
            "sets": ["JOB_ROUTER_ROUTE_OSG_Pilots", "JOB_ROUTER_ROUTE_NAMES"],
            "uses": [],
            "adds": [],
        },
    ]
    values = {
        "JOB_ROUTER_ROUTE_NAMES": "OSG_Pilots",
        "JOB_ROUTER_ROUTE_OSG_Pilots": 'GridResource = "batch slurm"\n  default_queue = osg\n',
        "JOB_ROUTER_ENTRIES": "[...]",
    }
    old = dict(OLD, same_as_live={"OSG_Pilots": False})
    result = adopt(ce_facts(values=values, files=files, old=old), ["htcondor_ce"])
    assert result["vars"]["htcondor_ce_routes"] == [
        {"name": "OSG_Pilots", "commands": ['GridResource = "batch slurm"', "default_queue = osg"]}
    ]
    assert [entry["where"] for entry in find(result, "route-shadowed")] == ["route OSG_Pilots"]
    # Not carried as a setting: routes are the role's.
    assert "htcondor_ce_config" not in result["vars"]
    same = adopt(
        ce_facts(values=values, files=files, old=dict(OLD, same_as_live={"OSG_Pilots": True})), ["htcondor_ce"]
    )
    assert not find(same, "route-shadowed")


@pytest.mark.parametrize(
    ("line", "mapping", "why"),
    [
        (("SCITOKENS", r"/^https\:\/\/a\.org,/", "osg"), {"issuer": "https://a.org", "user": "osg"}, None),
        (
            ("SCITOKENS", r"/^https\:\/\/a\.org,sub\-1$/", "osg"),
            {"issuer": "https://a.org", "subject": "sub-1", "user": "osg"},
            None,
        ),
        (
            ("SCITOKENS", r"/^https:\/\/a.org,/", "x@banned.htcondor.org"),
            {"issuer": "https://a.org", "user": "x", "banned": True},
            "dot",
        ),
        (("SSL", r"/^\/DC=org\/CN=a b$/", "osg"), {"dn": "/DC=org/CN=a b", "user": "osg"}, None),
    ],
)
def test_map_lines_the_role_can_write(line, mapping, why):
    got, reason = mapping_of(dict(zip(("method", "principal", "user"), line)))
    assert got == mapping
    assert (reason is None) == (why is None)


@pytest.mark.parametrize(
    "line",
    [
        ("SCITOKENS", r"/https\:\/\/a\.org,/", "osg"),  # not anchored
        ("SCITOKENS", r"/^https\:\/\/(a|b)\.org,/", "osg"),  # alternation
        ("SCITOKENS", r"/^https\:\/\/a\.org,.*/", "osg"),  # any subject, without $
        ("SSL", r"/^\/DC=org\/CN=\w+$/", "osg"),  # a class
        ("SSL", '"/DC=org/CN=a"', "osg"),  # not a regex
        ("KERBEROS", r"/^(.*)$/", "osg"),
        ("SCITOKENS", r"/^https\:\/\/a\.org,/", "Not A User"),
    ],
)
def test_map_lines_the_role_cannot_write_are_kept_and_named(line):
    got, reason = mapping_of(dict(zip(("method", "principal", "user"), line)))
    assert got is None
    assert reason


def test_mappings_users_pilots_and_vos():
    facts = ce_facts()
    facts["mapfiles"] = [
        {
            "path": "/etc/condor-ce/mapfiles.d/50-local.conf",
            "lines": [
                {"line": 1, "method": "SCITOKENS", "principal": r"/^https\:\/\/a\.org,/", "user": "osg"},
                {"line": 2, "method": "GSI", "principal": "(.*)", "user": "GSS_ASSIST_GRIDMAP"},
                {"line": 3, "method": "SCITOKENS", "principal": r"/^x(y|z)/", "user": "osg"},
            ],
            "unparsed": [{"line": 4, "text": "broken"}],
        },
        {
            "path": "/usr/share/condor-ce/mapfiles.d/50-common-default.conf",
            "lines": [{"line": 1, "method": "SSL", "principal": "/x/", "user": "y"}],
            "unparsed": [],
        },
    ]
    facts["users"] = {"osg": {"uid": 5001, "shell": "/bin/bash", "home": "/home/osg"}}
    facts["osg_configure"] = {
        "/etc/osg/config.d/35-pilot.ini": {
            "Pilot main": {
                "queue": "osg",
                "ram_mb": "2000",
                "max_pilots": "10",
                "allowed_vos": "osg, cms",
                "whole_node": "False",
            },
            "Subcluster one": {"name": "one", "cores_per_node": "8"},
        },
        "/etc/osg/config.d/40-siteinfo.ini": {
            "Site Information": {"group": "OSG-ITB", "resource": "UNAVAILABLE", "resource_group": "RG"}
        },
        "/etc/osg/config.d/30-infoservices.ini": {"Info Services": {"ce_collectors": "c1.org:9619,c2.org"}},
    }
    result = adopt(facts, ["htcondor_ce"])
    got = result["vars"]
    assert got["htcondor_ce_scitokens_mappings"] == [{"issuer": "https://a.org", "user": "osg", "vo": "osg"}]
    assert got["htcondor_ce_user_uids"] == {"osg": 5001}
    assert got["htcondor_ce_pilots"] == [
        {
            "name": "main",
            "queue": "osg",
            "ram_mb": 2000,
            "max_pilots": 10,
            "allowed_vos": ["osg", "cms"],
            "whole_node": False,
        }
    ]
    assert got["htcondor_ce_osg_configure_settings"] == {"Subcluster one": {"name": "one", "cores_per_node": "8"}}
    assert got["htcondor_ce_osg_group"] == "OSG-ITB"
    assert got["htcondor_ce_resource_group"] == "RG"
    assert got["htcondor_ce_ce_collectors"] == ["c1.org:9619", "c2.org"]
    assert got["htcondor_ce_site_name"] == "CE_1"
    assert {"gsi-mapping", "mapping-not-adopted", "mapfile-line", "pilot-vo-unmapped"} <= set(ids(result))
    assert [entry["where"] for entry in find(result, "pilot-vo-unmapped")] == ["allowed_vos cms"]


def test_drain_and_job_limit():
    assert adopt(ce_facts(values={"CONDORCE_MAX_JOBS": "0"}), ["htcondor_ce"])["vars"]["htcondor_ce_drain"] is True
    assert adopt(ce_facts(values={"CONDORCE_MAX_JOBS": 4000}), ["htcondor_ce"])["vars"]["htcondor_ce_max_jobs"] == 4000


def test_legacy_and_upgrade_items():
    facts = ce_facts(packages={"lcmaps": "1.6", "htcondor-ce-bdii": "1", "osg-flock": "1.9", "condor": "23.0.10-1"})
    facts["leftovers"] = ["/etc/condor-ce/config.d/01-ce-auth.conf.rpmnew"]
    facts["gsi_files"] = [{"path": "/etc/lcmaps.db"}]
    facts["modified_package_files"] = [
        "/etc/condor-ce/config.d/01-ce-router.conf",
        "/etc/gratia/htcondor-ce/ProbeConfig",
    ]
    facts["v1_binding_scripts"] = [{"path": "/usr/local/bin/x", "line": 2, "text": "import htcondor"}]
    facts["upgrade_checks"] = {
        "condor_ce_upgrade_check": {"rc": 0, "failed": [{"name": "Old job router", "tag": "OLD-JRC"}], "output": ""},
        "condor_upgrade_check": {"rc": 1, "failed": [], "output": "Failed to find HTCondor Python bindings"},
    }
    facts["ce"]["values"]["SEC_CLIENT_AUTHENTICATION_METHODS"] = "GSI, SCITOKENS"
    result = adopt(facts, ["htcondor_ce"])
    for id_ in (
        "package-leftover",
        "gsi-leftover",
        "gsi-package",
        "bdii",
        "edited-package-file",
        "python-bindings-v1",
        "upgrade-check-old-jrc",
        "upgrade-check-failed",
        "gsi-authentication",
    ):
        assert find(result, id_), id_
    # The ProbeConfig is edited by design (Gratia's settings, the role's too).
    assert [entry["where"] for entry in find(result, "edited-package-file")] == [
        "/etc/condor-ce/config.d/01-ce-router.conf"
    ]
    (gate,) = find(result, "upgrade-gate")
    assert gate["severity"] == "upgrade"
    assert "23.0.17" in gate["what"]
    # The most pressing first.
    assert result["audit"][0]["severity"] == "upgrade"


@pytest.mark.parametrize(
    ("version", "ready"),
    [
        ("23.0.17", True),
        ("23.0.16", False),
        ("23.10.2", True),
        ("23.9.6", False),
        ("24.0.13", True),
        ("24.12.3", False),
    ],
)
def test_upgrade_gate_per_channel(version, ready):
    facts = ap_facts()
    facts["packages"]["condor"] = version
    (gate,) = find(adopt(facts, ["access_point"]), "upgrade-gate")
    assert gate["severity"] == ("info" if ready else "upgrade")
    assert set(MINIMUM_BEFORE) == {23, 24}


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="mapping"):
        adopt_site("x", ["access_point"])
    with pytest.raises(AnsibleFilterError, match="not nonesuch"):
        adopt_site({}, ["nonesuch"])


def bosco_facts():
    facts = ce_facts(
        values={
            "JOB_ROUTER_ROUTE_NAMES": "Bosco_osg01_login_example_edu Site_Route Plain",
            "JOB_ROUTER_ROUTE_Bosco_osg01_login_example_edu": 'GridResource = "batch slurm osg01@login.example.edu"',
            "JOB_ROUTER_ROUTE_Site_Route": 'UNIVERSE 9\nGridResource = "batch pbs cms@pbs.example.edu:2222"',
            "JOB_ROUTER_ROUTE_Plain": 'GridResource = "batch slurm"',
            "BOSCO_RMS": "slurm",
        },
        packages={"osg-ce-slurm": None, "osg-ce-bosco": "24-1.el9"},
    )
    facts["ce"]["files"].append(
        {"path": "/etc/condor-ce/config.d/99-local.conf", "sets": ["BOSCO_RMS", "MAX_X"], "uses": [], "adds": []}
    )
    facts["ce"]["values"]["MAX_X"] = "1"
    facts["bosco"] = {
        "osg01": {
            "home": "/home/osg01",
            "clusterlist": ["osg01@login.example.edu slurm"],
            "ssh_config": [],
            "known_hosts": ["login.example.edu,10.0.0.1 ssh-ed25519 AAAAC3Nz comment", "other ssh-rsa AAAAB3"],
            "key": {
                "path": "/home/osg01/.ssh/bosco_key.rsa",
                "mode": "0644",
                "fingerprint": "256 SHA256:abc (ED25519)",
            },
        },
        "cms": {
            "home": "/home/cms",
            "clusterlist": [],
            "ssh_config": [{"patterns": ["pbs.*"], "options": {"proxyjump": "cms@gw.example.edu"}}],
            "known_hosts": ["|1|hashed= ssh-ed25519 AAAA"],
            "key": None,
        },
    }
    return facts


def test_bosco_endpoints_from_the_routes_and_each_users_ssh_side():
    result = adopt(bosco_facts(), ["ce_bosco"])
    got = result["vars"]
    assert got["ce_bosco_endpoints"] == [
        {
            "local_user": "osg01",
            "remote_user": "osg01",
            "host": "login.example.edu",
            "batch": "slurm",
            "host_key": "ssh-ed25519 AAAAC3Nz",
        },
        {
            "local_user": "cms",
            "remote_user": "cms",
            "host": "pbs.example.edu",
            "batch": "pbs",
            "port": 2222,
            "route_name": "Site_Route",
            "proxy_jump": "cms@gw.example.edu",
        },
    ]
    # The role's own: batch, routes, BOSCO_* settings.
    assert "htcondor_ce_batch" not in got and "htcondor_ce_routes" not in got
    assert got["htcondor_ce_config"] == {"MAX_X": "1"}
    assert {"bosco-key", "bosco-key-permissions", "bosco-host-key"} <= set(ids(result))
    (key,) = find(result, "bosco-key")
    assert "SHA256:abc" in key["what"]
    assert not find(result, "role-file")


def test_bosco_without_endpoints_or_users():
    facts = bosco_facts()
    facts["bosco"] = {}
    result = adopt(facts, ["ce_bosco"])
    assert [entry["where"] for entry in find(result, "bosco-local-user")] == [
        "route Bosco_osg01_login_example_edu (osg01@login.example.edu)",
        "route Site_Route (cms@pbs.example.edu)",
    ]
    facts["ce"]["values"]["JOB_ROUTER_ROUTE_NAMES"] = "Plain"
    assert find(adopt(facts, ["ce_bosco"]), "bosco-no-endpoint")


def test_an_edited_packaged_config_file_is_one_item_with_its_settings():
    facts = ce_facts(values={"CONDORCE_MAX_JOBS": "4000", "ROUTED_JOB_MAX_TIME": 4320})
    path = "/etc/condor-ce/config.d/01-ce-router.conf"
    facts["ce"]["files"].append(
        {"path": path, "sets": ["CONDORCE_MAX_JOBS", "ROUTED_JOB_MAX_TIME"], "uses": [], "adds": []}
    )
    facts["package_owners"][path] = "htcondor-ce"
    facts["modified_package_files"] = [path]
    result = adopt(facts, ["htcondor_ce"])
    assert result["vars"]["htcondor_ce_config"] == {"ROUTED_JOB_MAX_TIME": "4320"}
    assert result["vars"]["htcondor_ce_max_jobs"] == 4000
    (entry,) = [entry for entry in result["audit"] if entry["where"] == path]
    assert entry["id"] == "edited-package-file"
    assert "the role sets from its own variables: CONDORCE_MAX_JOBS" in entry["what"]
    assert "carried in htcondor_ce_config: ROUTED_JOB_MAX_TIME" in entry["what"]
