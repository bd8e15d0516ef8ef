# Copyright: Contributors to the osg_htc.site collection
# SPDX-License-Identifier: Apache-2.0
"""Tests for the conversion of old-syntax job routes (JOB_ROUTER_ENTRIES, JOB_ROUTER_DEFAULTS), on HTCondor's
own configuration reader and ClassAd parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.osg_htc.site.plugins.module_utils import _route_conversion
from ansible_collections.osg_htc.site.plugins.module_utils._condor_config import check_config_text
from ansible_collections.osg_htc.site.plugins.module_utils._job_routes import build_routes, parse_managed_file
from ansible_collections.osg_htc.site.plugins.module_utils._route_conversion import (
    convert_old_routes,
    one_line,
    split_ads,
    split_attributes,
)
from ansible_collections.osg_htc.site.tests.unit.ce_layout import write_ce

pytest.importorskip("classad2")
pytest.importorskip("htcondor2")

MARKER = Path("/tmp/osg_htc_route_conversion_marker")  # a command run during conversion would create it


def body(text, name):
    """The command lines of route ``name`` in rendered ``text``."""
    routes = parse_managed_file(text)
    return routes[[r["name"] for r in routes].index(name)]["commands"]


def by_name(routes):
    return {route["name"]: route for route in routes}


# --- the packaged routes and the documented recipes -------------------------------------------

# The packaged old-syntax routes of HTCondor-CE 23 (config/02-ce-<batch>.conf).
PACKAGED_OLD = {
    "condor": ('[\n  TargetUniverse = 5;\n  name = "Local_Condor";\n]', {"target_universe": 5}),
    "slurm": ('[\n  GridResource = "batch slurm";\n  TargetUniverse = 9;\n  name = "Local_Slurm";\n]', {}),
    "pbs": ('[\n  GridResource = "batch pbs";\n  TargetUniverse = 9;\n  name = "Local_PBS";\n]', {}),
    "lsf": ('[\n  GridResource = "batch lsf";\n  TargetUniverse = 9;\n  name = "Local_LSF";\n]', {}),
    "sge": ('[\n  GridResource = "batch sge";\n  TargetUniverse = 9;\n  name = "Local_SGE";\n]', {}),
}


@pytest.mark.parametrize("batch", sorted(PACKAGED_OLD))
def test_packaged_routes_convert_and_load(batch):
    ads, _extra = PACKAGED_OLD[batch]
    config = f"# HTCondor-CE {batch} batch system configuration file.\nJOB_ROUTER_ENTRIES @=jre\n{ads}\n@jre\n"
    routes, notes, problems = convert_old_routes(config)
    assert problems == [] and notes == []
    expected = {"name": f"Local_{batch.upper() if batch in ('pbs', 'lsf', 'sge') else batch.title()}"}
    expected["target_universe"] = 5 if batch == "condor" else 9
    if batch != "condor":
        expected["grid_resource"] = f"batch {batch}"
    assert routes == [expected]
    text, names, _w = build_routes(routes)
    assert check_config_text(text, ["JOB_ROUTER_ROUTE_NAMES"]).values == {"JOB_ROUTER_ROUTE_NAMES": names[0]}
    # The bare JOB_ROUTER_ENTRIES value converts to the same route.
    assert convert_old_routes(ads) == (routes, [], [])


def test_packaged_bosco_route_with_line_continuations_converts():
    config = (
        "JOB_ROUTER_ENTRIES = \\\n   [ \\\n"
        '     GridResource = "batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)"; \\\n'
        "     TargetUniverse = 9; \\\n"
        '     name = "Local_BOSCO"; \\\n   ]\n'
    )
    routes, notes, problems = convert_old_routes(config)
    assert problems == []
    assert routes == [
        {"name": "Local_BOSCO", "grid_resource": "batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)", "target_universe": 9}
    ]
    # Not defined in what was read: kept for the CE to expand, as its packaged new-syntax route does.
    assert [n.split()[0] for n in notes] == ["$(BOSCO_ENDPOINT)", "$(BOSCO_RMS)"]
    assert 'GridResource = "batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)"' in build_routes(routes)[0]
    # Where the configuration defines them, they are read as the CE read them.
    defined = "BOSCO_RMS = slurm\nBOSCO_ENDPOINT = osg01@login.example.edu\n" + config
    routes, notes, problems = convert_old_routes(defined)
    assert (notes, problems) == ([], [])
    assert routes[0]["grid_resource"] == "batch slurm osg01@login.example.edu"


# The packaged routes of HTCondor-CE 6/23, which ship each route in both syntaxes: the route lines of
# config/02-ce-<batch>-defaults.conf in github.com/htcondor/htcondor-ce (commit 03eb918d), copied
# verbatim. (The stored versions of 02-ce-lsf-defaults.conf hold only the old syntax.)
PACKAGED_BOTH = {
    "condor": (
        '[\n  TargetUniverse = 5;\n  name = "Local_Condor";\n]',
        "JOB_ROUTER_ROUTE_Local_Condor @=jrt\n  TargetUniverse = 5\n@jrt\n",
    ),
    "slurm": (
        '[\n  GridResource = "batch slurm";\n  TargetUniverse = 9;\n  name = "Local_Slurm";\n]',
        'JOB_ROUTER_ROUTE_Local_Slurm @=jrt\n  TargetUniverse = 9\n  GridResource = "batch slurm"\n@jrt\n',
    ),
    "pbs": (
        '[\n  GridResource = "batch pbs";\n  TargetUniverse = 9;\n  name = "Local_PBS";\n]',
        'JOB_ROUTER_ROUTE_Local_PBS @=jrt\n  TargetUniverse = 9\n  GridResource = "batch pbs"\n@jrt\n',
    ),
    "sge": (
        '[\n  GridResource = "batch sge";\n  TargetUniverse = 9;\n  name = "Local_SGE";\n]',
        'JOB_ROUTER_ROUTE_Local_SGE @=jrt\n  TargetUniverse = 9\n  GridResource = "batch sge"\n@jrt\n',
    ),
    "bosco": (
        '[ \\\n     GridResource = "batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)"; \\\n     TargetUniverse = 9; \\\n'
        '     name = "Local_BOSCO"; \\\n   ]',
        "JOB_ROUTER_ROUTE_Local_BOSCO @=jrt\n  TargetUniverse = 9\n"
        '  GridResource = "batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)"\n@jrt\n',
    ),
}


def _route_value(config, name):
    """``JOB_ROUTER_ROUTE_<name>`` as HTCondor's configuration parser reads ``config``, one stripped line each."""
    result = check_config_text(config, [f"JOB_ROUTER_ROUTE_{name}"])
    assert result.ok is True, result.error
    return [line.strip() for line in result.values[f"JOB_ROUTER_ROUTE_{name}"].splitlines() if line.strip()]


