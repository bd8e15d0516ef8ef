# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""The site playbook on the VM lab: `make demo` and `make bench`.

    site_lab.py demo [--keep]           boot the lab, run playbooks/site.yml, print the site summary
    site_lab.py bench [--output DIR]    converge, idempotent re-run and --check --diff, timed, with the
                                        remote calls each run made to each host; the floor of the
                                        re-run and the fixed reference; the module microbenchmarks;
                                        prints the figures and saves them as JSON

The lab is Molecule's `site` scenario (molecule/site/molecule.yml: ap, ce, cluster and htce, their
inventory, the packaged-state test doubles and the EL 9 hosts' package mirror): Molecule boots and prepares it, then
ansible-playbook runs playbooks/site.yml against its inventory, as a site runs it against its
own. The lab is torn down at the end, also after a failure (unless --keep).

Remote calls are the commands Ansible runs on a host over its connection (with pipelining, one per
module call): each run logs Ansible's connection messages (ANSIBLE_LOG_VERBOSITY=3, which leaves
the screen output as it is) to a file that is counted, then deleted.

The floor of a re-run is what its remote calls cost at the least: a playbook that makes, on each
host, one minimal fact gather and as many no-op module calls (stat) as the re-run made there, the
hosts side by side in one play.
The reference is a fixed floor: the calls the idempotent re-run made before the roles batched their
calls (13 on the Access Point, 16 on the HTCondor-CE, 24 on the Bosco CE, with repositories, packages
and services left alone), run one play per group, one group after the other, as site.yml ran then. The
ratios re-run/floor and re-run/reference say how close the re-run comes to its floor and how far it has
come from there.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import bench_modules  # tools/, beside this script
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SITE_PLAYBOOK = ROOT / "playbooks" / "site.yml"
SCENARIO = "site"
# The reference: per group of site.yml, in the order its plays ran, the remote calls the idempotent
# re-run made to each host of it before the roles batched their calls (make bench, 2026-11).
REFERENCE_CALLS = (("ospool_access_points", 13), ("htcondor_ces", 16), ("ce_bosco", 24))
# The floor's one fact gather per host: Ansible's minimal subset.
FLOOR_GATHER_SUBSET = ["min"]
# One connection message per command run on a host: "<address> SSH: EXEC ssh ... -o Port=2201 ..."
# (the ssh connection) or "<address> EXEC /bin/sh -c ..." (the local one), after the log prefix.
EXEC_LINE = re.compile(r"\| <(?P<address>[^>]*)> (?P<ssh>SSH: )?EXEC (?P<command>.*)$", re.MULTILINE)
PORT_OPTION = re.compile(r"(?:^|\s)-o\s+'?Port=(?P<port>\d+)'?")


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


def playbook_env(run_dir: Path) -> dict[str, str]:
    return lab_env(run_dir) | {"ANSIBLE_CONFIG": str(run_dir / "ansible.cfg")}


def run_playbook(
    env: Mapping[str, str],
    inventory: Path,
    playbook: Path,
    *args: str,
    report_json: bool = False,
    calls_log: Path | None = None,
) -> tuple[int, float, str, str]:
    """ansible-playbook; returns exit code, wall seconds, stdout (the JSON report when asked) and the
    connection log when ``calls_log`` names where to write it (the file is removed afterwards)."""
    env = dict(env)
    if report_json:
        # One JSON report on stdout; timing callbacks a user enabled would print into it.
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
        env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    if calls_log is not None:
        calls_log.unlink(missing_ok=True)
        env |= {"ANSIBLE_LOG_PATH": str(calls_log), "ANSIBLE_LOG_VERBOSITY": "3"}
    command = [BIN / "ansible-playbook", "-i", inventory, playbook, *args]
    start = time.monotonic()
    result = subprocess.run(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE if report_json else None, text=True, check=False
    )
    seconds = time.monotonic() - start
    log = ""
    if calls_log is not None:
        # It holds what the modules returned; only the count is kept.
        with contextlib.suppress(FileNotFoundError):
            log = calls_log.read_text(errors="replace")
            calls_log.unlink()
    return result.returncode, seconds, result.stdout or "", log


def site_playbook(run_dir: Path, *args: str, report_json: bool = False) -> tuple[int, float, str]:
    """Run playbooks/site.yml on the lab; returns exit code, wall seconds and stdout (JSON when asked)."""
    rc, seconds, stdout, _log = run_playbook(
        playbook_env(run_dir), run_dir / "inventory", SITE_PLAYBOOK, *args, report_json=report_json
    )
    return rc, seconds, stdout


