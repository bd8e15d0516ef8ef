# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""tools/lab_mirror.py: the lab's signed mirror of RPM test doubles, checked with rpm and dnf themselves.

dnf installs from the mirror into a scratch root (--installroot) with gpgcheck on, as the EL lab host
does, so the dependency graph, the signatures and the files are tested without a VM. Scriptlets do not
run there (the scratch root has no shell); the lab host runs them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import lab_mirror  # tools/ is on pytest's pythonpath
import pytest

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures"

MANGLED = (b"#!/usr/bin/env python\n", b"#!/usr/bin/python3\n")
BY_NAME = {rpm.name: rpm for rpm in lab_mirror.PACKAGES}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    return lab_mirror.build_mirror(tmp_path_factory.mktemp("cache"))


def packages(mirror: Path) -> list[Path]:
    return sorted(path for path in mirror.rglob("Packages/*.rpm"))


def dnf(mirror: Path, root: Path, *args: str, repos=("baseos", "osg", "epel")) -> subprocess.CompletedProcess:
    """dnf on a scratch root with the mirror's repositories, gpgcheck on, the lab key given per repository."""
    key = f"file://{mirror / lab_mirror.KEY_NAME}"
    options = []
    for repo in repos:
        options += [
            f"--repofrompath={repo},file://{mirror / lab_mirror.REPOSITORIES[repo]}",
            f"--setopt={repo}.gpgkey={key}",
        ]
    return subprocess.run(
        ["dnf", "-y", f"--installroot={root}", "--releasever=9", "--setopt=reposdir=/dev/null",
         f"--setopt=cachedir={root}-cache", "--setopt=tsflags=noscripts", "--setopt=install_weak_deps=0",
         "--setopt=gpgcheck=1", *options, *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_every_package_is_signed_with_the_lab_key(mirror, tmp_path):
    rpms = packages(mirror) + [mirror / latest for latest in lab_mirror.LATEST.values()]
    assert len(rpms) == len(lab_mirror.PACKAGES) + len(lab_mirror.LATEST)
    unknown_key = subprocess.run(
        ["rpm", "--root", str(tmp_path), "-K", str(rpms[0])], capture_output=True, text=True, check=False
    )
    assert "SIGNATURES NOT OK" in unknown_key.stdout
    subprocess.run(["rpm", "--root", str(tmp_path), "--import", str(mirror / lab_mirror.KEY_NAME)], check=True)
    checked = subprocess.run(
        ["rpm", "--root", str(tmp_path), "-K", *map(str, rpms)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("digests signatures OK") == len(rpms), checked.stdout


def test_only_the_public_key_leaves_the_build(mirror):
    files = [path for path in mirror.rglob("*") if path.is_file()]
    assert not any("gnupg" in path.parts or path.suffix in (".key", ".gpg") for path in files)
    assert "PUBLIC KEY BLOCK" in (mirror / lab_mirror.KEY_NAME).read_text()
    assert not any(b"PRIVATE KEY" in path.read_bytes() for path in files)


def test_each_package_says_it_is_a_test_double_and_what_it_stands_for(mirror):
    for rpm_file in packages(mirror):
        info = subprocess.run(["rpm", "-qp", "--qf", "%{NAME}\n%{DESCRIPTION}", str(rpm_file)], capture_output=True,
                              text=True, check=True).stdout  # fmt: skip
        name = info.split("\n", 1)[0]
        assert f"TEST DOUBLE: stands for {BY_NAME[name].stands_for}." in info, info


def test_the_osg_ce_installs_from_the_mirror_with_its_upstream_dependencies(mirror, tmp_path):
    run = dnf(mirror, tmp_path / "root", "install", "rocky-release", "osg-ce-slurm")
    assert run.returncode == 0, run.stdout + run.stderr
    installed = subprocess.run(["rpm", "--root", str(tmp_path / "root"), "-qa", "--qf", "%{NAME}\n"],
                               capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    # osg-ce-slurm -> osg-ce, htcondor-ce-slurm -> htcondor-ce -> condor <-> python3-condor, the probe, ...
    for name in ("osg-ce", "htcondor-ce", "htcondor-ce-client", "htcondor-ce-slurm", "condor", "python3-condor",
                 "gratia-probe-htcondor-ce", "gratia-probe-common", "osg-configure-slurm", "fetch-crl"):  # fmt: skip
        assert name in installed, installed
    assert "ospool-ap" not in installed
    root = tmp_path / "root"
    for rpm_name in ("htcondor-ce", "htcondor-ce-client", "htcondor-ce-slurm", "condor", "gratia-probe-htcondor-ce"):
        for file in BY_NAME[rpm_name].files:
            if file.source:
                # The doubles as they are; python scripts with their shebang as EL's rpmbuild mangles it.
                expected = (FIXTURES / file.source).read_bytes().replace(MANGLED[0], MANGLED[1], 1)
                assert (root / file.path.lstrip("/")).read_bytes() == expected, file.path
    assert (root / "usr/sbin/condor_master").read_bytes().startswith(MANGLED[1] + b"# TEST DOUBLE")
    assert (
        "ExecStart=/usr/share/condor-ce/condor_ce_startup"
        in (root / "usr/lib/systemd/system/condor-ce.service").read_text()
    )


def test_the_access_point_probe_and_the_ce_probe_conflict_as_upstream(mirror, tmp_path):
    run = dnf(mirror, tmp_path / "root", "install", "rocky-release", "ospool-ap")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "root/etc/gratia/condor-ap/ProbeConfig").exists()  # Requires(post) gratia-probe-condor-ap
    run = dnf(mirror, tmp_path / "root", "install", "gratia-probe-htcondor-ce")
    assert run.returncode != 0
    assert "conflicts" in (run.stdout + run.stderr).lower()


def test_an_unsigned_package_is_refused(mirror, tmp_path):
    unsigned = tmp_path / "unsigned"
    shutil.copytree(mirror, unsigned)
    condor = next((unsigned / lab_mirror.REPOSITORIES["osg"] / "Packages").glob("condor-2*.rpm"))
    subprocess.run(["rpmsign", "--delsign", str(condor)], check=True, capture_output=True)
    subprocess.run(["createrepo_c", "--quiet", "--simple-md-filenames", str(condor.parent.parent)], check=True)
    run = dnf(unsigned, tmp_path / "root", "install", "rocky-release", "condor")
    assert run.returncode != 0
    assert "not signed" in (run.stdout + run.stderr).lower(), run.stdout + run.stderr


def test_the_release_packages_are_where_upstream_publishes_them(mirror, tmp_path):
    run = dnf(mirror, tmp_path / "root", "install", "rocky-release", "epel-release", "osg-release")
    assert run.returncode == 0, run.stdout + run.stderr
    repos = tmp_path / "root" / "etc/yum.repos.d"
    osg = (repos / "osg.repo").read_text()
    # As osg-release 24-2 writes it: a mirrorlist (the baseurl commented out), priority 98, the developer key.
    assert "mirrorlist=https://repo.osg-htc.org/mirror/osg/24-main/el9/release/$basearch\n" in osg
    assert "#baseurl=https://repo.osg-htc.org/osg/24-main/el9/release/$basearch\n" in osg
    assert "priority=98\nenabled=1\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-OSG-24-developer\n" in osg
    assert "enabled=0" in (repos / "osg-testing.repo").read_text()
    epel = (repos / "epel.repo").read_text()
    assert "metalink=https://mirrors.fedoraproject.org/metalink?repo=epel-$releasever&arch=$basearch" in epel
    for name, latest in lab_mirror.LATEST.items():
        query = subprocess.run(
            ["rpm", "-qp", "--qf", "%{NAME}", str(mirror / latest)], capture_output=True, text=True, check=True
        )
        assert query.stdout == name


def test_the_cache_key_follows_the_fixtures(tmp_path):
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy)
    assert lab_mirror.recipe_digest(fixtures=copy) == lab_mirror.recipe_digest()
    probe_config = copy / "packaged_state/etc/gratia/condor-ap/ProbeConfig"
    probe_config.write_text(probe_config.read_text() + "\n")
    assert lab_mirror.recipe_digest(fixtures=copy) != lab_mirror.recipe_digest()


def test_every_fixture_a_package_names_exists():
    for rpm in lab_mirror.PACKAGES:
        for file in rpm.files:
            assert not file.source or (FIXTURES / file.source).is_file(), (rpm.name, file.source)


# ---------------------------------------------------------------------------
# The daemon and command doubles the packages install


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(tmp_path: Path, name: str, port: int) -> subprocess.CompletedProcess:
    link = tmp_path / name
    if not link.exists():
        link.symlink_to(FIXTURES / lab_mirror.COMMAND)
    env = {**os.environ, "CONDOR_TEST_DOUBLE_PORT": str(port)}
    return subprocess.run([sys.executable, str(link)], capture_output=True, text=True, env=env, check=False)


def test_the_daemon_double_answers_the_command_doubles_and_stops_on_off(tmp_path):
    port, log = free_port(), tmp_path / "MasterLog"
    # As condor-ce.service starts it: the parent returns once the port is open.
    daemon = [sys.executable, str(FIXTURES / lab_mirror.DAEMON)]
    started = subprocess.run([*daemon, "--daemonize", "--port", str(port), "--log", str(log)], timeout=30, check=False)
    assert started.returncode == 0
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"PING\n")
        assert connection.recv(64) == b"OK ping\n"
    reconfig = command(tmp_path, "condor_ce_reconfig", port)
    assert (reconfig.returncode, "OK reconfig 1" in reconfig.stdout) == (0, True), reconfig.stderr
    restart = command(tmp_path, "condor_ce_restart", port)
    assert (restart.returncode, "OK restart 1" in restart.stdout) == (0, True), restart.stderr
    off = command(tmp_path, "condor_ce_off", port)
    assert off.returncode == 0, off.stderr
    for _attempt in range(50):
        if "stopped" in log.read_text():
            break
        time.sleep(0.1)
    assert log.read_text().splitlines()[-1].endswith("TEST DOUBLE stopped")
    nobody = command(tmp_path, "condor_ce_reconfig", port)
    assert nobody.returncode == 1
    assert "can't connect to the local master" in nobody.stderr


def test_the_foreground_daemon_counts_a_sighup_as_a_reconfig(tmp_path):
    port, log = free_port(), tmp_path / "MasterLog"
    daemon = subprocess.Popen(
        [sys.executable, str(FIXTURES / lab_mirror.DAEMON), "-f", "--port", str(port), "--log", str(log)]
    )
    try:
        for _attempt in range(100):
            if log.exists() and "listening" in log.read_text():
                break
            time.sleep(0.1)
        daemon.send_signal(signal.SIGHUP)  # condor.service's ExecReload
        answer = command(tmp_path, "condor_reconfig", port)
        assert "OK reconfig 2" in answer.stdout, answer.stdout + answer.stderr
    finally:
        daemon.send_signal(signal.SIGQUIT)  # condor.service's KillSignal
        assert daemon.wait(timeout=10) == 0
    assert command(tmp_path, "condor_unknown", port).returncode == 2


def test_the_packages_lay_down_the_packaged_state_of_the_debian_lab_hosts():
    """Every file and directory of tools/lab.py's PACKAGED_STATE, with its owner and mode, is in some package."""
    import lab

    files = {file.path.lstrip("/"): ("root", 0o644) for rpm in lab_mirror.PACKAGES for file in rpm.files if file.source}
    directories = {
        path.lstrip("/"): (owner, mode) for rpm in lab_mirror.PACKAGES for path, owner, mode in rpm.directories
    }
    for name, state in lab.PACKAGED_STATE.items():
        for path in state.files:
            assert files.get(path) == ("root", 0o644), (name, path)
        for path, owner, mode in state.directories:
            assert directories.get(path) == (owner, mode), (name, path)
