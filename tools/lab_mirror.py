# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The lab's package mirror: RPM test doubles of the OSG, HTCondor and EPEL packages, signed.

    lab_mirror.py build                   build the mirror once (cached); print its directory
    lab_mirror.py specs --output DIR      write the spec files only (to read them)

No OSG, HTCondor or EPEL repository is reachable offline, so the EL lab host
installs these instead. Each package stands for one upstream package: its
name, version, release, dependencies among the OSG/HTCondor packages and the
files the collection's roles touch are upstream's (PACKAGES below says from
which spec and tag); its files are the test doubles under tests/fixtures,
each labelled as such. Operating-system dependencies (systemd, python3, ...)
are left out: the lab host's Debian userland has them, but its rpm database
does not know them.

The packages are noarch, built with rpmbuild, signed with a lab GPG key made
for each build (its private half is thrown away with the build), and laid
out as upstream lays out its repositories, each with createrepo_c metadata:

    RPM-GPG-KEY-OSG-HTC-SITE-LAB                  the lab key (public)
    epel/epel-release-latest-9.noarch.rpm         as on dl.fedoraproject.org
    epel/9/Everything/x86_64/                     the EPEL packages
    osg/24-main/osg-24-main-el9-release-latest.rpm
    osg/24-main/el9/release/x86_64/               the OSG release repository
    el/9/BaseOS/x86_64/                           the OS packages the roles install
    el/9/CRB/x86_64/                              (empty: enabling it is what counts)

The cache entry is named by a hash of everything it is built from (the table,
the fixture files, this file), like the VM image's.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lab  # the lab tool beside this one (its directory is on sys.path): cache, logging, errors

FIXTURES = lab.REPO_ROOT / "tests" / "fixtures"
EL_MAJOR = "9"
OSG_SERIES = "24"
KEY_NAME = "RPM-GPG-KEY-OSG-HTC-SITE-LAB"
KEY_UID = "osg_htc.site lab mirror (TEST ONLY, never trust outside the lab) <lab-mirror@lab.test>"
REQUIRED_COMMANDS = {"rpmbuild": "rpm", "rpmsign": "rpm", "createrepo_c": "createrepo-c", "gpg": "gnupg"}

# Where each repository lives in the mirror.
REPOSITORIES = {
    "osg": f"osg/{OSG_SERIES}-main/el{EL_MAJOR}/release/x86_64",
    "epel": f"epel/{EL_MAJOR}/Everything/x86_64",
    "baseos": f"el/{EL_MAJOR}/BaseOS/x86_64",
    "crb": f"el/{EL_MAJOR}/CRB/x86_64",
}
# Release packages also sit where upstream publishes its "-latest" copies.
LATEST = {
    "epel-release": f"epel/epel-release-latest-{EL_MAJOR}.noarch.rpm",
    "osg-release": f"osg/{OSG_SERIES}-main/osg-{OSG_SERIES}-main-el{EL_MAJOR}-release-latest.rpm",
}


@dataclasses.dataclass(frozen=True)
class File:
    """One file of a package: where it goes, where its content comes from, how rpm treats it."""

    path: str  # absolute, on the installed host
    source: str = ""  # relative to tests/fixtures; empty: the text below
    text: str = ""
    mode: int = 0o644
    owner: str = "root"
    config: str = ""  # "", "config" or "noreplace"


@dataclasses.dataclass(frozen=True)
class Rpm:
    name: str
    version: str
    release: str
    stands_for: str  # the upstream spec, package and tag
    repo: str = "osg"
    requires: tuple[str, ...] = ()
    requires_post: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    obsoletes: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    files: tuple[File, ...] = ()
    directories: tuple[tuple[str, str, int], ...] = ()  # (path, owner, mode)
    pre: str = ""
    post: str = ""
    # What upstream's package has that the double leaves out.
    leaves_out: str = ""


# ---------------------------------------------------------------------------
# Files the doubles carry that are not HTCondor configuration (those are the
# packaged-state doubles, shared with the Debian lab hosts).

DAEMON = "daemons/condor_daemon_test_double"
COMMAND = "daemons/condor_command_test_double"
DOUBLE_NOTE = "# TEST DOUBLE of the osg_htc.site lab mirror: {what}.\n"

