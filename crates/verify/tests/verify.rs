//! verify against the emulator: snapshots made by EC2, read back through the EBS direct APIs.

use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use snapmgmt_core::config::{TargetTag, VerifyConfig, DEFAULT_TAG_KEY, DEFAULT_TAG_VALUE};
use snapmgmt_core::serve::invoke;
use snapmgmt_core::tags::StackId;
use snapmgmt_core::verify::blocks::BLOCK_BYTES;
use snapmgmt_core::verify::{Outcome, TargetCheck};
use snapmgmt_core::{Error, Result};
use snapmgmt_testkit as kit;
use verify::{Answer, Verify};

fn settings(fraction: u32, stack: Option<&str>) -> VerifyConfig {
    VerifyConfig {
        read_fraction: fraction,
        max_gib_read: 100,
        stack: stack.map(|s| StackId::parse(s).unwrap()),
        inventory_bucket: None,
        target_tag: TargetTag { key: DEFAULT_TAG_KEY.into(), value: DEFAULT_TAG_VALUE.into() },
        stale_days: 14,
        restore: false,
        max_restores: 0,
        efs: None,
        fsx_restore: Default::default(),
        restore_poll_seconds: 60,
        ontap_volumes_of_tagged_file_systems: false,
        random_within_days: 0,
        validation_function: None,
        copy_region: None,
        copy_vault: None,
        copy_network: Default::default(),
    }
}

async fn verify(settings: VerifyConfig, payload: Value) -> Result<TargetCheck> {
    let function = Verify {
        ec2: kit::ec2_client().await,
        ebs: kit::ebs_client().await,
        efs: kit::efs_client().await,
        backup: kit::backup_client().await,
        fsx: kit::fsx_client().await,
        lambda: snapmgmt_core::aws::aws_sdk_lambda::Client::new(&kit::sdk_config().await),
        s3: kit::s3_client().await,
        copy: None,
    };
    match invoke(&function, &Ok(settings), LambdaEvent::new(payload, Default::default())).await? {
        Answer::Check(check) => Ok(*check),
        other => panic!("a check's event answered {other:?}"),
    }
}

/// Every snapshot of the instance, with its tags and state: what a verification must leave as it was (the
/// account's others are other tests', made meanwhile).
async fn inventory(ec2: &kit::aws_sdk_ec2::Client, instance: &str) -> Vec<String> {
    let of_instance = kit::aws_sdk_ec2::types::Filter::builder().name("tag:snapmgmt:TargetId").values(instance).build();
    let out = ec2.describe_snapshots().owner_ids("self").filters(of_instance).send().await.expect("describe snapshots");
    let mut all: Vec<String> = out.snapshots().iter().map(|s| format!("{s:?}")).collect();
    all.sort();
    all
}

#[tokio::test]
async fn the_newest_set_reads_back_and_its_changes_since_the_set_before_are_counted() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 2).await;
    let older = kit::create_snapshot_set(&ec2, &instance, "run-a", &[], 3.0).await;
    let newest = kit::create_snapshot_set(&ec2, &instance, "run-b", &[], 1.0).await;
    let before = inventory(&ec2, &instance).await;

    let check = verify(settings(8, None), json!({"instanceId": instance, "round": 5})).await.unwrap();

    assert_eq!(check.outcome, Outcome::Verified, "{check:?}");
    assert_eq!((check.backup.clone(), check.previous.clone()), (newest.clone(), older));
    assert!(newest.len() >= 2 && check.snapshots.len() == newest.len(), "every volume of the set");
    for snapshot in &check.snapshots {
        assert!(snapshot.blocks > 0, "{snapshot:?}");
        // One block in 8, rotating: about an eighth of the written blocks.
        assert!(snapshot.blocks_read > 0 && snapshot.blocks_read < snapshot.blocks / 4, "{snapshot:?}");
        assert_eq!(snapshot.bytes_read, snapshot.blocks_read * BLOCK_BYTES);
        let changed = snapshot.changed_bytes.expect("a set before it");
        assert!(changed > 0 && changed < snapshot.blocks * BLOCK_BYTES, "two days change some blocks, not all");
    }
    assert_eq!(check.bytes_read, check.snapshots.iter().map(|s| s.bytes_read).sum::<u64>());
    assert!(check.cost_usd > 0.0);
    assert!(!before.is_empty());
    assert_eq!(inventory(&ec2, &instance).await, before, "a verification changes nothing");
}

