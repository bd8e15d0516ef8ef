# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The site playbook on the VM lab: `make demo` and `make bench`.

    site_lab.py demo [--keep]           boot the lab, run playbooks/site.yml, print the site summary
    site_lab.py bench [--output DIR]    converge, idempotent re-run and --check --diff, timed; plus the
                                        module microbenchmarks; prints the figures and saves them as JSON

The lab is Molecule's `site` scenario (molecule/site/molecule.yml: ap, ce and cluster, their
inventory and the packaged-state test doubles): Molecule boots and prepares it, then
ansible-playbook runs playbooks/site.yml against its inventory, as a site runs it against its
own. The lab is torn down at the end, also after a failure (unless --keep).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import bench_modules  # tools/, beside this script

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SITE_PLAYBOOK = ROOT / "playbooks" / "site.yml"
SCENARIO = "site"


def lab_env(run_dir: Path) -> dict[str, str]:
    """What Molecule and the playbook runs share: the run directory is Molecule's ephemeral
    directory (its inventory, ansible.cfg and the keys prepare made), and the checkout is the
    collection osg_htc.site (the Makefile links it under .cache/collections)."""
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MOLECULE_GLOB": "molecule/*/molecule.yml",
        "MOLECULE_EPHEMERAL_DIRECTORY": str(run_dir),
        "MOLECULE_PROJECT_DIRECTORY": str(ROOT),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".cache" / "collections"),
    }


def molecule(run_dir: Path, command: str) -> None:
    subprocess.run([BIN / "molecule", command, "--scenario-name", SCENARIO], cwd=ROOT, env=lab_env(run_dir), check=True)


@contextlib.contextmanager
def lab(run_dir: Path, keep: bool) -> Iterator[None]:
    """The lab booted and prepared; destroyed afterwards unless keep."""
    molecule(run_dir, "destroy")  # whatever an interrupted run left
    try:
        molecule(run_dir, "create")  # Molecule's create sequence ends with the scenario's prepare
        yield
    finally:
        if keep:
            print(f"The lab is still up: ansible-playbook -i {run_dir}/inventory ... ; make demo-down to stop it")
        else:
            molecule(run_dir, "destroy")


def site_playbook(run_dir: Path, *args: str, report_json: bool = False) -> tuple[int, float, str]:
    """Run playbooks/site.yml on the lab; returns exit code, wall seconds and stdout (JSON when asked)."""
    env = lab_env(run_dir) | {"ANSIBLE_CONFIG": str(run_dir / "ansible.cfg")}
    if report_json:
        # One JSON report on stdout; timing callbacks a user enabled would print into it.
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
        env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    command = [BIN / "ansible-playbook", "-i", run_dir / "inventory", SITE_PLAYBOOK, *args]
    start = time.monotonic()
    result = subprocess.run(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE if report_json else None, text=True, check=False
    )
    return result.returncode, time.monotonic() - start, result.stdout or ""


def run_figures(name: str, rc: int, seconds: float, output: str) -> dict:
    """Wall time, task count and changed count of one run, from the ansible.posix.json callback's report."""
    report = json.loads(output[output.index("{") :])
    runs = [hosts for play in report["plays"] for task in play["tasks"] for hosts in [task["hosts"]]]
    stats = report["stats"]
    return {
        "run": name,
        "rc": rc,
        "wall_seconds": round(seconds, 1),
        "tasks": sum(1 for hosts in runs if hosts),
        "task_results": sum(len(hosts) for hosts in runs),
        "changed": sum(host["changed"] for host in stats.values()),
        "failed": sum(host["failures"] + host["unreachable"] for host in stats.values()),
        "per_host": {host: {key: stats[host][key] for key in ("ok", "changed", "skipped")} for host in sorted(stats)},
    }


def demo(run_dir: Path, keep: bool) -> int:
    summary = run_dir.with_name(run_dir.name + "-summary.txt")
    summary.unlink(missing_ok=True)
    with lab(run_dir, keep):
        rc, seconds, _output = site_playbook(run_dir, "--diff", "-e", f"site_summary_file={summary}")
    print(f"\nplaybooks/site.yml on the lab: exit {rc} in {seconds:.0f} s")
    if summary.exists():
        print("\nWhat each host now is, and what was verified on it:\n")
        print(summary.read_text())
    return rc


def bench(run_dir: Path, output_dir: Path, keep: bool) -> int:
    figures = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "site": []}
    with lab(run_dir, keep):
        for name, args in (
            ("converge", []),
            ("idempotent re-run", []),
            ("check --diff", ["--check", "--diff"]),
        ):
            rc, seconds, output = site_playbook(run_dir, *args, report_json=True)
            figures["site"].append(run_figures(name, rc, seconds, output))
            if rc != 0:
                break
    figures["modules"] = bench_modules.run()

    print(f"\n{'site.yml on the lab (3 VMs)':<28} {'wall s':>8} {'tasks':>6} {'results':>8} {'changed':>8}")
    for run in figures["site"]:
        print(
            f"{run['run']:<28} {run['wall_seconds']:>8} {run['tasks']:>6} {run['task_results']:>8} {run['changed']:>8}"
        )
    print()
    print(bench_modules.table(figures["modules"]))
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"bench-{figures['started'].replace(':', '')}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nFigures saved to {path}")
    failed = [run for run in figures["site"] if run["rc"] != 0]
    rerun_changes = [run for run in figures["site"][1:] if run["changed"]]
    for run in failed + rerun_changes:
        print(f"{run['run']}: exit {run['rc']}, {run['changed']} changed", file=sys.stderr)
    return 1 if failed or rerun_changes or len(figures["site"]) < 3 else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, default=ROOT / "build" / "site-lab", help="the lab's working directory")
    parser.add_argument("--keep", action="store_true", help="leave the lab running at the end")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="boot the lab, run site.yml, print the summary")
    bench_parser = commands.add_parser("bench", help="time site.yml runs and the modules; save JSON")
    bench_parser.add_argument("--output", type=Path, default=ROOT / "build" / "bench")
    commands.add_parser("down", help="destroy a lab left running with --keep")
    args = parser.parse_args()
    run_dir = args.run_dir.resolve()
    if args.command == "down":
        molecule(run_dir, "destroy")
        shutil.rmtree(run_dir, ignore_errors=True)
        return 0
    if args.command == "demo":
        return demo(run_dir, args.keep)
    return bench(run_dir, args.output.resolve(), args.keep)


if __name__ == "__main__":
    sys.exit(main())
