"""The workflow diagrams of docs/architecture.md are drawn from statemachine/ and must not drift from it."""

import json

import diagram


def test_the_readme_diagrams_match_the_state_machines():
    assert diagram_check() == 0, "run local/diagram.py and commit docs/architecture.md"


def test_a_changed_definition_changes_its_diagram():
    definition = json.loads((diagram.ROOT / diagram.STATE_MACHINES["efs-backup"]).read_text())
    before = diagram.mermaid(definition)
    definition["States"]["Extra"] = {"Type": "Succeed"}
    after = diagram.mermaid(definition)
    assert before != after and '"Extra"' in after


def test_every_state_and_transition_is_drawn():
    definition = json.loads((diagram.ROOT / diagram.STATE_MACHINES["snapshot-mgmt"]).read_text())
    drawn = diagram.mermaid(definition)
    for name in all_state_names(definition["States"]):
        assert f'"{name}' in drawn, name


def all_state_names(states):
    for name, state in states.items():
        yield name
        for branch in state.get("Branches", []) + ([state["ItemProcessor"]] if "ItemProcessor" in state else []):
            yield from all_state_names(branch["States"])


def diagram_check():
    import sys

    saved = sys.argv
    sys.argv = ["diagram.py", "--check"]
    try:
        return diagram.main()
    finally:
        sys.argv = saved
