"""Run the ce_route_match module and filter with ansible-playbook against localhost, with expect."""

from __future__ import annotations

import re

import pytest

from .runner import run_playbook

pytest.importorskip("classad2")

PLAYBOOK = """
- name: Check the routing policy
  hosts: localhost
  gather_facts: false
  vars:
    routes:
      - name: ATLAS
        grid_resource: {batch: slurm}
        requirements: 'regexp("^usatlas", Owner)'
        default_queue: atlas
      - name: OSPool
        grid_resource: {batch: slurm}
        requirements: 'orig_AuthTokenIssuer == "https://scitokens.org/osg-connect"'
        default_queue: osg
    jobs:
      - name: atlas_pilot
        ad: {Owner: usatlas1}
      - name: ospool_pilot
        ad: '[ Owner = "osg"; AuthTokenIssuer = "https://scitokens.org/osg-connect" ]'
      - name: stranger
        ad: {Owner: someone}
  tasks:
    - name: Match the jobs
      osg_htc.site.ce_route_match:
        routes: "{{ routes }}"
        jobs: "{{ jobs }}"
        expect:
          atlas_pilot: ATLAS
          ospool_pilot: "{{ ospool_route }}"
          stranger: null
      register: routing

    - name: The filter agrees with the module
      ansible.builtin.assert:
        that:
          - (jobs | osg_htc.site.ce_route_match(routes=routes)).matches == routing.matches
          - routing.unrouted == ['stranger']
          - routing.matches[1].queue == 'osg'
"""


def play(tmp_path, *extra):
    book = tmp_path / "play.yml"
    book.write_text(PLAYBOOK)
    return run_playbook(book, *extra)


def recap(run):
    match = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)", run.stdout)
    assert match, run.stdout + run.stderr
    return tuple(int(group) for group in match.groups())


def test_policy_that_holds_passes_also_in_check_mode(tmp_path):
    assert recap(play(tmp_path, "-e", "ospool_route=OSPool")) == (2, 0, 0)
    assert recap(play(tmp_path, "-e", "ospool_route=OSPool", "--check")) == (2, 0, 0)


def test_policy_that_does_not_hold_fails_with_the_table(tmp_path):
    run = play(tmp_path, "-e", "ospool_route=ATLAS")
    assert recap(run) == (0, 0, 1)
    assert "1 job(s) not routed as expected:" in run.stdout
    # ATLAS comes first and was false for the OSPool pilot: its REQUIREMENTS decided.
    assert "ospool_pilot | ATLAS          | OSPool       | ATLAS: REQUIREMENTS regexp(" in run.stdout
