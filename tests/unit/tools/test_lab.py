"""tools/lab.py: the pure parts of the VM lab (the VMs themselves run under make molecule)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import check_config_file

TOOL = Path(__file__).resolve().parents[3] / "tools" / "lab.py"
_spec = importlib.util.spec_from_file_location("lab", TOOL)
lab = importlib.util.module_from_spec(_spec)
sys.modules["lab"] = lab  # dataclasses look their module up by name
_spec.loader.exec_module(lab)

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample lab\n"


@pytest.fixture
def platforms():
    return lab.platforms_from([{"name": "ap"}, {"name": "ce", "memory": 1024, "cpus": 2}])


# Recipe hash ---------------------------------------------------------------


def test_recipe_hash_is_stable():
    assert lab.Recipe().digest() == lab.Recipe().digest()
    assert len(lab.Recipe().digest()) == 16


@pytest.mark.parametrize(
    "change",
    [
        {"suite": "trixie"},
        {"mirror": "http://mirror.example.org/debian"},
        {"base_packages": (*lab.Recipe().base_packages, "vim-tiny")},
        {"packages": lab.Recipe().packages[:-1]},
        {"htcondor": "0.0.1"},
        {"files": (*lab.Recipe().files, ("etc/issue", "lab\n", 0o644))},
        {"customize": lab.Recipe().customize + "true\n"},
        {"image_size": "8G"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_recipe_hash_changes_with_every_input(change):
    assert dataclasses.replace(lab.Recipe(), **change).digest() != lab.Recipe().digest()


def test_recipe_hash_covers_the_boot_time_script():
    files = tuple((path, text + "# changed\n" if path == "usr/local/sbin/lab-setup" else text, mode)
                  for path, text, mode in lab.Recipe().files)  # fmt: skip
    assert dataclasses.replace(lab.Recipe(), files=files).digest() != lab.Recipe().digest()


def test_cached_image_is_used_without_building(tmp_path, monkeypatch):
    recipe = lab.Recipe()
    entry = tmp_path / recipe.digest()
    entry.mkdir()
    (entry / "rootfs.img").write_bytes(b"")
    monkeypatch.setattr(lab, "require_commands", pytest.fail)  # building would need debootstrap
    assert lab.build_image(recipe, tmp_path).rootfs == entry / "rootfs.img"


def test_interrupted_builds_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".build-0123456789abcdef-{dead.pid}"
    stale.mkdir()
    running = tmp_path / f".build-0123456789abcdef-{lab.os.getpid()}"
    running.mkdir()
    lab._remove_stale_builds(tmp_path)
    assert not stale.exists()
    assert running.exists()


def test_cache_location_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("OSG_HTC_SITE_LAB_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert lab.cache_root() == tmp_path / "osg-htc-site-lab"
    monkeypatch.setenv("OSG_HTC_SITE_LAB_CACHE", str(tmp_path / "elsewhere"))
    assert lab.cache_root() == tmp_path / "elsewhere"


# Missing commands --------------------------------------------------------------


def test_missing_command_names_the_debian_package():
    with pytest.raises(lab.LabError) as error:
        lab.require_commands("up", which=lambda cmd: None if cmd in ("qemu-img", "vde_switch") else "/usr/bin/x")
    message = str(error.value)
    assert "qemu-img (Debian package qemu-utils)" in message
    assert "vde_switch (Debian package vde2)" in message
    assert "apt-get install qemu-utils vde2" in message
    assert "qemu-system-x86_64" not in message


@pytest.mark.parametrize(
    ("action", "command", "package"),
    [
        ("build", "debootstrap", "debootstrap"),
        ("build", "mkfs.ext4", "e2fsprogs"),
        ("up", "qemu-system-x86_64", "qemu-system-x86"),
    ],
)
def test_each_required_command_has_its_package(action, command, package):
    with pytest.raises(lab.LabError, match=rf"{command} \(Debian package {package}\)"):
        lab.require_commands(action, which=lambda cmd: None if cmd == command else "/usr/bin/x")


def test_present_commands_pass():
    lab.require_commands("up", which=lambda cmd: "/usr/bin/x")


def test_main_reports_a_lab_error_without_traceback(capsys, monkeypatch):
    monkeypatch.setattr(lab.shutil, "which", lambda cmd: None)
    assert lab.main(["up", "--run-dir", "/nonexistent/lab", "ap"]) == 1
    assert "qemu-system-x86_64 (Debian package qemu-system-x86)" in capsys.readouterr().err


# Platforms and qemu command lines ---------------------------------------------


def test_platforms_get_names_addresses_and_macs_by_order(platforms):
    ap, ce = platforms
    assert (ap.fqdn, ap.address, ap.memory, ap.cpus) == ("ap.lab.test", "192.0.2.11", lab.DEFAULT_MEMORY_MIB, 1)
    assert (ce.fqdn, ce.address, ce.memory, ce.cpus) == ("ce.lab.test", "192.0.2.12", 1024, 2)
    assert len({ap.lab_mac, ce.lab_mac, ap.mgmt_mac, ce.mgmt_mac}) == 4


@pytest.mark.parametrize("name", ["", "AP", "ap.example", "a p", "ap-1"])
def test_bad_platform_name_is_refused(name):
    with pytest.raises(lab.LabError, match="lower-case letters and digits"):
        lab.platforms_from([{"name": name}])


def test_kernel_command_line_carries_the_identity(platforms):
    line = lab.kernel_command_line(platforms[1], platforms, KEY)
    assert "root=/dev/vda rw console=ttyS0" in line
    assert "net.ifnames=0" in line
    params = dict(word.split("=", 1) for word in line.split() if word.startswith("lab."))
    assert params["lab.hostname"] == "ce.lab.test"
    assert params["lab.address"] == "192.0.2.12/24"
    assert params["lab.hosts"] == "192.0.2.11=ap.lab.test,192.0.2.12=ce.lab.test"
    assert lab.base64.b64decode(params["lab.ssh_key"]).decode() == KEY.strip()
    assert " " not in params["lab.ssh_key"]
    assert len(line) < 2048  # the x86 kernel's command line limit


def test_an_el9_platform_carries_its_os_and_the_mirror(platforms):
    el9, debian = lab.platforms_from([{"name": "ce", "os": "el9"}, {"name": "ap"}])
    assert (el9.os, debian.os) == ("el9", "debian")
    line = lab.kernel_command_line(el9, [el9, debian], KEY, "http://10.0.2.2:8000")
    params = dict(word.split("=", 1) for word in line.split() if word.startswith("lab."))
    assert (params["lab.os"], params["lab.mirror"]) == ("el9", "http://10.0.2.2:8000")
    # A Debian host knows nothing of the mirror.
    assert "lab.os" not in lab.kernel_command_line(debian, [el9, debian], KEY, "http://10.0.2.2:8000")


def test_an_unknown_os_is_refused():
    with pytest.raises(lab.LabError, match="os 'el8' is not one of debian, el9"):
        lab.platforms_from([{"name": "ce", "os": "el8"}])


def test_the_boot_script_presents_an_el9_host_as_rocky_9(tmp_path):
    """lab-setup, run on a copy of a root: the release files, dnf's settings and the mirror variable."""
    script = lab.LAB_SETUP.replace("/etc/", f"{tmp_path}/etc/").replace("/root/", f"{tmp_path}/root/")
    for directory in ("etc/dnf/plugins", "etc/systemd/network", "etc/ssh", "root"):
        (tmp_path / directory).mkdir(parents=True)
    (tmp_path / "etc/dnf/plugins/local.conf").write_text("[main]\nenabled = 1\n")
    (tmp_path / "etc/ssh/ssh_host_ed25519_key").write_text("")
    cmdline = tmp_path / "cmdline"
    (el9,) = lab.platforms_from([{"name": "ce", "os": "el9"}])
    cmdline.write_text(lab.kernel_command_line(el9, [el9], KEY, "http://10.0.2.2:8000"))
    script = script.replace("$(cat /proc/cmdline)", f"$(cat {cmdline})")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for command in ("hostname", "systemctl"):  # what would change this machine
        (bin_dir / command).write_text(f'#!/bin/sh\necho {command} "$@" >>{tmp_path}/calls\n')
        (bin_dir / command).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    run = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert 'ID="rocky"\n' in (tmp_path / "etc/os-release").read_text()
    assert 'VERSION_ID="9.6"\n' in (tmp_path / "etc/os-release").read_text()
    assert (tmp_path / "etc/redhat-release").read_text() == "Rocky Linux release 9.6 (Blue Onyx)\n"
    assert (tmp_path / "etc/dnf/vars/labmirror").read_text() == "http://10.0.2.2:8000\n"
    assert "skip_if_unavailable=False\n" in (tmp_path / "etc/dnf/dnf.conf").read_text()
    assert "enabled = 0" in (tmp_path / "etc/dnf/plugins/local.conf").read_text()
    assert (tmp_path / "etc/yum.repos.d").is_dir()
    assert "systemctl --no-block start firewalld.service" in (tmp_path / "calls").read_text()


