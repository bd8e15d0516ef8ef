#!/usr/bin/python
# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: site_facts
short_description: Read how a running Access Point or HTCondor-CE is configured, without changing it
version_added: 0.3.0
author:
  - Contributors to the osg_htc.site collection (!UNKNOWN)
description:
  - Reads, in one call, what the C(osg_htc.site.adopt) playbook needs to write inventory variables for a
    host that was configured by hand and to audit it. Nothing on the host changes.
  - HTCondor's and HTCondor-CE's configuration is read through HTCondor's own parser (the C(htcondor2) bindings of
    the host's Python), as the daemons read it, the base file, then the C(LOCAL_CONFIG_DIR) files, then
    C(LOCAL_CONFIG_FILE) (a piped one is not run, nor any file that would run a command when read). For each local
    file it returns the names the file assigns; values are the effective, macro-expanded ones.
  - Secrets never reach the result. A token file gives its owner, group, mode and each token's claims (never its
    text or signature); a file that is not a token gives only its line number.
  - Also returned are the map files' lines, C(/etc/blah.config)'s keys, Gratia ProbeConfig attributes, the
    osg-configure INI files, installed package versions, packaged configuration files that were edited (C(rpm -V)),
    C(.rpmnew)/C(.rpmsave)/C(.dpkg-*) files, GSI-era files, Python scripts that import the version 1 C(htcondor)
    bindings, and what C(condor_upgrade_check --all -v) and C(condor_ce_upgrade_check --all -v) report.
extends_documentation_fragment:
  - osg_htc.site._attributes
  - osg_htc.site._attributes.info_module
options:
  condor_config:
    description: HTCondor's configuration root; its configuration is read when it exists.
    type: path
    default: /etc/condor/condor_config
  ce_config:
    description: HTCondor-CE's configuration root; its configuration is read when it exists.
    type: path
    default: /etc/condor-ce/condor_config
  names:
    description: More configuration names whose effective values to return, from both configurations.
    type: list
    elements: str
    default: []
  token_dirs:
    description:
      - Directories of token files. The effective C(SEC_TOKEN_SYSTEM_DIRECTORY) of each configuration is read too.
    type: list
    elements: path
    default: [/etc/condor/tokens.d, /etc/condor-ce/tokens.d]
  mapfile_dirs:
    description: HTCondor-CE's map file directories (the site's first, then the packaged defaults).
    type: list
    elements: path
    default: [/etc/condor-ce/mapfiles.d, /usr/share/condor-ce/mapfiles.d]
  blah_config:
    description: The BLAHP configuration file.
    type: path
    default: /etc/blah.config
  probe_configs:
    description: Gratia ProbeConfig files to read.
    type: list
    elements: path
    default: [/etc/gratia/condor-ap/ProbeConfig, /etc/gratia/htcondor-ce/ProbeConfig, /etc/gratia/condor/ProbeConfig]
  osg_config_dir:
    description: osg-configure's INI directory.
    type: path
    default: /etc/osg/config.d
  leftover_dirs:
    description: Directories searched (with their subdirectories) for files a package update left beside a config file.
    type: list
    elements: path
    default: [/etc/condor, /etc/condor-ce, /etc/osg, /etc/gratia, /etc/blah.config.d]
  gsi_paths:
    description: Files and directories of the GSI, GUMS and LCMAPS era; the ones that exist are returned.
    type: list
    elements: path
    default:
      - /etc/lcmaps.db
      - /etc/grid-security/gsi-authz.conf
      - /etc/grid-security/grid-mapfile
      - /etc/grid-security/voms-grid-mapfile
      - /etc/gums
      - /etc/condor-ce/mapfiles.d/10-gsi.conf
  script_dirs:
    description: Directories searched (with their subdirectories) for Python scripts that import the version 1 bindings.
    type: list
    elements: path
    default: [/usr/local/bin, /usr/local/sbin, /usr/local/libexec, /etc/condor, /etc/condor-ce]
  packages:
    description: Packages whose installed version to return (rpm, or dpkg on Debian and Ubuntu).
    type: list
    elements: str
    default:
      - condor
      - htcondor
      - htcondor-ce
      - htcondor-ce-condor
      - htcondor-ce-pbs
      - htcondor-ce-slurm
      - htcondor-ce-lsf
      - htcondor-ce-sge
      - htcondor-ce-bosco
      - htcondor-ce-bdii
      - osg-ce
      - osg-ce-condor
      - osg-ce-pbs
      - osg-ce-slurm
      - osg-ce-lsf
      - osg-ce-sge
      - osg-ce-bosco
      - osg-configure
      - osg-flock
      - ospool-ap
      - gratia-probe-condor-ap
      - gratia-probe-htcondor-ce
      - gratia-probe-condor
      - blahp
      - lcmaps
      - lcmaps-plugins-voms
      - vo-client-lcmaps-voms
      - gums-client
      - python3-condor
      - python3-psutil
      - python3-dns
  bosco_users:
    description:
      - The local users whose SSH side to a Bosco endpoint to read (C(~/.bosco/.clusterlist), C(~/.ssh/config),
        C(~/.ssh/known_hosts), C(~/.ssh/bosco_key.rsa)). Default the users the map files map to.
    type: list
    elements: str
  upgrade_check:
    description: Run C(condor_upgrade_check --all -v) and C(condor_ce_upgrade_check --all -v) where installed.
    type: bool
    default: true
