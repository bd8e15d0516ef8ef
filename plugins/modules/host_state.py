#!/usr/bin/python
# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state
short_description: Tell in one call which files, lines, blocks, known hosts, users and key pairs already are as wanted
version_added: 0.2.0
author:
  - Contributors to the osg_htc.site collection (!UNKNOWN)
description:
  - Reads the host, changes nothing, and says for each item whether the task that manages it would change anything,
    so that a role runs only the tasks that can; a re-run on a converged host then costs this one round trip
    instead of one (or, for C(copy) and C(template), two) per task.
  - Each kind of item answers as the module named for it would answer in check mode, and answers RV(same) false
    whenever it cannot be sure (a symbolic mode, a symlink where a file is wanted, an unreadable file, a failed
    command), so the task then runs and decides for itself. Nothing is hidden, since a task this module lets a role skip
    would have reported no change.
  - Every item has an O(files[].id) that names its answer in RV(same) and RV(details).
extends_documentation_fragment:
  - osg_htc.site._attributes
  - osg_htc.site._attributes.info_module
options:
  files:
    description:
      - Files and directories, as C(ansible.builtin.copy), C(ansible.builtin.template) or C(ansible.builtin.file)
        manage them.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The item's name in the results.
        type: str
        required: true
      path:
        description: The file or directory.
        type: path
        required: true
      state:
        description: V(file) (a regular file) or V(directory).
        type: str
        choices: [file, directory]
        default: file
      checksum:
        description:
          - The SHA-1 of the content the file must hold (C(copy) compares this), for example
            C("{{ content | hash('sha1') }}"). Without it only the file's kind, owner, group and mode are compared.
        type: str
      owner:
        description: The owner (name or uid) it must have.
        type: str
      group:
        description: The group (name or gid) it must have.
        type: str
      mode:
        description: The octal mode it must have, for example V("0644").
        type: raw
  lines:
    description: Lines, as C(ansible.builtin.lineinfile) with O(lines[].line) and O(lines[].regexp) manages them.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The item's name in the results.
        type: str
        required: true
      path:
        description: The file.
        type: path
        required: true
      line:
        description: The line.
        type: str
        required: true
      regexp:
        description: The regular expression of the line to replace.
        type: str
  blocks:
    description:
      - Marked blocks, as C(ansible.builtin.blockinfile) with these options (and no blank lines added) manages them.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The item's name in the results.
        type: str
        required: true
      path:
        description: The file.
        type: path
        required: true
      block:
        description: The block's text.
        type: str
        required: true
      marker:
        description: The marker line, with C({mark}).
        type: str
        default: "# {mark} ANSIBLE MANAGED BLOCK"
      marker_begin:
        description: What C({mark}) is in the first marker line.
        type: str
        default: BEGIN
      marker_end:
        description: What C({mark}) is in the last marker line.
        type: str
        default: END
      insertbefore:
        description: As C(blockinfile)'s.
        type: str
      insertafter:
        description: As C(blockinfile)'s.
        type: str
      create:
        description: As C(blockinfile)'s.
        type: bool
        default: false
      owner:
        description: The owner (name or uid) the file must have.
        type: str
      group:
        description: The group (name or gid) the file must have.
        type: str
      mode:
        description: The octal mode the file must have.
        type: raw
  known_hosts:
    description:
      - Host keys, as C(ansible.builtin.known_hosts) with O(known_hosts[].name), O(known_hosts[].key) and
        C(state=present) manages them.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The item's name in the results.
        type: str
        required: true
      path:
        description: The known_hosts file.
        type: path
        required: true
      name:
        description: The host, as C(known_hosts)'s O(known_hosts[].name).
        type: str
        required: true
      key:
        description: The known_hosts line, as C(known_hosts)'s O(known_hosts[].key).
        type: str
        required: true
  users:
    description:
      - Local users, as C(ansible.builtin.user) with O(users[].name), O(users[].uid) and O(users[].shell) manages
        them.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The item's name in the results.
        type: str
        required: true
      name:
        description: The user.
        type: str
        required: true
      uid:
        description: The uid it must have.
        type: int
      shell:
        description: The shell it must have.
        type: str
  public_keys:
    description:
      - SSH key pairs, the public half derived from the private one with C(ssh-keygen -y) (never with a passphrase);
        RV(details) returns it as C(public_key), and RV(same) says whether O(public_keys[].public) already holds it, as
        C(copy) with C(content) set to it and a line break would write it.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The item's name in the results.
        type: str
        required: true
      private:
        description: The private key file.
        type: path
        required: true
      public:
        description: The public key file.
        type: path
        required: true
      owner:
        description: The owner (name or uid) the public key file must have.
        type: str
      group:
        description: The group (name or gid) the public key file must have.
        type: str
      mode:
        description: The octal mode the public key file must have.
        type: raw
