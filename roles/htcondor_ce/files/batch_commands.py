# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Run the batch client commands that must answer on a CE, all in one round trip.

Run by the htcondor_ce role as ``python3 -c <this file> <json> <timeout>``, as the account the
checks run as: <json> is a list of ``{"item": [name, args...], "argv": [path, args...]}``. Each
command runs on its own, with <timeout> seconds to answer; they only ask the batch server. Prints
one JSON list, per command: ``item``, ``cmd`` (its argv), ``rc`` (124 when it did not answer in
time, 127 when it could not be started), and the ends of ``stdout`` and ``stderr``.
"""

from __future__ import annotations

import json
import subprocess
import sys


def answer(item, argv, timeout):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"item": item, "cmd": argv, "rc": 124, "stdout": "", "stderr": f"no answer within {timeout:g} s"}
    except OSError as exc:
        return {"item": item, "cmd": argv, "rc": 127, "stdout": "", "stderr": f"cannot run {argv[0]}: {exc.strerror}"}
    return {
        "item": item,
        "cmd": argv,
        "rc": done.returncode,
        "stdout": done.stdout[-2000:],
        "stderr": done.stderr[-2000:],
    }


def main():
    commands, timeout = json.loads(sys.argv[1]), float(sys.argv[2])
    print(json.dumps([answer(command["item"], command["argv"], timeout) for command in commands]))


if __name__ == "__main__":
    main()