@pytest.mark.parametrize("batch", sorted(PACKAGED_BOTH))
def test_packaged_new_syntax_routes_match_conversion_and_structured_rendering(batch):
    old, new = PACKAGED_BOTH[batch]
    name = new.split()[0][len("JOB_ROUTER_ROUTE_") :]
    packaged_lines = new.splitlines()[1:-1]
    # The model's raw-command validation accepts the packaged block verbatim.
    text, _n, _w = build_routes([{"name": name, "commands": packaged_lines}])
    assert body(text, name) == [line.strip() for line in packaged_lines]
    # Converting upstream's old-syntax twin gives the structured route that renders upstream's new block.
    continued = "JOB_ROUTER_ENTRIES = \\\n   " + old if batch == "bosco" else f"JOB_ROUTER_ENTRIES @=jre\n{old}\n@jre\n"
    routes, notes, problems = convert_old_routes(continued)
    assert problems == []
    assert all("is not defined in the configuration read" in note for note in notes)
    assert bool(notes) == (batch == "bosco")
    structured = {"name": name, "target_universe": 5 if batch == "condor" else 9}
    if batch != "condor":
        structured["grid_resource"] = "batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)" if batch == "bosco" else f"batch {batch}"
    assert routes == [structured]
    rendered, names, _w = build_routes([structured])
    assert names == [name]
    # HTCondor's configuration parser reads the same route from upstream's file and from ours.
    macros = "BOSCO_RMS = slurm\nBOSCO_ENDPOINT = osg01@login.example.edu\n"
    assert _route_value(macros + rendered, name) == _route_value(macros + new, name)