notes:
  - Without the HTCondor Python bindings for the host's Python, the configurations are not read and their
    C(error) says why; everything else is still returned.
seealso:
  - name: The adopt playbook
    description: docs/adopting.md in the collection.
    link: https://github.com/osg-htc/osg_htc.site/blob/main/docs/adopting.md
"""

EXAMPLES = r"""
- name: Read how this host runs
  osg_htc.site.site_facts:
  register: site

- name: Show the effective CONDOR_HOST and the token files
  ansible.builtin.debug:
    msg: "{{ site.site_facts.condor['values']['CONDOR_HOST'] }} {{ site.site_facts.tokens | map(attribute='path') }}"
"""

RETURN = r"""
site_facts:
  description: What was read.
  returned: always
  type: dict
  contains:
    fqdn:
      description: The host's fully qualified name.
      type: str
    condor:
      description:
        - HTCondor's configuration, null when O(condor_config) does not exist. C(files) lists each local file read
          with C(sets), the names it assigns, and C(uses), its metaknob (C(use)) lines; C(values) maps each
          name to its effective value (null when undefined); C(notes) says what was not read; C(error) is set when
          the configuration could not be read.
      type: dict
    ce:
      description:
        - HTCondor-CE's configuration, as RV(site_facts.condor). Its C(values) also hold each route of
          C(JOB_ROUTER_ROUTE_NAMES); C(old_routes), when C(JOB_ROUTER_ENTRIES) is set, holds the old routes converted
          as P(osg_htc.site.ce_job_route#module) converts them (C(routes), C(notes), C(problems), C(error)) and, in
          C(same_as_live), for each that has a live route of its name whether the two say the same.
      type: dict
    users:
      description: Each local account the map files map to, with C(uid), C(shell) and C(home); null when unknown.
      type: dict
    package_owners:
      description: The package owning each configuration, map and INI file read, null when none does.
      type: dict
    tokens:
      description: Each token file, with C(path), C(owner), C(group), C(mode) and C(tokens), each a C(line) with its
        C(claims) or an C(error).
      type: list
      elements: dict
    mapfiles:
      description: Each map file with its C(lines) (C(method), C(principal), C(user)) and C(unparsed) lines.
      type: list
      elements: dict
    blah_config:
      description: The keys of O(blah_config) and their values (outer quotes removed), null when it is absent.
      type: dict
    probe_configs:
      description: The attributes of each ProbeConfig found, by path.
      type: dict
    osg_configure:
      description: Each INI file of O(osg_config_dir), by path, as sections of keys.
      type: dict
    packages:
      description: The installed version of each of O(packages), null when not installed.
      type: dict
    modified_package_files:
      description: Packaged configuration files whose content differs from the package's (EL only).
      type: list
      elements: str
    leftovers:
      description: C(.rpmnew), C(.rpmsave), C(.dpkg-dist), C(.dpkg-old) files under O(leftover_dirs).
      type: list
      elements: str
    gsi_files:
      description: The paths of O(gsi_paths) that exist.
      type: list
      elements: str
    v1_binding_scripts:
      description: Python files that import the version 1 bindings, with C(path), C(line) and C(text).
      type: list
      elements: dict
    bosco:
      description:
        - Per local user with a Bosco side, its C(home), C(clusterlist) lines, C(ssh_config) Host blocks (C(patterns)
          and C(options) hostname, user, port, identityfile, proxyjump), C(known_hosts) lines, and C(key), the
          C(~/.ssh/bosco_key.rsa) file's path, owner, mode and C(fingerprint) (never the key).
      type: dict
    upgrade_checks:
      description: By command, C(failed) (each a C(name) and C(tag)), C(rc) and C(output).
      type: dict
"""

import os
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osg_htc.site.plugins.module_utils._site_reader import (
    bosco_users,
    file_info,
    leftovers,
    mapped_users,
    modified_package_files,
    old_routes,
    package_owners,
    package_versions,
    read_blah_config,
    read_configuration,
    read_mapfiles,
    read_osg_configure,
    read_probe_configs,
    read_tokens,
    run_upgrade_check,
    v1_binding_scripts,
)

# What the adopt playbook maps onto role variables, read from both configurations.
CONFIG_NAMES = [
    "CONDOR_HOST",
    "FLOCK_TO",
    "DAEMON_LIST",
    "SEC_TOKEN_SYSTEM_DIRECTORY",
    "SUBMIT_REQUIREMENT_NAMES",
    "JOB_TRANSFORM_NAMES",
    "CONDORCE_MAX_JOBS",
    "JOB_ROUTER_ROUTE_NAMES",
    "JOB_ROUTER_ENTRIES",
    "JOB_ROUTER_ENTRIES_FILE",
    "JOB_ROUTER_ENTRIES_CMD",
    "JOB_ROUTER_USE_DEPRECATED_ROUTER_ENTRIES",
    "CERTIFICATE_MAPFILE",
    "SEC_DEFAULT_AUTHENTICATION_METHODS",
    "SEC_CLIENT_AUTHENTICATION_METHODS",
    "SCHEDD.SEC_WRITE_AUTHENTICATION_METHODS",
    "SCHEDD.SEC_READ_AUTHENTICATION_METHODS",
    "GSI_DAEMON_DIRECTORY",
    "USE_VOMS_ATTRIBUTES",
    "BOSCO_RMS",
    "BOSCO_ENDPOINT",
    "CONDOR_VERSION",
]
LEFTOVER_SUFFIXES = (".rpmnew", ".rpmsave", ".dpkg-dist", ".dpkg-old")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            condor_config=dict(type="path", default="/etc/condor/condor_config"),
            ce_config=dict(type="path", default="/etc/condor-ce/condor_config"),
            names=dict(type="list", elements="str", default=[]),
            token_dirs=dict(
                type="list", elements="path", default=["/etc/condor/tokens.d", "/etc/condor-ce/tokens.d"], no_log=False
            ),
            mapfile_dirs=dict(
                type="list", elements="path", default=["/etc/condor-ce/mapfiles.d", "/usr/share/condor-ce/mapfiles.d"]
            ),
            blah_config=dict(type="path", default="/etc/blah.config"),
            probe_configs=dict(
                type="list",
                elements="path",
                default=[
                    "/etc/gratia/condor-ap/ProbeConfig",
                    "/etc/gratia/htcondor-ce/ProbeConfig",
                    "/etc/gratia/condor/ProbeConfig",
                ],
            ),
            osg_config_dir=dict(type="path", default="/etc/osg/config.d"),
            leftover_dirs=dict(
                type="list",
                elements="path",
                default=["/etc/condor", "/etc/condor-ce", "/etc/osg", "/etc/gratia", "/etc/blah.config.d"],
            ),
            gsi_paths=dict(
                type="list",
                elements="path",
                default=[
                    "/etc/lcmaps.db",
                    "/etc/grid-security/gsi-authz.conf",
                    "/etc/grid-security/grid-mapfile",
                    "/etc/grid-security/voms-grid-mapfile",
                    "/etc/gums",
                    "/etc/condor-ce/mapfiles.d/10-gsi.conf",
                ],
            ),
            script_dirs=dict(
                type="list",
                elements="path",
                default=["/usr/local/bin", "/usr/local/sbin", "/usr/local/libexec", "/etc/condor", "/etc/condor-ce"],
            ),
            packages=dict(type="list", elements="str", default=DEFAULT_PACKAGES),
            upgrade_check=dict(type="bool", default=True),
            bosco_users=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    names = list(dict.fromkeys([*CONFIG_NAMES, *params["names"]]))
    facts = {"fqdn": socket.getfqdn()}
    facts["condor"] = read_configuration(params["condor_config"], names)
    facts["ce"] = read_configuration(params["ce_config"], names)
    token_dirs = list(params["token_dirs"])
    for config in (facts["condor"], facts["ce"]):
        directory = ((config or {}).get("values") or {}).get("SEC_TOKEN_SYSTEM_DIRECTORY")
        if directory and directory not in token_dirs:
            token_dirs.append(directory)
    facts["tokens"] = read_tokens(token_dirs)
    facts["mapfiles"] = read_mapfiles(params["mapfile_dirs"])
    facts["users"] = mapped_users(facts["mapfiles"])
    facts["bosco"] = bosco_users(params["bosco_users"] if params["bosco_users"] is not None else list(facts["users"]))
    if facts["ce"] and not facts["ce"]["error"]:
        facts["ce"]["old_routes"] = old_routes(params["ce_config"], facts["ce"])
    facts["blah_config"] = read_blah_config(params["blah_config"])
    facts["probe_configs"] = read_probe_configs(params["probe_configs"])
    facts["osg_configure"] = read_osg_configure(params["osg_config_dir"])
    facts["packages"] = package_versions(params["packages"])
    installed = [name for name, version in facts["packages"].items() if version]
    facts["modified_package_files"] = modified_package_files(installed)
    owned = [item["path"] for config in (facts["condor"], facts["ce"]) if config for item in config["files"]]
    owned += [item["path"] for item in facts["mapfiles"]] + list(facts["osg_configure"])
    facts["package_owners"] = package_owners(owned)
    facts["leftovers"] = leftovers(params["leftover_dirs"], LEFTOVER_SUFFIXES)
    facts["gsi_files"] = [file_info(path) for path in params["gsi_paths"] if os.path.lexists(path)]
    facts["v1_binding_scripts"] = v1_binding_scripts(params["script_dirs"])
    facts["upgrade_checks"] = {}
    if params["upgrade_check"]:
        for command in ("condor_upgrade_check", "condor_ce_upgrade_check"):
            report = run_upgrade_check(command)
            if report is not None:
                facts["upgrade_checks"][command] = report
    module.exit_json(changed=False, site_facts=facts)


DEFAULT_PACKAGES = [
    "condor",
    "htcondor",
    "htcondor-ce",
    "htcondor-ce-condor",
    "htcondor-ce-pbs",
    "htcondor-ce-slurm",
    "htcondor-ce-lsf",
    "htcondor-ce-sge",
    "htcondor-ce-bosco",
    "htcondor-ce-bdii",
    "osg-ce",
    "osg-ce-condor",
    "osg-ce-pbs",
    "osg-ce-slurm",
    "osg-ce-lsf",
    "osg-ce-sge",
    "osg-ce-bosco",
    "osg-configure",
    "osg-flock",
    "ospool-ap",
    "gratia-probe-condor-ap",
    "gratia-probe-htcondor-ce",
    "gratia-probe-condor",
    "blahp",
    "lcmaps",
    "lcmaps-plugins-voms",
    "vo-client-lcmaps-voms",
    "gums-client",
    "python3-condor",
    "python3-psutil",
    "python3-dns",
]

if __name__ == "__main__":
    main()
