# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The htcondor_ce role: bad input stops it in preflight, clearly; its default routes are the packaged ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import check_config_text
from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import build_routes

from ..conftest import COLLECTION_ROOT
from ..playbooks import runner

ROLE = COLLECTION_ROOT / "roles" / "htcondor_ce"

# Valid everywhere but in what each test breaks; nothing managed, so a run that got past preflight
# would try to write into /etc/condor-ce (absent here) and fail there, not in preflight.
BASE = {
    "htcondor_ce_batch": "slurm",
    "htcondor_ce_manage_repos": False,
    "htcondor_ce_manage_packages": False,
    "htcondor_ce_manage_firewall": False,
    "htcondor_ce_manage_service": False,
    "htcondor_ce_manage_users": False,
    # osg-configure's settings are tested in test_htcondor_ce_osg_configure.py.
    "htcondor_ce_osg_configure": False,
    "htcondor_ce_site_name": "EXAMPLE_CE",
    "htcondor_ce_scitokens_mappings": [{"issuer": "https://scitokens.org/osg-connect", "user": "osg"}],
}


def run_role(tmp_path: Path, *options: str, **overrides):
    return runner.run_role("htcondor_ce", {**BASE, **overrides}, tmp_path, *options)


def failed_in_preflight(output: str) -> None:
    assert "failed=1" in output, output
    assert "changed=0" in output, output
    # No task after preflight ran.
    assert "TASK [osg_htc.site.htcondor_ce : Create the local users" not in output, output
    assert "TASK [osg_htc.site.htcondor_ce : Write the SciTokens" not in output, output


def test_valid_input_passes_preflight(tmp_path):
    # In check mode, so nothing is written on this machine; without a CE here the run stops later.
    _run, output = run_role(tmp_path, "--check")
    assert "TASK [osg_htc.site.htcondor_ce : Write the SciTokens and SSL mappings]" in output, output


def test_unknown_batch_system_is_refused_by_the_argument_spec(tmp_path):
    run, output = run_role(tmp_path, htcondor_ce_batch="torque")
    assert run.returncode != 0
    assert "htcondor_ce_batch" in output and "condor, slurm, pbs, lsf, sge" in output, output
    failed_in_preflight(output)


def test_unknown_mapping_key_is_refused_by_the_argument_spec(tmp_path):
    run, output = run_role(tmp_path, htcondor_ce_scitokens_mappings=[{"issuer": "https://a.org", "usr": "osg"}])
    assert run.returncode != 0
    assert "usr" in output and "user" in output, output
    failed_in_preflight(output)


def test_packages_need_enterprise_linux(tmp_path):
    run, output = run_role(tmp_path, htcondor_ce_manage_packages=True)
    assert run.returncode != 0
    assert "HTCondor-CE is packaged for Enterprise Linux only" in output, output
    assert "htcondor_ce_manage_packages=false" in output, output
    failed_in_preflight(output)


def test_bad_mappings_users_and_uids_are_named(tmp_path):
    run, output = run_role(
        tmp_path,
        htcondor_ce_scitokens_mappings=[
            {"issuer": "https://a.org/x y", "user": "osg"},
            {"issuer": "https://b.org", "subject": "line\nbreak", "user": "Pilot"},
        ],
        htcondor_ce_user_uids={"stranger": 5001, "osg": "many"},
    )
    assert run.returncode != 0
    assert "https://a.org/x y" in output and "line\\\\nbreak" in output, output
    assert 'User names [\\"Pilot\\"] are not valid local user names' in output, output
    assert "stranger" in output and "many" in output, output
    failed_in_preflight(output)


def test_route_tests_blah_keys_gratia_and_drain_conflicts_are_named(tmp_path):
    run, output = run_role(
        tmp_path,
        htcondor_ce_route_tests=[{"name": "pilot", "ad": {"Owner": "osg"}, "expect": "No_Such_Route"}],
        htcondor_ce_blah_config={"bad-key": "x", "slurm_confpath": "a\nb"},
        htcondor_ce_site_name="Generic site",
        htcondor_ce_drain=True,
        htcondor_ce_config={"CONDORCE_MAX_JOBS": 5},
    )
    assert run.returncode != 0
    assert "No_Such_Route" in output and "Slurm_Cluster" in output, output
    assert "bad-key" in output and "slurm_confpath" in output, output
    assert "Topology resource name" in output, output
    assert "CONDORCE_MAX_JOBS" in output, output
    failed_in_preflight(output)


