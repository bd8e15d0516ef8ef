# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Microbenchmarks of the collection's modules: the real main() of each, in this process.

Each benchmark calls a module's main() the way the unit tests do (arguments in, result out), on
real files under a temporary directory, with HTCondor's real parser from the ``htcondor`` wheel.
It reports the median and minimum wall time over ``repeat`` runs. Each run starts from a fresh
directory, so the first call really writes and the second call finds nothing to change. The
time includes AnsibleModule's argument checks, which for 1,000 routes are part of the cost.

    .venv/bin/python tools/bench_modules.py [--repeat N] [--json PATH]

``make bench`` runs it too. Other code can import it and call ``run()``, which returns the
figures as a dict.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import json
import os
import platform
import pwd
import shutil
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from collection_path import CHECKOUT, make_importable

# The collection and the unit tests' helpers can be imported only once the checkout is on sys.path.
make_importable()
from ansible_collections.osg_htc.site.plugins.modules import (
    ce_job_route,
    ce_route_match,
    condor_token,
    gratia_probe,
)
from ansible_collections.osg_htc.site.tests.unit.ce_layout import write_ce
from ansible_collections.osg_htc.site.tests.unit.idtokens import make_token
from ansible_collections.osg_htc.site.tests.unit.plugins.modules.utils import run_module

ROUTE_COUNT = 1000
ROUTES = [
    {
        "name": f"Route_{i}",
        "grid_resource": {"batch": "slurm"},
        "requirements": f'Owner == "user{i}" && queue == "q{i % 7}"',
        "default_queue": f"q{i % 7}",
        "default_maxMemory": 2000 + i,
        "set": {"Walltime": 3600, "Tag": f'"r{i}"'},
        "evalset": {"AccountingGroup": 'strcat("group_", Owner)'},
    }
    for i in range(ROUTE_COUNT)
]
# Jobs spread over the route table and one that no route takes: at most 10,000 REQUIREMENTS evaluated.
JOBS = [{"name": f"job{j}", "ad": {"Owner": f"user{j * 111}", "queue": f"q{j * 111 % 7}"}} for j in range(9)]
JOBS.append({"name": "lost", "ad": {"Owner": "nobody", "queue": "q0"}})
EXPECTED_MATCHES = [f"Route_{j * 111}" for j in range(9)] + [None]
# The ProbeConfig the gratia-probe-condor-ap package installs (its test double) and an Access Point's settings.
PACKAGED_PROBE_CONFIG = (
    CHECKOUT / "tests" / "fixtures" / "packaged_state" / "etc" / "gratia" / "condor-ap" / "ProbeConfig"
)
PROBE_SETTINGS = {"SiteName": "OSG_US_EXAMPLE_SUBMIT", "ProbeName": "condor-ap:ap.example.edu", "EnableProbe": True}
ROUTES_FILE = "20-osg-htc-routes.conf"


class BenchmarkError(RuntimeError):
    """A module failed or did not do what the benchmark measures: its time would mean nothing."""


def call(module, args: dict) -> dict:
    """Run ``module.main()`` with ``args`` and return its result; raise BenchmarkError if it failed."""
    result = run_module(module, args)
    if result.get("failed"):
        raise BenchmarkError(f"{module.__name__} failed: {result.get('msg')}")
    return result


def timed(module, args: dict, *, changed: bool) -> tuple[float, dict]:
    """Seconds one call of ``module`` took, and its result; it must report ``changed`` as given."""
    start = time.perf_counter()
    result = call(module, args)
    seconds = time.perf_counter() - start
    if result["changed"] is not changed:
        raise BenchmarkError(f"{module.__name__} returned changed={result['changed']}, expected {changed}")
    return seconds, result


def write_then_unchanged(module, args: dict) -> tuple[float, float, dict]:
    """Time the first call (which must change the host) and the same call again (which must not)."""
    first = timed(module, args, changed=True)[0]
    second, result = timed(module, args, changed=False)
    return first, second, result


def bench_ce_job_route(directory: Path) -> dict:
    ce_config = write_ce(directory, {})
    args = {"routes": ROUTES, "path": str(directory / "config.d" / ROUTES_FILE), "ce_config": ce_config}
    first, second, result = write_then_unchanged(ce_job_route, args)
    # HTCondor's parser read the file among the CE's config dirs: it must see our 1,000 routes in order.
    if result["effective_route_names"] != [route["name"] for route in ROUTES]:
        raise BenchmarkError("ce_job_route: the CE's effective JOB_ROUTER_ROUTE_NAMES are not the 1,000 routes")
    return {"ce_job_route_write": first, "ce_job_route_unchanged": second}


def bench_ce_route_match(directory: Path) -> dict:
    seconds, result = timed(ce_route_match, {"routes": ROUTES, "jobs": JOBS}, changed=False)
    matches = result["matches"]
    if [match["route"] for match in matches] != EXPECTED_MATCHES:
        raise BenchmarkError("ce_route_match: the jobs did not land on the routes their requirements name")
    if matches[3]["maxMemory"] != 2333:  # Route_333's default_maxMemory: the post-route values were computed
        raise BenchmarkError(f"ce_route_match: job3 got maxMemory {matches[3]['maxMemory']}, not Route_333's 2333")
    return {"ce_route_match": seconds}


