"""The lab itself works: systemd, names, the private segment, the bindings, the test doubles."""

from __future__ import annotations

import pytest

# Platform order in molecule.yml gives the lab addresses (tools/lab.py).
LAB = {"ap": "192.0.2.11", "ce": "192.0.2.12"}


def name_of(host) -> str:
    return host.backend.get_hostname()


def test_systemd_is_running(host):
    state = host.run("systemctl is-system-running").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout
    assert state in ("running", "degraded"), f"system state {state!r}; failed units:\n{failed}"
    if state == "degraded":
        print(f"{name_of(host)} is degraded; failed units:\n{failed}")


@pytest.mark.parametrize("peer", sorted(LAB))
def test_lab_names_resolve(host, peer):
    entry = host.run(f"getent hosts {peer}.lab.test").stdout.split()
    assert entry[:2] == [LAB[peer], f"{peer}.lab.test"]


def test_host_knows_its_fqdn(host):
    assert host.run("hostname -f").stdout.strip() == f"{name_of(host)}.lab.test"


@pytest.mark.parametrize("peer", sorted(LAB))
def test_reaches_peer_sshd_over_private_segment(host, peer):
    if peer == name_of(host):
        pytest.skip("a VM does not need to reach itself")
    route = host.run(f"ip -o route get {LAB[peer]}").stdout
    assert " dev eth1 " in route, route
    banner = host.run(f"timeout 10 bash -c 'exec 3<>/dev/tcp/{LAB[peer]}/22; head -c 4 <&3'")
    assert banner.stdout == "SSH-", banner.stderr


def test_htcondor_bindings_import(host):
    result = host.run("python3 -c \"import htcondor2, classad2; print(classad2.ExprTree('1 + 1').eval())\"")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "2"


def test_motd_converged(host):
    assert host.file("/etc/motd").content_string.startswith(f"{name_of(host)}.lab.test: ")


def test_packaged_state_only_where_asked(host):
    if name_of(host) != "ap":
        assert not host.file("/etc/condor").exists
        return
    assert host.user("condor").uid == 4716
    assert host.group("condor").gid == 4716
    for directory in ("/etc/condor/tokens.d", "/etc/condor/passwords.d"):
        assert host.file(directory).is_directory
        assert host.file(directory).mode == 0o700
    assert host.file("/var/lib/condor/gratia/data").user == "condor"
    assert 'EnableProbe="0"' in host.file("/etc/gratia/condor-ap/ProbeConfig").content_string


def test_packaged_config_parses_with_htcondor(host):
    if name_of(host) != "ap":
        pytest.skip("the packaged-state test doubles are on ap only")
    names = ("CONDOR_HOST", "FLOCK_TO", "OSG_FLOCK_VERSION")
    script = f"import htcondor2; print(chr(10).join(htcondor2.param[n] for n in {names!r}))"
    result = host.run(f'python3 -c "{script}"')
    assert result.rc == 0, result.stderr
    assert result.stdout.splitlines() == [
        "cm-1.ospool.osg-htc.org,cm-2.ospool.osg-htc.org",
        "cm-1.ospool.osg-htc.org, cm-2.ospool.osg-htc.org",
        '"1.10"',
    ]