def test_igtf_certificates_must_exist(tmp_path):
    cert, key = tmp_path / "hostcert.pem", tmp_path / "hostkey.pem"
    run, output = run_role(
        tmp_path,
        htcondor_ce_igtf_certificates=True,
        htcondor_ce_host_certificate=str(cert),
        htcondor_ce_host_key=str(key),
    )
    assert run.returncode != 0
    assert f"{cert} and {key} do(es) not exist" in output, output
    failed_in_preflight(output)


def test_igtf_key_must_not_be_world_readable(tmp_path):
    cert, key = tmp_path / "hostcert.pem", tmp_path / "hostkey.pem"
    cert.write_text("certificate\n")
    key.write_text("key\n")
    key.chmod(0o644)
    run, output = run_role(
        tmp_path,
        htcondor_ce_igtf_certificates=True,
        htcondor_ce_host_certificate=str(cert),
        htcondor_ce_host_key=str(key),
    )
    assert run.returncode != 0
    assert f"the key {key} is readable by others (mode 0644): make it 0600" in output, output
    failed_in_preflight(output)


# The host certificate settings of HTCondor-CE's documentation for IGTF certificates
# (htcondor/htcondor-ce, branch docs at 30f0bed: docs/v24/configuration/authentication.md,
# "Configuring Certificates"): the CA files empty, so only the CA directory is trusted.
IGTF_SETTINGS = {
    "AUTH_SSL_SERVER_CERTFILE": "/etc/grid-security/hostcert.pem",
    "AUTH_SSL_SERVER_KEYFILE": "/etc/grid-security/hostkey.pem",
    "AUTH_SSL_SERVER_CADIR": "/etc/grid-security/certificates",
    "AUTH_SSL_SERVER_CAFILE": "",
    "AUTH_SSL_CLIENT_CERTFILE": "/etc/grid-security/hostcert.pem",
    "AUTH_SSL_CLIENT_KEYFILE": "/etc/grid-security/hostkey.pem",
    "AUTH_SSL_CLIENT_CADIR": "/etc/grid-security/certificates",
    "AUTH_SSL_CLIENT_CAFILE": "",
}


@pytest.mark.parametrize("igtf", [True, False])
def test_igtf_settings_are_the_documented_ones_with_empty_ca_files(tmp_path, igtf):
    """What the role writes to 90-osg-htc-site.conf, from its own defaults and vars."""
    out = tmp_path / "settings.json"
    playbook = tmp_path / "settings.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "The CE settings the role would write",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars_files": [str(ROLE / "defaults" / "main.yml"), str(ROLE / "vars" / "main.yml")],
                    "tasks": [
                        {
                            "name": "Write them as JSON",
                            "ansible.builtin.copy": {
                                "content": "{{ __htcondor_ce_settings | to_json }}",
                                "dest": str(out),
                                "mode": "0600",
                            },
                        }
                    ],
                }
            ]
        )
    )
    run, output = runner.run_with_vars(
        playbook, {"htcondor_ce_batch": "slurm", "htcondor_ce_igtf_certificates": igtf}, tmp_path
    )
    assert run.returncode == 0, output
    settings = json.loads(out.read_text())
    written = {name: value for name, value in settings.items() if name.startswith("AUTH_SSL_")}
    assert written == (IGTF_SETTINGS if igtf else {})


ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())


# The route blocks of htcondor/htcondor-ce config/02-ce-<batch>-defaults.conf at v24.10.1 (7940d62a;
# the same at v24.0.1, v25.0.1 and main), as facts: route name and the lines of its block.
PACKAGED_24 = {
    "condor": ("Condor_Pool", ["TargetUniverse = 5"]),
    "slurm": ("Slurm_Cluster", ["TargetUniverse = 9", 'GridResource = "batch slurm"']),
    "pbs": ("PBS_Cluster", ["TargetUniverse = 9", 'GridResource = "batch pbs"']),
    "lsf": ("LSF_Cluster", ["TargetUniverse = 9", 'GridResource = "batch lsf"']),
    "sge": ("SGE_Cluster", ["TargetUniverse = 9", 'GridResource = "batch sge"']),
    "bosco": ("SSH_Endpoint", ["TargetUniverse = 9", 'GridResource = "batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)"']),
}


