# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for _condor_config against HTCondor's real parser (the ``htcondor`` wheel in this venv).

The wheel ships no ``condor_config_val`` binary, so the fallback path is driven
by small executables written into tmp_path that stand in for it and parse with
the same wheel (see ``_CONFIG_VAL_DOUBLE``).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import (
    LOCAL_CONFIG_DIR_EXCLUDE_REGEXP,
    NO_CLASSAD_PARSER,
    NO_PARSER,
    Candidate,
    ConfigCheck,
    arrange,
    check_classad_expression,
    check_classad_expressions,
    check_config_file,
    check_config_text,
    check_config_texts_in_place,
    commands_in_file,
    local_config_dir_files,
    parse_error_summary,
    placement,
    read_base_config,
)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("htcondor2") is None, reason="the htcondor wheel (htcondor2, classad2) is not installed"
)

# STANDS IN FOR HTCondor's condor_config_val, which the htcondor wheel does not
# ship and which cannot be installed here. It loads the config named by
# CONDOR_CONFIG with the wheel's real parser (a syntax error makes the import
# print "Configuration Error ..." and exit 1, as condor_config_val does) and
# mimics condor_config_val's output: the value on stdout, or "Not defined: NAME"
# on stderr with exit status 1. {prelude} lets a double imitate
# condor_ce_config_val, which forces its own CONDOR_CONFIG.
_CONFIG_VAL_DOUBLE = """#!{python}
# STANDS IN FOR HTCondor's condor_config_val (not shipped by the htcondor wheel); test double only.
import os, sys
{prelude}
import htcondor2
value = htcondor2.param.get(sys.argv[1])
if value is None:
    sys.stderr.write("Not defined: %s\\n" % sys.argv[1].upper())
    sys.exit(1)
print(value)
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def python_without_bindings(tmp_path_factory) -> str:
    """An interpreter in which ``import htcondor2`` raises ImportError."""
    candidates = ["/usr/bin/python3"]
    venv = tmp_path_factory.mktemp("nobindings") / "venv"
    if subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=False).returncode == 0:
        candidates.append(str(venv / "bin" / "python"))
    for python in candidates:
        if os.access(python, os.X_OK):
            probe = subprocess.run([python, "-c", "import htcondor2"], capture_output=True, check=False)
            if probe.returncode != 0 and b"ModuleNotFoundError" in probe.stderr:
                return python
    pytest.skip("no Python interpreter without the HTCondor bindings is available")


@pytest.fixture
def doubles(tmp_path, monkeypatch) -> Path:
    """A bin dir on PATH holding fake_condor_config_val and fake_condor_ce_config_val."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    ce_config = write(tmp_path, "ce_condor_config", "A = from-the-ce-config\n")
    for name, prelude in (
        ("fake_condor_config_val", ""),
        ("fake_condor_ce_config_val", f"os.environ['CONDOR_CONFIG'] = {str(ce_config)!r}"),
    ):
        script = write(bindir, name, _CONFIG_VAL_DOUBLE.format(python=sys.executable, prelude=prelude))
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return bindir


GOOD = "A = x\nB = $(A)/y\nJOB_ROUTER_ROUTE_X @=jrt\n  UNIVERSE 9\n@jrt\n"
UNTERMINATED = "A = 1\nJOB_ROUTER_ROUTE_X @=jrt\n  UNIVERSE 9\n"


# --- the htcondor2 parser -------------------------------------------------------------


def test_valid_file_gives_expanded_values(tmp_path):
    path = write(tmp_path, "good.conf", GOOD)
    result = check_config_file(str(path), ["A", "B", "JOB_ROUTER_ROUTE_X", "NOT_A_KNOB_ANYWHERE"])
    assert result == ConfigCheck(
        ok=True,
        error=None,
        values={"A": "x", "B": "x/y", "JOB_ROUTER_ROUTE_X": "UNIVERSE 9", "NOT_A_KNOB_ANYWHERE": None},
        parser="htcondor2",
    )


