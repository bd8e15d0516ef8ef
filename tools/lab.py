# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The offline VM lab: Debian 12 VMs under qemu TCG for Molecule and the demo.

    lab.py build [debian] [el9]           build the images once (cached; default: both)
    lab.py prune                          remove cached images of older recipes
    lab.py up --run-dir DIR ap ce         boot VMs ap.lab.test and ce.lab.test
    lab.py up --run-dir DIR --platforms platforms.json
    lab.py ssh --run-dir DIR ap [command...]
    lab.py status --run-dir DIR           ports, pids and memory of the VMs
    lab.py down --run-dir DIR             stop everything, remove DIR
    lab.py packaged-state --sets condor_ap,htcondor_ce --output state.tar

The base image is built with debootstrap into a directory, made into an ext4
image with mkfs.ext4 -d (no loop devices, no mounts on the host), and cached
under the cache directory keyed by a hash of its recipe. Each VM boots from a
copy-on-write overlay of it; its identity (host name, lab address, hosts
table, SSH key) travels on the kernel command line and is applied at boot by a
small unit baked into the image. docs/lab.md explains the whole design.

Standard library only: Molecule, make demo and people all run it as it is.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "packaged_state"

# Command -> the Debian package that provides it.
REQUIRED_COMMANDS = {
    "build": {"debootstrap": "debootstrap", "mkfs.ext4": "e2fsprogs", "unshare": "util-linux"},
    "up": {
        "qemu-system-x86_64": "qemu-system-x86",
        "qemu-img": "qemu-utils",
        "vde_switch": "vde2",
        "ssh-keygen": "openssh-client",
        "ssh": "openssh-client",
    },
}

LAB_DOMAIN = "lab.test"
LAB_NETWORK = "192.0.2"  # TEST-NET-1 (RFC 5737): never routed anywhere
LAB_FIRST_HOST = 11
DEFAULT_MEMORY_MIB = 768
DEFAULT_CPUS = 1
OPERATING_SYSTEMS = ("debian", "el9")
# The host as VMs see it through qemu's user-mode networking (its loopback).
HOST_FROM_VMS = "10.0.2.2"
SSH_TIMEOUT_S = 420
TCG_TB_SIZE_MIB = 256

# ---------------------------------------------------------------------------
# The base image recipe. Everything the image is built from is here, and all
# of it goes into the recipe hash that names the cache entry.

# Files written into the image. The boot-time unit reads lab.* parameters from
# the kernel command line, so per-VM settings never touch the shared image.
LAB_SETUP = r"""#!/bin/sh
# Apply this VM's lab identity from the kernel command line (tools/lab.py
# passes lab.hostname, lab.address, lab.hosts and lab.ssh_key; for an EL 9
# host also lab.os=el9 and lab.mirror, the package mirror's URL).
set -eu
fqdn= address= hosts= key= os= mirror=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    lab.hostname=*) fqdn=${arg#lab.hostname=} ;;
    lab.address=*) address=${arg#lab.address=} ;;
    lab.hosts=*) hosts=${arg#lab.hosts=} ;;
    lab.ssh_key=*) key=${arg#lab.ssh_key=} ;;
    lab.os=*) os=${arg#lab.os=} ;;
    lab.mirror=*) mirror=${arg#lab.mirror=} ;;
  esac
done
[ -n "$fqdn" ] || exit 0
if [ "$os" = el9 ]; then
  # The EL 9 simulation (docs/lab.md): the release files of Rocky Linux 9.6,
  # which Ansible's facts read before Debian's; dnf's variable for the mirror
  # (the OS repositories of rocky-release name $labmirror); firewalld running.
  rm -f /etc/os-release
  printf '%s\n' 'NAME="Rocky Linux"' 'VERSION="9.6 (Blue Onyx)"' 'ID="rocky"' 'ID_LIKE="rhel centos fedora"' \
    'VERSION_ID="9.6"' 'PLATFORM_ID="platform:el9"' 'PRETTY_NAME="Rocky Linux 9.6 (Blue Onyx)"' \
    'VARIANT="osg_htc.site lab simulation (Debian userland)"' >/etc/os-release
  for name in redhat-release rocky-release system-release; do
    echo "Rocky Linux release 9.6 (Blue Onyx)" >/etc/$name
  done
  install -d /etc/dnf/vars /etc/yum.repos.d
  echo "$mirror" >/etc/dnf/vars/labmirror
  # dnf's settings as EL 9 ships them (Debian's differ: skip_if_unavailable,
  # best, and its "local" plugin's repository).
  printf '%s\n' '[main]' 'gpgcheck=1' 'installonly_limit=3' 'clean_requirements_on_remove=True' 'best=True' \
    'skip_if_unavailable=False' >/etc/dnf/dnf.conf
  sed -i 's/^enabled *=.*/enabled = 0/' /etc/dnf/plugins/local.conf
  systemctl --no-block start firewalld.service
fi
short=${fqdn%%.*}
echo "$short" >/etc/hostname
hostname "$short"
{
  echo "127.0.0.1 localhost"
  echo "::1 localhost ip6-localhost ip6-loopback"
  for entry in $(echo "$hosts" | tr ',' ' '); do
    name=${entry#*=}
    echo "${entry%%=*} $name ${name%%.*}"
  done
} >/etc/hosts
if [ -n "$address" ]; then
  printf '[Match]\nName=eth1\n\n[Network]\nAddress=%s\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
    "$address" >/etc/systemd/network/20-lab.network
fi
install -d -m 0700 /root/.ssh
echo "$key" | base64 -d >/root/.ssh/authorized_keys
chmod 0600 /root/.ssh/authorized_keys
# Each VM its own host key (the image carries none).
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
"""

