# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Every test double under tests/fixtures holds the upstream facts its record in UPSTREAM.yml lists.

The records name the upstream file, ref and commit each double stands for; the
facts in them were read from those files. A double edited away from upstream,
or a file added under tests/fixtures without a record, fails here.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import xml.dom.minidom
from pathlib import Path

import pytest
import yaml

from ansible_collections.osg_htc.site.plugins.module_utils._config_text import block_read_value

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECORDS = yaml.safe_load((FIXTURES / "UPSTREAM.yml").read_text())["doubles"]
BY_PATH = {record["path"]: record for record in RECORDS}
# Files under tests/fixtures that stand for nothing upstream.
NOT_DOUBLES = {"UPSTREAM.yml", "tokens/README.md", "tokens/make_test_tokens.py"}

_HEREDOC = re.compile(r"\A([A-Za-z_][A-Za-z0-9_.]*)\s*@=\s*(\S+)\s*\Z")
_ASSIGN = re.compile(r"\A([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)\Z")
_USE = re.compile(r"\A(use)\s+(.*)\Z", re.I)


def config_settings(text: str) -> list:
    """``[name, value]`` of each setting of a configuration file in order, as HTCondor reads the lines."""
    out, lines, index = [], text.split("\n"), 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        while line.endswith("\\") and not line.startswith("#") and index < len(lines):
            line = line[:-1] + lines[index].strip()
            index += 1
        if not line or line.startswith("#"):
            continue
        heredoc = _HEREDOC.match(line)
        if heredoc:
            body = []
            while lines[index].strip() != "@" + heredoc.group(2):
                body.append(lines[index])
                index += 1
            index += 1
            out.append([heredoc.group(1), block_read_value(body)])
            continue
        match = _USE.match(line) or _ASSIGN.match(line)
        assert match, f"not a setting: {line!r}"
        out.append([match.group(1), match.group(2).strip()])
    return out


def record_ids():
    return [record["path"] for record in RECORDS]


def test_every_fixture_has_a_record():
    files = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.is_file()}
    assert sorted(files - NOT_DOUBLES - set(BY_PATH)) == []
    assert sorted(set(BY_PATH) - files) == []


@pytest.mark.parametrize("record", RECORDS, ids=record_ids())
def test_every_record_cites_its_source(record):
    assert record["stands_for"] and record["reproduces"] and record["leaves_out"]
    for upstream in record["upstream"]:
        assert set(upstream) == {"repo", "path", "ref", "commit"}
        assert re.fullmatch(r"[0-9a-f]{40}", upstream["commit"]), upstream


@pytest.mark.parametrize("record", [r for r in RECORDS if r["kind"] in ("config", "lines")], ids=lambda r: r["path"])
def test_configuration_doubles_hold_the_upstream_settings(record):
    text = (FIXTURES / record["path"]).read_text()
    if record["kind"] == "lines":
        lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
        assert lines == record["lines"]
    else:
        assert config_settings(text) == record["settings"]


@pytest.mark.parametrize("record", [r for r in RECORDS if r["kind"] == "probe_config"], ids=lambda r: r["path"])
def test_probe_config_doubles_hold_every_upstream_attribute_in_order(record):
    document = xml.dom.minidom.parse(str(FIXTURES / record["path"]))  # noqa: S318 (our own fixture)
    element = document.getElementsByTagName("ProbeConfiguration")[0]
    found = list(element.attributes.items())
    assert [name for name, _value in found] == [name for name, _value in record["attributes"]]
    for (name, value), (_name, wanted) in zip(found, record["attributes"]):
        if wanted is not None:
            assert value == wanted, name


@pytest.mark.parametrize("record", [r for r in RECORDS if r["kind"] == "shell_keys"], ids=lambda r: r["path"])
def test_shell_key_doubles_hold_upstream_keys_in_order(record):
    found = []
    for line in (FIXTURES / record["path"]).read_text().splitlines():
        match = re.match(r"^(#?)([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if match:
            found.append([match.group(2), match.group(3), bool(match.group(1))])
    keys = record["keys"]
    if record.get("subset"):
        positions = [keys.index(item) for item in found]  # each must be an upstream key, value and state
        assert positions == sorted(positions), "the keys are not in the upstream order"
    else:
        assert found == keys


def _decode(part: str):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _claims(path: Path):
    header, payload, _signature = path.read_text().strip().split(".")
    return _decode(header), _decode(payload), payload


@pytest.mark.parametrize("record", [r for r in RECORDS if r["kind"] == "token"], ids=lambda r: r["path"])
def test_token_doubles_are_shaped_like_the_registry_issued_ones(record):
    header, payload, raw = _claims(FIXTURES / record["path"])
    assert header == record["header"] and list(header) == list(record["header"])
    assert list(payload) == record["claims"]  # HTCondor writes the members sorted; no exp, no aud
    assert payload["iss"] == record["iss"] and payload["sub"] == record["sub"] and payload["scope"] == record["scope"]
    assert re.fullmatch(r"[0-9a-f]{32}", payload["jti"])
    assert "\\/" in base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()  # '/' written as '\/'


@pytest.mark.parametrize("record", [r for r in RECORDS if r["kind"] == "script"], ids=lambda r: r["path"])
def test_script_doubles_behave_as_upstream(record, tmp_path):
    for index, (before, args, status, stdout, after) in enumerate(record["behaviour"]):
        home = tmp_path / str(index)
        (home / ".bosco").mkdir(parents=True)
        clusterlist = home / ".bosco" / ".clusterlist"
        if before is not None:
            clusterlist.write_text(before)
        env = {"HOME": str(home), "PATH": os.environ["PATH"]}
        run = subprocess.run(
            [str(FIXTURES / record["path"]), *args], env=env, capture_output=True, text=True, check=False
        )
        assert run.returncode == status, (args, run.stdout, run.stderr)
        if stdout is not None:
            assert run.stdout == stdout, args
        assert (clusterlist.read_text() if clusterlist.exists() else None) == after, args
