"""The lab under the site: systemd, names, the private segment, the bindings in the image, the test doubles.
Checked here, in the scenario that boots the whole lab, rather than in a scenario of its own (each costs
minutes of VM boot and prepare)."""

from __future__ import annotations

import pytest

# Platform order in molecule.yml gives the lab addresses (tools/lab.py).
LAB = {"ap": "192.0.2.11", "ce": "192.0.2.12", "cluster": "192.0.2.13", "htce": "192.0.2.14"}
ACCESS_POINTS = ("ap", "cluster")


def name_of(host) -> str:
    return host.backend.get_hostname()


def test_systemd_is_running(host):
    state = host.run("systemctl is-system-running").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout
    assert state in ("running", "degraded"), f"system state {state!r}; failed units:\n{failed}"
    if state == "degraded":
        print(f"{name_of(host)} is degraded; failed units:\n{failed}")


def test_lab_names_resolve(host):
    for peer, address in LAB.items():
        entry = host.run(f"getent hosts {peer}.lab.test").stdout.split()
        assert entry[:2] == [address, f"{peer}.lab.test"]


def test_host_knows_its_fqdn(host):
    assert host.run("hostname -f").stdout.strip() == f"{name_of(host)}.lab.test"


def test_reaches_peer_sshd_over_private_segment(host):
    for peer, address in LAB.items():
        if peer == name_of(host):
            continue
        route = host.run(f"ip -o route get {address}").stdout
        assert " dev eth1 " in route, route
        banner = host.run(f"timeout 10 bash -c 'exec 3<>/dev/tcp/{address}/22; head -c 4 <&3'")
        assert banner.stdout == "SSH-", f"{peer}: {banner.stderr}"


def test_htcondor_bindings_in_the_image_import(host):
    result = host.run("python3 -c \"import htcondor2, classad2; print(classad2.ExprTree('1 + 1').eval())\"")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "2"


@pytest.mark.parametrize(
    ("directory", "owner", "mode"),
    [
        ("/etc/condor/tokens.d", "root", 0o700),
        ("/etc/condor/passwords.d", "root", 0o700),
        ("/var/lib/condor/spool", "condor", 0o755),
    ],
)
def test_packaged_state_has_the_packaged_owners_and_modes(host, directory, owner, mode):
    """Every site host has the `condor` set (each role's sets require it), unpacked with its owners and modes."""
    # A system account with ids of the host's choosing, as condor.spec (v24.0.23) makes it.
    assert host.user("condor").uid < 1000
    assert host.user("condor").group == "condor"
    entry = host.file(directory)
    assert entry.is_directory
    assert (entry.user, entry.mode) == (owner, mode)


def test_packaged_state_only_where_asked(host):
    """The CE sets on the CEs, the Access Point's on the Access Points, nothing of the other."""
    ap = name_of(host) in ACCESS_POINTS
    assert host.file("/etc/condor-ce").exists is not ap
    assert host.file("/etc/gratia/condor-ap/ProbeConfig").exists is ap
    assert host.file("/etc/condor-ce/bosco_override").exists is (name_of(host) == "ce")
