# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the site_facts module: what a hand-configured host runs, read through HTCondor's parser, without
a secret in the result and without changing a file."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._config_text import assigned_names
from ansible_collections.osg_htc.site.plugins.module_utils._site_reader import (
    bosco_side,
    edited_config_files,
    read_blah_config,
    run_upgrade_check,
)
from ansible_collections.osg_htc.site.plugins.modules import site_facts
from ansible_collections.osg_htc.site.tests.unit.ce_layout import write_ce
from ansible_collections.osg_htc.site.tests.unit.idtokens import make_token
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

pytest.importorskip("htcondor2")

OLD_ROUTES = """JOB_ROUTER_ENTRIES @=jre
[
  name = "OSG_Pilots";
  TargetUniverse = 9;
  GridResource = "batch slurm";
  Requirements = (Owner == "osg");
  set_default_queue = "osg";
]
@jre
"""
NEW_ROUTE = """JOB_ROUTER_ROUTE_OSG_Pilots @=jrt
  GridResource = "batch slurm"
  REQUIREMENTS Owner == "osg"
  default_queue = osg
  default_maxMemory = 2000
@jrt
JOB_ROUTER_ROUTE_NAMES = OSG_Pilots
"""


def snapshot(root):
    return {
        str(path): (path.stat().st_mtime_ns, path.read_bytes() if path.is_file() else None) for path in root.rglob("*")
    }


def args(tmp_path, **more):
    base = {
        "condor_config": str(tmp_path / "ap" / "condor_config"),
        "ce_config": str(tmp_path / "no-ce"),
        "token_dirs": [],
        "mapfile_dirs": [],
        "blah_config": str(tmp_path / "blah.config"),
        "probe_configs": [],
        "osg_config_dir": str(tmp_path / "osg"),
        "leftover_dirs": [str(tmp_path)],
        "gsi_paths": [],
        "script_dirs": [],
        "packages": [],
        "upgrade_check": False,
        "_ansible_check_mode": True,
    }
    base.update(more)
    return base


def write_ap(tmp_path):
    ap = tmp_path / "ap"
    (ap / "config.d").mkdir(parents=True)
    (ap / "condor_config").write_text(
        f"LOCAL_CONFIG_DIR = {ap / 'config.d'}\nLOCAL_CONFIG_FILE = {ap / 'condor_config.local'}\n"
    )
    (ap / "config.d" / "10-site.conf").write_text(
        "CONDOR_HOST = cm.example.org\nuse ROLE : Submit\nSCHEDD_ATTRS = $(SCHEDD_ATTRS) SiteContact\n"
        'SiteContact = "a@b"\n'
    )
    # Read after the directory (condor_config.cpp): its value wins.
    (ap / "condor_config.local").write_text("CONDOR_HOST = cm2.example.org\nFLOCK_TO = cm-1.ospool.osg-htc.org\n")
    (ap / "config.d" / "20-runs.conf").write_text("include command : /bin/echo X = 1\n")
    (ap / "config.d" / "30-x.conf.rpmnew").write_text("X = 2\n")
    return ap


def test_configuration_as_the_daemons_read_it(tmp_path):
    ap = write_ap(tmp_path)
    before = snapshot(tmp_path)
    result = run_module(site_facts, args(tmp_path))
    assert snapshot(tmp_path) == before
    condor = result["site_facts"]["condor"]
    assert condor["error"] is None
    assert condor["dirs"] == [str(ap / "config.d")]
    files = {item["path"]: item for item in condor["files"]}
    assert list(files) == [str(ap / "config.d" / "10-site.conf"), str(ap / "condor_config.local")]
    site = files[str(ap / "config.d" / "10-site.conf")]
    assert site["sets"] == ["CONDOR_HOST", "SCHEDD_ATTRS", "SiteContact"]
    assert site["uses"] == ["use ROLE : Submit"]
    assert site["adds"] == ["SCHEDD_ATTRS"]
    values = condor["values"]
    assert values["CONDOR_HOST"] == "cm2.example.org"
    assert values["FLOCK_TO"] == "cm-1.ospool.osg-htc.org"
    assert "SCHEDD" in values["DAEMON_LIST"]
    assert values["SiteContact"] == '"a@b"'
    # The file that would run a command is not read, and says so.
    assert any("20-runs.conf" in note and "runs a command" in note for note in condor["notes"])
    assert result["site_facts"]["leftovers"] == [str(ap / "config.d" / "30-x.conf.rpmnew")]
    assert result["site_facts"]["ce"] is None
    assert result["changed"] is False


