"""The configuration reference cannot drift: docs/configuration.md is what local/config_doc.py makes of
template.yaml, and the settings the functions' code reads are the ones the template gives them."""

import pathlib
import re
import subprocess
import sys

import config_doc
import iam_template

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
# Read by the settings code but not given by the template: Lambda's own variable, and the earlier names of the
# scripts' settings, still read for stacks deployed before the per-platform ones.
NOT_FROM_THE_TEMPLATE = {"AWS_REGION", "PRE_SCRIPT", "POST_SCRIPT"}


def test_the_configuration_reference_is_the_templates():
    done = subprocess.run([sys.executable, str(ROOT / "local" / "config_doc.py"), "--check"], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


def test_every_parameter_is_in_the_reference_once():
    text = (ROOT / "docs" / "configuration.md").read_text()
    for name in iam_template.transformed_template()["Parameters"]:
        assert text.count(f"\n| `{name}` |") == 1, name


def test_the_settings_code_reads_exactly_what_the_template_gives():
    code = "".join(p.read_text() for p in (ROOT / "crates" / "core" / "src").glob("config*/**/*.rs"))
    code += (ROOT / "crates" / "core" / "src" / "config.rs").read_text()
    read = set(re.findall(r'"([A-Z][A-Z0-9_]{3,})"', code)) - NOT_FROM_THE_TEMPLATE
    template = iam_template.transformed_template()
    given = {
        variable
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        for variable in resource["Properties"].get("Environment", {}).get("Variables", {})
    }
    assert read - given == set(), "read by the settings code, never set by template.yaml"
    assert given - read == set(), "set by template.yaml, never read by the settings code"
    # Each parameter a setting comes from is named with it in the reference.
    assert config_doc.settings_of(template)["OrphanGraceDays"] == {"ORPHAN_GRACE_DAYS": ["cleanup"]}