def bench_condor_token(directory: Path) -> dict:
    # Owned by whoever runs the benchmark, so it needs no root.
    owner = {"owner": pwd.getpwuid(os.getuid()).pw_name, "group": grp.getgrgid(os.getgid()).gr_name}
    args = {"name": "bench", "directory": str(directory / "tokens.d"), "token": make_token(), **owner}
    first, second, _result = write_then_unchanged(condor_token, args)
    return {"condor_token_install": first, "condor_token_unchanged": second}


def bench_gratia_probe(directory: Path) -> dict:
    path = directory / "ProbeConfig"
    shutil.copyfile(PACKAGED_PROBE_CONFIG, path)
    args = {"probe": "condor-ap", "path": str(path), "attributes": PROBE_SETTINGS}
    first, second, _result = write_then_unchanged(gratia_probe, args)
    return {"gratia_probe_write": first, "gratia_probe_unchanged": second}


# name: (what it measures, n, what n counts or None when per-item time means nothing)
BENCHMARKS = {
    "ce_job_route_write": (
        "ce_job_route, new file: argument checks, render, ClassAd and HTCondor config checks, atomic write",
        ROUTE_COUNT,
        "route",
    ),
    "ce_job_route_unchanged": (
        "ce_job_route, the same routes again: all checks, nothing written",
        ROUTE_COUNT,
        "route",
    ),
    "ce_route_match": (
        f"ce_route_match, {len(JOBS)} jobs against {ROUTE_COUNT} routes in one classad2 child process",
        len(JOBS),
        "job",
    ),
    "condor_token_install": ("condor_token, new token file 0600 in a new 0700 directory", 1, None),
    "condor_token_unchanged": ("condor_token, the same token again", 1, None),
    "gratia_probe_write": ("gratia_probe, set SiteName, ProbeName, EnableProbe in the packaged ProbeConfig", 1, None),
    "gratia_probe_unchanged": ("gratia_probe, the same settings again", 1, None),
}
# Each runner times the benchmarks above named in what it returns; it works in a directory of its own.
RUNNERS = {
    "ce_job_route": bench_ce_job_route,
    "ce_route_match": bench_ce_route_match,
    "condor_token": bench_condor_token,
    "gratia_probe": bench_gratia_probe,
}


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def environment() -> dict:
    """What the figures depend on, so that runs on other machines or versions can be compared."""
    return {
        "python": platform.python_version(),
        "ansible_core": metadata.version("ansible-core"),
        "htcondor": metadata.version("htcondor"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
        "platform": platform.platform(),
    }


def run(repeat: int = 5, workdir: Path | None = None) -> dict:
    """Run every benchmark ``repeat`` times and return the environment and the figures.

    Run ``i`` of runner ``name`` (a key of RUNNERS) works in ``workdir/name/i``, which is left in
    place when ``workdir`` is given; otherwise everything goes into a temporary directory.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, not {repeat}")
    try:
        import htcondor2  # noqa: F401  # without it ce_job_route skips the parser and measures less
    except ImportError:
        raise BenchmarkError("the htcondor wheel is missing: run with the .venv python (make .venv)") from None
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-modules-")))
        times = {name: [] for name in BENCHMARKS}
        for name, runner in RUNNERS.items():
            for i in range(repeat):
                directory = Path(workdir) / name / str(i)
                directory.mkdir(parents=True)
                for benchmark, seconds in runner(directory).items():
                    times[benchmark].append(seconds)
    benchmarks = {}
    for name, (measures, n, item) in BENCHMARKS.items():
        median = statistics.median(times[name])
        benchmarks[name] = {
            "measures": measures,
            "n": n,
            "item": item,
            "median_s": median,
            "min_s": min(times[name]),
            "per_item_s": median / n if item else None,
            "times_s": times[name],
        }
    return {"environment": environment(), "repeat": repeat, "benchmarks": benchmarks}


def table(result: dict) -> str:
    env = result["environment"]
    lines = [
        f"Python {env['python']}, ansible-core {env['ansible_core']}, htcondor {env['htcondor']}, "
        f"{env['cpu_count']} x {env['cpu_model']}, load {env['load_average_1m']:.2f}; "
        f"median and min of {result['repeat']} runs",
        f"{'benchmark':<24} {'n':>5} {'median s':>9} {'min s':>9} {'per item':>16}",
    ]
    for name, figures in result["benchmarks"].items():
        per_item = f"{figures['per_item_s'] * 1000:.3f} ms/{figures['item']}" if figures["item"] else ""
        row = f"{name:<24} {figures['n']:>5} {figures['median_s']:>9.4f} {figures['min_s']:>9.4f} {per_item:>16}"
        lines.append(row.rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per benchmark (default 5)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to PATH as JSON")
    args = parser.parse_args(argv)
    try:
        result = run(args.repeat)
    except (BenchmarkError, ValueError) as exc:
        print(f"bench_modules: {exc}", file=sys.stderr)
        return 1
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
