"""tools/gen_variables_reference.py: the committed reference, markup, nested options, --check."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TOOL = ROOT / "tools" / "gen_variables_reference.py"
_spec = importlib.util.spec_from_file_location("gen_variables_reference", TOOL)
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

DEMO_SPECS = """\
argument_specs:
  main:
    short_description: Demo role for C(condor)
    description:
      - First paragraph with O(demo_port).
      - Second paragraph.
    options:
      demo_port:
        description: Port to open; see U(https://example.org/ports).
        type: int
        default: 9618
      demo_token:
        description: A secret.
        type: str
        no_log: true
        required: true
      demo_series:
        description: A series.
        type: str
        choices: ["23", "24"]
        default: "24"
      demo_reason:
        description: A long message.
        type: str
        default: This sentence is long enough that it cannot sit in a table cell next to the others.
      demo_endpoints:
        description: Endpoints.
        type: list
        elements: dict
        default: []
        options:
          host:
            description: The host.
            type: str
            required: true
          ssh:
            description: SSH settings.
            type: dict
            options:
              port:
                description: The port.
                type: int
                default: 22
"""

INTERNAL_SPECS = """\
argument_specs:
  firewall:
    short_description: Open ports (internal)
    options:
      __demo_ports:
        description: Ports.
        type: list
        elements: int
        required: true
"""


def make_roles(tmp_path: Path) -> Path:
    roles = tmp_path / "roles"
    for name, specs in (("demo", DEMO_SPECS), ("_demo_common", INTERNAL_SPECS)):
        (roles / name / "meta").mkdir(parents=True)
        (roles / name / "meta" / "argument_specs.yml").write_text(specs)
    (roles / "no_specs").mkdir()  # a role without argument specs is left out, not an error
    return roles


def test_committed_reference_is_current(capsys):
    assert gen.main(["--check"]) == 0, capsys.readouterr().err
    text = (ROOT / "docs" / "variables.md").read_text()
    for role in ("access_point", "htcondor_ce", "ce_bosco"):
        assert f"\n## {role}\n" in text
    assert "| `ce_bosco_endpoints[].host_key` | str | no |" in text
    assert "`__common_firewall_ports`" in text  # the internal role, by input name only


@pytest.mark.parametrize(
    ("markup", "markdown"),
    [
        ("C(/etc/condor/tokens.d)", "`/etc/condor/tokens.d`"),
        ("V(ospool_direct)", "`ospool_direct`"),
        ("O(access_point_mode)", "`access_point_mode`"),
        ("O(access_point_mode=flocking)", "`access_point_mode=flocking`"),
        ("I(only) this", "*only* this"),
        ("B(controller)", "**controller**"),
        ("M(osg_htc.site.condor_token)", "`osg_htc.site.condor_token`"),
        ("L(OSG docs,https://osg-htc.org/docs/)", "[OSG docs](https://osg-htc.org/docs/)"),
        ("U(https://osg-htc.org/docs/)", "<https://osg-htc.org/docs/>"),
        ("E(CONDOR_CONFIG)", "`CONDOR_CONFIG`"),
        ("RESOURCE-<fqdn> *not* [a] link", "RESOURCE-\\<fqdn\\> \\*not\\* \\[a\\] link"),
        ("C(a`b)", "`` a`b ``"),
    ],
)
def test_markup_to_markdown(markup, markdown):
    assert gen.markup_to_markdown(markup, "access_point", "main") == markdown


def test_table_cells_stay_one_line_and_escape_pipes():
    text = gen.markup_to_markdown(["C(a|b) and x|y", "second"], "demo", "main", in_table=True)
    assert text == "`a\\|b` and x\\|y<br><br>second"


def test_bad_markup_fails_instead_of_reaching_the_page():
    with pytest.raises(ValueError, match="O"):
        gen.markup_to_markdown("O(a:b:c:d)", "demo", "main")


def test_render_options_defaults_and_nested_options(tmp_path):
    text = gen.render(make_roles(tmp_path))
    assert "### Entry point `main`: Demo role for `condor`" in text
    assert "First paragraph with `demo_port`.\n\nSecond paragraph." in text
    assert "| `demo_port` | int | no | `9618` |  | Port to open; see <https://example.org/ports>. |" in text
    assert "| `demo_token` | str | yes |  |  | A secret.<br><br>**secret** (`no_log`)" in text
    # a string that looks like a number is quoted, as YAML needs it
    assert "| `demo_series` | str | no | `'24'` | `'23'`, `'24'` |" in text
    # a long default goes below the table, as YAML
    assert "| `demo_reason` | str | no | below the table |" in text
    assert "Default of `demo_reason`:\n\n```yaml\ndemo_reason: This sentence is long" in text
    # nested options: the fields of each list item, and the keys of a dict inside them
    assert "| `demo_endpoints` | list of dict | no | `[]` |" in text
    assert "[Fields of each item](#fields-of-each-item-of-demo_endpoints)" in text
    assert "#### Fields of each item of `demo_endpoints`" in text
    assert "| `demo_endpoints[].host` | str | yes |  |  | The host. |" in text
    assert "#### Keys of `demo_endpoints[].ssh`" in text
    assert "| `demo_endpoints[].ssh.port` | int | no | `22` |  | The port. |" in text
    # a role without a main entry point is internal: listed, its inputs by name only
    internal_row = (
        "| [_demo_common](../roles/_demo_common/README.md) | `firewall` | Open ports (internal) | `__demo_ports` |"
    )
    assert internal_row in text
    assert "no_specs" not in text


def test_write_then_check(tmp_path, capsys):
    roles = make_roles(tmp_path)
    output = tmp_path / "variables.md"
    assert gen.main(["--roles-dir", str(roles), "--output", str(output)]) == 0
    assert output.read_text() == gen.render(roles)
    assert gen.main(["--roles-dir", str(roles), "--output", str(output), "--check"]) == 0
    assert gen.main(["--roles-dir", str(roles), "--output", str(output)]) == 0
    assert "already current" in capsys.readouterr().out


def test_check_fails_on_a_stale_file(tmp_path, capsys):
    roles = make_roles(tmp_path)
    output = tmp_path / "variables.md"
    gen.main(["--roles-dir", str(roles), "--output", str(output)])
    specs = roles / "demo" / "meta" / "argument_specs.yml"
    specs.write_text(specs.read_text().replace("default: 9618", "default: 9619"))
    capsys.readouterr()

    assert gen.main(["--roles-dir", str(roles), "--output", str(output), "--check"]) == 1
    err = capsys.readouterr().err
    assert "-| `demo_port` | int | no | `9618` |" in err
    assert "+| `demo_port` | int | no | `9619` |" in err
    assert "is out of date" in err and "run `make docs`" in err
    assert "9618" in output.read_text()  # --check writes nothing


def test_check_fails_on_a_missing_file(tmp_path, capsys):
    output = tmp_path / "variables.md"
    assert gen.main(["--roles-dir", str(make_roles(tmp_path)), "--output", str(output), "--check"]) == 1
    assert "missing; run `make docs`" in capsys.readouterr().err
    assert not output.exists()


def test_specs_that_are_not_a_mapping_are_reported(tmp_path):
    role = tmp_path / "roles" / "demo"
    (role / "meta").mkdir(parents=True)
    (role / "meta" / "argument_specs.yml").write_text("argument_specs: [a, b]\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        gen.render(tmp_path / "roles")