# The recipes of the HTCondor-CE documentation (v5 "Writing Job Routes", both syntaxes shown there).
RECIPES = """
JOB_ROUTER_ENTRIES @=jre
[ Requirements = (TARGET.queue == "prod"); TargetUniverse = 5; set_IsProduction = True; name = "Production_Jobs"; ]
[ Requirements = (TARGET.Owner == "usatlas2"); TargetUniverse = 5; name = "Owner_Route"; ]
[ Requirements = regexp("^usatlas", TARGET.Owner); TargetUniverse = 5; name = "Regexp_Route"; ]
[ Requirements = regexp("\\/cms\\/Role\\=pilot", TARGET.x509UserProxyFirstFQAN); TargetUniverse = 5; name = "FQAN"; ]
[ Requirements = TARGET.orig_AuthTokenIssuer == "https://scitokens.org/osg-connect"; TargetUniverse = 5;
  name = "Token_Issuer"; ]
[ TargetUniverse = 5; name = "Defaults"; set_default_maxMemory = 1000; set_default_xcount = 8;
  set_default_maxWallTime = 60; MaxJobs = 100; MaxIdleJobs = 10;
  set_default_pilot_job_env = strcat("WN_SCRATCH_DIR=/nobackup", " PILOT_COLLECTOR=", JOB_COLLECTOR); ]
[ GridResource = "batch slurm"; TargetUniverse = 9; name = "My_Slurm"; set_default_queue = "osg_queue";
  set_WallTime = 3600; set_AccountingGroup = x509UserProxyFirstFQAN;
  set_default_CERequirements = "WallTime,AccountingGroup"; ]
[ TargetUniverse = 5; name = "Edits"; eval_set_Experiment = strcat("atlas.", TARGET.Owner);
  set_FOO = 1; copy_Environment = "Original_Environment"; delete_Environment = True; ]
@jre
"""


def test_documented_recipes_convert():
    routes, notes, problems = convert_old_routes(RECIPES)
    assert problems == [] and notes == []
    routes_by_name = by_name(routes)
    assert routes_by_name["Production_Jobs"] == {
        "name": "Production_Jobs",
        "target_universe": 5,
        "requirements": '(queue == "prod")',
        "set": {"IsProduction": "True"},
    }
    assert routes_by_name["Owner_Route"]["requirements"] == '(Owner == "usatlas2")'
    # Each expression is kept as written, TARGET. removed.
    assert routes_by_name["Regexp_Route"]["requirements"] == 'regexp("^usatlas", Owner)'
    assert routes_by_name["FQAN"]["requirements"] == 'regexp("\\/cms\\/Role\\=pilot", x509UserProxyFirstFQAN)'
    assert routes_by_name["Token_Issuer"]["requirements"] == (
        'orig_AuthTokenIssuer == "https://scitokens.org/osg-connect"'
    )
    defaults = routes_by_name["Defaults"]
    assert (defaults["default_maxMemory"], defaults["default_xcount"], defaults["default_maxWallTime"]) == (1000, 8, 60)
    assert (defaults["max_jobs"], defaults["max_idle_jobs"]) == (100, 10)
    assert defaults["default_pilot_job_env"] == (
        'strcat("WN_SCRATCH_DIR=/nobackup", " PILOT_COLLECTOR=", JOB_COLLECTOR)'
    )
    slurm = routes_by_name["My_Slurm"]
    assert slurm["default_queue"] == "osg_queue"
    assert slurm["default_CERequirements"] == "WallTime,AccountingGroup"
    assert slurm["set"] == {"AccountingGroup": "x509UserProxyFirstFQAN", "WallTime": "3600"}
    text, _names, _w = build_routes(routes)
    # The old router's class order survives: copy, then delete, then set, then eval_set.
    assert body(text, "Edits") == [
        "TargetUniverse = 5",
        "COPY Environment Original_Environment",
        "DELETE Environment",
        "SET FOO 1",
        'EVALSET Experiment strcat("atlas.", MY.Owner)',
    ]
    assert check_config_text(text, ["JOB_ROUTER_ROUTE_NAMES"]).ok is True