# condor.service of HTCondor v24.0.23 (src/condor_examples/condor.service): the
# same settings; ExecStart runs the daemon double installed as condor_master.
CONDOR_SERVICE = (
    DOUBLE_NOTE.format(what="condor.service of the condor RPM, its settings as upstream's")
    + """[Unit]
Description=Condor Distributed High-Throughput-Computing
After=network-online.target nslcd.service sssd.service time-sync.target remote-fs.target autofs.service
Wants=network-online.target

[Service]
EnvironmentFile=-/etc/sysconfig/condor
ExecStart=/usr/sbin/condor_master -f
Delegate=true
KillMode=mixed
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=1minute
WatchdogSec=20minutes
TimeoutStopSec=150seconds
NotifyAccess=main
KillSignal=SIGQUIT
LimitNOFILE=32768
TasksMax=4194303

[Install]
WantedBy=multi-user.target
"""
)
# condor-ce.service of HTCondor-CE v24.10.1 (config/condor-ce.service).
CONDOR_CE_SERVICE = (
    DOUBLE_NOTE.format(what="condor-ce.service of the htcondor-ce RPM, its settings as upstream's")
    + """[Unit]
Description=HTCondor CE
After=syslog.target network-online.target
Wants=network-online.target

[Service]
Type=forking
ExecStart=/usr/share/condor-ce/condor_ce_startup
ExecStop=/usr/bin/condor_ce_off
ExecReload=/usr/bin/condor_ce_restart
Restart=always
RestartSec=5
LimitNOFILE=16384

[Install]
WantedBy=multi-user.target
"""
)
# What condor_ce_startup does for the unit: start the CE's master, which forks.
CONDOR_CE_STARTUP = (
    """#!/bin/sh
"""
    + DOUBLE_NOTE.format(
        what="HTCondor-CE's condor_ce_startup (htcondor-ce-client): starts the daemon double on the CE's port, 9619"
    )
    + """exec /usr/sbin/condor_master --daemonize --port 9619 --log /var/log/condor-ce/MasterLog
"""
)
CONDOR_TMPFILES = DOUBLE_NOTE.format(what="tmpfiles.d/condor.conf of the condor RPM") + (
    "d /run/condor 0775 condor condor -\nd /var/lock/condor 0775 condor condor -\n"
)
CONDOR_CE_TMPFILES = DOUBLE_NOTE.format(what="tmpfiles.d/condor-ce.conf of the htcondor-ce RPM") + (
    "d /run/condor-ce 0755 condor condor - -\nd /var/lock/condor-ce 0755 condor condor - -\n"
    "d /var/lock/condor-ce/user 1777 condor condor - -\n"
)
PLACEHOLDER_KEY = DOUBLE_NOTE.format(
    what="the place of {name}, the public key the release package installs; the lab's packages are signed with the "
    "lab key instead, so the lab names that key in <role>_repo_mirror"
)

# The lab host's own OS repositories (what rocky-release's rocky.repo names
# BaseOS and CRB), on the lab mirror: $labmirror is a dnf variable that the lab
# image sets at boot (/etc/dnf/vars/labmirror), since the mirror's address
# changes from run to run. CRB is off, as Rocky ships it.
EL_REPO_FILE = DOUBLE_NOTE.format(what="rocky.repo of rocky-release, pointed at the lab mirror") + "".join(
    f"[{repo_id}]\nname=Rocky Linux $releasever - {title}\nbaseurl=$labmirror/el/$releasever/{title}/$basearch/\n"
    f"gpgcheck=1\nenabled={enabled}\ngpgkey=file:///etc/pki/rpm-gpg/{KEY_NAME}\n\n"
    for repo_id, title, enabled in (("baseos", "BaseOS", 1), ("crb", "CRB", 0))
)


def osg_repo_file(repo_id: str, series: str, repo: str, title: str, enabled: bool, key: str) -> File:
    """A repository file of osg-release 24-2 (osg-release/osg/template.repo.standard, Software-Redhat 24-main)."""
    name = f"OSG Software for Enterprise Linux {EL_MAJOR} {title} $basearch"
    base = f"https://repo.osg-htc.org/osg/{OSG_SERIES}-{series}/el{EL_MAJOR}/{repo}"
    text = DOUBLE_NOTE.format(what=f"/etc/yum.repos.d/{repo_id}.repo of osg-release") + (
        f"[{repo_id}]\nname={name}\n#baseurl={base}/$basearch\n"
        f"mirrorlist=https://repo.osg-htc.org/mirror/osg/{OSG_SERIES}-{series}/el{EL_MAJOR}/{repo}/$basearch\npriority=98\n"
        f"enabled={int(enabled)}\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/{key}\n\n"
        f"[{repo_id}-source]\nname={name} - Source\nbaseurl={base}/source/SRPMS\npriority=98\nenabled=0\n"
        f"gpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/{key}\n\n"
        f"[{repo_id}-debuginfo]\nname={name} - Debug\nbaseurl={base}/$basearch/debug\npriority=98\nenabled=0\n"
        f"gpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/{key}\n"
    )
    return File(f"/etc/yum.repos.d/{repo_id}.repo", text=text, config="noreplace")