def test_only_the_el9_image_has_the_el_tools_and_its_firewalld_waits_for_lab_setup():
    debian, el9 = lab.RECIPES["debian"], lab.RECIPES["el9"]
    assert set(lab.RECIPES) == set(lab.OPERATING_SYSTEMS)
    for package in ("rpm", "dnf", "python3-dnf", "dnf-plugins-core", "firewalld", "python3-firewall"):
        assert package in el9.packages
        assert package not in debian.packages
    assert set(debian.packages) < set(el9.packages)
    assert "firewalld" not in debian.customize
    assert el9.customize.startswith(debian.customize)
    assert "systemctl disable firewalld.service" in el9.customize
    assert debian.digest() != el9.digest()


def test_up_builds_one_image_per_os_the_platforms_ask_for(tmp_path, monkeypatch):
    built, booted = [], {}
    monkeypatch.setattr(lab, "require_commands", lambda action: None)
    monkeypatch.setattr(
        lab, "build_image", lambda recipe: built.append(recipe) or lab.Image(tmp_path / recipe.digest())
    )
    monkeypatch.setattr(lab, "_boot", lambda run_dir, platforms, images, timeout_s: booted.update(images) or [])
    specs = [{"name": "ap"}, {"name": "ce", "os": "el9"}, {"name": "cluster"}, {"name": "own", "image": "x.qcow2"}]
    lab.up(tmp_path / "run", lab.platforms_from(specs))
    assert built == [lab.RECIPES["debian"], lab.RECIPES["el9"]]
    assert booted == {name: lab.Image(tmp_path / lab.RECIPES[name].digest()) for name in ("debian", "el9")}
    built.clear()
    lab.up(tmp_path / "run2", lab.platforms_from([{"name": "ap"}]))
    assert built == [lab.RECIPES["debian"]]