# --- what does not convert faithfully ---------------------------------------------------------


def test_conversion_reports_what_it_cannot_convert_faithfully():
    old = """[ name = "Local Slurm"; GridResource = "batch slurm"; Requirements = MY.x == 1;
    MaxJobs = "lots"; FailureRateThreshold = 0.1; MaxIdleJobs = 99999999999999999999; ]
    [ TargetUniverse = 5; ]"""
    routes, notes, problems = convert_old_routes(old)
    assert [r["name"] for r in routes] == ["Local_Slurm", "Route_2"]
    assert routes[0]["commands"] == ["FailureRateThreshold = 0.1"]
    assert any("renamed 'Local_Slurm'" in n for n in notes)
    assert any("has no name; named Route_2" in n for n in notes)
    assert any("Requirements: refers to MY." in p for p in problems)
    assert any('MaxJobs: "lots" is not an integer' in p for p in problems)
    # HTCondor's parser reads an integer out of the 64-bit range as something else, without a word.
    assert any("MaxIdleJobs: 99999999999999999999 is outside ClassAd's 64-bit integer range" in p for p in problems)


def test_route_attribute_references_are_problems():
    # The old router replaced a reference to a route attribute by its value; the converted route
    # has no such job attribute, so the reference would silently mean something else.
    old = """[ name = "R1"; TargetUniverse = 5; Site = "X"; eval_set_Tag = strcat(Name, "-x");
    Requirements = TARGET.Owner == Site; set_Copy = Site; JobFailureTest = TARGET.ExitCode != 0; ]"""
    routes, _notes, problems = convert_old_routes(old)
    assert any("eval_set_Tag: refers to the route attribute Name" in p for p in problems)
    assert any("Requirements: refers to the route attribute Site" in p for p in problems)
    # set_ was never flattened: there the name always meant the job's attribute.
    assert not any("set_Copy" in p for p in problems)
    # The router flags read TARGET. as the job (MY.), as HTCondor's conversion writes them.
    assert "JobFailureTest = MY.ExitCode != 0" in routes[0]["commands"]


def test_string_route_attributes_keep_their_quotes():
    # The router reads SendIDTokens as an expression: unquoted, "tok" would name an attribute.
    routes, _notes, problems = convert_old_routes('[ name = "R"; TargetUniverse = 5; SendIDTokens = "tok"; ]')
    assert problems == []
    assert routes[0]["commands"] == ['SendIDTokens = "tok"']


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"no \[ \.\.\. \] routes"),
        ("  \n# only a comment\n", r"no \[ \.\.\. \] routes"),
        ("[ a = 1; ] junk", "unexpected 'junk'"),
        ("[ a = 1;", "not closed"),
        ('[ a = "open; ]', "not closed"),
        ("nonsense", "HTCondor's configuration reader does not load"),
        ("A = 1\n", "sets no JOB_ROUTER_ENTRIES"),
    ],
)
def test_not_old_syntax_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        convert_old_routes(text)


def test_invalid_classad_in_old_route_is_a_problem():
    _routes, _notes, problems = convert_old_routes('[ name = "A"; x = ; ]')
    assert problems and "not a valid ClassAd" in problems[0]


def test_split_ads_skips_comments():
    assert split_ads('/* c */ [ a = "]"; ]\n# x [\n[ b = 1; ] // ] [\n') == ['[ a = "]"; ]', "[ b = 1; ]"]