@pytest.mark.parametrize("batch", sorted(PACKAGED_24))
def test_default_routes_are_the_packaged_ones(batch):
    """Rendered, each default route has the packaged name and reads as the package's own block."""
    routes = ROLE_VARS["__htcondor_ce_packaged_routes"][batch]
    name, lines = PACKAGED_24[batch]
    text, names, _warnings = build_routes(routes)
    assert names == [name]
    packaged = f"JOB_ROUTER_ROUTE_{name} @=jrt\n" + "".join(f"  {line}\n" for line in lines) + "@jrt\n"
    key = f"JOB_ROUTER_ROUTE_{name}"
    ours = check_config_text(text, [key]).values[key]
    theirs = check_config_text(packaged, [key]).values[key]
    assert sorted(ours.splitlines()) == sorted(theirs.splitlines())


def test_the_slurm_double_holds_the_packaged_route():
    double = COLLECTION_ROOT / "tests/fixtures/packaged_state/usr/share/condor-ce/config.d/02-ce-slurm-defaults.conf"
    values = check_config_text(double.read_text(), ["JOB_ROUTER_ROUTE_NAMES", "JOB_ROUTER_ROUTE_Slurm_Cluster"]).values
    assert values["JOB_ROUTER_ROUTE_NAMES"] == "Slurm_Cluster"
    assert values["JOB_ROUTER_ROUTE_Slurm_Cluster"].splitlines() == PACKAGED_24["slurm"][1]


def test_every_batch_system_has_a_default_route_commands_and_services():
    batches = {"condor", "slurm", "pbs", "lsf", "sge", "bosco"}
    for table in (
        "__htcondor_ce_packaged_routes",
        "__htcondor_ce_batch_commands",
        "__htcondor_ce_packaged_batch_services",
    ):
        assert set(ROLE_VARS[table]) == batches, table


def test_a_route_test_that_lands_elsewhere_stops_the_role_before_any_write(tmp_path):
    routes = [
        {"name": "Prod", "grid_resource": {"batch": "slurm"}, "requirements": 'queue == "prod"'},
        {"name": "Rest", "grid_resource": {"batch": "slurm"}},
    ]
    run, output = run_role(
        tmp_path,
        htcondor_ce_routes=routes,
        htcondor_ce_route_tests=[{"name": "pilot", "ad": {"queue": "test"}, "expect": "Prod"}],
    )
    assert run.returncode != 0
    assert "pilot" in output and "Rest" in output, output
    failed_in_preflight(output)


@pytest.mark.parametrize(
    "overrides, named",
    [
        (
            {"htcondor_ce_gratia_attributes": {"SiteName": "OTHER"}},
            ["sets SiteName to", "but htcondor_ce_site_name is"],
        ),
        ({"htcondor_ce_config": {"OSG_Resource": '"OTHER"'}}, ["sets OSG_Resource to", "OTHER"]),
        (
            {"htcondor_ce_config": {"OSG_ResourceGroup": '"RG_A"'}, "topology_resource_group": "RG_B"},
            ["sets OSG_ResourceGroup to", "but htcondor_ce_resource_group (topology_resource_group) is", "RG_B"],
        ),
    ],
)
def test_a_second_resource_name_or_group_stops_the_role(tmp_path, overrides, named):
    run, output = run_role(tmp_path, **overrides)
    assert run.returncode != 0
    # Each piece alone: ansible-core 2.16 shows the message JSON-escaped, later versions as it is.
    assert all(piece in output for piece in named), output
    failed_in_preflight(output)


def test_the_same_resource_name_and_group_twice_pass(tmp_path):
    _run, output = run_role(
        tmp_path,
        "--check",
        htcondor_ce_gratia_attributes={"SiteName": "EXAMPLE_CE"},
        htcondor_ce_config={"OSG_Resource": '"EXAMPLE_CE"', "OSG_ResourceGroup": '"EXAMPLE_RG"'},
        topology_resource_group="EXAMPLE_RG",
    )
    assert "TASK [osg_htc.site.htcondor_ce : Write the SciTokens and SSL mappings]" in output, output


CATALOG_ROUTES = [
    {"name": "OSG", "grid_resource": {"batch": "slurm"}, "default_queue": "osg"},
]
VO_MAPPINGS = [{"issuer": "https://scitokens.org/osg-connect", "user": "osg", "vo": "osg"}]


def test_a_catalog_the_routes_serve_passes_preflight(tmp_path):
    _run, output = run_role(
        tmp_path,
        "--check",
        htcondor_ce_routes=CATALOG_ROUTES,
        htcondor_ce_scitokens_mappings=VO_MAPPINGS,
        htcondor_ce_pilots=[{"name": "main", "max_pilots": 10, "queue": "osg", "allowed_vos": ["*"]}],
    )
    assert "TASK [osg_htc.site.htcondor_ce : Write the SciTokens and SSL mappings]" in output, output