def test_tokens_give_claims_owner_and_mode_never_the_token(tmp_path):
    write_ap(tmp_path)
    tokens = tmp_path / "tokens.d"
    tokens.mkdir()
    token = make_token(payload={"iss": "flock.opensciencegrid.org", "sub": "RESOURCE-ap@cm", "scope": "READ"})
    (tokens / "ospool.token").write_text(token + "\n")
    (tokens / "ospool.token").chmod(0o644)
    (tokens / "junk").write_text("not a token at all\n")
    result = run_module(site_facts, args(tmp_path, token_dirs=[str(tokens)]))
    found = {item["path"]: item for item in result["site_facts"]["tokens"]}
    ospool = found[str(tokens / "ospool.token")]
    assert ospool["mode"] == "0644"
    assert ospool["tokens"][0]["claims"] == {
        "iss": "flock.opensciencegrid.org",
        "sub": "RESOURCE-ap@cm",
        "scope": "READ",
    }
    assert found[str(tokens / "junk")]["tokens"] == [{"line": 1, "error": "not a JWT (HTCondor cannot use this line)"}]
    text = json.dumps(result)
    assert token.rsplit(".", 1)[1] not in text
    assert token.split(".")[1] not in text
    assert "not a token at all" not in text


def test_a_ce_with_old_and_new_routes_map_files_and_osg_configure(tmp_path):
    ce_root = tmp_path / "ce"
    ce_root.mkdir()
    ce_config = write_ce(ce_root, {"01-ce-router.conf": OLD_ROUTES, "20-local-routes.conf": NEW_ROUTE})
    mapfiles = tmp_path / "mapfiles.d"
    mapfiles.mkdir()
    (mapfiles / "50-local.conf").write_text(
        "# comment\nSCITOKENS /^https\\:\\/\\/scitokens\\.org\\/osg\\-connect,/ root\n"
        "SSL /^\\/DC=org\\/CN=a b$/ nobody-osg-htc@banned.htcondor.org\nGSI (.*) GSS_ASSIST_GRIDMAP\nbroken\n"
    )
    (tmp_path / "blah.config").write_text("slurm_binpath=\"/opt/slurm/bin\"\n#pbs_binpath=/x\nblah_x='y'\n")
    osg = tmp_path / "osg"
    osg.mkdir()
    (osg / "40-siteinfo.ini").write_text("[Site Information]\nresource = CE_1\nresource_group = RG\n")
    result = run_module(
        site_facts,
        args(tmp_path, ce_config=ce_config, mapfile_dirs=[str(mapfiles)], osg_config_dir=str(osg)),
    )
    facts = result["site_facts"]
    ce = facts["ce"]
    assert ce["values"]["JOB_ROUTER_ROUTE_NAMES"] == "OSG_Pilots"
    assert "default_maxMemory = 2000" in ce["values"]["JOB_ROUTER_ROUTE_OSG_Pilots"]
    old = ce["old_routes"]
    assert old["error"] is None
    assert [route["name"] for route in old["routes"]] == ["OSG_Pilots"]
    # The converted old route lacks default_maxMemory: not the same as the live one.
    assert old["same_as_live"] == {"OSG_Pilots": False}
    lines = facts["mapfiles"][0]["lines"]
    assert [(line["method"], line["user"]) for line in lines] == [
        ("SCITOKENS", "root"),
        ("SSL", "nobody-osg-htc@banned.htcondor.org"),
        ("GSI", "GSS_ASSIST_GRIDMAP"),
    ]
    assert lines[1]["principal"] == "/^\\/DC=org\\/CN=a b$/"
    assert facts["mapfiles"][0]["unparsed"] == [{"line": 5, "text": "broken"}]
    assert facts["users"]["root"]["uid"] == 0
    assert facts["blah_config"] == {"slurm_binpath": "/opt/slurm/bin", "blah_x": "y"}
    assert facts["osg_configure"][str(osg / "40-siteinfo.ini")] == {
        "Site Information": {"resource": "CE_1", "resource_group": "RG"}
    }


def test_scripts_on_the_version_1_bindings(tmp_path):
    write_ap(tmp_path)
    scripts = tmp_path / "bin"
    scripts.mkdir()
    (scripts / "old.py").write_text("import os\nimport htcondor\n")
    (scripts / "old-tool").write_text("#!/usr/bin/python3\nfrom classad import ClassAd\n")
    (scripts / "new.py").write_text("import htcondor2 as htcondor\nimport classad2\n")
    (scripts / "shell").write_text("#!/bin/sh\nimport htcondor\n")
    result = run_module(site_facts, args(tmp_path, script_dirs=[str(scripts)]))
    assert [(item["path"].rsplit("/", 1)[1], item["line"]) for item in result["site_facts"]["v1_binding_scripts"]] == [
        ("old-tool", 2),
        ("old.py", 2),
    ]


