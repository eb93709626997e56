//! The copies in the copy Region against the emulator (EBS sets, FSx backups, EFS recovery points):
//! cleaned by the same rule, with this run's copies as the new backup, under COPY_RETENTION when set (else
//! the source's policy); the source is not touched.

use serde_json::json;
use snapmgmt_core::config::{CopySettings, RetentionConfig};
use snapmgmt_core::model::PolicySource;
use snapmgmt_core::tiers::Written;
use snapmgmt_core::Error;
use snapmgmt_testkit as kit;

use super::{invoke, settings};

/// The vault in the copy Region that the EFS tests copy into.
const COPY_VAULT: &str = "snapmgmt-copies";

/// A copy in the copy Region of a new snapshot of the instance, as snapshot-ebs makes it, `age_days` old.
async fn a_copy(instance: &str, run: &str, age_days: i64) -> (String, String) {
    let (ec2, destination) = (kit::ec2_client().await, kit::copy_ec2_client().await);
    let source = kit::create_snapshot(&ec2, instance, &kit::our_snapshot_tags(instance, run), age_days).await;
    let mut tags: Vec<(&str, &str)> = kit::our_snapshot_tags(instance, run).to_vec();
    tags.extend([("snapmgmt:SourceId", source.as_str()), ("snapmgmt:SourceRegion", "us-east-1")]);
    let spec = snapmgmt_core::aws::aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(snapmgmt_core::aws::aws_sdk_ec2::types::ResourceType::Snapshot)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| snapmgmt_core::aws::aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .build();
    let copy = destination
        .copy_snapshot()
        .source_region("us-east-1")
        .source_snapshot_id(&source)
        .description(snapmgmt_core::tags::snapshot_description(instance, run))
        .tag_specifications(spec)
        .send()
        .await
        .unwrap()
        .snapshot_id
        .unwrap();
    let started = snapmgmt_core::now_epoch_seconds() - age_days * 86_400;
    kit::control(
        "/moto-api/snapmgmt/ec2/snapshot",
        &json!({"snapshotId": copy, "startTime": started, "state": "completed", "region": kit::COPY_REGION}),
    );
    (source, copy)
}

/// A copy in the copy Region of a new FSx backup of the file system, `age_days` old.
async fn an_fsx_copy(fs: &str, run: &str, age_days: i64) -> (String, String) {
    let fsx = kit::fsx_client().await;
    let source = kit::create_backup(&fsx, fs, &snapmgmt_core::tags::ownership(fs, run), age_days).await;
    let mut tags: Vec<(&str, &str)> = snapmgmt_core::tags::ownership(fs, run).to_vec();
    tags.extend([("snapmgmt:SourceId", source.as_str()), ("snapmgmt:SourceRegion", "us-east-1")]);
    let copy = kit::copy_fsx_backup(&source, &tags).await;
    let created = snapmgmt_core::now_epoch_seconds() - age_days * 86_400;
    kit::control(
        "/moto-api/snapmgmt/fsx/backup",
        &json!({"backupId": copy, "creationTime": created, "lifecycle": "AVAILABLE", "region": kit::COPY_REGION}),
    );
    (source, copy)
}

fn copying(retention: Option<&str>) -> snapmgmt_core::Result<snapmgmt_core::config::CleanupConfig> {
    let base =
        RetentionConfig { retention_days: 7, min_keep: 1, max_delete_percent: 100, ..RetentionConfig::default() };
    settings(Ok(base), false, None).map(|c| snapmgmt_core::config::CleanupConfig {
        copy: CopySettings {
            region: Some(kit::COPY_REGION.to_string()),
            retention: retention.map(|r| Written::parse(r).unwrap()),
            backup_vault_name: Some(COPY_VAULT.to_string()),
            ..Default::default()
        },
        ..c
    })
}

#[tokio::test]
async fn the_copies_are_cleaned_by_the_rule_in_the_copy_region_and_the_source_is_untouched() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let (old_source, old_copy) = a_copy(&instance, "run-old", 20).await;
    let (_, new_copy) = a_copy(&instance, kit::SEEDED_RUN, 0).await;
    let event = json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": [new_copy], "runId": kit::SEEDED_RUN,
                       "region": kit::COPY_REGION});

    let report = invoke(&copying(None), event.clone()).await.unwrap();

    assert_eq!(report.deleted, vec![old_copy.clone()]);
    assert_eq!(report.policy.as_ref().unwrap().source, PolicySource::Stack, "the source's policy by default");
    let source_left = ec2.describe_snapshots().snapshot_ids(&old_source).send().await.unwrap();
    assert_eq!(source_left.snapshots().len(), 1, "the source Region is not cleaned here");

    // COPY_RETENTION keeps them longer there.
    let (_, older_copy) = a_copy(&instance, "run-older", 20).await;
    let report = invoke(&copying(Some("days=30")), event).await.unwrap();
    let applied = report.policy.unwrap();
    assert_eq!((applied.source, applied.policy.as_str()), (PolicySource::Copy, "days=30"));
    assert!(report.deleted.is_empty() && report.kept.iter().any(|k| k.id == older_copy), "{:?}", report.kept);
}

