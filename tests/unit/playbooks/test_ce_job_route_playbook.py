"""Run the ce_job_route module with ansible-playbook against localhost, on a file in a temporary directory."""

from __future__ import annotations

import re

from .runner import run_playbook

PLAYBOOK = """
- name: Manage job routes
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write the routes
      osg_htc.site.ce_job_route:
        path: "{{ dest }}"
        ce_config: "{{ dest }}.no-ce"
        routes:
          - name: Slurm_Prod
            grid_resource: {batch: slurm}
            requirements: 'queue == "prod"'
          - name: Slurm_Default
            grid_resource: {batch: slurm}
            default_queue: "{{ queue }}"
"""


def play(tmp_path, *extra):
    book = tmp_path / "play.yml"
    book.write_text(PLAYBOOK)
    return run_playbook(book, "-e", f"dest={tmp_path / 'routes.conf'}", *extra)


def changed(run):
    match = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", run.stdout)
    assert match, run.stdout + run.stderr
    return int(match.group(1))


def test_playbook_writes_is_idempotent_and_check_diff_changes_nothing(tmp_path):
    assert changed(play(tmp_path, "-e", "queue=osg")) == 1
    text = (tmp_path / "routes.conf").read_text()
    assert "JOB_ROUTER_ROUTE_NAMES = Slurm_Prod Slurm_Default" in text
    assert changed(play(tmp_path, "-e", "queue=osg")) == 0
    check = play(tmp_path, "-e", "queue=long", "--check", "--diff")
    assert changed(check) == 1
    assert "+  default_queue = long" in check.stdout and "-  default_queue = osg" in check.stdout
    assert (tmp_path / "routes.conf").read_text() == text