def test_builtin_default_is_reported_and_expanded_against_the_file(tmp_path):
    # The default is $(ETC)/tokens.d: with ETC unset it expands to "/tokens.d".
    bare = check_config_file(str(write(tmp_path, "bare.conf", "A = 1\n")), ["SEC_TOKEN_SYSTEM_DIRECTORY"])
    assert bare.values == {"SEC_TOKEN_SYSTEM_DIRECTORY": "/tokens.d"}
    etc = check_config_file(str(write(tmp_path, "etc.conf", "ETC = /etc/condor\n")), ["SEC_TOKEN_SYSTEM_DIRECTORY"])
    assert etc.values == {"SEC_TOKEN_SYSTEM_DIRECTORY": "/etc/condor/tokens.d"}


def test_multiline_block_body_keeps_its_lines(tmp_path):
    text = 'JOB_ROUTER_ROUTE_Slurm @=jrt\n  UNIVERSE 9\n  GridResource = "batch slurm"\n@jrt\n'
    result = check_config_file(str(write(tmp_path, "route.conf", text)), ["JOB_ROUTER_ROUTE_Slurm"])
    assert result.values == {"JOB_ROUTER_ROUTE_Slurm": 'UNIVERSE 9\nGridResource = "batch slurm"'}


def test_unterminated_block_names_file_line_and_marker(tmp_path):
    path = write(tmp_path, "bad.conf", UNTERMINATED)
    result = check_config_file(str(path), ["A"])
    assert result.ok is False
    assert result.parser == "htcondor2"
    assert result.values == {}
    assert "'@jrt'" in result.error
    assert f'"{path}", Line 3' in result.error
    # The wrapper's own "Line 1 while reading ... check-wrapper.conf" adds nothing here.
    assert "wrapper" not in result.error


def test_if_without_endif(tmp_path):
    result = check_config_file(str(write(tmp_path, "if.conf", "if true\nA = 1\n")))
    assert result.ok is False
    assert "endif(s) not found before end-of-file" in result.error


def test_bare_garbage_line(tmp_path):
    path = write(tmp_path, "garbage.conf", "A = 1\nthis is not valid\n")
    result = check_config_file(str(path))
    assert result.ok is False
    assert f'"{path}", Line 2' in result.error


def test_missing_candidate_file(tmp_path):
    result = check_config_file(str(tmp_path / "absent.conf"))
    assert result.ok is False
    assert "cannot read" in result.error and "absent.conf" in result.error


def test_include_before_gives_values_of_the_whole_stack(tmp_path):
    base = write(tmp_path, "base.conf", "A = 1\nLIST = a\n")
    cand = write(tmp_path, "cand.conf", "LIST = $(LIST), b\n")
    result = check_config_file(str(cand), ["A", "LIST"], include_before=[str(base)])
    assert result.ok is True
    assert result.values == {"A": "1", "LIST": "a, b"}


def test_include_before_path_with_spaces(tmp_path):
    spaced = tmp_path / "dir with spaces"
    spaced.mkdir()
    base = write(spaced, "base conf", "LIST = a\n")
    cand = write(spaced, "cand conf", "LIST = $(LIST), b\n")
    result = check_config_file(str(cand), ["LIST"], include_before=[str(base)])
    assert result.values == {"LIST": "a, b"}


@pytest.mark.parametrize("name", ["d$(X)", "trailing\\", "line\nbreak"])
def test_paths_include_cannot_express_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="cannot include"):
        check_config_file(str(tmp_path / name))


def test_candidate_error_after_include_before_names_the_candidate(tmp_path):
    base = write(tmp_path, "base.conf", "A = 1\n")
    cand = write(tmp_path, "cand.conf", "B = 2\nthis is not valid\n")
    result = check_config_file(str(cand), include_before=[str(base)], label="/etc/condor/config.d/90-site.conf")
    assert result.ok is False
    assert result.error == 'Config source Error "/etc/condor/config.d/90-site.conf", Line 2, Include Depth 1'


def test_error_in_include_before_file_names_that_file(tmp_path):
    base = write(tmp_path, "base.conf", "if true\n")
    cand = write(tmp_path, "cand.conf", "A = 1\n")
    result = check_config_file(str(cand), include_before=[str(base)])
    assert result.ok is False
    assert f'"{base}"' in result.error
    assert "endif" in result.error


