"""tools/bench_modules.py: every benchmark does the work it claims to time (times themselves are not checked)."""

from __future__ import annotations

import json
import shutil
import stat

import bench_modules
import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import parse_managed_file
from ansible_collections.osg_htc.site.plugins.module_utils._probe_config import read_attributes
from ansible_collections.osg_htc.site.tests.unit.idtokens import make_token

pytest.importorskip("htcondor2")


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """One run of every benchmark, its files kept under ``workdir`` to inspect."""
    workdir = tmp_path_factory.mktemp("bench")
    return bench_modules.run(repeat=1, workdir=workdir), workdir


def test_result_has_every_figure_and_the_environment(bench):
    result, _workdir = bench
    assert result["repeat"] == 1
    assert set(result["environment"]) >= {"python", "ansible_core", "htcondor", "cpu_model", "cpu_count"}
    assert set(result["benchmarks"]) == set(bench_modules.BENCHMARKS)
    for figures in result["benchmarks"].values():
        assert len(figures["times_s"]) == 1 and figures["median_s"] == figures["min_s"] == figures["times_s"][0]
        assert (figures["per_item_s"] is None) == (figures["item"] is None)
    assert result["benchmarks"]["ce_job_route_write"]["n"] == 1000
    assert result["benchmarks"]["ce_route_match"]["n"] == 10


def test_ce_job_route_wrote_the_1000_routes_in_order(bench):
    _result, workdir = bench
    text = (workdir / "ce_job_route" / "0" / "config.d" / bench_modules.ROUTES_FILE).read_text()
    assert [route["name"] for route in parse_managed_file(text)] == [f"Route_{i}" for i in range(1000)]
    assert "JOB_ROUTER_ROUTE_NAMES = Route_0 Route_1 " in text


def test_condor_token_installed_the_token_private(bench):
    _result, workdir = bench
    path = workdir / "condor_token" / "0" / "tokens.d" / "bench.token"
    assert path.read_text() == make_token() + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_gratia_probe_set_the_access_point_settings(bench):
    _result, workdir = bench
    before = read_attributes(bench_modules.PACKAGED_PROBE_CONFIG.read_bytes())
    after = read_attributes((workdir / "gratia_probe" / "0" / "ProbeConfig").read_bytes())
    assert (before["SiteName"], before["EnableProbe"]) == ("Generic site", "0")
    assert after["SiteName"] == "OSG_US_EXAMPLE_SUBMIT" and after["EnableProbe"] == "1"
    assert after["ProbeName"] == "condor-ap:ap.example.edu"


def test_a_module_that_does_not_do_the_work_stops_the_run(tmp_path, monkeypatch):
    # The route-match benchmark checks where the jobs went; expecting otherwise must fail, not time.
    monkeypatch.setattr(bench_modules, "EXPECTED_MATCHES", [None] * 10)
    monkeypatch.setattr(bench_modules, "RUNNERS", {"ce_route_match": bench_modules.bench_ce_route_match})
    with pytest.raises(bench_modules.BenchmarkError, match="did not land on the routes"):
        bench_modules.run(repeat=1, workdir=tmp_path)


def test_a_second_call_that_changes_something_stops_the_run(tmp_path, monkeypatch):
    # gratia_probe must find nothing to change the second time; a ProbeConfig reset in between breaks that.
    real = bench_modules.call

    def reset_then_call(module, args):
        if module is bench_modules.gratia_probe:
            shutil.copyfile(bench_modules.PACKAGED_PROBE_CONFIG, args["path"])
        return real(module, args)

    monkeypatch.setattr(bench_modules, "call", reset_then_call)
    monkeypatch.setattr(bench_modules, "RUNNERS", {"gratia_probe": bench_modules.bench_gratia_probe})
    with pytest.raises(bench_modules.BenchmarkError, match="changed=True, expected False"):
        bench_modules.run(repeat=1, workdir=tmp_path)


def test_main_prints_the_table_and_writes_json(tmp_path, capsys):
    assert bench_modules.main(["--repeat", "1", "--json", str(tmp_path / "figures.json")]) == 0
    out = capsys.readouterr().out
    assert "median and min of 1 runs" in out and "ms/route" in out
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert set(figures["benchmarks"]) == set(bench_modules.BENCHMARKS)


def test_repeat_below_one_is_refused(capsys):
    assert bench_modules.main(["--repeat", "0"]) == 1
    assert "repeat must be at least 1, not 0" in capsys.readouterr().err