def test_the_mirror_is_served_on_loopback_and_stopped_with_the_lab(tmp_path, monkeypatch):
    import lab_mirror

    served = tmp_path / "mirror-dir"
    served.mkdir()
    (served / "probe").write_text("served\n")
    monkeypatch.setattr(lab_mirror, "build_mirror", lambda: served)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    url = lab.start_mirror(run_dir)
    port = int(url.rsplit(":", 1)[1])
    assert url == f"http://10.0.2.2:{port}"
    assert (run_dir / "mirror.url").read_text() == url + "\n"
    import urllib.request

    assert urllib.request.urlopen(f"http://127.0.0.1:{port}/probe", timeout=5).read() == b"served\n"
    lab.down(run_dir)
    with pytest.raises(OSError):
        lab.socket.create_connection(("127.0.0.1", port), timeout=2)


def test_qemu_command_uses_tcg_and_both_networks(platforms, tmp_path):
    image = lab.Image(tmp_path / "image")
    ap = platforms[0]
    command = lab.qemu_command(ap, tmp_path, 2222, lab.kernel_boot_args(ap, platforms, tmp_path, image, KEY))
    text = " ".join(command)
    assert command[0] == "qemu-system-x86_64"
    assert command[command.index("-accel") + 1].split(",")[0] == "tcg"
    assert command[command.index("-cpu") + 1] == "max"
    assert command[command.index("-m") + 1] == str(lab.DEFAULT_MEMORY_MIB)
    assert "kvm" not in text
    assert "user,id=mgmt,hostfwd=tcp:127.0.0.1:2222-:22" in command
    assert f"vde,id=lab,sock={tmp_path / 'vde'}" in command
    assert f"virtio-net-pci,netdev=lab,mac={ap.lab_mac}" in command
    assert command[command.index("-kernel") + 1] == str(image.kernel)
    assert command[command.index("-initrd") + 1] == str(image.initrd)
    assert f"file:{tmp_path / 'ap.console.log'}" in command