#[tokio::test]
async fn a_corrupt_block_fails_the_target_and_names_the_snapshot_and_the_block() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 0).await;
    let set = kit::create_snapshot_set(&ec2, &instance, "run-a", &[], 1.0).await;
    let clean = verify(settings(1, None), json!({"instanceId": instance})).await.unwrap();
    assert_eq!(clean.outcome, Outcome::Verified);
    let (blocks, _) = snapmgmt_core::aws::ebs::list_blocks(&kit::ebs_client().await, &set[0]).await.unwrap();
    let (corrupt, dropped) = (blocks[3].index, blocks[7].index);
    kit::set_block_fault(&set[0], corrupt, json!("corrupt"));
    kit::set_block_fault(&set[0], dropped, json!("drop"));

    let check = verify(settings(1, None), json!({"instanceId": instance})).await.unwrap();

    assert_eq!(check.outcome, Outcome::Failed);
    let bad: Vec<(String, i32)> = check.bad_blocks.iter().map(|b| (b.snapshot_id.clone(), b.block_index)).collect();
    assert_eq!(bad, [(set[0].clone(), corrupt), (set[0].clone(), dropped)]);
    assert!(check.bad_blocks[0].reason.contains("checksum says"), "{:?}", check.bad_blocks[0]);
    assert!(check.bad_blocks[1].reason.contains("not served"), "{:?}", check.bad_blocks[1]);
    assert_eq!(check.blocks_read, clean.blocks_read, "every block still read");
}

#[tokio::test]
async fn over_n_rounds_every_block_is_read_exactly_once() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 0).await;
    let set = kit::create_snapshot_set(&ec2, &instance, "run-a", &[], 1.0).await;
    let (blocks, _) = snapmgmt_core::aws::ebs::list_blocks(&kit::ebs_client().await, &set[0]).await.unwrap();
    let corrupt = blocks[blocks.len() / 2].index;
    kit::set_block_fault(&set[0], corrupt, json!("corrupt"));
    let fraction = 4;
    let (mut read, mut failing_rounds) = (0, Vec::new());
    for round in 100..100 + u64::from(fraction) {
        let check = verify(settings(fraction, None), json!({"instanceId": instance, "round": round})).await.unwrap();
        read += check.blocks_read;
        if check.outcome == Outcome::Failed {
            failing_rounds.push(round);
        }
    }
    assert_eq!(read, blocks.len() as u64, "each of the {} blocks once over {fraction} rounds", blocks.len());
    assert_eq!(failing_rounds.len(), 1, "the corrupt block is read in one round of the {fraction}");
}

#[tokio::test]
async fn the_budget_caps_the_bytes_read() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    kit::create_snapshot_set(&ec2, &instance, "run-a", &[], 1.0).await;
    let three_blocks = 3 * BLOCK_BYTES + BLOCK_BYTES / 2;

    let check = verify(settings(1, None), json!({"instanceId": instance, "maxBytes": three_blocks})).await.unwrap();

    assert_eq!((check.blocks_read, check.bytes_read), (3, 3 * BLOCK_BYTES));
    assert!(check.budget_reached && check.outcome == Outcome::Verified, "{check:?}");
}

#[tokio::test]
async fn only_this_stacks_completed_backups_are_verified() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 0).await;
    let none = verify(settings(8, Some("east@us-east-1")), json!({"instanceId": instance})).await.unwrap();
    assert_eq!((none.outcome, none.blocks_read), (Outcome::NoBackup, 0));
    let ours = kit::create_snapshot_set(&ec2, &instance, "run-a", &[("snapmgmt:Stack", "east@us-east-1")], 2.0).await;
    kit::create_snapshot_set(&ec2, &instance, "run-b", &[("snapmgmt:Stack", "west@us-west-2")], 1.0).await;
    let pending =
        kit::create_snapshot_set(&ec2, &instance, "run-c", &[("snapmgmt:Stack", "east@us-east-1")], 0.5).await;
    kit::set_snapshot(&pending[0], json!({"state": "pending"}));

    let check = verify(settings(8, Some("east@us-east-1")), json!({"instanceId": instance})).await.unwrap();

    assert_eq!(check.backup, ours, "not the other stack's newer set, not a pending one");
}

#[tokio::test]
async fn a_bad_event_names_its_field_and_reads_nothing() {
    let err = verify(settings(8, None), json!({"instanceId": "i-nope"})).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "instanceId"), "{err}");
}

#[tokio::test]
async fn with_a_window_a_whole_set_from_within_it_is_drawn_by_the_run_and_the_newest_is_not_always_it() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let outside = kit::create_snapshot_set(&ec2, &instance, "run-old", &[], 20.0).await;
    let mut within = Vec::new();
    for (run, age) in [("run-a", 5.0), ("run-b", 3.0), ("run-c", 1.0)] {
        within.push(kit::create_snapshot_set(&ec2, &instance, run, &[], age).await);
    }
    let windowed = VerifyConfig { random_within_days: 7, ..settings(8, None) };

    let mut drawn = std::collections::BTreeSet::new();
    for round in 0..12 {
        let event = json!({"instanceId": instance, "round": round, "runId": "verify-1"});
        let check = verify(windowed.clone(), event.clone()).await.unwrap();
        assert_eq!(check.outcome, Outcome::Verified, "{check:?}");
        assert!(within.contains(&check.backup), "a whole set of the window: {:?}", check.backup);
        let again = verify(windowed.clone(), event).await.unwrap();
        assert_eq!(again.backup, check.backup, "the same run and round draw the same set");
        drawn.insert(check.backup);
    }
    assert!(drawn.len() >= 2, "not always the newest: {drawn:?}");
    assert!(!drawn.contains(&outside));
}
