# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Offline stand-in for the pip bootstrap script ansible-test downloads.

``ansible-test sanity`` builds a virtualenv per sanity tool and seeds pip into
it with ``get-pip-<version>.py`` fetched from a host this network cannot
reach. It reads a saved copy from ``~/.ansible/test/cache/get_pip_<v>.py``
when present; ``make sanity`` puts this script there. It seeds pip from the
interpreter's own ``ensurepip`` and then installs the requested pip version
from PyPI. ansible-test drops ``PIP_CERT`` from the environment, so the CA
bundle is passed on the command line.
"""

from __future__ import annotations

import ensurepip
import os
import subprocess
import sys

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
UNSUPPORTED = {"--no-setuptools", "--no-wheel"}  # get-pip.py options pip itself lacks


def main() -> int:
    ensurepip.bootstrap()
    args = [arg for arg in sys.argv[1:] if arg not in UNSUPPORTED]
    cert = ["--cert", CA_BUNDLE] if os.path.exists(CA_BUNDLE) else []
    return subprocess.call([sys.executable, "-m", "pip", "install", *cert, *args])


if __name__ == "__main__":
    sys.exit(main())
