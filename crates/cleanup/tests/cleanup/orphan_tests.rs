//! cleanup of orphans against the emulator: the backups of a resource that is no longer a target (an
//! instance terminated, a file system deleted or untagged) are reported, and deleted only when
//! DELETE_ORPHANS allows, after their own retention, keeping the newest, under the guard.

use serde_json::{json, Value};
use snapmgmt_core::config::CleanupConfig;
use snapmgmt_core::retention::KeepReason;
use snapmgmt_core::{Error, Result};
use snapmgmt_testkit as kit;

use super::{guarded, invoke, retention, settings};
use crate::CleanupReport;

fn deleting(config: Result<CleanupConfig>) -> Result<CleanupConfig> {
    config.map(|c| CleanupConfig { delete_orphans: true, ..c })
}

fn orphan(kind: &str, id: &str) -> Value {
    json!({"kind": "orphan", "of": {"kind": kind, "id": id}, "runId": "night-9"})
}

/// A terminated instance with four snapshot sets of ours, 10, 20, 30 and 40 days old.
async fn terminated_instance() -> (String, Vec<String>) {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 0).await;
    let mut snapshots = Vec::new();
    for (n, age) in [10, 20, 30, 40].into_iter().enumerate() {
        let run = format!("run-{n}");
        snapshots.push(kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, &run), age).await);
    }
    ec2.terminate_instances().instance_ids(&instance).send().await.unwrap();
    (instance, snapshots)
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

#[tokio::test]
async fn an_orphans_expired_backups_are_only_reported_unless_deleting_orphans_is_on() {
    let (instance, snapshots) = terminated_instance().await;
    let ec2 = kit::ec2_client().await;

    let report = invoke(&settings(retention(7, 1), false, None), orphan("ec2", &instance)).await.unwrap();

    assert!(report.dry_run, "DELETE_ORPHANS is off: a preview");
    assert_eq!(report.deleted, sorted(&snapshots[1..]), "what it would delete: all but the newest");
    assert!(report.resource_gone, "a terminated instance is gone, though EC2 still describes it");
    let ages = report.ages.unwrap();
    assert_eq!((ages.backups, ages.newest_days, ages.oldest_days), (4, 10, 40));
    assert_eq!(kit::snapshots_of(&ec2, &instance).await.len(), 4);
}

#[tokio::test]
async fn with_deleting_orphans_on_an_orphan_keeps_its_newest_and_loses_the_expired() {
    let (instance, snapshots) = terminated_instance().await;
    let ec2 = kit::ec2_client().await;

    let report: CleanupReport =
        invoke(&deleting(settings(retention(15, 1), false, None)), orphan("ec2", &instance)).await.unwrap();

    assert!(!report.dry_run);
    assert_eq!(report.deleted, sorted(&snapshots[1..]));
    assert_eq!(report.kept[0].reason, KeepReason::AmongNewest);
    assert_eq!(kit::snapshots_of(&ec2, &instance).await, vec![snapshots[0].clone()]);
}

#[tokio::test]
async fn a_report_only_orphan_is_never_failed_by_the_guard() {
    let (instance, _) = terminated_instance().await;
    let report = invoke(&settings(guarded(5), false, None), orphan("ec2", &instance)).await.unwrap();
    assert!(report.dry_run);
    assert_eq!(report.deleted.len(), 3, "what deleting orphans would delete, were the guard raised");
}

#[tokio::test]
async fn the_guard_holds_for_orphans() {
    let (instance, _) = terminated_instance().await;
    let ec2 = kit::ec2_client().await;

    let err = invoke(&deleting(settings(guarded(5), false, None)), orphan("ec2", &instance)).await.unwrap_err();

    assert!(matches!(err, Error::DeleteLimitExceeded { deleting: 3, total: 4, .. }), "{err}");
    assert_eq!(kit::snapshots_of(&ec2, &instance).await.len(), 4);
}

#[tokio::test]
async fn a_deleted_file_systems_backups_are_still_judged_and_only_ours_go() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let ours = kit::our_tags(&fs);
    let newest = kit::create_backup(&fsx, &fs, &ours, 5).await;
    let expired = kit::create_backup(&fsx, &fs, &ours, 50).await;
    let someone_elses = kit::create_backup(&fsx, &fs, &[], 90).await;
    fsx.delete_file_system().file_system_id(&fs).send().await.unwrap();

    let report = invoke(&deleting(settings(retention(7, 1), false, None)), orphan("fsx", &fs)).await.unwrap();

    assert_eq!(report.deleted, vec![expired]);
    let kept: Vec<(&str, KeepReason)> = report.kept.iter().map(|k| (k.id.as_str(), k.reason)).collect();
    assert!(kept.contains(&(newest.as_str(), KeepReason::AmongNewest)), "{kept:?}");
    assert!(kept.contains(&(someone_elses.as_str(), KeepReason::NotOurs)), "{kept:?}");
}

#[tokio::test]
async fn a_deleted_efs_file_systems_recovery_points_are_found_in_the_vault() {
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let (fs, arn) = kit::create_efs_with_arn(&efs, &[]).await;
    let vault = kit::create_vault(&backup).await;
    let tags = kit::our_point_tags(&fs, kit::SEEDED_RUN);
    let points = kit::create_recovery_points(
        &vault,
        &arn,
        &[json!({"tags": tags, "ageDays": 3}), json!({"tags": tags, "ageDays": 30})],
    );
    efs.delete_file_system().file_system_id(&fs).send().await.unwrap();

    let report = invoke(&deleting(settings(retention(7, 1), false, Some(&vault))), orphan("efs", &fs)).await.unwrap();

    assert_eq!(report.deleted, vec![points[1].clone()]);
    assert_eq!(kit::recovery_points_of(&backup, &vault, &arn).await, vec![points[0].clone()]);
}

#[tokio::test]
async fn an_orphan_event_naming_an_id_of_the_wrong_kind_is_refused() {
    let err = invoke(&settings(retention(7, 1), false, None), orphan("ec2", "fs-0123456789abcdef0")).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "of.id"), "{err}");
    let extra =
        json!({"kind": "orphan", "of": {"kind": "fsx", "id": "fs-0123456789abcdef0"}, "newBackupId": "backup-1"});
    let err = invoke(&settings(retention(7, 1), false, None), extra).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { .. }), "an orphan has no new backup: {err}");
}
