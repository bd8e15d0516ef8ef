"""The access_point role with real OSG packages on EL 9 (online only; not part of make test)."""

from __future__ import annotations


def test_ospool_ap_installed(host):
    assert host.package("ospool-ap").is_installed
    assert host.package("gratia-probe-condor-ap").is_installed


def test_condor_running_and_listening(host):
    condor = host.service("condor")
    assert condor.is_enabled
    assert condor.is_running
    assert host.socket("tcp://0.0.0.0:9618").is_listening


def test_effective_configuration(host):
    def value(name):
        return host.check_output("condor_config_val %s", name)

    assert value("CONDOR_HOST") == "cm-1.ospool.osg-htc.org, cm-2.ospool.osg-htc.org"
    assert value("SEC_TOKEN_SYSTEM_DIRECTORY") == "/etc/condor/tokens.d"
    assert "OSGHTCRequireProjectName" in value("SUBMIT_REQUIREMENT_NAMES")


def test_token_and_firewall(host):
    token = host.file("/etc/condor/tokens.d/ospool.token")
    assert (token.user, token.group, token.mode) == ("root", "root", 0o600)
    assert "9618/tcp" in host.check_output("firewall-cmd --list-ports")


def test_gratia_probe_enabled(host):
    probe = host.file("/etc/gratia/condor-ap/ProbeConfig")
    assert probe.contains('EnableProbe="1"')
    assert probe.contains('SiteName="OSG_US_LAB_TEST_SUBMIT"')