def test_lab_overlay_is_backed_by_the_raw_image(platforms, tmp_path):
    image = lab.Image(tmp_path / "image")
    command = lab.overlay_command(platforms[0], tmp_path, image)
    assert command[:5] == ["qemu-img", "create", "-q", "-f", "qcow2"]
    assert command[command.index("-b") + 1] == str(image.rootfs)
    assert command[command.index("-F") + 1] == "raw"
    assert command[-1] == str(tmp_path / "ap.qcow2")


# A user's own cloud image ------------------------------------------------------


@pytest.fixture
def cloud_platforms(tmp_path):
    return lab.platforms_from([{"name": "ap", "image": str(tmp_path / "debian-12-generic.qcow2")}, {"name": "ce"}])


def test_cloud_overlay_is_backed_by_the_users_image(cloud_platforms, tmp_path):
    command = lab.overlay_command(cloud_platforms[0], tmp_path, None)
    assert command[command.index("-b") + 1] == str(tmp_path / "debian-12-generic.qcow2")
    assert command[command.index("-F") + 1] == "qcow2"


def test_cloud_boot_uses_a_nocloud_seed_not_a_kernel(cloud_platforms, tmp_path):
    ap = cloud_platforms[0]
    command = lab.qemu_command(ap, tmp_path, 2222, lab.cloud_boot_args(ap, tmp_path))
    assert "-kernel" not in command
    assert f"file=fat:{tmp_path / 'ap-seed'},file.label=CIDATA,if=virtio,format=raw,readonly=on" in command
    assert "type=1,serial=ds=nocloud" in command
    assert "-accel" in command
    assert "user,id=mgmt,hostfwd=tcp:127.0.0.1:2222-:22" in command


def test_cloud_seed_sets_key_hostname_hosts_and_lab_address(cloud_platforms):
    ap = cloud_platforms[0]
    seed = lab.cloud_seed(ap, cloud_platforms, KEY)
    assert seed["user-data"].startswith("#cloud-config\n")
    user_data = json.loads(seed["user-data"].split("\n", 1)[1])  # JSON is valid YAML
    assert user_data["ssh_authorized_keys"] == [KEY.strip()]
    assert user_data["disable_root"] is False
    assert (user_data["hostname"], user_data["fqdn"]) == ("ap", "ap.lab.test")
    (hosts,) = [entry["content"] for entry in user_data["write_files"] if entry["path"] == "/etc/hosts"]
    assert "192.0.2.11 ap.lab.test ap\n" in hosts
    assert "192.0.2.12 ce.lab.test ce\n" in hosts
    network = json.loads(seed["network-config"])
    assert network["ethernets"]["lab"] == {
        "match": {"macaddress": ap.lab_mac},
        "set-name": "eth1",
        "addresses": ["192.0.2.11/24"],
    }
    assert network["ethernets"]["mgmt"]["match"] == {"macaddress": ap.mgmt_mac}
    assert json.loads(seed["meta-data"]) == {"instance-id": "lab-ap", "local-hostname": "ap"}


# Teardown ----------------------------------------------------------------------


