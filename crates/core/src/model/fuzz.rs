//! Fuzzing of the event parsers: whatever JSON a function is invoked with, parsing answers Ok or a named
//! InvalidEvent, and never panics.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;

/// Any JSON value, nested a few levels, with the keys and values our events use mixed in, so that the
/// parsers get past their first checks.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        any::<u32>().prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        prop::sample::select(WORDS).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8).prop_map(|fields| Value::Object(Map::from_iter(fields))),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![prop::sample::select(KEYS).prop_map(str::to_string), ".{0,12}"]
}

const KEYS: &[&str] = &[
    "kind",
    "action",
    "fileSystemId",
    "backupId",
    "newBackupId",
    "instanceId",
    "snapshotIds",
    "newSnapshotIds",
    "automationExecutionId",
    "runId",
    "attempt",
    "dryRun",
    "time",
    "timing",
    "maxDeletePercent",
    "backupJobId",
    "backupVaultName",
    "iamRoleArn",
    "fsxWaitSeconds",
];

const WORDS: &[&str] = &[
    "fsx",
    "ec2",
    "ebs",
    "fsxBackup",
    "ec2Snapshot",
    "ebsSnapshot",
    "start",
    "status",
    "fs-0123456789abcdef0",
    "fs-01234567",
    "backup-0123456789abcdef0",
    "i-0123456789abcdef0",
    "snap-0123456789abcdef0",
    "2026-11-25T02:00:00Z",
    "arn:aws:states:us-east-1:123456789012:execution:snapmgmt:x",
    "",
    "\u{0}",
    "fs-",
];

/// Every parser of a function's event.
fn parse_all(event: Value) {
    let named = |result: Result<()>| match result {
        Ok(()) | Err(Error::InvalidEvent { .. }) => {}
        Err(other) => panic!("a parser answered {other:?}"),
    };
    named(parse_event::<TriggerEvent>(event.clone()).map(drop));
    named(CheckEvent::parse(event.clone()).map(drop));
    named(parse_event::<BackupFsxEvent>(event.clone()).map(drop));
    named(parse_event::<SnapshotEbsEvent>(event.clone()).map(drop));
    named(CleanupEvent::parse(event.clone()).map(drop));
    named(EfsBackupEvent::parse(event).map(drop));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn no_json_makes_a_parser_panic(event in arb_json()) {
        parse_all(event);
    }

    /// Valid events with one field replaced by anything.
    #[test]
    fn no_field_value_makes_a_parser_panic(field in prop::sample::select(KEYS), value in arb_json()) {
        for mut event in [
            json!({"kind": "fsx", "fileSystemId": "fs-0123456789abcdef0", "newBackupId": "backup-0123456789abcdef0"}),
            json!({"kind": "ec2", "instanceId": "i-0123456789abcdef0", "newSnapshotIds": ["snap-0123456789abcdef0"]}),
            json!({"kind": "ebsSnapshot", "instanceId": "i-0123456789abcdef0", "automationExecutionId": "a"}),
            json!({"action": "start", "fileSystemId": "fs-01234567"}),
            json!({"time": "2026-11-25T02:00:00Z", "dryRun": true, "timing": {"fsxWaitSeconds": 1}}),
        ] {
            event[field] = value.clone();
            parse_all(event);
        }
    }
}