def test_problems_of_the_rendered_routes_are_reported():
    # Whatever the old ad held, the routes either render or the problems say why not.
    routes, _notes, problems = convert_old_routes('[ name = "R"; TargetUniverse = 5; set_default_xcount = 0; ]')
    assert routes[0]["default_xcount"] == 0
    assert any(p.startswith("as converted, route 'R', default_xcount: 0 is out of range") for p in problems)


# --- JOB_ROUTER_DEFAULTS ----------------------------------------------------------------------

# What HTCondor-CE 23's 01-ce-router.conf sets, and a site's additions as the CE documentation writes them.
CE_DEFAULTS = "MERGE_JOB_ROUTER_DEFAULT_ADS = True\nJOB_ROUTER_DEFAULTS = $(JOB_ROUTER_DEFAULTS_GENERATED)\n"
SITE_DEFAULTS = (
    'JOB_ROUTER_DEFAULTS = $(JOB_ROUTER_DEFAULTS) [ set_Foo = 1; set_Site = "X"; ]\n'
    "JOB_ROUTER_DEFAULTS = $(JOB_ROUTER_DEFAULTS) [ set_site = 2.50; MaxIdleJobs = 20; ]\n"
)
TWO_ROUTES = (
    "JOB_ROUTER_ENTRIES @=jre\n"
    '[ name = "A"; TargetUniverse = 5; ]\n'
    '[ name = "B"; TargetUniverse = 5; set_foo = 3; MaxIdleJobs = 7; ]\n'
    "@jre\n"
)


def test_site_defaults_are_merged_into_every_route_and_the_ce_generated_ones_are_not():
    routes, notes, problems = convert_old_routes(CE_DEFAULTS + SITE_DEFAULTS + TWO_ROUTES)
    assert problems == []
    # A later defaults ad wins per attribute (names case-insensitive); a route's own attribute wins over both.
    assert by_name(routes)["A"] == {
        "name": "A",
        "target_universe": 5,
        "max_idle_jobs": 20,
        "set": {"Foo": "1", "site": "2.50"},
    }
    assert by_name(routes)["B"] == {
        "name": "B",
        "target_universe": 5,
        "max_idle_jobs": 7,
        "set": {"foo": "3", "site": "2.50"},
    }
    assert any("JOB_ROUTER_DEFAULTS attributes MaxIdleJobs, set_Foo, set_site are merged" in n for n in notes)
    assert any("generated defaults ($(JOB_ROUTER_DEFAULTS_GENERATED)" in n and "not merged" in n for n in notes)
    assert not any("osg_htc" in str(route) for route in routes)


def test_without_merge_the_router_used_the_first_defaults_ad_only():
    config = CE_DEFAULTS.replace("True", "False") + SITE_DEFAULTS + TWO_ROUTES
    routes, notes, problems = convert_old_routes(config)
    assert problems == []
    assert by_name(routes)["A"] == {"name": "A", "target_universe": 5}
    assert any("holds 3 ads but MERGE_JOB_ROUTER_DEFAULT_ADS is not true" in n for n in notes)


def test_site_defaults_that_replace_the_generated_ones_are_merged():
    # Not starting with '[': the router wrapped the value in [ ... ] (and merged nothing more).
    config = "JOB_ROUTER_DEFAULTS = set_Foo = 1; MaxJobs = 9\n" + TWO_ROUTES
    routes, notes, problems = convert_old_routes(config)
    assert problems == [] and not any("generated" in n for n in notes)
    assert by_name(routes)["A"]["set"] == {"Foo": "1"} and by_name(routes)["A"]["max_jobs"] == 9