def test_down_with_a_recorded_but_dead_pid(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lab.record_pid(run_dir, "ap", dead.pid)
    (run_dir / "ap.qcow2").write_bytes(b"")
    lab.down(run_dir)
    assert not run_dir.exists()


def test_down_stops_a_live_process_of_the_run(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # Like qemu: its own session, the run directory on its command line.
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", str(run_dir / "ap.qcow2")], start_new_session=True
    )
    lab.record_pid(run_dir, "ap", process.pid)
    lab.down(run_dir)
    assert process.wait(timeout=10) != 0
    assert not run_dir.exists()


def test_down_never_kills_a_process_that_reused_a_pid(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    lab.record_pid(run_dir, "ap", lab.os.getpid())  # this test is not part of the run
    lab.down(run_dir)
    assert not run_dir.exists()


def test_down_of_no_lab_is_fine(tmp_path, capsys):
    lab.down(tmp_path / "never-created")
    assert "nothing to tear down" in capsys.readouterr().err


def test_up_refuses_a_run_dir_in_use(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "require_commands", lambda action: None)
    lab.record_pid(tmp_path, "vde_switch", 1)
    with pytest.raises(lab.LabError, match="already up"):
        lab.up(tmp_path, lab.platforms_from([{"name": "ap"}]))


# What goes into the image and the VMs --------------------------------------------


def test_the_pin_comes_from_constraints(tmp_path):
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("dnspython==2.7.0\nhtcondor==25.14.1\n")
    assert lab.htcondor_pin(constraints) == "25.14.1"


def test_the_image_recipe_carries_the_pinned_bindings():
    assert lab.Recipe().htcondor == lab.htcondor_pin()


def test_wheel_comes_from_the_cache(tmp_path):
    wheel = tmp_path / "wheels" / "htcondor-25.14.1-cp311-cp311-manylinux_2_28_x86_64.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"")
    assert lab.htcondor_wheel("25.14.1", tmp_path) == wheel


def test_wheel_needs_exactly_one_pin(tmp_path):
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("dnspython==2.7.0\n")
    with pytest.raises(lab.LabError, match="expected one htcondor==VERSION pin, found 0"):
        lab.htcondor_pin(constraints)


def test_the_repository_pins_the_wheel_it_ships_to_the_vms():
    """One exact version in constraints.txt, within the range requirements.txt states."""
    from packaging.requirements import Requirement

    pins = [
        line for line in (lab.REPO_ROOT / "constraints.txt").read_text().splitlines() if line.startswith("htcondor==")
    ]
    assert len(pins) == 1
    (supported,) = [
        Requirement(line)
        for line in (lab.REPO_ROOT / "requirements.txt").read_text().splitlines()
        if line.startswith("htcondor")
    ]
    assert pins[0].split("==")[1] in supported.specifier


def test_packaged_state_sets_bring_what_they_require(tmp_path):
    output = tmp_path / "state.tar"
    members = lab.packaged_state_tarball(["condor_ap"], output)
    assert "etc/condor/condor_config" in members  # from condor, which condor_ap requires
    assert "etc/gratia/condor-ap/ProbeConfig" in members
    assert "etc/blah.config" not in members
    with tarfile.open(output) as tarball:
        entries = {member.name: member for member in tarball.getmembers()}
    assert entries["etc/condor/tokens.d"].mode == 0o700
    assert entries["etc/condor/passwords.d"].mode == 0o700
    # By name: the condor ids are the host's (tar extracting as root maps names to them).
    assert (entries["var/lib/condor/gratia/data"].uname, entries["var/lib/condor/gratia/data"].gname) == (
        "condor",
        "condor",
    )
    assert (entries["etc/condor/condor_config"].uname, entries["etc/condor/condor_config"].mode) == ("root", 0o644)
    # Directories come before the files in them, so tar creates them with their modes.
    names = list(entries)
    assert names.index("etc/condor/config.d") < names.index("etc/condor/config.d/80-osg-flocking.conf")


def test_unknown_packaged_state_set_is_refused(tmp_path):
    with pytest.raises(lab.LabError, match=r"unknown packaged-state set\(s\) \['condor_cm'\]; valid: "):
        lab.packaged_state_tarball(["condor_cm"], tmp_path / "state.tar")


ALL_FIXTURES = sorted({path for state in lab.PACKAGED_STATE.values() for path in state.files})


@pytest.mark.parametrize("path", ALL_FIXTURES)
def test_every_fixture_file_says_it_is_a_test_double(path):
    head = (lab.FIXTURES / path).read_text()[:400]
    assert "TEST DOUBLE: stands for" in head


@pytest.mark.parametrize("path", [p for p in ALL_FIXTURES if p.endswith((".conf", "condor_config"))])
def test_condor_config_fixtures_parse_with_htcondor(path):
    result = check_config_file(str(lab.FIXTURES / path), ["LOCAL_CONFIG_DIR"], python=sys.executable)
    assert result.ok, result.error


def test_flocking_fixture_has_the_packaged_values():
    result = check_config_file(
        str(lab.FIXTURES / "etc/condor/config.d/80-osg-flocking.conf"),
        ["CONDOR_HOST", "SCHEDD_AUDIT_LOG", "FLOCK_TO"],
        python=sys.executable,
    )
    assert result.ok, result.error
    assert result.values["CONDOR_HOST"] == "cm-1.ospool.osg-htc.org,cm-2.ospool.osg-htc.org"
    assert result.values["FLOCK_TO"] is None


def test_prune_keeps_the_current_images_and_the_wheels(tmp_path):
    current = [tmp_path / recipe.digest() for recipe in lab.RECIPES.values()]
    for entry in (*current, tmp_path / "wheels", tmp_path / "0000000000000000"):
        entry.mkdir()
    assert lab.prune(root=tmp_path) == [tmp_path / "0000000000000000"]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([entry.name for entry in current] + ["wheels"])
