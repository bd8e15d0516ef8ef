# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Check a built collection tarball: what users install, and nothing else.

Fails when the artifact carries tests, the VM lab, CI files or local caches
(galaxy.yml's build_ignore should keep them out), or lacks what ansible-galaxy
and users need.

Usage: check_build.py osg_htc-site-X.Y.Z.tar.gz
"""

from __future__ import annotations

import sys
import tarfile

FORBIDDEN_PREFIXES = (
    "tests/",
    "molecule/",
    ".ci/",
    ".config/",
    "tools/",
    ".venv",
    ".cache/",
    "build/",
    "changelogs/fragments/",
    ".git",
    ".hypothesis/",
    "execution-environment.yml",
    # The ansible-pull site repository to copy: source repository only (galaxy.yml build_ignore).
    "docs/examples/",
)
# meta/execution-environment.yml and the two lists it names are how
# ansible-builder finds what the collection needs in an execution environment.
REQUIRED = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "LICENSE",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "requirements.txt",
    "bindep.txt",
)


def check(path: str) -> list[str]:
    with tarfile.open(path) as tarball:
        names = [name.removeprefix("./") for name in tarball.getnames()]
    problems = [f"{name}: must not be shipped" for name in names if name.startswith(FORBIDDEN_PREFIXES)]
    problems += [f"{name}: missing" for name in REQUIRED if name not in names]
    print(f"{path}: {len(names)} entries, {len(problems)} problem(s)")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = check(argv[1])
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