notes:
  - What each kind follows is the logic of ansible-core's own modules (lineinfile, blockinfile, known_hosts, user,
    copy), which the collection's unit tests compare with those modules' check mode.
"""

EXAMPLES = r"""
- name: Read what the mapfile and the users already are, in one call
  osg_htc.site.host_state:
    files:
      - id: mapfile
        path: /etc/condor-ce/mapfiles.d/50-osg-htc-site.conf
        checksum: "{{ mapfile_text | hash('sha1') }}"
        owner: root
        group: root
        mode: "0644"
    users:
      - id: osg01
        name: osg01
        uid: 5001
        shell: /bin/bash
  register: state

- name: Write the mapfile only where it would change
  ansible.builtin.copy:
    content: "{{ mapfile_text }}"
    dest: /etc/condor-ce/mapfiles.d/50-osg-htc-site.conf
    owner: root
    group: root
    mode: "0644"
  when: not state.same.mapfile
"""

RETURN = r"""
same:
  description: For each item's id, whether its task would change nothing.
  returned: always
  type: dict
  sample: {"mapfile": true, "osg01": false}
details:
  description:
    - For each item's id what was found, C(why) it is not the same, and per kind more; users C(uid), C(home) and
      C(shell); key pairs C(public_key) (or C(rc) and C(stderr) of C(ssh-keygen -y)).
  returned: always
  type: dict
  sample: {"osg01": {"exists": false, "why": "no user osg01"}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osg_htc.site.plugins.module_utils._host_state import (
    block_state,
    file_state,
    known_host_state,
    line_state,
    public_key_state,
    user_state,
)

ID = dict(type="str", required=True)
ATTRIBUTES = dict(owner=dict(type="str"), group=dict(type="str"), mode=dict(type="raw"))
KINDS = dict(
    files=dict(
        id=ID,
        path=dict(type="path", required=True),
        state=dict(type="str", choices=["file", "directory"], default="file"),
        checksum=dict(type="str"),
        **ATTRIBUTES,
    ),
    lines=dict(
        id=ID, path=dict(type="path", required=True), line=dict(type="str", required=True), regexp=dict(type="str")
    ),
    blocks=dict(
        id=ID,
        path=dict(type="path", required=True),
        block=dict(type="str", required=True),
        marker=dict(type="str", default="# {mark} ANSIBLE MANAGED BLOCK"),
        marker_begin=dict(type="str", default="BEGIN"),
        marker_end=dict(type="str", default="END"),
        insertbefore=dict(type="str"),
        insertafter=dict(type="str"),
        create=dict(type="bool", default=False),
        **ATTRIBUTES,
    ),
    known_hosts=dict(
        id=ID,
        path=dict(type="path", required=True),
        name=dict(type="str", required=True),
        key=dict(type="str", required=True, no_log=False),
    ),
    users=dict(id=ID, name=dict(type="str", required=True), uid=dict(type="int"), shell=dict(type="str")),
    public_keys=dict(
        id=ID, private=dict(type="path", required=True), public=dict(type="path", required=True), **ATTRIBUTES
    ),
)


def answer(module, kind: str, item: dict):
    attributes = {key: item[key] for key in ATTRIBUTES if key in item}
    if kind == "files":
        return file_state(item["path"], item["state"], item["checksum"], **attributes)
    if kind == "lines":
        return line_state(item["path"], item["line"], item["regexp"])
    if kind == "blocks":
        options = ("block", "marker", "marker_begin", "marker_end", "insertbefore", "insertafter", "create")
        return block_state(item["path"], **{key: item[key] for key in options}, **attributes)
    ssh_keygen = module.get_bin_path("ssh-keygen") or "ssh-keygen"
    if kind == "known_hosts":
        return known_host_state(item["path"], item["name"], item["key"], ssh_keygen)
    if kind == "users":
        return user_state(item["name"], item["uid"], item["shell"])
    return public_key_state(item["private"], item["public"], ssh_keygen=ssh_keygen, **attributes)


def main():
    module = AnsibleModule(
        argument_spec={
            kind: dict(type="list", elements="dict", default=[], options=options) for kind, options in KINDS.items()
        },
        supports_check_mode=True,
    )
    ids = [item["id"] for kind in KINDS for item in module.params[kind]]
    twice = sorted({name for name in ids if ids.count(name) > 1})
    if twice:
        module.fail_json(msg=f"Item ids must be unique; given more than once: {', '.join(twice)}")
    same, details = {}, {}
    for kind in KINDS:
        for item in module.params[kind]:
            same[item["id"]], details[item["id"]] = answer(module, kind, item)
    module.exit_json(changed=False, same=same, details=details)


if __name__ == "__main__":
    main()