LAB_SETUP_UNIT = """[Unit]
Description=Apply the lab identity from the kernel command line
DefaultDependencies=no
After=local-fs.target systemd-remount-fs.service
Before=sysinit.target network-pre.target systemd-networkd.service ssh.service shutdown.target
Wants=network-pre.target
Conflicts=shutdown.target
ConditionKernelCommandLine=lab.hostname

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/lab-setup

[Install]
WantedBy=sysinit.target
"""

IMAGE_FILES = {
    "usr/local/sbin/lab-setup": (LAB_SETUP, 0o755),
    "etc/systemd/system/lab-setup.service": (LAB_SETUP_UNIT, 0o644),
    # The management NIC only: DHCP must not take the lab NIC (eth1) too.
    "etc/systemd/network/10-mgmt.network": (
        "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n",
        0o644,
    ),
    # qemu user-mode networking's DNS forwarder.
    "etc/resolv.conf": ("nameserver 10.0.2.3\n", 0o644),
    "etc/fstab": ("/dev/vda / ext4 defaults,noatime 0 1\n", 0o644),
    "etc/ssh/sshd_config.d/lab.conf": (
        "# Lab VMs: one host key (made at first boot), root by key only, no DNS lookups.\n"
        "HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nUseDNS no\n",
        0o644,
    ),
    "etc/apt/apt.conf.d/90lab": ('APT::Install-Recommends "false";\n', 0o644),
}

# Runs in the chroot after the packages are in.
CUSTOMIZE = """set -eu
systemctl enable systemd-networkd.service lab-setup.service ssh.service
# Services that need per-scenario configuration start only when a scenario says so.
systemctl disable slurmctld.service slurmd.service munge.service dnsmasq.service
# Fast boot: nothing waits for the network or runs apt or timers behind the tests' back.
systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer systemd-binfmt.service
rm -f /etc/ssh/ssh_host_*
# Empty machine-id: each VM makes its own at first boot.
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id
apt-get clean
"""


def htcondor_pin(constraints: Path = REPO_ROOT / "constraints.txt") -> str:
    """The htcondor version constraints.txt pins (the one the tests use; requirements.txt gives the range)."""
    pins = [
        line.split("==", 1)[1].strip() for line in constraints.read_text().splitlines() if line.startswith("htcondor==")
    ]
    if len(pins) != 1:
        raise LabError(f"{constraints}: expected one htcondor==VERSION pin, found {len(pins)}")
    return pins[0]


@dataclasses.dataclass(frozen=True)
class Recipe:
    suite: str = "bookworm"
    mirror: str = "http://deb.debian.org/debian"
    # Installed by debootstrap itself: enough to boot, log in and run Ansible.
    base_packages: tuple[str, ...] = (
        "systemd",
        "systemd-sysv",
        "dbus",
        "openssh-server",
        "python3",
        "sudo",
        "iproute2",
        "iputils-ping",
        "ca-certificates",
        "procps",
    )
    # Installed with apt in the chroot: the kernel, and what later scenarios
    # need (installing Slurm inside a TCG VM takes minutes; baking it takes seconds).
    packages: tuple[str, ...] = (
        "linux-image-cloud-amd64",
        "slurm-wlm",
        "slurmctld",
        "slurmd",
        "slurm-client",
        "munge",
        "nftables",
        "dnsmasq",
        "python3-apt",
        "python3-pip",
        "python3-psutil",
        "python3-dnspython",
        "rsync",
        "openssh-client",
    )
    # The HTCondor Python bindings (htcondor2, classad2) from PyPI's wheel of this version, installed
    # with the image's pip: roles and verifiers use HTCondor's real parser in every VM.
    htcondor: str = dataclasses.field(default_factory=htcondor_pin)
    files: tuple[tuple[str, str, int], ...] = tuple((path, text, mode) for path, (text, mode) in IMAGE_FILES.items())
    customize: str = CUSTOMIZE
    image_size: str = "4G"

    def digest(self) -> str:
        """Hash of everything the image is built from: its cache key."""
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# The EL 9 simulation (platform os el9, docs/lab.md) boots an image of its own: the Debian
# image's recipe plus EL's package and firewall tools as Debian ships them. Debian hosts
# do without them (a smaller image boots faster) and keep nftables as their firewall.
EL9_TOOLS = ("rpm", "dnf", "python3-dnf", "dnf-plugins-core", "firewalld", "python3-firewall")
# firewalld is enabled by its package; lab-setup starts it once the host knows it is EL 9.
EL9_CUSTOMIZE = "systemctl disable firewalld.service\n"
RECIPES = {
    "debian": Recipe(),
    "el9": dataclasses.replace(
        Recipe(), packages=(*Recipe().packages, *EL9_TOOLS), customize=CUSTOMIZE + EL9_CUSTOMIZE
    ),
}


