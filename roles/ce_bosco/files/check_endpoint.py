# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Check one Bosco endpoint from the CE, as the local user that submits to it.

Run by the ce_bosco role as ``python3 -c <this file> <json>``, with the user's own
``~/.ssh/config`` (the role's block for the host), so the checks see exactly what
bosco_cluster and HTCondor's remote GAHP will see. Three checks, in order, each
stopping the rest when it fails:

1. ``ssh -o BatchMode=yes <host> true``: key login without any prompt;
2. remote port forwarding carries a connection: a listener on the CE's loopback
   serves a random word; a control master opens a remote forward to it with
   ``-O forward -R 0:127.0.0.1:<port>`` (sshd picks the remote port), and a
   session on the remote side reads the word back through the forward with
   bash's /dev/tcp. Bosco's GAHP reaches the CE back through such forwards;
3. the batch client answers on the remote side (for example ``squeue``).

Prints one JSON object: ``ok``, ``failed`` (the check that failed, or null),
``message`` (what to fix on which side) and ``details``.
"""

from __future__ import annotations

import json
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def ssh(args, timeout):
    """Run ssh with the user's configuration; return (rc, stdout, stderr)."""
    try:
        done = subprocess.run(
            ["ssh", "-o", "BatchMode=yes", *args],  # noqa: S607 (the user's ssh, as Bosco runs it)
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return 124, "", f"no answer within {timeout} s"
    return done.returncode, done.stdout.strip(), done.stderr.strip()


def login_problem(host, port, remote_user, stderr):
    """Say what to fix when the plain login fails, from ssh's own words."""
    if "Host key verification failed" in stderr or "IDENTIFICATION HAS CHANGED" in stderr:
        return (
            f"the host key {host} presents is not the pinned one (host_key): ask the admin of {host} for its "
            "/etc/ssh/ssh_host_*_key.pub, or check that the name reaches the right machine; if a proxy_jump is used, "
            "its own host key must be known too"
        )
    if "Permission denied" in stderr:
        return (
            f"{host} refused the key: on {host}, add the public key printed above to "
            f"~{remote_user}/.ssh/authorized_keys (the file 0600, ~/.ssh 0700, owned by {remote_user}), and check "
            "that sshd there allows public key login for that account"
        )
    if any(
        word in stderr
        for word in ("Could not resolve", "Connection refused", "timed out", "No route", "no answer", "unreachable")
    ):
        return (
            f"the CE cannot reach sshd on {host} port {port}: check the name (DNS), the port, and the firewalls "
            "between this CE and the login node"
        )
    return f"ssh to {host} failed"


class WordServer:
    """A one-shot TCP listener on 127.0.0.1 that sends a random word to whoever connects."""

    def __init__(self):
        self.word = secrets.token_hex(16)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(1.0)
        self.port = self.sock.getsockname()[1]
        self.served = 0
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(self.word.encode() + b"\n")
                self.served += 1

    def close(self):
        self.stopping = True
        self.thread.join(timeout=3)
        self.sock.close()


def check_forwarding(host, timeout):
    """Open a remote forward through a control master and read through it from the remote side."""
    server = WordServer()
    # A short path: a control socket's path must fit in 108 bytes.
    control_dir = Path(tempfile.mkdtemp(prefix="ce-bosco-"))
    control = ["-o", f"ControlPath={control_dir}/master"]
    master = None
    try:
        with (control_dir / "master.log").open("w") as log:
            master = subprocess.Popen(
                ["ssh", "-o", "BatchMode=yes", "-N", "-o", "ControlMaster=yes", *control, host],  # noqa: S607
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        while ssh(["-O", "check", *control, host], timeout)[0] != 0:
            if master.poll() is not None or time.monotonic() > deadline:
                said = (control_dir / "master.log").read_text().strip()
                return False, f"could not open a master connection to {host} ({said or 'no answer'})"
            time.sleep(0.3)
        rc, out, err = ssh(["-O", "forward", "-R", f"0:127.0.0.1:{server.port}", *control, host], timeout)
        if rc != 0 or not out.isdigit():
            return False, (
                f"sshd on {host} refuses remote port forwarding ({err or out}): set AllowTcpForwarding yes (or remote) "
                f"in /etc/ssh/sshd_config on {host} (and no PermitListen/restrict for this account) and reload sshd; "
                "Bosco's GAHP connects back to the CE through such forwards"
            )
        remote_port = int(out)
        reader = f"exec 3<>/dev/tcp/127.0.0.1/{remote_port} && head -n 1 <&3"
        rc, out, err = ssh([*control, host, "bash -c " + shlex.quote(reader)], timeout)
        if rc != 0 or out != server.word:
            return False, (
                f"sshd on {host} opened the remote forward (port {remote_port}) but a connection to it on {host} "
                f"did not reach the CE ({err or 'read ' + repr(out)}): check sshd's PermitOpen/PermitListen and "
                f"local firewalls on {host}, and MaxSessions (10 or more, as the OSG documentation asks)"
            )
        return True, f"remote port {remote_port} on {host} reached 127.0.0.1:{server.port} on the CE"
    finally:
        if master is not None:
            ssh(["-O", "exit", *control, host], timeout)
            master.terminate()
            master.wait(timeout=10)
        server.close()
        shutil.rmtree(control_dir, ignore_errors=True)


def main():
    spec = json.loads(sys.argv[1])
    host, port, remote_user = spec["host"], spec["port"], spec["remote_user"]
    command, timeout = spec["batch_command"], spec["timeout"]
    details = {}

    def result(failed, message):
        print(json.dumps({"ok": failed is None, "failed": failed, "message": message, "details": details}))

    rc, out, err = ssh([host, "true"], timeout)
    details["login"] = {"rc": rc, "stderr": err[-500:]}
    if rc != 0:
        return result("login", f"{login_problem(host, port, remote_user, err)}. ssh said: {err[-300:]}")

    ok, message = check_forwarding(host, timeout)
    details["forwarding"] = message
    if not ok:
        return result("forwarding", message)

    rc, out, err = ssh([host, shlex.join(command)], timeout)
    details["batch"] = {"command": shlex.join(command), "rc": rc, "stdout": out[-300:], "stderr": err[-300:]}
    if rc != 0:
        where = (
            f"{command[0]} is not on the PATH of {remote_user}'s non-interactive shell on {host}: add the batch "
            f"client's directory to PATH in ~{remote_user}/.bashrc there"
            if rc == 127
            else f"the batch client on {host} does not answer for {remote_user}: check that the batch server is up "
            f"and that {remote_user} may use it"
        )
        return result(
            "batch", f"`{shlex.join(command)}` on {host} exited {rc}: {where}. It said: {err[-300:] or out[-300:]}"
        )
    return result(None, f"{remote_user}@{host}: key login, remote forwarding and `{shlex.join(command)}` work")


if __name__ == "__main__":
    main()
