"""Every kind of target is in every place a kind needs and its descriptors cannot reach: the Rust descriptor
(crates/core/src/model/kind.rs) and the workflow generator's kinds (local/asl_gen.py) name the same kinds, and
each has its function in the workflow's substitutions, its delete in the cleanup's policy, its concurrency
setting, its emulator module and its sample cleanup event (`events/cleanup-KIND.json`). A new kind fails here
until it is in PLACES and in every place PLACES names (docs/adding-a-kind.md lists the rest)."""

import re

import asl_gen
from test_template import resources

ROOT = asl_gen.ROOT

# What only this table knows of each kind, by its name (KindInfo.name).
PLACES = {
    "fsx": {"delete": "fsx:DeleteBackup", "emulator": "fsx.py"},
    "ec2": {"delete": "ec2:DeleteSnapshot", "emulator": "ec2.py"},
    "efs": {"delete": "backup:DeleteRecoveryPoint", "emulator": "backup.py"},
}


def rust_kinds():
    text = (ROOT / "crates" / "core" / "src" / "model" / "kind.rs").read_text()
    return re.findall(r'name: "(\w+)",', text)


def test_the_descriptor_and_the_generator_name_the_same_kinds():
    generated = {kind.label for kind, _ in asl_gen.BACKUP_PHASES}
    assert set(rust_kinds()) == generated == set(PLACES)


def test_every_kind_is_in_the_template_and_the_emulator():
    res = resources()
    machine = res["SnapshotMgmtStateMachine"]["Properties"]
    substitutions = machine["DefinitionSubstitutions"]
    cleanup = str(res["CleanupFunction"]["Properties"]["Policies"])
    trigger_env = res["TriggerFunction"]["Properties"]["Environment"]["Variables"]
    for kind, _ in asl_gen.BACKUP_PHASES:
        place = PLACES[kind.label]
        assert kind.backup_function in substitutions, kind.label
        assert place["delete"] in cleanup, kind.label
        assert f"{kind.label.upper()}_CONCURRENCY" in trigger_env, kind.label
        assert (ROOT / "local" / "moto_ext" / place["emulator"]).exists(), kind.label
        # Its sample events, named for the kind as every event file of a kind is.
        assert (ROOT / "events" / f"cleanup-{kind.label}.json").exists(), kind.label