class LabError(Exception):
    """A failure the user can act on; printed without a traceback."""


def log(message: str) -> None:
    print(f"lab: {message}", file=sys.stderr, flush=True)


def require_commands(action: str, which=None) -> None:
    """Fail naming each missing command and the Debian package that has it."""
    which = which or shutil.which
    missing = [(cmd, pkg) for cmd, pkg in REQUIRED_COMMANDS[action].items() if which(cmd) is None]
    if missing:
        names = ", ".join(f"{cmd} (Debian package {pkg})" for cmd, pkg in missing)
        packages = " ".join(sorted({pkg for _cmd, pkg in missing}))
        raise LabError(
            f"missing command(s): {names}; install with: apt-get install {packages} (or run make system-deps)"
        )


def cache_root() -> Path:
    if os.environ.get("OSG_HTC_SITE_LAB_CACHE"):
        return Path(os.environ["OSG_HTC_SITE_LAB_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "osg-htc-site-lab"


@dataclasses.dataclass(frozen=True)
class Image:
    directory: Path

    @property
    def rootfs(self) -> Path:
        return self.directory / "rootfs.img"

    @property
    def kernel(self) -> Path:
        return self.directory / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.directory / "initrd.img"


def run(command: list[str], **kwargs) -> None:
    # Progress goes to stderr: stdout carries only results (up's JSON).
    kwargs.setdefault("stdout", sys.stderr)
    result = subprocess.run(command, check=False, **kwargs)
    if result.returncode != 0:
        raise LabError(f"{' '.join(command[:4])}... exited {result.returncode}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_builds(root: Path) -> None:
    """Remove temporary build directories of builds that were killed."""
    for stale in root.glob(".build-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and _pid_alive(int(pid))):
            log(f"removing the leftovers of an interrupted build: {stale}")
            shutil.rmtree(stale, ignore_errors=True)


def _in_chroot(rootfs: Path, script: str) -> None:
    # A private mount namespace: /proc and /sys vanish with the process, even
    # if the build is killed, so nothing stays mounted on the host.
    run(
        ["unshare", "--mount", "--propagation", "private", "chroot", str(rootfs), "/bin/sh", "-c",
         "mount -t proc proc /proc && mount -t sysfs sys /sys && " + script],
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8"},
    )  # fmt: skip


def build_image(recipe: Recipe = Recipe(), root: Path | None = None) -> Image:
    """Return the cached image for the recipe, building it first if needed."""
    root = root or cache_root()
    image = Image(root / recipe.digest())
    if image.rootfs.exists():
        return image
    require_commands("build")
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(root)
    work = root / f".build-{recipe.digest()}-{os.getpid()}"
    rootfs = work / "rootfs"
    start = time.monotonic()

    def step(text: str) -> None:
        log(f"[{time.monotonic() - start:5.0f} s] {text}")

    try:
        work.mkdir()
        step(f"debootstrap {recipe.suite} from {recipe.mirror} into {rootfs}")
        run(
            ["unshare", "--mount", "--propagation", "private", "debootstrap", "--variant=minbase",
             "--include=" + ",".join(recipe.base_packages), recipe.suite, str(rootfs), recipe.mirror],
        )  # fmt: skip
        step("installing the kernel and the packages of later scenarios")
        for path, text, mode in recipe.files:
            target = rootfs / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            target.write_text(text)
            target.chmod(mode)
        # While building, the chroot resolves names as this machine does.
        resolv_conf = rootfs / "etc" / "resolv.conf"
        lab_resolv_conf = resolv_conf.read_text()
        shutil.copy("/etc/resolv.conf", resolv_conf)
        policy = rootfs / "usr" / "sbin" / "policy-rc.d"
        policy.write_text("#!/bin/sh\n# No service starts while the image is built.\nexit 101\n")
        policy.chmod(0o755)
        _in_chroot(rootfs, f"apt-get -q update && apt-get -q -y install {' '.join(recipe.packages)}")
        step(f"installing the htcondor {recipe.htcondor} wheel")
        wheel = htcondor_wheel(recipe.htcondor, root)
        shutil.copy(wheel, rootfs / "tmp" / wheel.name)
        _in_chroot(
            rootfs,
            f"python3 -m pip install --quiet --break-system-packages --no-index --no-deps /tmp/{wheel.name}"
            f" && rm /tmp/{wheel.name}",
        )
        step("configuring the image")
        _in_chroot(rootfs, recipe.customize)
        policy.unlink()
        resolv_conf.write_text(lab_resolv_conf)
        step("extracting the kernel and initrd")
        boot = rootfs / "boot"
        kernels = sorted(boot.glob("vmlinuz-*"))
        initrds = sorted(boot.glob("initrd.img-*"))
        if not kernels or not initrds:
            raise LabError(f"no kernel or initrd in {boot}")
        shutil.copy(kernels[-1], work / "vmlinuz")
        shutil.copy(initrds[-1], work / "initrd.img")
        step(f"making the {recipe.image_size} ext4 image with mkfs.ext4 -d")
        run(["truncate", "-s", recipe.image_size, str(work / "rootfs.img")])
        run(["mkfs.ext4", "-q", "-F", "-L", "labroot", "-d", str(rootfs), str(work / "rootfs.img")])
        shutil.rmtree(rootfs)
        (work / "recipe.json").write_text(json.dumps(dataclasses.asdict(recipe), indent=1, sort_keys=True))
        try:
            work.rename(image.directory)  # atomic: the entry is whole or absent
        except OSError:
            if not image.rootfs.exists():
                raise
            # Another build finished first; its image is just as good.
        step(f"image ready: {image.directory}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return image


def prune(recipes=None, root: Path | None = None) -> list[Path]:
    """Remove cached images of other recipes; keep the current ones and the wheels."""
    recipes = RECIPES.values() if recipes is None else recipes
    root = root or cache_root()
    if not root.exists():
        return []
    _remove_stale_builds(root)
    keep = {recipe.digest() for recipe in recipes} | {"wheels"}
    removed = [entry for entry in sorted(root.iterdir()) if entry.name not in keep]
    removed = [entry for entry in removed if not entry.name.startswith(".build-")]  # a build in progress
    for entry in removed:
        shutil.rmtree(entry)
    return removed


# ---------------------------------------------------------------------------
# Platforms and command lines (pure: unit-tested)


@dataclasses.dataclass(frozen=True)
class Platform:
    name: str
    index: int
    memory: int = DEFAULT_MEMORY_MIB
    cpus: int = DEFAULT_CPUS
    # A user's own cloud image (qcow2 with cloud-init) instead of the lab image.
    image: str | None = None
    image_format: str = "qcow2"
    # What the lab image presents itself as: Debian 12, or the EL 9 simulation.
    os: str = "debian"

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{LAB_DOMAIN}"

    @property
    def address(self) -> str:
        return f"{LAB_NETWORK}.{LAB_FIRST_HOST + self.index}"

    @property
    def mgmt_mac(self) -> str:
        return f"52:54:00:00:00:{LAB_FIRST_HOST + self.index:02x}"

    @property
    def lab_mac(self) -> str:
        return f"52:54:00:c0:00:{LAB_FIRST_HOST + self.index:02x}"


def platforms_from(specs: list[dict]) -> list[Platform]:
    """Platforms from Molecule-style dicts ({name, memory, cpus, image})."""
    fields = {field.name for field in dataclasses.fields(Platform)} - {"index"}
    platforms = []
    for index, spec in enumerate(specs):
        name = spec.get("name", "")
        if not name.isalnum() or not name.islower():
            raise LabError(
                f"platform name {name!r}: use lower-case letters and digits (it becomes {name}.{LAB_DOMAIN})"
            )
        known = {key: value for key, value in spec.items() if key in fields}
        if known.get("os", "debian") not in OPERATING_SYSTEMS:
            raise LabError(f"platform {name}: os {known['os']!r} is not one of {', '.join(OPERATING_SYSTEMS)}")
        platforms.append(Platform(index=index, **known))
    return platforms


def hosts_table(platforms: list[Platform]) -> list[tuple[str, str]]:
    return [(platform.address, platform.fqdn) for platform in platforms]


def kernel_command_line(platform: Platform, platforms: list[Platform], public_key: str, mirror: str = "") -> str:
    hosts = ",".join(f"{address}={fqdn}" for address, fqdn in hosts_table(platforms))
    key = base64.b64encode(public_key.strip().encode()).decode()
    el = [f"lab.os={platform.os}", f"lab.mirror={mirror}"] if platform.os == "el9" else []
    return " ".join(
        [
            "root=/dev/vda rw console=ttyS0 quiet net.ifnames=0",
            # Throwaway VMs under emulation: speculative-execution mitigations
            # only slow them down.
            "mitigations=off",
            f"lab.hostname={platform.fqdn}",
            f"lab.address={platform.address}/24",
            f"lab.hosts={hosts}",
            f"lab.ssh_key={key}",
            *el,
        ]
    )


def qemu_command(platform: Platform, run_dir: Path, port: int, boot: list[str]) -> list[str]:
    """The qemu command line common to both platform kinds; boot adds the disks."""
    return [
        "qemu-system-x86_64",
        "-name", f"lab-{platform.name}",
        # TCG's translation cache defaults to 1 GiB and fills up over a run; a
        # quarter of that keeps the same speed and the qemu process lean.
        "-accel", f"tcg,tb-size={TCG_TB_SIZE_MIB}",
        "-cpu", "max",
        "-smp", str(platform.cpus),
        "-m", str(platform.memory),
        "-nodefaults",
        "-display", "none",
        "-no-reboot",
        "-serial", f"file:{run_dir / (platform.name + '.console.log')}",
        "-netdev", f"user,id=mgmt,hostfwd=tcp:127.0.0.1:{port}-:22",
        "-device", f"virtio-net-pci,netdev=mgmt,mac={platform.mgmt_mac}",
        "-netdev", f"vde,id=lab,sock={run_dir / 'vde'}",
        "-device", f"virtio-net-pci,netdev=lab,mac={platform.lab_mac}",
        "-device", "virtio-rng-pci",
        *boot,
    ]  # fmt: skip


def overlay_path(platform: Platform, run_dir: Path) -> Path:
    return run_dir / f"{platform.name}.qcow2"


def kernel_boot_args(
    platform: Platform, platforms: list[Platform], run_dir: Path, image: Image, public_key: str, mirror: str = ""
):
    return [
        "-kernel", str(image.kernel),
        "-initrd", str(image.initrd),
        "-append", kernel_command_line(platform, platforms, public_key, mirror),
        # cache=unsafe: the overlay is thrown away, so flushes buy nothing.
        "-drive", f"file={overlay_path(platform, run_dir)},if=virtio,format=qcow2,cache=unsafe",
    ]  # fmt: skip


def cloud_seed(platform: Platform, platforms: list[Platform], public_key: str) -> dict[str, str]:
    """NoCloud seed files: user-data, meta-data and network-config (JSON is YAML)."""
    hosts = "127.0.0.1 localhost\n" + "".join(
        f"{address} {fqdn} {fqdn.split('.')[0]}\n" for address, fqdn in hosts_table(platforms)
    )
    user_data = {
        "hostname": platform.name,
        "fqdn": platform.fqdn,
        "manage_etc_hosts": False,
        "disable_root": False,
        "ssh_pwauth": False,
        "ssh_authorized_keys": [public_key.strip()],
        "write_files": [{"path": "/etc/hosts", "content": hosts, "permissions": "0644"}],
    }
    network = {
        "version": 2,
        "ethernets": {
            "mgmt": {"match": {"macaddress": platform.mgmt_mac}, "set-name": "eth0", "dhcp4": True},
            "lab": {
                "match": {"macaddress": platform.lab_mac},
                "set-name": "eth1",
                "addresses": [f"{platform.address}/24"],
            },
        },
    }
    return {
        "user-data": "#cloud-config\n" + json.dumps(user_data, indent=1) + "\n",
        "meta-data": json.dumps({"instance-id": f"lab-{platform.name}", "local-hostname": platform.name}) + "\n",
        "network-config": json.dumps(network, indent=1) + "\n",
    }


def cloud_boot_args(platform: Platform, run_dir: Path) -> list[str]:
    seed = run_dir / f"{platform.name}-seed"
    return [
        "-drive", f"file={overlay_path(platform, run_dir)},if=virtio,format=qcow2,cache=unsafe",
        # qemu presents the seed directory as a FAT disk labelled CIDATA:
        # cloud-init's NoCloud source without an ISO tool on the host.
        "-drive", f"file=fat:{seed},file.label=CIDATA,if=virtio,format=raw,readonly=on",
        "-smbios", "type=1,serial=ds=nocloud",
    ]  # fmt: skip


def overlay_command(platform: Platform, run_dir: Path, image: Image) -> list[str]:
    if platform.image:
        backing, backing_format = str(Path(platform.image).resolve()), platform.image_format
    else:
        backing, backing_format = str(image.rootfs), "raw"
    return ["qemu-img", "create", "-q", "-f", "qcow2", "-b", backing, "-F", backing_format,
            str(overlay_path(platform, run_dir))]  # fmt: skip


# ---------------------------------------------------------------------------
# Run state: every process the lab starts has a pid file in the run directory
# from the moment it exists, so `down` can stop a lab that was half created.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def record_pid(run_dir: Path, name: str, pid: int) -> None:
    (run_dir / f"{name}.pid").write_text(f"{pid}\n")


def _ours(pid: int, run_dir: Path) -> bool:
    """Whether the pid is a live process of this run (pids get reused)."""
    for _attempt in range(20):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, IndexError):
            return False
        if state in ("Z", "X"):
            return False
        if cmdline:
            return str(run_dir).encode() in cmdline
        time.sleep(0.05)  # a process that has just exec'd shows no cmdline yet
    return False


def stop(pid: int, run_dir: Path, grace_s: float = 10.0) -> None:
    """Stop a recorded process and its process group; a dead pid is fine."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _ours(pid, run_dir):
            return
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and _ours(pid, run_dir):
            with contextlib.suppress(ChildProcessError):  # reap it if it is our child
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)


def down(run_dir: Path) -> None:
    run_dir = run_dir.resolve()
    if not run_dir.exists():
        log(f"nothing to tear down in {run_dir}")
        return
    pids = [int(text) for text in (f.read_text().strip() for f in run_dir.glob("*.pid")) if text.isdigit()]
    for pid in pids:
        stop(pid, run_dir)
    # A stopped process stays listed (as a zombie) until its parent or init
    # reaps it; give that a moment so `pgrep qemu` is empty once we return.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.1)
    shutil.rmtree(run_dir)
    log(f"lab in {run_dir} torn down")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} not written)"


def ssh_command(run_dir: Path, port: int, *command: str) -> list[str]:
    return [
        "ssh", "-i", str(run_dir / "id_ed25519"), "-p", str(port),
        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
        "root@127.0.0.1", *command,
    ]  # fmt: skip


def _ssh_banner(port: int) -> bool:
    # qemu accepts the forwarded connection at once; only sshd sends a banner.
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
            sock.settimeout(5)
            return sock.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def wait_for_ssh(run_dir: Path, vms: dict[str, dict], timeout_s: float = SSH_TIMEOUT_S) -> None:
    start = time.monotonic()
    waiting = dict(vms)
    last_report = 0.0
    while waiting:
        elapsed = time.monotonic() - start
        for name, vm in list(waiting.items()):
            if vm["process"].poll() is not None:
                raise LabError(
                    f"qemu for {name} exited; its log:\n{_tail(run_dir / (name + '.qemu.log'))}\n"
                    f"serial console:\n{_tail(run_dir / (name + '.console.log'))}"
                )
            if _ssh_banner(vm["port"]):
                check = subprocess.run(ssh_command(run_dir, vm["port"], "true"), check=False, capture_output=True)
                if check.returncode == 0:
                    vm["boot_to_ssh_s"] = round(time.monotonic() - start, 1)
                    log(f"{name}: ssh ready after {vm['boot_to_ssh_s']} s")
                    del waiting[name]
        if not waiting:
            break
        if elapsed > timeout_s:
            name = next(iter(waiting))
            raise LabError(
                f"no SSH on {', '.join(waiting)} after {timeout_s:.0f} s; end of {name}'s serial console:\n"
                f"{_tail(run_dir / (name + '.console.log'))}"
            )
        if elapsed - last_report >= 15:
            log(f"waiting for ssh on {', '.join(waiting)} ({elapsed:.0f} s)")
            last_report = elapsed
        time.sleep(2)


def start_vde(run_dir: Path) -> None:
    sock = run_dir / "vde"
    # vde_switch makes per-port sockets in this directory; a Unix socket path
    # holds at most 107 bytes.
    if len(str(sock)) > 80:
        raise LabError(f"run directory {run_dir} is too long for vde_switch's sockets; use a shorter --run-dir")
    with open(run_dir / "vde.log", "wb") as out:
        run(["vde_switch", "--sock", str(sock), "--daemon", "--pidfile", str(run_dir / "vde_switch.pid")],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out)  # fmt: skip
    deadline = time.monotonic() + 10
    while not (sock / "ctl").exists():
        if time.monotonic() > deadline:
            raise LabError(f"vde_switch made no socket in {sock}: {_tail(run_dir / 'vde.log')}")
        time.sleep(0.1)


def start_mirror(run_dir: Path) -> str:
    """Serve the lab's package mirror (tools/lab_mirror.py) to the VMs; its URL as they see it.

    An HTTP server on this machine's loopback, which the VMs reach through
    qemu's user-mode networking as 10.0.2.2. It serves a link in the run
    directory, so its command line names the run and down() stops it.
    """
    import lab_mirror  # here, not at the top: it imports this module

    link = run_dir / "mirror"
    link.symlink_to(lab_mirror.build_mirror())
    port = free_port()
    with open(run_dir / "mirror.log", "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(link), str(port)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    record_pid(run_dir, "mirror", process.pid)
    deadline = time.monotonic() + 15
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            break
        if process.poll() is not None or time.monotonic() > deadline:
            raise LabError(f"the mirror's HTTP server did not start: {_tail(run_dir / 'mirror.log')}")
        time.sleep(0.1)
    url = f"http://{HOST_FROM_VMS}:{port}"
    (run_dir / "mirror.url").write_text(url + "\n")
    log(f"package mirror {link.resolve()} served as {url}")
    return url


def up(run_dir: Path, platforms: list[Platform], timeout_s: float = SSH_TIMEOUT_S) -> list[dict]:
    """Boot the platforms; on any failure tear down what was started."""
    require_commands("up")
    run_dir = run_dir.resolve()
    if (run_dir / "instances.json").exists() or any(run_dir.glob("*.pid")):
        raise LabError(f"a lab is already up in {run_dir}; run: lab.py down --run-dir {run_dir}")
    # One image per operating system the platforms ask for (none for a platform with its own image).
    images = {name: build_image(RECIPES[name]) for name in sorted({p.os for p in platforms if not p.image})}
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if run_dir.stat().st_uid != os.getuid():
        raise LabError(f"{run_dir} belongs to another user; use another --run-dir")
    try:
        return _boot(run_dir, platforms, images, timeout_s)
    except BaseException:
        log("boot failed: tearing the lab down")
        down(run_dir)
        raise


def _boot(run_dir: Path, platforms: list[Platform], images: dict[str, Image], timeout_s: float) -> list[dict]:
    key = run_dir / "id_ed25519"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "osg-htc-site-lab", "-f", str(key)])
    public_key = key.with_suffix(".pub").read_text()
    start_vde(run_dir)
    mirror = start_mirror(run_dir) if any(platform.os == "el9" for platform in platforms) else ""
    vms: dict[str, dict] = {}
    for platform in platforms:
        image = images.get(platform.os)
        run(overlay_command(platform, run_dir, image))
        if platform.image:
            seed = run_dir / f"{platform.name}-seed"
            seed.mkdir()
            for name, text in cloud_seed(platform, platforms, public_key).items():
                (seed / name).write_text(text)
            boot = cloud_boot_args(platform, run_dir)
        else:
            boot = kernel_boot_args(platform, platforms, run_dir, image, public_key, mirror)
        port = free_port()
        with open(run_dir / f"{platform.name}.qemu.log", "wb") as out:
            process = subprocess.Popen(
                qemu_command(platform, run_dir, port, boot),
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
            )  # fmt: skip
        record_pid(run_dir, platform.name, process.pid)
        vms[platform.name] = {"process": process, "pid": process.pid, "port": port}
        log(f"{platform.name}: qemu pid {process.pid}, ssh on 127.0.0.1:{port}, lab address {platform.address}")
    wait_for_ssh(run_dir, vms, timeout_s)
    instances = [
        {
            "instance": platform.name,
            "address": "127.0.0.1",
            "port": vms[platform.name]["port"],
            "user": "root",
            "identity_file": str(key),
            "lab_address": platform.address,
            "fqdn": platform.fqdn,
            "os": platform.os,
            "mirror_url": mirror if platform.os == "el9" else "",
            "pid": vms[platform.name]["pid"],
            "boot_to_ssh_s": vms[platform.name]["boot_to_ssh_s"],
        }
        for platform in platforms
    ]
    (run_dir / "instances.json").write_text(json.dumps(instances, indent=1) + "\n")
    return instances


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def load_instances(run_dir: Path) -> list[dict]:
    path = run_dir.resolve() / "instances.json"
    if not path.exists():
        raise LabError(f"no lab is up in {run_dir} (no {path})")
    return json.loads(path.read_text())


# ---------------------------------------------------------------------------
# What goes into the image and the VMs


def htcondor_wheel(version: str, root: Path | None = None) -> Path:
    """The htcondor wheel of that version for Debian 12's Python 3.11, downloaded once into <cache>/wheels."""
    wheels = (root or cache_root()) / "wheels"
    pattern = f"htcondor-{version}-cp311-cp311-manylinux*.whl"
    found = sorted(wheels.glob(pattern))
    if not found:
        wheels.mkdir(parents=True, exist_ok=True)
        run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
             "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
             "--dest", str(wheels), f"htcondor=={version}"],
        )  # fmt: skip
        found = sorted(wheels.glob(pattern))
    if not found:
        raise LabError(f"pip left no {pattern} in {wheels}")
    return found[-1]


@dataclasses.dataclass(frozen=True)
class StateSet:
    """What one set of packages would have installed, as test doubles."""

    packages: str
    files: tuple[str, ...]
    # path -> (owner, mode) for the directories the packages create
    directories: tuple[tuple[str, str, int], ...] = ()
    requires: tuple[str, ...] = ()


PACKAGED_STATE = {
    "condor": StateSet(
        packages="condor (HTCondor)",
        files=("etc/condor/condor_config",),
        directories=(
            ("usr/share/condor", "root", 0o755),
            ("usr/share/condor/config.d", "root", 0o755),
            ("etc/condor/config.d", "root", 0o755),
            ("etc/condor/tokens.d", "root", 0o700),
            ("etc/condor/passwords.d", "root", 0o700),
            ("var/lib/condor", "condor", 0o755),
            ("var/lib/condor/spool", "condor", 0o755),
            ("var/lib/condor/execute", "condor", 0o755),
            ("var/log/condor", "condor", 0o755),
        ),
    ),
    "condor_ap": StateSet(
        packages="ospool-ap and gratia-probe-condor-ap",
        files=(
            "etc/condor/config.d/80-osg-flocking.conf",
            "etc/condor/config.d/81-osg-flock-version.conf",
            "etc/gratia/condor-ap/ProbeConfig",
            "usr/share/condor/config.d/50-gratia-gwms.conf",
        ),
        directories=(
            ("etc/gratia/condor-ap", "root", 0o755),
            ("var/lib/condor/gratia", "condor", 0o755),
            ("var/lib/condor/gratia/data", "condor", 0o755),
            ("var/lib/condor/gratia/tmp", "condor", 0o755),
            ("var/log/condor/gratia", "condor", 0o755),
        ),
        requires=("condor",),
    ),
    "htcondor_ce": StateSet(
        packages="htcondor-ce, gratia-probe-htcondor-ce and the BLAHP (in condor)",
        files=(
            "etc/condor-ce/condor_config",
            "etc/condor-ce/condor_mapfile",
            "etc/condor-ce/config.d/01-ce-router.conf",
            "usr/share/condor-ce/config.d/01-common-auth-defaults.conf",
            "usr/share/condor-ce/config.d/05-ce-auth-defaults.conf",
            "etc/gratia/htcondor-ce/ProbeConfig",
            "etc/blah.config",
        ),
        directories=(
            ("etc/condor-ce", "root", 0o755),
            ("etc/condor-ce/config.d", "root", 0o755),
            ("etc/condor-ce/mapfiles.d", "root", 0o755),
            ("usr/share/condor-ce", "root", 0o755),
            ("usr/share/condor-ce/config.d", "root", 0o755),
            ("usr/share/condor-ce/mapfiles.d", "root", 0o755),
            ("etc/condor-ce/tokens.d", "condor", 0o700),
            ("etc/condor-ce/passwords.d", "root", 0o700),
            ("etc/gratia/htcondor-ce", "root", 0o755),
            ("var/lib/condor-ce", "condor", 0o755),
            ("var/lib/condor-ce/spool", "condor", 0o755),
            ("var/lib/condor-ce/gratia", "condor", 0o755),
            ("var/lib/condor-ce/gratia/data", "condor", 0o755),
            ("var/lib/condor-ce/gratia/tmp", "condor", 0o755),
            ("var/log/condor-ce", "condor", 0o755),
            ("var/log/condor-ce/gratia", "condor", 0o755),
        ),
        requires=("condor",),
    ),
    "htcondor_ce_slurm": StateSet(
        packages="htcondor-ce-slurm",
        files=(
            "usr/share/condor-ce/config.d/02-ce-slurm-defaults.conf",
            "etc/condor-ce/config.d/02-ce-slurm.conf",
        ),
        directories=(),
        requires=("htcondor_ce",),
    ),
    "htcondor_ce_bosco": StateSet(
        packages="htcondor-ce-bosco",
        files=(
            "usr/share/condor-ce/config.d/02-ce-bosco-defaults.conf",
            "etc/condor-ce/config.d/02-ce-bosco.conf",
        ),
        directories=(("etc/condor-ce/bosco_override", "root", 0o755),),
        requires=("htcondor_ce",),
    ),
}


def resolve_sets(names: list[str]) -> list[str]:
    unknown = sorted(set(names) - set(PACKAGED_STATE))
    if unknown:
        raise LabError(f"unknown packaged-state set(s) {unknown}; valid: {sorted(PACKAGED_STATE)}")
    ordered: list[str] = []
    for name in names:
        for needed in (*PACKAGED_STATE[name].requires, name):
            if needed not in ordered:
                ordered.append(needed)
    return ordered


def packaged_state_tarball(names: list[str], output: Path, fixtures: Path = FIXTURES) -> list[str]:
    """A tarball of the chosen sets, rooted at /, with owners and modes as packaged."""

    def owned(info: tarfile.TarInfo, owner: str, mode: int) -> tarfile.TarInfo:
        info.uname = info.gname = owner
        # The names decide: tar extracting as root maps them to the host's ids (condor's are the host's choice).
        info.uid = info.gid = 0
        info.mode = mode
        info.mtime = 0
        return info

    members = []
    with tarfile.open(output, "w") as tarball:
        for name in resolve_sets(names):
            state = PACKAGED_STATE[name]
            for path, owner, mode in state.directories:
                info = tarfile.TarInfo(path)
                info.type = tarfile.DIRTYPE
                tarball.addfile(owned(info, owner, mode))
                members.append(path)
            for path in state.files:
                source = fixtures / path
                info = owned(tarball.gettarinfo(str(source), arcname=path), "root", 0o644)
                with source.open("rb") as handle:
                    tarball.addfile(info, handle)
                members.append(path)
    return members


# ---------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the lab images (cached)")
    build.add_argument("os", nargs="*", metavar="OS", help=f"from: {', '.join(OPERATING_SYSTEMS)} (default: all)")
    commands.add_parser("prune", help="remove cached images of other recipes")
    default_run_dir = Path(tempfile.gettempdir()) / f"osg-htc-site-lab-{os.getuid()}"
    for name in ("up", "down", "ssh", "status"):
        sub = commands.add_parser(name)
        sub.add_argument("--run-dir", type=Path, default=default_run_dir)
        if name == "up":
            sub.add_argument("names", nargs="*", help="VM names (each becomes NAME.lab.test)")
            sub.add_argument("--platforms", type=Path, help="JSON list of {name, memory, cpus, image}")
            sub.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MIB, help="MiB per VM")
            sub.add_argument("--timeout", type=float, default=SSH_TIMEOUT_S)
        if name == "ssh":
            sub.add_argument("name")
            sub.add_argument("remote", nargs=argparse.REMAINDER)
    state = commands.add_parser("packaged-state", help="tar the packaged-state test doubles of some sets")
    state.add_argument("--sets", required=True, help=f"comma-separated, from: {', '.join(PACKAGED_STATE)}")
    state.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            for name in args.os or OPERATING_SYSTEMS:
                if name not in RECIPES:
                    raise LabError(f"no image for os {name!r}; valid: {', '.join(OPERATING_SYSTEMS)}")
                print(build_image(RECIPES[name]).directory)
        elif args.command == "prune":
            for entry in prune():
                log(f"removed {entry}")
        elif args.command == "up":
            if args.platforms:
                specs = json.loads(args.platforms.read_text())
            else:
                specs = [{"name": name, "memory": args.memory} for name in args.names or ["ap"]]
            print(json.dumps(up(args.run_dir, platforms_from(specs), args.timeout), indent=1))
        elif args.command == "down":
            down(args.run_dir)
        elif args.command == "ssh":
            instance = next((i for i in load_instances(args.run_dir) if i["instance"] == args.name), None)
            if instance is None:
                raise LabError(f"no VM named {args.name!r} in {args.run_dir}")
            command = ssh_command(args.run_dir.resolve(), instance["port"], *args.remote)
            os.execvp(command[0], command)  # noqa: S606 (become ssh: the user's terminal, no shell)
        elif args.command == "status":
            for instance in load_instances(args.run_dir):
                rss = rss_mib(instance["pid"])
                state_text = f"RSS {rss:.0f} MiB" if rss is not None else "NOT RUNNING"
                print(f"{instance['fqdn']:20} {instance['lab_address']:12} ssh 127.0.0.1:{instance['port']} "
                      f"pid {instance['pid']} {state_text} boot-to-ssh {instance['boot_to_ssh_s']} s")  # fmt: skip
        elif args.command == "packaged-state":
            for member in packaged_state_tarball([name for name in args.sets.split(",") if name], args.output):
                log(f"packaged state: /{member}")
    except LabError as error:
        log(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