def epel_repo_file(testing: bool) -> File:
    """epel.repo or epel-testing.repo of epel-release for EL 9 (the sections, metalink and key as shipped)."""
    suffix, label, enabled = ("-testing", " - Testing", 0) if testing else ("", "", 1)
    sections = []
    # (section suffix, name suffix, enabled, metalink repo suffix)
    for part, title, on, repo in (("", "", enabled, ""), ("-debuginfo", " - Debug", 0, "-debug"),
                                  ("-source", " - Source", 0, "-source")):  # fmt: skip
        sections.append(
            f"[epel{suffix}{part}]\nname=Extra Packages for Enterprise Linux $releasever{label} - $basearch{title}\n"
            f"metalink=https://mirrors.fedoraproject.org/metalink?repo=epel{suffix}{repo}-$releasever"
            "&arch=$basearch&infra=$infra&content=$contentdir\n"
            f"enabled={on}\ngpgcheck=1\ncountme=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-{EL_MAJOR}\n"
        )
    text = DOUBLE_NOTE.format(what=f"/etc/yum.repos.d/epel{suffix}.repo of epel-release") + "\n".join(sections)
    return File(f"/etc/yum.repos.d/epel{suffix}.repo", text=text, config="noreplace")


def state_files(*paths: str, config: str = "config", owner: str = "root") -> tuple[File, ...]:
    """Packaged-state doubles (tests/fixtures/packaged_state/<path>) installed at /<path>."""
    return tuple(File("/" + path, source=f"packaged_state/{path}", config=config, owner=owner) for path in paths)


def state_directories(name: str, *paths: str) -> tuple[tuple[str, str, int], ...]:
    """Directories of a packaged-state set (lab.py PACKAGED_STATE), with its owners and modes: all, or those named."""
    directories = lab.PACKAGED_STATE[name].directories
    chosen = [entry for entry in directories if not paths or entry[0] in paths]
    if len(chosen) != (len(paths) or len(directories)):
        raise lab.LabError(f"packaged-state set {name} lacks some of {paths}")
    return tuple(("/" + path, owner, mode) for path, owner, mode in chosen)


def placeholder(name: str, version: str, release: str, stands_for: str, repo: str = "osg", **fields) -> Rpm:
    """A package the roles never touch but upstream's dependency graph needs: no files."""
    return Rpm(name, version, release, stands_for, repo=repo, leaves_out="every file (nothing of it is used)", **fields)


HTCONDOR = ("24.0.23", "1")  # htcondor/htcondor v24.0.23, build/packaging/rpm/condor.spec
HTCONDOR_CE = ("24.10.1", "1")  # htcondor/htcondor-ce v24.10.1, rpm/htcondor-ce.spec
GRATIA = ("2.8.4", "2")  # opensciencegrid/gratia-probe v2.8.4-2, rpm/gratia-probe.spec
OSG_CE = ("23", "2")  # opensciencegrid/Software-Redhat 24-main, osg-ce/osg/osg-ce.spec (not yet bumped to 24)
CE_BATCHES = ("condor", "slurm", "pbs", "lsf", "sge", "bosco")
CONDOR_PRE = (
    "getent group condor >/dev/null || groupadd -r condor\n"
    "getent passwd condor >/dev/null || useradd -r -g condor -d /var/lib/condor -s /sbin/nologin"
    ' -c "Owner of HTCondor Daemons" condor\nexit 0\n'
)
CE_BATCH_FILES = {
    "slurm": state_files("usr/share/condor-ce/config.d/02-ce-slurm-defaults.conf", config="")
    + state_files("etc/condor-ce/config.d/02-ce-slurm.conf", config="noreplace"),
    "bosco": state_files("usr/share/condor-ce/config.d/02-ce-bosco-defaults.conf", config="")
    + state_files("etc/condor-ce/config.d/02-ce-bosco.conf", config="noreplace"),
}

