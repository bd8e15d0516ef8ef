"""A CE configuration root laid out as the htcondor-ce package does, under a temporary directory.

Used by the ce_job_route tests and tools/bench_modules.py, so that HTCondor's parser reads the
module's file among the CE's own configuration directories, as on a real CE.
"""

from __future__ import annotations

from pathlib import Path


def write_ce(root: Path, extra_files: dict[str, str]) -> str:
    """Write ``root/condor_config`` naming two config dirs (packaged, then site) and return its path.

    ``usr-config.d`` stands for /usr/share/condor-ce/config.d with a packaged route list; ``config.d``
    for /etc/condor-ce/config.d, holding ``extra_files`` (name -> text).
    """
    usr, etc = root / "usr-config.d", root / "config.d"
    usr.mkdir()
    etc.mkdir(exist_ok=True)
    (usr / "02-ce-slurm-defaults.conf").write_text("JOB_ROUTER_ROUTE_NAMES = Packaged\n")
    for name, text in extra_files.items():
        (etc / name).write_text(text)
    base = root / "condor_config"
    base.write_text(f"LOCAL_CONFIG_DIR = {usr},{etc}\n")
    return str(base)
