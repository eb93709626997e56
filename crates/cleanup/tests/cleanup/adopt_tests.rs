//! Adopting the original sample's backups against the emulator: off, they are not even looked at; on, the
//! ones it made of this target follow the rule (MIN_KEEP, the guard) and the report lists them as adopted.

use serde_json::json;
use snapmgmt_core::config::{CleanupConfig, RetentionConfig};
use snapmgmt_core::Result;
use snapmgmt_testkit as kit;

use super::{invoke, settings};

fn adopting(config: Result<CleanupConfig>) -> Result<CleanupConfig> {
    config.map(|c| CleanupConfig { adopt_original_sample: true, ..c })
}

fn unlimited() -> Result<RetentionConfig> {
    Ok(RetentionConfig { retention_days: 7, min_keep: 1, max_delete_percent: 100, ..RetentionConfig::default() })
}

/// A snapshot as the original sample's document tagged it.
async fn samples_snapshot(
    ec2: &snapmgmt_core::aws::aws_sdk_ec2::Client,
    instance: &str,
    request: &str,
    age: i64,
) -> String {
    let tags =
        [("CreatedBy", "Snapshot-Automation-Sample"), ("Ec2InstanceId", instance), ("SnapshotRequestId", request)];
    kit::create_snapshot(ec2, instance, &tags, age).await
}

#[tokio::test]
async fn the_samples_expired_snapshots_of_an_instance_are_adopted_only_when_asked() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 0).await;
    let old = samples_snapshot(&ec2, &instance, "req-1", 30).await;
    let older = samples_snapshot(&ec2, &instance, "req-0", 40).await;
    let other_instance = kit::create_instance(&ec2, &[], 0).await;
    let others = samples_snapshot(&ec2, &other_instance, "req-9", 40).await;
    let new = kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, kit::SEEDED_RUN), 0).await;
    let event = json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": [new], "runId": kit::SEEDED_RUN});

    let off = invoke(&settings(unlimited(), false, None), event.clone()).await.unwrap();
    assert!(off.adopted.is_empty() && off.deleted.is_empty(), "{off:?}");

    let on = invoke(&adopting(settings(unlimited(), false, None)), event).await.unwrap();
    let mut expected = vec![old.clone(), older.clone()];
    expected.sort();
    assert_eq!(on.adopted, expected);
    assert_eq!(on.deleted, expected);
    let left = kit::snapshots_of(&ec2, &instance).await;
    assert_eq!(left, vec![new]);
    let ec2_all = ec2.describe_snapshots().snapshot_ids(&others).send().await.unwrap();
    assert_eq!(ec2_all.snapshots().len(), 1, "another instance's are never adopted here");
}

#[tokio::test]
async fn the_samples_fsx_backups_are_adopted_and_min_keep_counts_them() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let sample =
        [("CreatedBy", "Snapshot-Automation-Sample"), ("FileSystemID", fs.as_str()), ("BackupRequestId", "req-1")];
    let expired = kit::create_backup(&fsx, &fs, &sample, 30).await;
    let someone_elses = kit::create_backup(&fsx, &fs, &[("CreatedBy", "someone")], 30).await;
    let event = json!({"kind": "fsx", "fileSystemId": fs, "dryRun": true, "runId": kit::SEEDED_RUN});

    let preview = invoke(&adopting(settings(unlimited(), false, None)), event).await.unwrap();

    assert_eq!(preview.adopted, vec![expired.clone()]);
    // The preview's own backup of this run is the newest: the sample's is past the retention.
    assert_eq!(preview.deleted, vec![expired]);
    assert!(preview.kept.iter().any(|k| k.id == someone_elses), "{preview:?}");
}