@pytest.mark.parametrize(
    ("defaults", "message"),
    [
        ("JOB_ROUTER_DEFAULTS = $(JOB_ROUTER_DEFAULTS) [ set_foo = ; ]\n", "JOB_ROUTER_DEFAULTS ad #1"),
        ("JOB_ROUTER_DEFAULTS = $(JOB_ROUTER_DEFAULTS) [ set_foo = 1; ] junk\n", "JOB_ROUTER_DEFAULTS: unexpected"),
        ("MERGE_JOB_ROUTER_DEFAULT_ADS = sometimes\n", "is neither true nor false"),
    ],
)
def test_defaults_the_router_could_not_read_are_problems(defaults, message):
    _routes, _notes, problems = convert_old_routes(CE_DEFAULTS + defaults + TWO_ROUTES)
    assert any(message in p for p in problems), problems


# --- set_default_* ----------------------------------------------------------------------------


def test_set_default_read_as_an_attribute_is_also_set():
    # The CE's post-route transforms read default_maxMemory as a route variable; an eval_set_ of the
    # route (or of the site's defaults) that reads the job attribute still finds it.
    defaults = (
        "JOB_ROUTER_DEFAULTS = $(JOB_ROUTER_DEFAULTS) "
        "[ eval_set_Mem = ifThenElse(default_maxMemory isnt undefined, default_maxMemory, 2000); ]\n"
    )
    entries = (
        "JOB_ROUTER_ENTRIES @=jre\n"
        '[ name = "Reads"; TargetUniverse = 5; set_default_maxMemory = 4000; set_default_xcount = 8; ]\n'
        "@jre\n"
    )
    routes, notes, problems = convert_old_routes(CE_DEFAULTS + defaults + entries)
    assert problems == []
    route = routes[0]
    assert route["default_maxMemory"] == 4000 and route["default_xcount"] == 8
    assert route["set"] == {"default_maxMemory": "4000"}
    assert any("also SET as the job attribute default_maxMemory, which eval_set_Mem reads" in n for n in notes)
    text, _n, _w = build_routes(routes)
    lines = body(text, "Reads")
    assert lines.index("SET default_maxMemory 4000") < lines.index(
        "EVALSET Mem ifThenElse(default_maxMemory isnt undefined, default_maxMemory, 2000)"
    )
    # Not read: the route variable only.
    routes, _notes, _problems = convert_old_routes(entries)
    assert "set" not in routes[0]


# --- configuration as the CE reads it ---------------------------------------------------------


def test_config_macros_are_expanded_as_the_ce_reads_them():
    config = (
        "SomeFlag = 7\nCluster = slurm\n"
        "JOB_ROUTER_ENTRIES @=jre\n"
        '[ name = "M"; GridResource = "batch $(Cluster)"; set_Flag = $(SomeFlag); set_Host = "$(FULL_HOSTNAME)";'
        " TargetUniverse = 9; ]\n@jre\n"
    )
    routes, notes, problems = convert_old_routes(config)
    assert (notes, problems) == ([], [])
    host = check_config_text("", ["FULL_HOSTNAME"]).values["FULL_HOSTNAME"]
    assert routes[0]["set"] == {"Flag": "7", "Host": f'"{host}"'}
    assert routes[0]["grid_resource"] == "batch slurm"


def test_a_bare_entries_value_is_taken_as_written():
    routes, notes, problems = convert_old_routes('[ name = "S"; TargetUniverse = 5; set_Host = "$(FULL_HOSTNAME)"; ]')
    assert problems == [] and routes[0]["set"] == {"Host": '"$(FULL_HOSTNAME)"'}
    assert any("config macros are not expanded" in n for n in notes)
    _routes, _notes, problems = convert_old_routes('[ name = "S"; set_Flag = $(SomeFlag); ]')
    assert any("not a valid ClassAd" in p for p in problems)


def _ce_23(tmp_path, extra):
    """A CE configuration laid out as HTCondor-CE 23's, with ``extra`` files in its config.d."""
    files = {"01-ce-router.conf": "LOCAL_CONFIG_FILE = /usr/share/condor-ce/condor_ce_router_defaults|\n" + CE_DEFAULTS}
    files.update(extra)
    return write_ce(tmp_path, files)


