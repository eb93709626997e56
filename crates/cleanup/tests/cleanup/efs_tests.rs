//! cleanup of EFS recovery points against the emulator: the same rule, MIN_KEEP, new-backup condition and
//! guard as the other kinds, in the stack's vault only.

use serde_json::{json, Value};
use snapmgmt_core::retention::KeepReason;
use snapmgmt_core::{Error, Result};
use snapmgmt_testkit as kit;

use super::{guarded, invoke, retention, settings};
use crate::CleanupReport;

const RUN: &str = "night-2";

/// A file system in a fresh vault: its ARN, the vault, and this run's new recovery point among older ones.
struct Efs {
    fs: String,
    arn: String,
    vault: String,
}

async fn file_system() -> Efs {
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let (fs, arn) = kit::create_efs_with_arn(&efs, &[kit::target_tag()]).await;
    Efs { fs, arn, vault: kit::create_vault(&backup).await }
}

fn point(tags: Value, age_days: f64) -> Value {
    json!({"tags": tags, "ageDays": age_days})
}

async fn clean(target: &Efs, new: Option<&str>, days: u32, min_keep: u32) -> Result<CleanupReport> {
    let mut event = json!({"kind": "efs", "fileSystemId": target.fs, "runId": RUN});
    if let Some(new) = new {
        event["newRecoveryPointArn"] = json!(new);
    }
    invoke(&settings(retention(days, min_keep), false, Some(&target.vault)), event).await
}

async fn remaining(target: &Efs) -> Vec<String> {
    kit::recovery_points_of(&kit::backup_client().await, &target.vault, &target.arn).await
}

fn reason(report: &CleanupReport, id: &str) -> Option<KeepReason> {
    report.kept.iter().find(|k| k.id == id).map(|k| k.reason)
}

#[tokio::test]
async fn deletes_only_our_expired_recovery_points_and_says_why_it_kept_the_rest() {
    let target = file_system().await;
    let ours = kit::our_point_tags(&target.fs, kit::SEEDED_RUN);
    let points = kit::create_recovery_points(
        &target.vault,
        &target.arn,
        &[
            point(ours.clone(), 10.0),
            point(ours.clone(), 20.0),
            point(ours.clone(), 2.0),
            point(json!({"Name": "someone else"}), 30.0),
            point(kit::our_point_tags("fs-ffffffff", kit::SEEDED_RUN), 30.0),
            point(kit::our_point_tags(&target.fs, RUN), 0.0),
        ],
    );
    let [old_a, old_b, young, untagged, other_target, new] = <[String; 6]>::try_from(points).unwrap();

    let report = clean(&target, Some(&new), 7, 1).await.unwrap();

    let mut expected = vec![old_a, old_b];
    expected.sort();
    assert_eq!(report.deleted, expected);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(reason(&report, &new), Some(KeepReason::AmongNewest));
    assert_eq!(reason(&report, &young), Some(KeepReason::TooYoung));
    assert_eq!(reason(&report, &untagged), Some(KeepReason::NotOurs));
    assert_eq!(reason(&report, &other_target), Some(KeepReason::OtherTarget));
    let mut left = vec![new, young, untagged, other_target];
    left.sort();
    assert_eq!(remaining(&target).await, left);
}

#[tokio::test]
async fn min_keep_holds_when_every_point_is_expired() {
    let target = file_system().await;
    let ours = kit::our_point_tags(&target.fs, kit::SEEDED_RUN);
    let old: Vec<Value> = (0..4).map(|n| point(ours.clone(), 30.0 + f64::from(n))).collect();
    kit::create_recovery_points(&target.vault, &target.arn, &old);
    let new =
        kit::create_recovery_points(&target.vault, &target.arn, &[point(kit::our_point_tags(&target.fs, RUN), 9.0)]);

    let report = clean(&target, Some(&new[0]), 7, 3).await.unwrap();

    assert_eq!(report.deleted.len(), 2, "{report:?}");
    assert_eq!(report.kept.iter().filter(|k| k.reason == KeepReason::AmongNewest).count(), 3);
    assert_eq!(remaining(&target).await.len(), 3);
}

#[tokio::test]
async fn nothing_is_deleted_before_the_new_recovery_point_completed() {
    let target = file_system().await;
    let ours = kit::our_point_tags(&target.fs, kit::SEEDED_RUN);
    kit::create_recovery_points(&target.vault, &target.arn, &[point(ours.clone(), 30.0), point(ours, 40.0)]);
    let mut creating = point(kit::our_point_tags(&target.fs, RUN), 0.0);
    creating["status"] = json!("CREATING");
    let new = kit::create_recovery_points(&target.vault, &target.arn, &[creating]);
    let before = remaining(&target).await;

    let report = clean(&target, Some(&new[0]), 7, 1).await.unwrap();

    assert!(report.deleted.is_empty());
    assert_eq!(report.kept.iter().filter(|k| k.reason == KeepReason::NewBackupNotComplete).count(), 2);
    assert_eq!(remaining(&target).await, before);
}

#[tokio::test]
async fn a_new_recovery_point_that_is_not_this_runs_deletes_nothing() {
    let target = file_system().await;
    let ours = kit::our_point_tags(&target.fs, kit::SEEDED_RUN);
    let points =
        kit::create_recovery_points(&target.vault, &target.arn, &[point(ours.clone(), 30.0), point(ours, 1.0)]);
    let before = remaining(&target).await;

    // The newest point is ours, but of an earlier run: not this run's backup.
    let err = clean(&target, Some(&points[1]), 7, 1).await.unwrap_err();

    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "newRecoveryPointArn"), "{err}");
    assert_eq!(remaining(&target).await, before);
}