@pytest.mark.parametrize(
    "pilot, named",
    [
        ({"queue": "gpu"}, "main  | osg         | OSG   | sends it to queue 'osg', not to queue 'gpu'"),
        ({"allowed_vos": ["cms"]}, "allowed_vos ['cms'] have no SciTokens mapping with that vo"),
        ({"cpucount": 0}, "pilot main: cpucount is 0, not from 1 to 8192"),
    ],
)
def test_a_catalog_entry_the_routes_do_not_serve_stops_the_role_before_any_write(tmp_path, pilot, named):
    run, output = run_role(
        tmp_path,
        htcondor_ce_routes=CATALOG_ROUTES,
        htcondor_ce_scitokens_mappings=VO_MAPPINGS,
        htcondor_ce_pilots=[{"name": "main", "max_pilots": 10, "allowed_vos": ["osg"], **pilot}],
    )
    assert run.returncode != 0
    assert "htcondor_ce_pilots: " in output and named in output, output
    failed_in_preflight(output)


def test_an_unknown_pilot_key_is_refused_by_the_argument_spec(tmp_path):
    run, output = run_role(
        tmp_path, htcondor_ce_pilots=[{"name": "main", "max_pilots": 1, "allowed_vos": ["*"], "cores": 8}]
    )
    assert run.returncode != 0
    assert "cores" in output and "cpucount" in output, output
    failed_in_preflight(output)


@pytest.mark.parametrize(
    "route, named",
    [
        ({"name": "bad name", "universe": "vanilla"}, "bad name"),
        ({"name": "R", "universe": "vanilla", "delete": ["/x\n@jrt\nALLOW_WRITE = *\nJUNK @=jrt\n/"]}, "route 'R'"),
        ({"name": "R", "universe": "vanilla", "requirements": "queue =="}, "not a valid ClassAd expression"),
    ],
)
def test_a_bad_route_stops_the_role_before_the_mapfile(tmp_path, route, named):
    run, output = run_role(tmp_path, htcondor_ce_routes=[route])
    assert run.returncode != 0
    assert named in output, output
    failed_in_preflight(output)


@pytest.mark.parametrize(
    "overrides, named",
    [
        ({"htcondor_ce_site_name": 5}, "htcondor_ce_site_name is an int (5), but the argument spec says str"),
        ({"htcondor_ce_extra_packages": "a,b"}, "htcondor_ce_extra_packages is a str"),
    ],
)
def test_a_variable_of_another_type_stops_the_role_first(tmp_path, overrides, named):
    run, output = run_role(tmp_path, **overrides)
    assert run.returncode != 0
    assert named in output, output
    failed_in_preflight(output)


SPOOL_CHECK = """\
- name: Run the htcondor_ce role's batch checks
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The batch checks, with the CE's effective SPOOL as condor_config read it
      ansible.builtin.include_role:
        name: osg_htc.site.htcondor_ce
        tasks_from: batch.yml
      vars:
        htcondor_ce_batch: slurm
        htcondor_ce_check_batch_commands: false
        htcondor_ce_shared_spool_check: fail
        __htcondor_ce_config_result: {effective: {SPOOL: "{{ spool }}"}}
        __htcondor_ce_exports_files: ["{{ exports }}"]
"""


@pytest.mark.parametrize(
    "exports, shared",
    [
        (None, False),
        ("# nothing exported\n", False),
        ("/srv/other  *(rw)\n", False),
        ("{top}  worker*.example.edu(rw,sync,no_root_squash)\n", True),  # a directory above SPOOL
        ("{spool}/ 192.0.2.0/24(rw)\n", True),
        ('"{spool}" *(rw)\n', True),
        ("{top}-not-a-parent *(rw)\n", False),
    ],
)
def test_a_spool_this_ce_exports_over_nfs_counts_as_shared(tmp_path, exports, shared):
    # The CE documentation's recommended setup: an NFS server on the CE, SPOOL on a local file system.
    top = tmp_path / "condor-ce"
    spool = top / "spool"
    spool.mkdir(parents=True)
    exports_file = tmp_path / "exports"
    if exports is not None:
        exports_file.write_text(exports.format(top=top, spool=spool))
    book = tmp_path / "spool.yml"
    book.write_text(SPOOL_CHECK)
    run, output = runner.run_with_vars(book, {"spool": str(spool), "exports": str(exports_file)}, tmp_path)
    if shared:
        assert run.returncode == 0, output
    else:
        assert run.returncode != 0 and "does not export it" in output, output