PACKAGES: tuple[Rpm, ...] = (
    # --- HTCondor (condor.spec v24.0.23)
    Rpm(
        "condor",
        *HTCONDOR,
        "condor of htcondor/htcondor v24.0.23 (build/packaging/rpm/condor.spec)",
        requires=(f"python3-condor = {HTCONDOR[0]}-{HTCONDOR[1]}", "condor-upgrade-checks"),
        files=state_files("etc/condor/condor_config")
        + state_files("etc/blah.config")
        + (
            File("/usr/lib/systemd/system/condor.service", text=CONDOR_SERVICE),
            File("/usr/lib/tmpfiles.d/condor.conf", text=CONDOR_TMPFILES),
            File("/usr/sbin/condor_master", source=DAEMON, mode=0o755),
            File("/usr/sbin/condor_reconfig", source=COMMAND, mode=0o755),
            File("/usr/bin/bosco_cluster", source="bin/bosco_cluster_test_double", mode=0o755),
            File("/usr/bin/condor_remote_cluster", source="bin/bosco_cluster_test_double", mode=0o755),
        ),
        directories=(("/etc/condor", "root", 0o755), *state_directories("condor")),
        pre=CONDOR_PRE,
        leaves_out="the binaries and libraries, every other configuration file; OS dependencies; condor_config_val "
        "and the other tools (the roles use the Python bindings, which the lab image has from PyPI)",
    ),
    Rpm(
        "python3-condor",
        *HTCONDOR,
        "python3-condor of htcondor/htcondor v24.0.23",
        requires=(f"condor = {HTCONDOR[0]}-{HTCONDOR[1]}",),
        leaves_out="the bindings themselves: the lab image has the htcondor wheel of constraints.txt",
    ),
    placeholder("condor-upgrade-checks", *HTCONDOR, "condor-upgrade-checks of htcondor/htcondor v24.0.23"),
    # --- HTCondor-CE (htcondor-ce.spec v24.10.1)
    Rpm(
        "htcondor-ce",
        *HTCONDOR_CE,
        "htcondor-ce of htcondor/htcondor-ce v24.10.1 (rpm/htcondor-ce.spec)",
        requires=("condor >= 9.5.0", f"htcondor-ce-client = {HTCONDOR_CE[0]}-{HTCONDOR_CE[1]}"),
        provides=(f"htcondor-ce-master = {HTCONDOR_CE[0]}-{HTCONDOR_CE[1]}",),
        files=state_files("etc/condor-ce/config.d/01-ce-router.conf", config="noreplace")
        + state_files("usr/share/condor-ce/config.d/05-ce-auth-defaults.conf", config="")
        + (
            File("/usr/lib/systemd/system/condor-ce.service", text=CONDOR_CE_SERVICE),
            File("/usr/lib/tmpfiles.d/condor-ce.conf", text=CONDOR_CE_TMPFILES),
        ),
        directories=state_directories(
            "htcondor_ce", "var/lib/condor-ce", "var/lib/condor-ce/spool", "var/log/condor-ce"
        ),
        leaves_out="the other configuration files and commands; OS dependencies",
    ),
    Rpm(
        "htcondor-ce-client",
        *HTCONDOR_CE,
        "htcondor-ce-client of htcondor/htcondor-ce v24.10.1",
        requires=("condor", "python3-condor", "voms-clients-cpp"),
        files=state_files("etc/condor-ce/condor_config", "etc/condor-ce/condor_mapfile")
        + state_files("usr/share/condor-ce/config.d/01-common-auth-defaults.conf", config="")
        + (
            File("/usr/share/condor-ce/condor_ce_startup", text=CONDOR_CE_STARTUP, mode=0o755),
            File("/usr/bin/condor_ce_reconfig", source=COMMAND, mode=0o755),
            File("/usr/bin/condor_ce_restart", source=COMMAND, mode=0o755),
            File("/usr/bin/condor_ce_off", source=COMMAND, mode=0o755),
        ),
        directories=state_directories(
            "htcondor_ce",
            "etc/condor-ce",
            "etc/condor-ce/config.d",
            "etc/condor-ce/mapfiles.d",
            "etc/condor-ce/tokens.d",
            "etc/condor-ce/passwords.d",
            "usr/share/condor-ce",
            "usr/share/condor-ce/config.d",
            "usr/share/condor-ce/mapfiles.d",
        ),
        leaves_out="the other commands (condor_ce_config_val, condor_ce_status, ...) and configuration files",
    ),
    *(
        Rpm(
            f"htcondor-ce-{batch}",
            *HTCONDOR_CE,
            f"htcondor-ce-{batch} of htcondor/htcondor-ce v24.10.1",
            requires=(f"htcondor-ce = {HTCONDOR_CE[0]}-{HTCONDOR_CE[1]}",),
            files=CE_BATCH_FILES.get(batch, ()),
            # v24.10.1's %files bosco owns /etc/condor-ce/bosco_override.
            directories=state_directories("htcondor_ce_bosco") if batch == "bosco" else (),
            leaves_out="" if batch in CE_BATCH_FILES else "its configuration files (no double of them yet)",
        )
        for batch in CE_BATCHES
    ),
    # --- Gratia (gratia-probe.spec v2.8.4-2)
    Rpm(
        "gratia-probe-common",
        *GRATIA,
        "gratia-probe-common of opensciencegrid/gratia-probe v2.8.4-2",
        leaves_out="the probe library and the gratia user; OS dependencies (python3-pyOpenSSL, chkconfig)",
    ),
    Rpm(
        "gratia-probe-condor-ap",
        *GRATIA,
        "gratia-probe-condor-ap of opensciencegrid/gratia-probe v2.8.4-2",
        requires=(f"gratia-probe-common = {GRATIA[0]}-{GRATIA[1]}", "condor", "python3-condor"),
        conflicts=("gratia-probe-htcondor-ce",),
        files=state_files("etc/gratia/condor-ap/ProbeConfig", config="noreplace")
        + state_files("usr/share/condor/config.d/50-gratia-gwms.conf"),
        directories=state_directories("condor_ap"),
        leaves_out="the probe itself and its cron settings",
    ),
    Rpm(
        "gratia-probe-htcondor-ce",
        *GRATIA,
        "gratia-probe-htcondor-ce of opensciencegrid/gratia-probe v2.8.4-2",
        requires=(f"gratia-probe-common = {GRATIA[0]}-{GRATIA[1]}", "htcondor-ce"),
        files=state_files("etc/gratia/htcondor-ce/ProbeConfig", config="noreplace"),
        directories=state_directories(
            "htcondor_ce",
            "etc/gratia/htcondor-ce",
            "var/lib/condor-ce/gratia",
            "var/lib/condor-ce/gratia/data",
            "var/lib/condor-ce/gratia/tmp",
            "var/log/condor-ce/gratia",
        ),
        leaves_out="the probe itself, 50-gratia-condor.conf and 50-gratia-ce.conf",
    ),
    # --- ospool-ap (opensciencegrid/osg-flock 1.10-3, rpm/ospool-ap.spec)
    Rpm(
        "ospool-ap",
        "1.10",
        "3",
        "ospool-ap of opensciencegrid/osg-flock 1.10-3 (rpm/ospool-ap.spec)",
        requires=("condor",),
        # Upstream: gratia-probe-condor-ap >= 2.9.1, newer than the probe release the doubles reproduce.
        requires_post=("gratia-probe-condor-ap",),
        provides=("osg-flock = 1.10",),
        obsoletes=("osg-flock <= 1.10",),
        files=state_files("etc/condor/config.d/80-osg-flocking.conf", config="noreplace")
        + state_files("etc/condor/config.d/81-osg-flock-version.conf"),
        leaves_out="the version constraint of Requires(post) gratia-probe-condor-ap (>= 2.9.1)",
    ),
    # --- osg-ce (Software-Redhat 24-main, osg-ce/osg/osg-ce.spec)
    Rpm(
        "osg-ce",
        *OSG_CE,
        "osg-ce of opensciencegrid/Software-Redhat 24-main (osg-ce/osg/osg-ce.spec)",
        requires=(
            "htcondor-ce",
            "gratia-probe-htcondor-ce",
            "osg-configure",
            "osg-configure-ce",
            "osg-configure-cluster",
            "osg-configure-gratia",
            "osg-configure-squid",
            "osg-configure-infoservices",
            "osg-scitokens-mapfile",
            "vo-client",
            "grid-certificates >= 7",
            "osg-system-profiler",
            "frontier-squid",
            "fetch-crl",
        ),
        leaves_out="01-osg-ce.conf (no double of it yet)",
    ),
    *(
        Rpm(
            f"osg-ce-{batch}",
            *OSG_CE,
            f"osg-ce-{batch} of opensciencegrid/Software-Redhat 24-main",
            requires=(
                f"osg-ce = {OSG_CE[0]}-{OSG_CE[1]}",
                f"osg-configure-{batch}",
                "htcondor-ce",
                f"htcondor-ce-{batch}",
            )
            + (("hosted-ce-tools",) if batch == "bosco" else ()),
        )
        for batch in CE_BATCHES
    ),
    # --- osg-configure: the command, as its test double (tests/fixtures/UPSTREAM.yml)
    Rpm(
        "osg-configure",
        "4.3.0",
        "1",
        "osg-configure of opensciencegrid/osg-configure (OSG 24; the double reproduces v4.1.1's checks and writes)",
        files=(File("/usr/sbin/osg-configure", source="bin/osg_configure_test_double", mode=0o755),),
        directories=(
            ("/etc/osg", "root", 0o755),
            ("/etc/osg/config.d", "root", 0o755),
            ("/var/log/osg", "root", 0o755),
        ),
        leaves_out="the osg_configure Python package and the packaged INI files (10-gateway.ini ... 40-siteinfo.ini)",
    ),
    # --- What osg-ce needs that the roles never touch
    *(
        placeholder(name, "4.3.0", "1", f"{name} of opensciencegrid/osg-configure (OSG 24)")
        for name in (
            "osg-configure-ce",
            "osg-configure-cluster",
            "osg-configure-gratia",
            "osg-configure-squid",
            *(f"osg-configure-{batch}" for batch in CE_BATCHES),
        )
    ),
    placeholder(
        "osg-configure-infoservices",
        "4.3.0",
        "1",
        "osg-configure-infoservices of opensciencegrid/osg-configure",
        requires=("osg-ce-attributes-generator",),
    ),
    placeholder(
        "osg-ce-attributes-generator", "1", "1", "osg-ce-attributes-generator (OSG 24)", requires=("python3-condor",)
    ),
    placeholder("osg-scitokens-mapfile", "1", "1", "osg-scitokens-mapfile (OSG 24)"),
    placeholder("vo-client", "1", "1", "vo-client (OSG 24)"),
    placeholder("grid-certificates", "7", "1", "grid-certificates (igtf-ca-certs or osg-ca-certs, OSG 24)"),
    placeholder("osg-system-profiler", "1", "1", "osg-system-profiler (OSG 24)"),
    placeholder("frontier-squid", "1", "1", "frontier-squid (OSG 24)"),
    placeholder("hosted-ce-tools", "1", "1", "hosted-ce-tools (OSG 23; not in the 24-main tree)"),
    placeholder("voms-clients-cpp", "1", "1", "voms-clients-cpp (OSG build)"),
    placeholder("fetch-crl", "1", "1", "fetch-crl (EPEL)", repo="epel"),
    # --- The EL 9 operating system: what the lab host's rpm database must know, and what the roles install
    Rpm(
        "rocky-release",
        "9.6",
        "1.2.el9",
        "rocky-release of Rocky Linux 9.6",
        repo="baseos",
        provides=("redhat-release = 9.6", "system-release = 9.6", "system-release(releasever) = 9"),
        files=(File("/etc/yum.repos.d/rocky.repo", text=EL_REPO_FILE, config="noreplace"),),
        leaves_out="os-release and redhat-release (the lab image writes them), the real repositories and keys",
    ),
    # Scriptlets need /bin/sh, which bash provides on EL (the lab host's is Debian's).
    placeholder(
        "bash",
        "5.1.8",
        "9.el9",
        "bash of Rocky Linux 9 (the lab image has Debian's)",
        repo="baseos",
        provides=("/bin/sh",),
    ),
    placeholder(
        "python3-psutil",
        "5.8.0",
        "12.el9",
        "python3-psutil of Rocky Linux 9 (the lab image has Debian's)",
        repo="baseos",
    ),
    placeholder(
        "python3-dns",
        "2.1.0",
        "6.el9",
        "python3-dns of Rocky Linux 9 (the lab image has Debian's python3-dnspython)",
        repo="baseos",
    ),
    # --- Release packages
    Rpm(
        "osg-release",
        OSG_SERIES,
        "2",
        "osg-release of Software-Redhat 24-main (osg-release/osg/osg-release.spec)",
        requires=(f"redhat-release >= {EL_MAJOR}",),
        files=(
            osg_repo_file("osg", "main", "release", "-", True, f"RPM-GPG-KEY-OSG-{OSG_SERIES}-developer"),
            osg_repo_file(
                "osg-testing", "main", "testing", "- Testing -", False, f"RPM-GPG-KEY-OSG-{OSG_SERIES}-developer"
            ),
            osg_repo_file(
                "osg-development", "main", "development", "- Development -", False, f"RPM-GPG-KEY-OSG-{OSG_SERIES}-auto"
            ),
            osg_repo_file(
                "osg-upcoming", "upcoming", "release", "- Upcoming -", False, f"RPM-GPG-KEY-OSG-{OSG_SERIES}-developer"
            ),
            *(
                File(f"/etc/pki/rpm-gpg/{key}", text=PLACEHOLDER_KEY.format(name=key))
                for key in (f"RPM-GPG-KEY-OSG-{OSG_SERIES}-developer", f"RPM-GPG-KEY-OSG-{OSG_SERIES}-auto")
            ),
        ),
        leaves_out="osg-contrib, osg-empty, the upcoming testing and development and the internal repositories; "
        "the real keys",
    ),
    Rpm(
        "epel-release",
        EL_MAJOR,
        "8",
        "epel-release of EPEL 9 (its epel.repo and epel-testing.repo)",
        repo="epel",
        requires=(f"redhat-release >= {EL_MAJOR}",),
        files=(
            epel_repo_file(testing=False),
            epel_repo_file(testing=True),
            File(
                f"/etc/pki/rpm-gpg/RPM-GPG-KEY-EPEL-{EL_MAJOR}",
                text=PLACEHOLDER_KEY.format(name=f"RPM-GPG-KEY-EPEL-{EL_MAJOR}"),
            ),
        ),
        leaves_out="the real key; the dnf and systemd presets",
    ),
)