def test_only_the_listed_files_are_read(tmp_path):
    # The wrapper empties LOCAL_CONFIG_DIR and LOCAL_CONFIG_FILE: a base config's
    # directory is not read again after the candidate, and a piped
    # LOCAL_CONFIG_FILE (HTCondor-CE's condor_ce_router_defaults) never runs.
    confd = tmp_path / "config.d"
    confd.mkdir()
    write(confd, "50-x.conf", "LIST = $(LIST), fromdir\n")
    marker = tmp_path / "marker"
    base = write(tmp_path, "base.conf", f"LIST = a\nLOCAL_CONFIG_DIR = {confd}\nLOCAL_CONFIG_FILE = touch {marker} |\n")
    cand = write(tmp_path, "cand.conf", "LIST = $(LIST), b\n")
    result = check_config_file(str(cand), ["LIST"], include_before=[str(base)])
    assert result.values == {"LIST": "a, b"}
    assert not marker.exists()


def test_candidate_in_place_among_a_config_dir(tmp_path):
    # The candidate takes the place of a live file: the files before it, then it,
    # then the files after it, and the base config's LOCAL_CONFIG_DIR not again.
    confd = tmp_path / "config.d"
    confd.mkdir()
    first = write(confd, "10-a.conf", "LIST = $(LIST), first\n")
    write(confd, "20-live.conf", "LIST = $(LIST), live\n")
    last = write(confd, "30-z.conf", "LIST = $(LIST), last\n")
    base = write(tmp_path, "base.conf", f"LIST = base\nLOCAL_CONFIG_DIR = {confd}\n")
    result = check_config_text(
        "LIST = $(LIST), candidate\n",
        ["LIST", "LOCAL_CONFIG_DIR"],
        include_before=[str(base), str(first)],
        include_after=[str(last)],
    )
    assert result.ok is True
    assert result.values == {"LIST": "base, first, candidate, last", "LOCAL_CONFIG_DIR": None}


def test_local_config_dir_files_in_htcondor_order(tmp_path):
    one, two = tmp_path / "usr", tmp_path / "etc"
    one.mkdir()
    two.mkdir()
    for name in ["20-b.conf", "01-a.conf", ".hidden", "x.conf~", "y.conf.rpmnew", "z.conf.rpmsave", "#tmp"]:
        write(two, name, "")
    (two / "subdir").mkdir()
    write(one, "50-u.conf", "")
    files = local_config_dir_files(f"{one}, {two} {tmp_path / 'missing'}")
    assert files == [str(one / "50-u.conf"), str(two / "01-a.conf"), str(two / "20-b.conf")]
    assert local_config_dir_files(None) == []