def test_the_ce_configuration_is_read_whole(tmp_path):
    ce = _ce_23(
        tmp_path,
        {
            "02-ce-slurm.conf": TWO_ROUTES.replace("TargetUniverse = 5; ]", "TargetUniverse = 5; set_F = $(Flag); ]"),
            "90-site-defaults.conf": SITE_DEFAULTS,
            "99-local.conf": "Flag = 3\n",
        },
    )
    routes, notes, problems = convert_old_routes(None, config_root=ce)
    assert problems == []
    assert by_name(routes)["A"]["set"] == {"F": "3", "Foo": "1", "site": "2.50"}
    assert any("not merged" in n for n in notes)


BOSCO = (
    "JOB_ROUTER_ENTRIES = \\\n"
    '   [ GridResource = "batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)"; TargetUniverse = 9; name = "Local_BOSCO"; ]\n'
)


@pytest.mark.parametrize("defined", [False, True])
def test_macros_of_the_ce_files_are_expanded_or_kept(tmp_path, defined):
    extra = {"02-ce-bosco.conf": BOSCO}
    if defined:
        extra["20-bosco.conf"] = "BOSCO_RMS = slurm\nBOSCO_ENDPOINT = osg01@login.example.edu\n"
    routes, notes, problems = convert_old_routes(None, config_root=_ce_23(tmp_path, extra))
    assert problems == []
    if defined:
        assert routes[0]["grid_resource"] == "batch slurm osg01@login.example.edu"
    else:
        assert routes[0]["grid_resource"] == "batch $(BOSCO_RMS) $(BOSCO_ENDPOINT)"
        assert any(n.startswith("$(BOSCO_RMS) is not defined") for n in notes)


def test_a_file_is_read_in_its_place_among_the_ce_files(tmp_path):
    entries = TWO_ROUTES.replace("TargetUniverse = 5; ]", "TargetUniverse = 5; set_F = $(Flag); ]")
    ce = _ce_23(
        tmp_path, {"02-ce-slurm.conf": entries, "90-site-defaults.conf": SITE_DEFAULTS, "99-local.conf": "Flag = 3\n"}
    )
    path = str(Path(ce).parent / "config.d" / "02-ce-slurm.conf")
    routes, notes, problems = convert_old_routes(Path(path).read_text(), path=path, config_root=ce)
    assert problems == [] and by_name(routes)["A"]["set"] == {"F": "3", "Foo": "1", "site": "2.50"}
    # Read alone, the file has neither the site's defaults nor its macros: $(Flag) stays, outside a string.
    routes, notes, problems = convert_old_routes(Path(path).read_text(), path=path)
    assert [route["name"] for route in routes] == ["B"] and "set" in routes[0]
    assert any(p.startswith("route #1") and "not a valid ClassAd" in p for p in problems)
    assert any(n.startswith("$(Flag) is not defined") for n in notes)


def test_a_file_the_ce_does_not_read_is_read_after_its_files(tmp_path):
    ce = _ce_23(tmp_path, {"90-site-defaults.conf": SITE_DEFAULTS})
    path = Path(ce).parent / "config.d" / "02-ce-slurm.conf.rpmsave"
    path.write_text(TWO_ROUTES)
    routes, notes, problems = convert_old_routes(path.read_text(), path=str(path), config_root=ce)
    assert problems == [] and by_name(routes)["A"]["set"] == {"Foo": "1", "site": "2.50"}
    assert any("02-ce-slurm.conf.rpmsave is not one of the files the CE reads" in n for n in notes)
    # A bare JOB_ROUTER_ENTRIES value takes the CE's defaults too.
    bare = '[ name = "A"; TargetUniverse = 5; ]'
    routes, _notes, problems = convert_old_routes(bare, config_root=ce)
    assert problems == [] and routes[0]["set"] == {"Foo": "1", "site": "2.50"}