# ---------------------------------------------------------------------------
# Building


def spec_text(rpm: Rpm) -> str:
    """The spec file of one double: its payload comes from %{payload}, staged by stage()."""
    lines = [
        f"Name: {rpm.name}",
        f"Version: {rpm.version}",
        f"Release: {rpm.release}",
        f"Summary: TEST DOUBLE of {rpm.name} for the osg_htc.site lab",
        "License: Apache-2.0",
        "BuildArch: noarch",
        *(f"Requires: {item}" for item in rpm.requires),
        *(f"Requires(post): {item}" for item in rpm.requires_post),
        *(f"Provides: {item}" for item in rpm.provides),
        *(f"Obsoletes: {item}" for item in rpm.obsoletes),
        *(f"Conflicts: {item}" for item in rpm.conflicts),
        "",
        "%description",
        f"TEST DOUBLE: stands for {rpm.stands_for}.",
        "Built by tools/lab_mirror.py of the osg_htc.site collection for its offline VM lab; never install it",
        "anywhere else." + (f" Leaves out: {rpm.leaves_out}." if rpm.leaves_out else ""),
        "",
        "%install",
        "cp -a %{payload}/. %{buildroot}/",
        "",
    ]
    if rpm.pre:
        lines += ["%pre", rpm.pre.rstrip("\n"), ""]
    if rpm.post:
        lines += ["%post", rpm.post.rstrip("\n"), ""]
    lines.append("%files")
    for path, owner, mode in rpm.directories:
        lines.append(f"%dir %attr({mode:04o},{owner},{owner}) {path}")
    for file in rpm.files:
        flag = {"": "", "config": "%config ", "noreplace": "%config(noreplace) "}[file.config]
        lines.append(f"{flag}%attr({file.mode:04o},{file.owner},{file.owner}) {file.path}")
    return "\n".join(lines) + "\n"