def inventory(env: Mapping[str, str], path: Path) -> dict:
    """The inventory as ansible-inventory --list gives it."""
    result = subprocess.run(
        [BIN / "ansible-inventory", "-i", path, "--list"], env=dict(env), capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def endpoints(listing: Mapping) -> dict[tuple[str, str | None], str]:
    """Inventory host by the (address, port) its connection messages name (port None: not given)."""
    found = {}
    for host, hostvars in listing.get("_meta", {}).get("hostvars", {}).items():
        port = hostvars.get("ansible_port")
        found[(str(hostvars.get("ansible_host") or host), None if port is None else str(port))] = host
    return found


def count_remote_calls(log: str, known: Mapping[tuple[str, str | None], str]) -> dict[str, int]:
    """Commands run on each host, from the connection messages of a run's log (ANSIBLE_LOG_VERBOSITY=3).

    Hosts are named as in ``known`` (see :func:`endpoints`); a command on an address not there, such
    as a task delegated to the controller, counts under ``address`` or ``address:port``.
    """
    calls: dict[str, int] = {}
    for match in EXEC_LINE.finditer(log):
        address = match["address"]
        port = None
        if match["ssh"]:
            option = PORT_OPTION.search(match["command"])
            port = option["port"] if option else None
        host = known.get((address, port)) or (f"{address}:{port}" if port else address)
        calls[host] = calls.get(host, 0) + 1
    return calls


def floor_play(name: str, hosts: str, calls: Mapping[str, int], strategy: str) -> dict:
    """A play that makes ``calls[host]`` remote calls on each host: one minimal fact gather, then no-op stat
    calls, one task each (as a role's tasks are), as root through become like the site playbook."""
    tasks = [
        {
            "name": "One minimal fact gather",
            "ansible.builtin.setup": {"gather_subset": FLOOR_GATHER_SUBSET},
            "when": "__floor_calls[inventory_hostname] | default(0) > 0",
        }
    ]
    for number in range(1, max(calls.values(), default=0)):
        tasks.append(
            {
                "name": f"No-op call {number}",
                "ansible.builtin.stat": {
                    "path": "/",
                    "get_checksum": False,
                    "get_mime": False,
                    "get_attributes": False,
                },
                "when": f"__floor_calls[inventory_hostname] | default(0) > {number}",
            }
        )
    return {
        "name": name,
        "hosts": hosts,
        "become": True,
        "gather_facts": False,
        "strategy": strategy,
        "vars": {"__floor_calls": dict(sorted(calls.items()))},
        "tasks": tasks,
    }


def floor_playbook(calls: Mapping[str, int]) -> list[dict]:
    """The floor of a run that made ``calls[host]`` remote calls to each host: every host side by side."""
    hosts = sorted(host for host, count in calls.items() if count > 0)
    return [floor_play(f"Floor: {len(hosts)} hosts side by side", ":".join(hosts), calls, "ansible.builtin.free")]


def reference_calls(listing: Mapping) -> list[tuple[str, dict[str, int]]]:
    """REFERENCE_CALLS for the hosts of each group in ``listing`` (ansible-inventory --list)."""
    plays = []
    for group, count in REFERENCE_CALLS:
        hosts = listing.get(group, {}).get("hosts", [])
        if hosts:
            plays.append((group, dict.fromkeys(sorted(hosts), count)))
    return plays


def reference_playbook(plays: Sequence[tuple[str, Mapping[str, int]]]) -> list[dict]:
    """The reference floor: one play per group, one group after the other."""
    return [
        floor_play(f"Reference: {group}, {max(calls.values())} calls per host", group, calls, "ansible.builtin.linear")
        for group, calls in plays
    ]


def run_figures(name: str, rc: int, seconds: float, output: str, calls: Mapping[str, int] | None = None) -> dict:
    """Wall time, task count and changed count of one run, from the ansible.posix.json callback's report,
    with the remote calls per host when counted."""
    report = json.loads(output[output.index("{") :])
    runs = [hosts for play in report["plays"] for task in play["tasks"] for hosts in [task["hosts"]]]
    stats = report["stats"]
    figures = {
        "run": name,
        "rc": rc,
        "wall_seconds": round(seconds, 1),
        "tasks": sum(1 for hosts in runs if hosts),
        "task_results": sum(len(hosts) for hosts in runs),
        "changed": sum(host["changed"] for host in stats.values()),
        "failed": sum(host["failures"] + host["unreachable"] for host in stats.values()),
        "per_host": {host: {key: stats[host][key] for key in ("ok", "changed", "skipped")} for host in sorted(stats)},
    }
    if calls is not None:
        figures["remote_calls"] = dict(sorted(calls.items()))
    return figures


def ratios(rerun_seconds: float, floor_seconds: float, reference_seconds: float) -> dict[str, float]:
    """The re-run's wall time over its floor's and over the reference's."""
    return {
        "rerun_over_floor": round(rerun_seconds / floor_seconds, 2),
        "rerun_over_reference": round(rerun_seconds / reference_seconds, 2),
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


def measured(run_dir: Path, name: str, playbook: Path, *args: str) -> dict:
    """One timed run on the lab with its figures and remote calls per host."""
    env = playbook_env(run_dir)
    known = endpoints(inventory(env, run_dir / "inventory"))
    rc, seconds, output, log = run_playbook(
        env, run_dir / "inventory", playbook, *args, report_json=True, calls_log=run_dir / "calls.log"
    )
    calls = {host: count for host, count in count_remote_calls(log, known).items() if host in known.values()}
    return run_figures(name, rc, seconds, output, calls)


def write_playbook(path: Path, plays: list[dict]) -> Path:
    path.write_text("---\n# Written by tools/site_lab.py bench.\n" + yaml.safe_dump(plays, sort_keys=False))
    return path


def report(figures: dict) -> str:
    """The table make bench prints: each run, then the remote calls it made to each host, then the ratios."""
    rows = list(figures["site"]) + [figures[key] for key in ("floor", "reference") if key in figures]
    hosts = sorted({host for run in rows for host in run.get("remote_calls", {})})
    head = f"{'site.yml on the lab (3 VMs)':<40} {'wall s':>7} {'tasks':>6} {'results':>8} {'changed':>8}"
    lines = [head + "   remote calls: " + " ".join(f"{host:>7}" for host in hosts)]
    for run in rows:
        calls = run.get("remote_calls", {})
        figures_text = f"{run['wall_seconds']:>7} {run['tasks']:>6} {run['task_results']:>8} {run['changed']:>8}"
        lines.append(
            f"{run['run']:<40} {figures_text}   {'':>14}" + " ".join(f"{calls.get(host, '-'):>7}" for host in hosts)
        )
    if "ratios" in figures:
        lines.append(
            f"\nre-run / floor: {figures['ratios']['rerun_over_floor']:.2f}    "
            f"re-run / reference: {figures['ratios']['rerun_over_reference']:.2f}"
        )
    return "\n".join(lines)


def bench(run_dir: Path, output_dir: Path, keep: bool) -> int:
    figures = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "site": []}
    with lab(run_dir, keep):
        for name, args in (
            ("converge", []),
            ("idempotent re-run", []),
            ("check --diff", ["--check", "--diff"]),
        ):
            figures["site"].append(measured(run_dir, name, SITE_PLAYBOOK, *args))
            if figures["site"][-1]["rc"] != 0:
                break
        if len(figures["site"]) == 3 and figures["site"][1]["remote_calls"]:
            rerun = figures["site"][1]
            floor = write_playbook(run_dir / "floor.yml", floor_playbook(rerun["remote_calls"]))
            figures["floor"] = measured(run_dir, "floor of the re-run (side by side)", floor)
            plays = reference_calls(inventory(playbook_env(run_dir), run_dir / "inventory"))
            reference = write_playbook(run_dir / "reference.yml", reference_playbook(plays))
            label = "/".join(str(count) for _group, count in REFERENCE_CALLS)
            figures["reference"] = measured(run_dir, f"reference ({label} calls, by group)", reference)
            figures["ratios"] = ratios(
                rerun["wall_seconds"], figures["floor"]["wall_seconds"], figures["reference"]["wall_seconds"]
            )
    figures["modules"] = bench_modules.run()

    print()
    print(report(figures))
    print()
    print(bench_modules.table(figures["modules"]))
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"bench-{figures['started'].replace(':', '')}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nFigures saved to {path}")
    runs = figures["site"] + [figures[key] for key in ("floor", "reference") if key in figures]
    failed = [run for run in runs if run["rc"] != 0]
    rerun_changes = [run for run in figures["site"][1:] if run["changed"]]
    for run in failed + rerun_changes:
        print(f"{run['run']}: exit {run['rc']}, {run['changed']} changed", file=sys.stderr)
    return 1 if failed or rerun_changes or "ratios" not in figures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, default=ROOT / "build" / "site-lab", help="the lab's working directory")
    parser.add_argument("--keep", action="store_true", help="leave the lab running at the end")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="boot the lab, run site.yml, print the summary")
    bench_parser = commands.add_parser(
        "bench", help="time site.yml runs, their floor and the reference, and the modules; save JSON"
    )
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