#[tokio::test]
async fn a_region_other_than_the_copy_region_is_refused_naming_it() {
    let event = json!({"kind": "ec2", "instanceId": "i-0123456789abcdef0", "dryRun": true, "region": "eu-west-1"});
    let err = invoke(&copying(None), event.clone()).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "region"), "{err}");
    let base = RetentionConfig { retention_days: 7, ..RetentionConfig::default() };
    let err = invoke(&settings(Ok(base), false, None), event).await.unwrap_err();
    assert!(err.to_string().contains("COPY_REGION"), "{err}");
}

#[tokio::test]
async fn fsx_copies_are_cleaned_in_the_copy_region_with_the_copy_named_as_in_a_list() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[kit::target_tag()]).await;
    let (old_source, old_copy) = an_fsx_copy(&fs, "run-old", 20).await;
    let (_, new_copy) = an_fsx_copy(&fs, kit::SEEDED_RUN, 0).await;
    // The workflow hands on the copy step's copyIds, a list of one.
    let event = json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": [new_copy], "runId": kit::SEEDED_RUN,
                       "region": kit::COPY_REGION});

    let report = invoke(&copying(None), event).await.unwrap();

    assert_eq!(report.deleted, vec![old_copy]);
    assert!(report.kept.iter().any(|k| k.id == new_copy), "{:?}", report.kept);
    let source_left = snapmgmt_core::aws::fsx::describe_backup(&fsx, &old_source).await;
    assert!(source_left.is_ok(), "the source Region is not cleaned here");
    let two = json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": ["backup-0123456789abcdef0", "backup-0123456789abcdef1"]});
    let err = invoke(&copying(None), two).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "newBackupId"), "{err}");
}

#[tokio::test]
async fn efs_copies_are_cleaned_in_the_copy_vault_and_the_stacks_vault_is_untouched() {
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let destination = kit::copy_backup_client().await;
    let _ = destination.create_backup_vault().backup_vault_name(COPY_VAULT).send().await;
    let (fs, fs_arn) = kit::create_efs_with_arn(&efs, &[]).await;
    let vault = kit::create_vault(&backup).await;
    let source = kit::create_recovery_points(
        &vault,
        &fs_arn,
        &[json!({"tags": kit::our_point_tags(&fs, "run-old"), "ageDays": 20})],
    );
    // Copies, as the copy job leaves them in the copy Region's vault.
    let copies = kit::control(
        "/moto-api/snapmgmt/backup/recovery-points",
        &json!({"vault": COPY_VAULT, "resourceArn": fs_arn, "region": kit::COPY_REGION, "points": [
            {"tags": kit::our_point_tags(&fs, "run-old"), "creationDate": snapmgmt_core::now_epoch_seconds() - 20 * 86_400},
            {"tags": kit::our_point_tags(&fs, kit::SEEDED_RUN), "creationDate": snapmgmt_core::now_epoch_seconds()},
        ]}),
    );
    let copies: Vec<String> =
        copies["recoveryPointArns"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    let event = json!({"kind": "efs", "fileSystemId": fs, "newRecoveryPointArn": [copies[1]], "runId": kit::SEEDED_RUN,
                       "region": kit::COPY_REGION});

    let report = invoke(&copying(None), event).await.unwrap();

    assert_eq!(report.deleted, vec![copies[0].clone()]);
    assert_eq!(
        kit::recovery_points_of(&backup, &vault, &fs_arn).await,
        source,
        "the stack's vault is not cleaned here"
    );
    let without_vault = copying(None).map(|c| snapmgmt_core::config::CleanupConfig {
        copy: CopySettings { backup_vault_name: None, ..c.copy },
        ..c
    });
    let event = json!({"kind": "efs", "fileSystemId": fs, "dryRun": true, "region": kit::COPY_REGION});
    let err = invoke(&without_vault, event).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidSetting { name: "COPY_BACKUP_VAULT_NAME", .. }), "{err}");
}