def stage(rpm: Rpm, payload: Path, fixtures: Path = FIXTURES) -> None:
    """Lay down the package's files under payload/ (rpm sets owners and modes from the spec)."""
    payload.mkdir(parents=True)
    for path, _owner, _mode in rpm.directories:
        (payload / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
    for file in rpm.files:
        target = payload / file.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if file.source:
            shutil.copyfile(fixtures / file.source, target)
            # As EL's rpmbuild does (brp-mangle-shebangs): EL has no "python" command, only python3.
            text = target.read_bytes()
            if text.startswith(b"#!/usr/bin/env python\n"):
                target.write_bytes(b"#!/usr/bin/python3\n" + text.split(b"\n", 1)[1])
        else:
            target.write_text(file.text)


def recipe_digest(packages: tuple[Rpm, ...] = PACKAGES, fixtures: Path = FIXTURES) -> str:
    """Hash of everything the mirror is built from: its cache key."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for rpm in packages:
        digest.update(json.dumps(dataclasses.asdict(rpm), sort_keys=True).encode())
        for file in rpm.files:
            if file.source:
                digest.update((fixtures / file.source).read_bytes())
    return digest.hexdigest()[:16]


def _run(command: list[str], **kwargs) -> str:
    """Run a build tool; its output, or a LabError with the end of its error output."""
    result = subprocess.run(command, check=False, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise lab.LabError(f"{' '.join(command[:3])}... exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    return result.stdout


def _make_key(gnupg_home: Path) -> str:
    """A fresh signing key without passphrase in gnupg_home; returns its fingerprint."""
    gnupg_home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(gnupg_home)}
    _run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-generate-key", KEY_UID,
          "rsa3072", "sign", "never"], env=env)  # fmt: skip
    listing = _run(["gpg", "--batch", "--with-colons", "--list-secret-keys"], env=env)
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def _forget_key(gnupg_home: Path) -> None:
    """Stop the gpg-agent the key generation started, and remove the key."""
    with contextlib.suppress(lab.LabError):  # no agent running is fine
        _run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(gnupg_home)})
    shutil.rmtree(gnupg_home.parent, ignore_errors=True)


def build_mirror(root: Path | None = None, packages: tuple[Rpm, ...] = PACKAGES) -> Path:
    """Return the cached mirror directory, building it first if needed."""
    missing = [f"{cmd} (Debian package {pkg})" for cmd, pkg in REQUIRED_COMMANDS.items() if not shutil.which(cmd)]
    if missing:
        raise lab.LabError(f"missing command(s): {', '.join(missing)}; run make system-deps")
    root = (root or lab.cache_root()) / "mirror"
    mirror = root / recipe_digest(packages)
    if (mirror / KEY_NAME).exists():
        return mirror
    root.mkdir(parents=True, exist_ok=True)
    lab._remove_stale_builds(root)
    work = root / f".build-{mirror.name}-{os.getpid()}"
    start = time.monotonic()
    gnupg_home = None
    try:
        work.mkdir()
        out = work / "mirror"
        topdir = work / "rpmbuild"
        lab.log(f"building {len(packages)} RPM test doubles")
        for rpm in packages:
            payload = work / "payload" / rpm.name
            stage(rpm, payload)
            spec = topdir / "SPECS" / f"{rpm.name}.spec"
            spec.parent.mkdir(parents=True, exist_ok=True)
            spec.write_text(spec_text(rpm))
            _run(["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {topdir}", "--define", f"payload {payload}",
                  "--define", "__os_install_post %{nil}", "--define", "_build_id_links none",
                  "--define", "_binary_payload w9.gzdio", str(spec)])  # fmt: skip
            built = topdir / "RPMS" / "noarch" / f"{rpm.name}-{rpm.version}-{rpm.release}.noarch.rpm"
            target = out / REPOSITORIES[rpm.repo] / "Packages" / built.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(built, target)
        lab.log("signing them with a new lab key")
        # A short path of its own: gpg-agent's socket path must fit in 108 bytes.
        gnupg_home = Path(tempfile.mkdtemp(prefix="lab-mirror-gpg-")) / "home"
        fingerprint = _make_key(gnupg_home)
        rpms = sorted(str(path) for path in out.rglob("*.rpm"))
        env = {**os.environ, "GNUPGHOME": str(gnupg_home)}
        # rpm's own default is gpg2, which Debian does not ship under that name.
        _run(["rpmsign", "--addsign", "--define", f"_gpg_name {fingerprint}", "--define", f"_gpg_path {gnupg_home}",
              "--define", f"__gpg {shutil.which('gpg')}", *rpms], env=env)  # fmt: skip
        (out / KEY_NAME).write_text(_run(["gpg", "--batch", "--armor", "--export", fingerprint], env=env))
        _forget_key(gnupg_home)  # the private key never leaves the build
        gnupg_home = None
        for name, latest in LATEST.items():
            (built,) = (out / REPOSITORIES[next(r.repo for r in packages if r.name == name)] / "Packages").glob(
                f"{name}-*.rpm"
            )
            shutil.copy(built, out / latest)
        lab.log("writing the repository metadata")
        for repository in REPOSITORIES.values():
            (out / repository).mkdir(parents=True, exist_ok=True)
            _run(["createrepo_c", "--quiet", "--simple-md-filenames", str(out / repository)])
        (out / "packages.json").write_text(
            json.dumps({rpm.name: {"version": rpm.version, "release": rpm.release, "repo": rpm.repo,
                                   "stands_for": rpm.stands_for} for rpm in packages}, indent=1, sort_keys=True)
        )  # fmt: skip
        try:
            out.rename(mirror)  # atomic: the entry is whole or absent
        except OSError:
            if not (mirror / KEY_NAME).exists():
                raise
        lab.log(f"mirror ready in {time.monotonic() - start:.0f} s: {mirror}")
    finally:
        if gnupg_home:
            _forget_key(gnupg_home)
        shutil.rmtree(work, ignore_errors=True)
    return mirror


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="build the mirror (cached) and print its directory")
    specs = commands.add_parser("specs", help="write the spec files")
    specs.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(build_mirror())
        elif args.command == "specs":
            args.output.mkdir(parents=True, exist_ok=True)
            for rpm in PACKAGES:
                (args.output / f"{rpm.name}.spec").write_text(spec_text(rpm))
    except lab.LabError as error:
        lab.log(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