def test_gsi_files_and_packages(tmp_path):
    write_ap(tmp_path)
    gsi = tmp_path / "grid-mapfile"
    gsi.write_text('"/DC=org/CN=x" osg\n')
    result = run_module(
        site_facts, args(tmp_path, gsi_paths=[str(gsi), str(tmp_path / "absent")], packages=["osg-htc-no-such-package"])
    )
    assert [item["path"] for item in result["site_facts"]["gsi_files"]] == [str(gsi)]
    assert result["site_facts"]["packages"] == {"osg-htc-no-such-package": None}


def test_upgrade_check_output_is_parsed_not_its_exit_status(tmp_path, monkeypatch):
    # As condor_upgrade_check -v prints a failed check (htcondor v24.12.23), and exits 0.
    fake = tmp_path / "condor_upgrade_check"
    fake.write_text(
        "#!/bin/sh\necho 'Checking HTCondor for possible issues with known incompatibilities upgrading to V25'\n"
        "echo '    Checking Version 1 Python bindings [PY-API]:'\n"
        "echo '        Check Version 1 Python bindings [PY-API] failed'\n"
        "echo '    Checking Token permissions [TOK-PERM]:'\necho '        No issue found with check'\nexit 0\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    report = run_upgrade_check("condor_upgrade_check")
    assert report["rc"] == 0
    assert report["failed"] == [{"name": "Version 1 Python bindings", "tag": "PY-API"}]
    assert run_upgrade_check("osg-htc-no-such-command") is None


def test_assigned_names_reads_assignments_not_directives():
    text = (
        "# X = 1\nA = 1\nb.c = $(b.c) 2\nif defined A\n  D = \\\n    continued\nendif\nuse ROLE : Submit\n"
        "include : /etc/x\nE @=end\n  not_a_name = 1\n@end\nerror : message\nF = $(F:default)\n"
    )
    names, uses, adds = assigned_names(text)
    assert names == ["A", "b.c", "D", "E", "F"]
    assert uses == ["use ROLE : Submit"]
    assert adds == ["b.c", "F"]


def test_blah_config_reads_as_the_shell(tmp_path):
    path = tmp_path / "blah.config"
    path.write_text("a=1\na=\"2\"\n  b='x y'\n# c=3\n")
    assert read_blah_config(str(path)) == {"a": "2", "b": "x y"}
    assert read_blah_config(str(tmp_path / "absent")) is None


def test_rpm_verify_output_names_edited_config_files():
    output = (
        "S.5......  c /etc/condor-ce/config.d/01-ce-router.conf\n"
        ".......T.  c /etc/condor/condor_config\n"
        "S.5......    /usr/bin/condor_q\n"
        "missing   c /etc/condor-ce/config.d/01-ce-auth.conf\n"
        "package x is not installed\n"
    )
    assert edited_config_files(output) == ["/etc/condor-ce/config.d/01-ce-router.conf"]


def test_files_osg_configure_wrote_are_marked(tmp_path):
    ap = write_ap(tmp_path)
    (ap / "config.d" / "50-osg-configure.conf").write_text(
        "# This file is managed by osg-configure\nOSG_CONFIGURED=true\n"
    )
    (ap / "config.d" / "10-osg-attributes-generated.conf").write_text(
        '# Do not edit - file generated by osg-configure\nOSG_Resource = "x"\n'
    )
    result = run_module(site_facts, args(tmp_path))
    marked = {item["path"].rsplit("/", 1)[1]: item["generated_by"] for item in result["site_facts"]["condor"]["files"]}
    assert marked == {
        "10-osg-attributes-generated.conf": "osg-configure",
        "10-site.conf": None,
        "50-osg-configure.conf": "osg-configure",
        "condor_config.local": None,
    }


def test_a_bosco_users_ssh_side_without_the_key(tmp_path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".bosco").mkdir()
    (home / ".bosco" / ".clusterlist").write_text("osg01@login.example.edu slurm\n")
    (home / ".ssh" / "config").write_text(
        "Host *\n  ServerAliveInterval 30\nHost login.example.edu login\n  HostName=login.example.edu\n"
        "  User osg01\n  ProxyJump gw.example.edu\nMatch all\n  User x\n"
    )
    (home / ".ssh" / "known_hosts").write_text("login.example.edu ssh-ed25519 AAAAC3Nz\n")
    key = home / ".ssh" / "bosco_key.rsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    side = bosco_side(str(home))
    assert side["clusterlist"] == ["osg01@login.example.edu slurm"]
    assert side["ssh_config"] == [
        {"patterns": ["*"], "options": {}},
        {
            "patterns": ["login.example.edu", "login"],
            "options": {"hostname": "login.example.edu", "user": "osg01", "proxyjump": "gw.example.edu"},
        },
    ]
    assert side["key"]["mode"] == "0600"
    assert "SHA256:" in side["key"]["fingerprint"]
    secret = key.read_text()
    body = "".join(secret.splitlines()[1:-1])
    assert body[:40] not in json.dumps(side)
    assert bosco_side(str(tmp_path / "nobody")) is None
