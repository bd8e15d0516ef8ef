# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Run Galaxy's importer (galaxy-importer) on a built collection tarball, offline.

The importer is what Galaxy runs on every upload: it checks MANIFEST.json and
FILES.json, loads every plugin's documentation through ansible-doc, lints the
collection with ansible-lint (production profile) and logs what it finds as
``WARNING:`` and ``ERROR:`` lines. Its settings come from CONFIG (an INI file with a
``[galaxy-importer]`` section, passed as GALAXY_IMPORTER_CONFIG): there, the
ansible-test step, the one that needs a container engine and the network, is off.

This script prints the importer's whole output, then its warnings again, and
exits non-zero when the importer failed or logged any ERROR. The importer writes
importer_result.json into its working directory, WORKDIR.

Usage: import_check.py --config CONFIG --workdir WORKDIR osg_htc-site-X.Y.Z.tar.gz
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# The importer lints with ansible-lint, whose run alone takes minutes on two cores.
TIMEOUT = 1800


@dataclass
class Report:
    """What the importer logged: its ERROR and WARNING lines, and whether it finished."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    completed: bool = False


def read_output(text: str) -> Report:
    """Sort the importer's log lines: ``ERROR: ...``, ``WARNING: ...`` and the closing line."""
    report = Report()
    for line in text.splitlines():
        if line.startswith("ERROR:"):
            report.errors.append(line.removeprefix("ERROR:").strip())
        elif line.startswith("WARNING:"):
            report.warnings.append(line.removeprefix("WARNING:").strip())
        elif line.strip() == "Importer processing completed successfully":
            report.completed = True
    return report


def problems(report: Report, returncode: int) -> list[str]:
    """Why the check fails: the importer's exit status, a run that did not finish, and every ERROR."""
    found = [f"galaxy-importer exited with status {returncode}"] if returncode != 0 else []
    if not report.completed:
        found.append("galaxy-importer did not report 'Importer processing completed successfully'")
    found += [f"ERROR: {error}" for error in report.errors]
    return found


def run_importer(tarball: Path, config: Path, workdir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, GALAXY_IMPORTER_CONFIG=str(config.resolve()))
    command = [sys.executable, "-m", "galaxy_importer.main", str(tarball.resolve())]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="galaxy-importer settings (INI)")
    parser.add_argument("--workdir", type=Path, required=True, help="where the importer runs and writes its result")
    parser.add_argument("tarball", type=Path)
    args = parser.parse_args(argv)
    if not args.config.is_file():
        parser.error(f"{args.config}: no such file")
    args.workdir.mkdir(parents=True, exist_ok=True)
    result = run_importer(args.tarball, args.config, args.workdir)
    output = result.stdout + result.stderr
    print(output, end="" if output.endswith("\n") else "\n")
    report = read_output(result.stdout)
    print(f"\ngalaxy-importer on {args.tarball.name}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    for warning in report.warnings:
        print(f"  WARNING: {warning}")
    found = problems(report, result.returncode)
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
