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


ROLE_ITEMS_PLAYBOOK = """
- name: Route the htcondor_ce role's test items as they are
  hosts: localhost
  gather_facts: false
  vars:
    routes:
      - name: ATLAS
        grid_resource: {batch: slurm}
        requirements: 'regexp("^usatlas", Owner)'
      - name: OSPool
        grid_resource: {batch: slurm}
        requirements: 'orig_AuthTokenIssuer == "https://scitokens.org/osg-connect"'
    # The shape of htcondor_ce_route_tests: name, ad and the route each job must take.
    htcondor_ce_route_tests:
      - name: atlas_pilot
        ad: {Owner: usatlas1}
        expect: ATLAS
      - name: ospool_pilot
        ad: '[ Owner = "osg"; AuthTokenIssuer = "https://scitokens.org/osg-connect" ]'
        expect: OSPool
      - name: stranger
        ad: {Owner: someone}
        expect: null
    # The same tests split into jobs and an expect mapping, as the role has passed them.
    split_jobs: "{{ htcondor_ce_route_tests | map('dict2items') | map('rejectattr', 'key', 'eq', 'expect')
      | map('items2dict') | list }}"
    split_expect: "{{ dict(htcondor_ce_route_tests | map(attribute='name')
      | zip(htcondor_ce_route_tests | map(attribute='expect'))) }}"
  tasks:
    - name: The module takes the items as they are
      osg_htc.site.ce_route_match:
        routes: "{{ routes }}"
        jobs: "{{ htcondor_ce_route_tests }}"
      register: as_they_are

    - name: The module takes them split
      osg_htc.site.ce_route_match:
        routes: "{{ routes }}"
        jobs: "{{ split_jobs }}"
        expect: "{{ split_expect }}"
      register: split

    - name: Items, split items and the filter all say the same
      ansible.builtin.assert:
        that:
          - as_they_are.matches == split.matches
          - as_they_are.unrouted == ['stranger']
          - (htcondor_ce_route_tests | osg_htc.site.ce_route_match(routes=routes)).matches == split.matches
          - (split_jobs | osg_htc.site.ce_route_match(routes=routes, expect=split_expect)).matches == split.matches
"""


def test_role_route_test_items_pass_through_module_and_filter(tmp_path):
    book = tmp_path / "role_items.yml"
    book.write_text(ROLE_ITEMS_PLAYBOOK)
    assert recap(run_playbook(book)) == (3, 0, 0)