def test_condor_environment_overrides_do_not_leak(tmp_path, monkeypatch):
    path = write(tmp_path, "env.conf", "A = from-file\n")
    monkeypatch.setenv("_CONDOR_A", "from-env")
    monkeypatch.setenv("_condor_B", "from-env")
    # Control: HTCondor itself does honour these variables, so stripping them matters.
    control = subprocess.run(
        [sys.executable, "-c", "import htcondor2; print(htcondor2.param.get('A'), htcondor2.param.get('B'))"],
        env={**os.environ, "CONDOR_CONFIG": str(path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert control.stdout.split() == ["from-env", "from-env"]
    assert check_config_file(str(path), ["A", "B"]).values == {"A": "from-file", "B": None}


# --- check_config_text ------------------------------------------------------------------


def test_check_config_text_removes_its_temp_files(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    good = check_config_text(GOOD, ["B"], tmpdir=str(work))
    bad = check_config_text(UNTERMINATED, tmpdir=str(work))
    assert good.values == {"B": "x/y"}
    assert bad.ok is False
    assert list(work.iterdir()) == []


def test_check_config_text_error_uses_label(tmp_path):
    result = check_config_text(UNTERMINATED, tmpdir=str(tmp_path), label="90-routes.conf")
    assert result.error == (
        "Config source Found end-of-file while scanning for '@jrt' in 90-routes.conf\n"
        'Config source Error "90-routes.conf", Line 3, Include Depth 1'
    )
    default = check_config_text(UNTERMINATED, tmpdir=str(tmp_path))
    assert '"<config text>", Line 3' in default.error


# --- fallback to condor_config_val --------------------------------------------------------


def test_fallback_to_config_val_gives_the_same_values(tmp_path, doubles, python_without_bindings):
    base = write(tmp_path, "base.conf", "LIST = a\n")
    path = write(tmp_path, "good.conf", GOOD + "LIST = $(LIST), b\n")
    names = ["A", "B", "JOB_ROUTER_ROUTE_X", "LIST", "NOT_A_KNOB_ANYWHERE"]
    direct = check_config_file(str(path), names, include_before=[str(base)])
    fallback = check_config_file(
        str(path),
        names,
        include_before=[str(base)],
        python=python_without_bindings,
        config_val=("fake_condor_config_val",),
    )
    assert fallback.parser == "fake_condor_config_val"
    assert fallback.ok is True
    assert fallback.values == direct.values
    assert fallback.values["LIST"] == "a, b"


def test_fallback_reports_config_errors(tmp_path, doubles, python_without_bindings):
    path = write(tmp_path, "bad.conf", UNTERMINATED)
    result = check_config_file(str(path), ["A"], python=python_without_bindings, config_val=("fake_condor_config_val",))
    assert result.ok is False
    assert result.parser == "fake_condor_config_val"
    assert f'"{path}", Line 3' in result.error


def test_fallback_skips_a_tool_that_ignores_condor_config(tmp_path, doubles, python_without_bindings):
    path = write(tmp_path, "good.conf", GOOD)
    only_ce = check_config_file(
        str(path), ["A"], python=python_without_bindings, config_val=("fake_condor_ce_config_val",)
    )
    assert only_ce.ok is None
    assert "fake_condor_ce_config_val ignored CONDOR_CONFIG" in only_ce.error
    both = check_config_file(
        str(path),
        ["A"],
        python=python_without_bindings,
        config_val=("no_such_tool", "fake_condor_ce_config_val", "fake_condor_config_val"),
    )
    assert both == ConfigCheck(ok=True, values={"A": "x"}, parser="fake_condor_config_val")


def test_no_parser_at_all(tmp_path, python_without_bindings):
    path = write(tmp_path, "good.conf", GOOD)
    for python in (python_without_bindings, str(tmp_path / "no-such-python")):
        result = check_config_file(str(path), ["A"], python=python, config_val=("no_such_condor_config_val",))
        assert result == ConfigCheck(ok=None, error=NO_PARSER, values={}, parser=None)
    assert "install python3-condor" in NO_PARSER


# --- parse_error_summary ---------------------------------------------------------------------


def test_parse_error_summary_drops_noise_and_the_wrapper_line():
    stderr = (
        "\n"
        'Config source Error "/tmp/w/c.conf", Line 3, Include Depth 1: \n'
        "   \n"
        "Configuration Error Line 2 while reading global config source /tmp/w/check-wrapper.conf\n"
    )
    labels = {"/tmp/w/check-wrapper.conf": "<validation wrapper>", "/tmp/w/c.conf": "site.conf"}
    assert parse_error_summary(stderr, labels) == 'Config source Error "site.conf", Line 3, Include Depth 1'
    only_wrapper = "Configuration Error Line 1 while reading global config source /tmp/w/check-wrapper.conf\n"
    assert parse_error_summary(only_wrapper, labels) == (
        "Configuration Error Line 1 while reading global config source <validation wrapper>"
    )
    assert parse_error_summary("Traceback\n  something odd\n") == "Traceback\nsomething odd"


# --- ClassAd expressions -----------------------------------------------------------------------


def test_classad_expressions_batch():
    exprs = [
        'regexp("^usatlas", Owner)',
        "1 +",
        'TARGET.queue == "prod"',
        "regexp(",
        'Owner == "usatlas2',
        "1 + 2 ] junk",
        'regexp("\\/cms\\/Role\\=pilot", x509UserProxyFirstFQAN)',
        "x; y = 3",
        "",
    ]
    bad = check_classad_expressions(exprs)
    assert sorted(bad) == [1, 3, 4, 5, 7, 8]
    assert bad[1] == "Unable to parse string into a ClassAd."
    assert bad[5].startswith("text after the end of the expression")
    assert check_classad_expressions(exprs[::2][:2]) == {}
    assert check_classad_expressions([]) == {}


def test_single_classad_expression():
    assert check_classad_expression('TARGET.queue == "prod"') == ConfigCheck(ok=True, parser="classad2")
    bad = check_classad_expression("1 +")
    assert bad.ok is False
    assert bad.error == "Unable to parse string into a ClassAd."


def test_classad_without_bindings(python_without_bindings):
    assert check_classad_expressions(["1 + 1"], python=python_without_bindings) is None
    assert check_classad_expression("1 + 1", python=python_without_bindings) == ConfigCheck(
        ok=None, error=NO_CLASSAD_PARSER
    )


def test_classad_batch_of_1000_runs_in_one_process():
    exprs = [f'regexp("^user{i}", Owner) && RequestCpus <= {i % 64 + 1}' for i in range(1000)]
    exprs[537] = "RequestCpus <= "
    start = time.monotonic()
    bad = check_classad_expressions(exprs)
    elapsed = time.monotonic() - start
    print(f"\n1,000 ClassAd expressions checked in {elapsed:.3f} s")
    assert list(bad) == [537]


# --- read-back, placement and commands ------------------------------------------------------


def test_readback_accepts_exactly_the_settings_intended(tmp_path):
    text = "A = x $(B)\nB = y\nR @=end\n  one\n# dropped\n two\n@end\n"
    result = check_config_text(text, ["A"], readback={"A": "x $(B)", "B": "y", "R": "one\ntwo"})
    assert result.ok is True and result.values == {"A": "x y"}


@pytest.mark.parametrize(
    "text, readback, found",
    [
        # A trailing backslash swallows the next setting.
        ("A = x \\\nB = y\n", {"A": "x \\", "B": "y"}, "B reads back as ''"),
        # A line break in a multi-line value ends it and adds settings.
        (
            "R @=jrt\nDELETE /x\n@jrt\nALLOW_WRITE = *\nJUNK @=jrt\n/\n@jrt\n",
            {"R": "DELETE /x\n@jrt\nALLOW_WRITE = *\nJUNK @=jrt\n/"},
            "it also defines ALLOW_WRITE",
        ),
        # Setting a name that has a built-in default counts too.
        ("A = 1\nDAEMON_LIST = MASTER, STARTD\n", {"A": "1"}, "it also defines DAEMON_LIST"),
    ],
)
def test_readback_finds_what_the_text_really_defines(tmp_path, text, readback, found):
    result = check_config_text(text, readback=readback)
    assert result.ok is False and found in result.error


def test_candidate_that_runs_a_command_is_never_loaded(tmp_path):
    marker = tmp_path / "marker"
    result = check_config_text(f"include command : touch {marker}\n")
    assert result.ok is False and "runs a command" in result.error and not marker.exists()


def test_host_file_including_a_file_that_runs_a_command(tmp_path):
    marker = tmp_path / "marker"
    inner = write(tmp_path, "inner.conf", f"include : touch {marker} |\n")
    outer = write(tmp_path, "outer.conf", f"include : {inner}\n")
    assert commands_in_file(str(outer)) == [f"{inner} line 1: include : touch {marker} |"]


def test_read_base_config_sees_the_directories_without_reading_them(tmp_path):
    confd = tmp_path / "config.d"
    confd.mkdir()
    marker = tmp_path / "marker"
    write(confd, "10-a.conf", f"LOCAL_CONFIG_FILE = touch {marker} |\n")
    base = write(tmp_path, "condor_config", f"LOCAL_CONFIG_DIR = {confd}, /nowhere\n")
    found = read_base_config(str(base))
    assert found.dirs == [str(confd), "/nowhere"] and found.exclude == LOCAL_CONFIG_DIR_EXCLUDE_REGEXP
    assert not marker.exists()


def test_placement_skips_host_files_it_cannot_load_safely(tmp_path):
    confd = tmp_path / "config.d"
    confd.mkdir()
    write(confd, "10-ok.conf", "A = 1\n")
    write(confd, "20-cmd.conf", "include command : true\n")
    write(confd, "30-$(odd).conf", "B = 1\n")
    base = write(tmp_path, "condor_config", f"LOCAL_CONFIG_DIR = {confd}\n")
    where = placement(str(base), str(confd / "50-mine.conf"))
    assert where.before == [str(base), str(confd / "10-ok.conf")] and where.after == []
    assert [s.split(" ")[0] for s in where.skipped] == [str(confd / "20-cmd.conf"), str(confd / "30-$(odd).conf")]


def test_a_killed_check_leaves_nothing_behind_after_the_next_one(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    stale = tmp_path / f"osg_htc-condor-check-{proc.pid}-abc"
    stale.mkdir()
    (stale / "candidate.conf").write_text("A = 1\n")
    mine = tmp_path / f"osg_htc-condor-check-{os.getpid()}-def"
    mine.mkdir()
    check_config_text("A = 1\n", tmpdir=str(tmp_path))
    assert not stale.exists() and mine.exists()


# --- several candidates at once -------------------------------------------------------------


def several(tmp_path):
    confd = tmp_path / "config.d"
    confd.mkdir()
    write(confd, "10-packaged.conf", "A = packaged\nB = packaged\n")
    write(confd, "50-live.conf", "C = live\n")
    write(confd, "99-site.conf", "B = site\n")
    return write(tmp_path, "condor_config", f"LOCAL_CONFIG_DIR = {confd}\n"), confd


def test_arrange_places_every_candidate_where_its_name_puts_it(tmp_path):
    base, confd = several(tmp_path)
    where = arrange(str(base), [str(confd / "90-b.conf"), str(confd / "50-live.conf"), str(confd / "20-a.conf")])
    names = [Path(path).name for path in where.order]
    assert names == ["condor_config", "10-packaged.conf", "20-a.conf", "50-live.conf", "90-b.conf", "99-site.conf"]
    unplaced = arrange(str(base), [str(confd / "20-a.conf"), str(tmp_path / "elsewhere.conf")])
    assert unplaced.order is None and "is not in the LOCAL_CONFIG_DIR" in unplaced.note
    assert list(unplaced.unread) == [str(tmp_path / "elsewhere.conf")]


def test_candidates_are_read_all_in_place_a_removed_one_left_out(tmp_path):
    base, confd = several(tmp_path)
    candidates = [
        Candidate(str(confd / "20-a.conf"), "A = $(A) ours\n", {"A": "$(A) ours"}),
        Candidate(str(confd / "50-live.conf"), None),
        Candidate(str(confd / "90-b.conf"), "B = ours\nC = $(A)\n", {"B": "ours", "C": "$(A)"}),
    ]
    check, where = check_config_texts_in_place(candidates, str(base), ["A", "B", "C"])
    assert check.ok is True, check.error
    # 99-site.conf still sorts after 90-b.conf; 50-live.conf's C is gone; C expands A across the candidates.
    assert check.values == {"A": "packaged ours", "B": "site", "C": "packaged ours"}
    assert not where.skipped and (confd / "50-live.conf").exists()


def test_each_candidates_read_back_failure_is_named(tmp_path):
    base, confd = several(tmp_path)
    candidates = [
        Candidate(str(confd / "20-a.conf"), "A = 1\n", {"A": "1"}),
        Candidate(str(confd / "90-b.conf"), "B = x \\\nD = y\n", {"B": "x \\", "D": "y"}),
    ]
    check, _where = check_config_texts_in_place(candidates, str(base))
    assert check.ok is False
    assert f"HTCondor does not read back the intended settings of {confd / '90-b.conf'}: B reads back" in check.error
    assert "20-a.conf" not in check.error
    with pytest.raises(ValueError, match="the same file is given twice"):
        check_config_texts_in_place([candidates[0], candidates[0]], str(base))