def test_nothing_is_run_while_reading(tmp_path):
    MARKER.unlink(missing_ok=True)
    run = f"include command : touch {MARKER}\n"
    with pytest.raises(ValueError, match="would run a command"):
        convert_old_routes(run + TWO_ROUTES)
    included = tmp_path / "included.conf"
    included.write_text(run)
    with pytest.raises(ValueError, match="would run a command"):
        convert_old_routes(f"include : {included}\n" + TWO_ROUTES)
    path = tmp_path / "old.conf"
    path.write_text(f"include : {included}\n" + TWO_ROUTES)
    with pytest.raises(ValueError, match="would run a command"):
        convert_old_routes(path.read_text(), path=str(path))
    with pytest.raises(ValueError, match="relative path"):
        convert_old_routes("include : included.conf\n" + TWO_ROUTES)
    # A CE file that would run one is left out, and a note names it.
    ce = _ce_23(tmp_path, {"02-ce-slurm.conf": TWO_ROUTES, "50-run.conf": run})
    routes, notes, problems = convert_old_routes(None, config_root=ce)
    assert problems == [] and len(routes) == 2
    assert any("50-run.conf" in n and "left out" in n for n in notes)
    assert not MARKER.exists()


def test_routes_from_elsewhere_are_problems():
    config = "JOB_ROUTER_ENTRIES_FILE = /etc/old-routes\nJOB_ROUTER_ENTRIES_CMD = /bin/routes\n" + TWO_ROUTES
    _routes, _notes, problems = convert_old_routes(config)
    assert any(p.startswith("JOB_ROUTER_ENTRIES_FILE = '/etc/old-routes'") for p in problems)
    assert any(p.startswith("JOB_ROUTER_ENTRIES_CMD = '/bin/routes'") and "runs no command" in p for p in problems)


# --- the text as written ----------------------------------------------------------------------

WRITTEN = """JOB_ROUTER_ENTRIES @=jre
[ name = "W"; TargetUniverse = 5;
  Requirements = TARGET.queue =?= "prod"  &&  TARGET.x is undefined; /* the prod queue */
  set_Ratio = 1.0;
  set_Half = 2.50 * RequestMemory;
  eval_set_List = { 1, 2 };
  eval_set_Long = ifThenElse(xcount isnt undefined,
                             xcount,   // cores asked for
                             1); ]
@jre
"""


def test_expressions_keep_the_text_written():
    routes, notes, problems = convert_old_routes(WRITTEN)
    assert (notes, problems) == ([], [])
    route = routes[0]
    assert route["requirements"] == 'queue =?= "prod"  &&  x is undefined'
    assert route["set"] == {"Half": "2.50 * RequestMemory", "Ratio": "1.0"}
    assert route["evalset"] == {"List": "{ 1, 2 }", "Long": "ifThenElse(xcount isnt undefined, xcount, 1)"}
    build_routes(routes)


def test_the_unparser_text_where_the_written_one_cannot_be_taken(monkeypatch):
    monkeypatch.setattr(_route_conversion, "split_attributes", lambda ad: [])
    routes, notes, problems = convert_old_routes(WRITTEN)
    assert problems == []
    route = routes[0]
    # HTCondor's old-ClassAd unparser: `is` as `=?=`, reals as written in short form, lists on one line.
    assert route["requirements"] == 'queue =?= "prod" && x =?= undefined'
    assert route["set"] == {"Half": "2.5 * RequestMemory", "Ratio": "1.0"}
    assert route["evalset"]["List"] == "{ 1,2 }"
    assert any(
        "eval_set_List, eval_set_Long, Requirements, set_Half, set_Ratio, TargetUniverse written as" in n for n in notes
    )


def test_split_attributes_and_one_line():
    ad = "[ a = \"x;y\" ; b = f(1, [c = 2; d = 3]) ; /* c; */ 'q n' = 3; e = x // c;\n ; f = \n 1 +\n  2 ]"
    assert split_attributes(ad) == [
        ("a", '"x;y"'),
        ("b", "f(1, [c = 2; d = 3])"),
        ("q n", "3"),
        ("e", "x"),
        ("f", "1 + 2"),
    ]
    assert one_line('a\n   + "b\\"\n c"') == 'a + "b\\"\n c"'
