//! Tiered retention and per-resource policies against the emulator: a resource's `snapmgmt:Retention`
//! tag replaces the stack's age and tiers; one that does not read fails that resource alone.

use serde_json::json;
use snapmgmt_core::config::RetentionConfig;
use snapmgmt_core::model::PolicySource;
use snapmgmt_core::retention::KeepReason;
use snapmgmt_core::Error;
use snapmgmt_testkit as kit;

use super::{invoke, settings};

const DAY: i64 = 86_400;

/// An FSx file system with these tags and a backup of ours every night for `nights` nights (the newest,
/// tonight's, of this run); returns it and the backups' ids, newest first.
async fn a_year_of_nightly_backups(tags: &[(&str, &str)], nights: i64) -> (String, Vec<String>) {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, tags).await;
    let now = snapmgmt_core::now_epoch_seconds();
    let ours: serde_json::Map<String, serde_json::Value> =
        kit::our_tags(&fs).iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let backups: Vec<_> = (1..nights).map(|n| json!({"tags": ours, "creationTime": now - n * DAY})).collect();
    let made = kit::control("/moto-api/snapmgmt/fsx/bulk-backups", &json!({"fileSystemId": fs, "backups": backups}));
    let mut ids: Vec<String> = vec![kit::create_backup(&fsx, &fs, &kit::our_tags(&fs), 0).await];
    ids.extend(made["backupIds"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_string()));
    (fs, ids)
}

fn unlimited() -> snapmgmt_core::Result<RetentionConfig> {
    Ok(RetentionConfig { retention_days: 14, min_keep: 1, max_delete_percent: 100, ..RetentionConfig::default() })
}

#[tokio::test]
async fn a_resource_tagged_with_tiers_keeps_exactly_its_tiers_of_a_year_of_nightly_backups() {
    let policy = ("snapmgmt:Retention", "daily=7 weekly=4 monthly=12");
    let (fs, ids) = a_year_of_nightly_backups(&[policy], 365).await;

    let event = json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": ids[0], "runId": kit::SEEDED_RUN});
    let report = invoke(&settings(unlimited(), false, None), event).await.unwrap();

    let applied = report.policy.clone().unwrap();
    assert_eq!((applied.source, applied.policy.as_str()), (PolicySource::Tag, "daily=7 weekly=4 monthly=12"));
    // The handler cuts its id lists at 100: the counts are whole.
    let count = |why: KeepReason| report.counts.kept_by_reason.get(&why).copied().unwrap_or(0);
    assert_eq!(count(KeepReason::AmongNewest), 1, "tonight's, the newest MIN_KEEP");
    assert_eq!(count(KeepReason::KeptDaily), 6, "the 6 days before");
    // The newest of each of the last 4 ISO weeks and 12 months, where no finer tier kept it already.
    let (weekly, monthly) = (count(KeepReason::KeptWeekly), count(KeepReason::KeptMonthly));
    assert!((2..=3).contains(&weekly) && (10..=11).contains(&monthly), "weekly {weekly}, monthly {monthly}");
    assert_eq!(count(KeepReason::TooYoung), 0, "the tag gives no age: the tiers decide");
    assert_eq!(report.counts.kept + report.counts.deleted, 365);
    assert_eq!(report.counts.kept, 1 + 6 + weekly + monthly);
    assert!(report.failed.is_empty());

    // A second run right after deletes nothing.
    let event = json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": ids[0], "runId": kit::SEEDED_RUN});
    let again = invoke(&settings(unlimited(), false, None), event).await.unwrap();
    assert!(again.deleted.is_empty(), "{:?}", again.deleted);
}

#[tokio::test]
async fn the_stack_policy_is_named_when_the_resource_has_no_tag() {
    let (fs, ids) = a_year_of_nightly_backups(&[], 3).await;
    let event = json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": ids[0], "runId": kit::SEEDED_RUN});
    let report = invoke(&settings(unlimited(), false, None), event).await.unwrap();
    let applied = report.policy.unwrap();
    assert_eq!(
        (applied.source, applied.policy.as_str(), applied.time_zone.as_str()),
        (PolicySource::Stack, "days=14", "UTC")
    );
}

#[tokio::test]
async fn a_resource_with_a_tag_that_does_not_read_fails_alone_naming_it_and_nothing_is_deleted() {
    let (fs, ids) = a_year_of_nightly_backups(&[("snapmgmt:Retention", "daily=seven")], 30).await;
    let fsx = kit::fsx_client().await;
    let before = snapmgmt_core::aws::fsx::list_backups(&fsx, snapmgmt_core::aws::fsx::Source::of(&fs), None, None)
        .await
        .unwrap()
        .len();

    let event = json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": ids[0], "runId": kit::SEEDED_RUN});
    let err = invoke(&settings(unlimited(), false, None), event).await.unwrap_err();

    assert!(
        matches!(&err, Error::InvalidTag { key: "snapmgmt:Retention", value, .. } if value == "daily=seven"),
        "{err}"
    );
    assert!(err.to_string().contains(&fs) && err.to_string().contains("whole number"), "{err}");
    assert_eq!(
        snapmgmt_core::aws::fsx::list_backups(&fsx, snapmgmt_core::aws::fsx::Source::of(&fs), None, None)
            .await
            .unwrap()
            .len(),
        before
    );
}

#[tokio::test]
async fn an_instance_and_an_efs_file_system_read_their_own_tag_too() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[("snapmgmt:Retention", "days=3")], 0).await;
    let snapshots = [
        kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, "run-old"), 5).await,
        kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, kit::SEEDED_RUN), 0).await,
    ];
    let event =
        json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": [snapshots[1]], "runId": kit::SEEDED_RUN});
    let report = invoke(&settings(unlimited(), false, None), event).await.unwrap();
    assert_eq!(report.policy.unwrap().policy, "days=3");
    assert_eq!(report.deleted, vec![snapshots[0].clone()], "5 days old: past the tag's 3, within the stack's 14");

    let efs = kit::efs_client().await;
    let (fs, _) = kit::create_efs_with_arn(&efs, &[("snapmgmt:Retention", "weekly=x")]).await;
    let event = json!({"kind": "efs", "fileSystemId": fs, "dryRun": true});
    let err = invoke(&settings(unlimited(), false, Some("any-vault")), event).await.unwrap_err();
    assert!(matches!(err, Error::InvalidTag { .. }), "{err}");
}