#[tokio::test]
async fn the_guard_refuses_a_mass_delete() {
    let target = file_system().await;
    let ours = kit::our_point_tags(&target.fs, kit::SEEDED_RUN);
    let old: Vec<Value> = (0..6).map(|n| point(ours.clone(), 30.0 + f64::from(n))).collect();
    kit::create_recovery_points(&target.vault, &target.arn, &old);
    let new =
        kit::create_recovery_points(&target.vault, &target.arn, &[point(kit::our_point_tags(&target.fs, RUN), 0.0)]);
    let before = remaining(&target).await;

    let event = json!({"kind": "efs", "fileSystemId": target.fs, "newRecoveryPointArn": new[0], "runId": RUN});
    let err = invoke(&settings(guarded(7), false, Some(&target.vault)), event).await.unwrap_err();

    assert!(matches!(err, Error::DeleteLimitExceeded { deleting: 6, total: 7, .. }), "{err}");
    assert_eq!(remaining(&target).await, before);
}

#[tokio::test]
async fn a_point_being_restored_is_kept_in_use_and_the_rest_go() {
    let target = file_system().await;
    let ours = kit::our_point_tags(&target.fs, kit::SEEDED_RUN);
    let mut restoring = point(ours.clone(), 30.0);
    restoring["inUse"] = json!(true);
    let old = kit::create_recovery_points(&target.vault, &target.arn, &[restoring, point(ours, 31.0)]);
    let new =
        kit::create_recovery_points(&target.vault, &target.arn, &[point(kit::our_point_tags(&target.fs, RUN), 0.0)]);

    let report = invoke(
        &settings(retention(7, 1), false, Some(&target.vault)),
        json!({"kind": "efs", "fileSystemId": target.fs, "newRecoveryPointArn": new[0], "runId": RUN,
               "maxDeletePercent": 100}),
    )
    .await
    .unwrap();

    assert_eq!(report.deleted, vec![old[1].clone()]);
    assert_eq!(reason(&report, &old[0]), Some(KeepReason::InUse));
    assert!(report.failed.is_empty());
}

#[tokio::test]
async fn a_dry_run_lists_what_the_run_deletes_and_deletes_nothing() {
    let target = file_system().await;
    let ours = kit::our_point_tags(&target.fs, kit::SEEDED_RUN);
    let old = kit::create_recovery_points(&target.vault, &target.arn, &[point(ours.clone(), 30.0), point(ours, 1.0)]);
    let before = remaining(&target).await;

    let event = json!({"kind": "efs", "fileSystemId": target.fs, "dryRun": true, "runId": RUN});
    let report = invoke(&settings(retention(7, 1), false, Some(&target.vault)), event).await.unwrap();

    assert!(report.dry_run);
    assert_eq!(report.deleted, vec![old[0].clone()]);
    assert_eq!(remaining(&target).await, before);
}

#[tokio::test]
async fn without_the_vault_setting_an_efs_cleanup_fails_naming_it() {
    let target = file_system().await;
    let event = json!({"kind": "efs", "fileSystemId": target.fs, "dryRun": true});
    let err = invoke(&settings(retention(7, 1), false, None), event).await.unwrap_err();
    assert!(matches!(err, Error::InvalidSetting { name: "BACKUP_VAULT_NAME", .. }), "{err}");
}

#[tokio::test]
async fn a_malformed_recovery_point_arn_is_refused_naming_the_field() {
    let target = file_system().await;
    let event = json!({"kind": "efs", "fileSystemId": target.fs, "newRecoveryPointArn": "rp-1", "runId": RUN});
    let err = invoke(&settings(retention(7, 1), false, Some(&target.vault)), event).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "newRecoveryPointArn"), "{err}");
}

#[tokio::test]
async fn in_a_locked_vault_nothing_is_deleted_and_the_report_says_why() {
    let target = file_system().await;
    let backup = kit::backup_client().await;
    backup
        .put_backup_vault_lock_configuration()
        .backup_vault_name(&target.vault)
        .min_retention_days(7)
        .send()
        .await
        .unwrap();
    let ours = kit::our_point_tags(&target.fs, kit::SEEDED_RUN);
    let old = kit::create_recovery_points(&target.vault, &target.arn, &[point(ours.clone(), 30.0), point(ours, 31.0)]);
    let new =
        kit::create_recovery_points(&target.vault, &target.arn, &[point(kit::our_point_tags(&target.fs, RUN), 0.0)]);
    let before = remaining(&target).await;

    let report = clean(&target, Some(&new[0]), 7, 1).await.unwrap();

    assert!(report.deleted.is_empty() && report.failed.is_empty(), "{report:?}");
    for arn in &old {
        assert_eq!(reason(&report, arn), Some(KeepReason::VaultLocked));
    }
    assert_eq!(remaining(&target).await, before);
    // As on AWS, the locked vault itself refuses a delete: the cleanup does not even try.
    let refused = snapmgmt_core::aws::backup::delete_recovery_point(&backup, &target.vault, &old[0]).await;
    assert!(refused.is_err(), "{refused:?}");
}
