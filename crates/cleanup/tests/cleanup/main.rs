//! cleanup against the emulator: what is deleted, what is kept and why.

mod adopt_tests;
mod copy_tests;
mod efs_tests;
mod ontap_tests;
mod orphan_tests;
mod tier_tests;

use cleanup::Cleanup;
use futures::StreamExt;
use lambda_runtime::LambdaEvent;
use serde_json::json;
use serde_json::Value;
use snapmgmt_core::aws::aws_sdk_ec2::Client as Ec2Client;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::aws::fsx::list_backups;
use snapmgmt_core::cleanup::Request;
use snapmgmt_core::config::CleanupConfig;
use snapmgmt_core::config::{DryRunSetting, RetentionConfig};
use snapmgmt_core::fsx::FsxStore;
use snapmgmt_core::model::CleanupReport;
use snapmgmt_core::retention::KeepReason;
use snapmgmt_core::serve;
use snapmgmt_core::Error;
use snapmgmt_core::Result;
use snapmgmt_testkit as kit;

pub(crate) fn retention(days: u32, min_keep: u32) -> Result<RetentionConfig> {
    Ok(RetentionConfig { retention_days: days, min_keep, max_delete_percent: 100, ..RetentionConfig::default() })
}

/// Invokes cleanup as the workflow does: with the run that made the new backup.
async fn cleanup(fsx: &FsxClient, retention: Result<RetentionConfig>, mut payload: Value) -> Result<CleanupReport> {
    let ec2 = kit::ec2_client().await;
    if payload.get("runId").is_none() {
        payload["runId"] = json!(run_of_new_backup(fsx, &ec2, &payload).await);
    }
    invoke_via(fsx, &settings(retention, false, None), payload).await
}

pub(crate) fn settings(
    retention: Result<RetentionConfig>,
    dry_run: bool,
    vault: Option<&str>,
) -> Result<CleanupConfig> {
    retention.map(|retention| CleanupConfig {
        retention,
        dry_run: DryRunSetting { dry_run },
        backup_vault_name: vault.map(str::to_string),
        delete_orphans: false,
        adopt_original_sample: false,
        copy: Default::default(),
        // No pace of its own (crate::pace has its tests): the emulator here has no request buckets.
        ec2_api_share: 0,
        ec2_concurrency: 1,
        efs_lifecycle_days: None,
        orphan_grace_days: 1,
    })
}

/// Invokes the handler as Lambda does, with clients of every kind.
pub(crate) async fn invoke(settings: &Result<CleanupConfig>, payload: Value) -> Result<CleanupReport> {
    invoke_via(&kit::fsx_client().await, settings, payload).await
}

/// The same, with this FSx client (one through the fault proxy).
async fn invoke_via(fsx: &FsxClient, settings: &Result<CleanupConfig>, payload: Value) -> Result<CleanupReport> {
    let ec2 = kit::ec2_client().await;
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let copies = Some(kit::copy_region_clients().await);
    let function = Cleanup { fsx: fsx.clone(), ec2, efs, backup, copies };
    serve::invoke(&function, settings, LambdaEvent::new(payload, Default::default())).await
}

/// The RunId tag of the event's new backup (its first snapshot), or `seeded`.
async fn run_of_new_backup(fsx: &FsxClient, ec2: &Ec2Client, payload: &Value) -> String {
    let run_tag = |tags: Vec<(String, String)>| tags.into_iter().find(|(k, _)| k == "snapmgmt:RunId").map(|(_, v)| v);
    let found = if let Some(id) = payload["newBackupId"].as_str().filter(|id| id.starts_with("backup-")) {
        let backups = fsx.describe_backups().backup_ids(id).send().await.ok().and_then(|o| o.backups);
        let tags = backups.and_then(|b| b.into_iter().next()).map(|b| b.tags.unwrap_or_default()).unwrap_or_default();
        run_tag(tags.into_iter().filter_map(|t| Some((t.key?, t.value?))).collect())
    } else if let Some(id) =
        payload["newSnapshotIds"].get(0).and_then(Value::as_str).filter(|id| id.starts_with("snap-"))
    {
        let out = ec2.describe_snapshots().snapshot_ids(id).send().await.ok();
        let tags = out.and_then(|o| o.snapshots).and_then(|s| s.into_iter().next()).map(|s| s.tags.unwrap_or_default());
        run_tag(tags.unwrap_or_default().into_iter().filter_map(|t| Some((t.key?, t.value?))).collect())
    } else {
        None
    };
    found.unwrap_or_else(|| kit::SEEDED_RUN.to_string())
}

async fn remaining(fsx: &FsxClient, fs: &str) -> Vec<String> {
    let mut ids: Vec<String> = list_backups(fsx, snapmgmt_core::aws::fsx::Source::of(fs), None, None)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|b| b.backup_id)
        .collect();
    ids.sort();
    ids
}

fn reason(report: &CleanupReport, id: &str) -> Option<KeepReason> {
    report.kept.iter().find(|k| k.id == id).map(|k| k.reason)
}

/// A file system with this run's new backup and a mixed inventory around it.
struct Inventory {
    fs: String,
    new: String,
    old_ours: Vec<String>,
}

async fn inventory(fsx: &FsxClient) -> (Inventory, Vec<(String, KeepReason)>) {
    let fs = kit::create_windows_file_system(fsx, &[kit::target_tag()]).await;
    let ours = kit::our_tags(&fs);
    let old_ours = vec![kit::create_backup(fsx, &fs, &ours, 10).await, kit::create_backup(fsx, &fs, &ours, 20).await];
    let young = kit::create_backup(fsx, &fs, &ours, 2).await;
    let untagged = kit::create_backup(fsx, &fs, &[], 30).await;
    let other_target = kit::create_backup(fsx, &fs, &[ours[0], ("snapmgmt:TargetId", "fs-ffffffff")], 30).await;
    let foreign = kit::create_backup(fsx, &fs, &ours, 30).await;
    kit::set_backup(&foreign, json!({"ownerId": "210987654321"}));
    let new = kit::create_backup(fsx, &fs, &ours, 0).await;
    let protected = vec![
        (new.clone(), KeepReason::AmongNewest),
        (young, KeepReason::TooYoung),
        (untagged, KeepReason::NotOurs),
        (other_target, KeepReason::OtherTarget),
        (foreign, KeepReason::ForeignAccount),
    ];
    (Inventory { fs, new, old_ours }, protected)
}

#[tokio::test]
async fn deletes_only_our_expired_backups_and_says_why_it_kept_the_rest() {
    let fsx = kit::fsx_client().await;
    let (inv, protected) = inventory(&fsx).await;
    let report = cleanup(&fsx, retention(7, 1), json!({"kind": "fsx", "fileSystemId": inv.fs, "newBackupId": inv.new}))
        .await
        .unwrap();
    let mut expected = inv.old_ours.clone();
    expected.sort();
    assert_eq!(report.deleted, expected);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    for (id, why) in &protected {
        assert_eq!(reason(&report, id), Some(*why), "{id}");
    }
    let mut left: Vec<String> = protected.into_iter().map(|(id, _)| id).collect();
    left.sort();
    assert_eq!(remaining(&fsx, &inv.fs).await, left);
}

#[tokio::test]
async fn nothing_is_deleted_before_the_new_backup_is_available() {
    let fsx = kit::fsx_client().await;
    let (inv, _) = inventory(&fsx).await;
    kit::set_backup(&inv.new, json!({"lifecycle": "CREATING"}));
    let before = remaining(&fsx, &inv.fs).await;
    let report = cleanup(&fsx, retention(7, 1), json!({"kind": "fsx", "fileSystemId": inv.fs, "newBackupId": inv.new}))
        .await
        .unwrap();
    assert!(report.deleted.is_empty());
    for id in &inv.old_ours {
        assert_eq!(reason(&report, id), Some(KeepReason::NewBackupNotComplete));
    }
    assert_eq!(remaining(&fsx, &inv.fs).await, before);
}

#[tokio::test]
async fn a_failed_new_backup_deletes_nothing() {
    let fsx = kit::fsx_client().await;
    let (inv, _) = inventory(&fsx).await;
    kit::set_backup(&inv.new, json!({"lifecycle": "FAILED"}));
    let before = remaining(&fsx, &inv.fs).await;
    let report = cleanup(&fsx, retention(7, 1), json!({"kind": "fsx", "fileSystemId": inv.fs, "newBackupId": inv.new}))
        .await
        .unwrap();
    assert!(report.deleted.is_empty());
    assert_eq!(remaining(&fsx, &inv.fs).await, before);
}

#[tokio::test]
async fn keeps_min_keep_even_when_everything_expired() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let ours = kit::our_tags(&fs);
    let mut ids = Vec::new();
    for age in [40, 30, 20, 10] {
        ids.push(kit::create_backup(&fsx, &fs, &ours, age).await);
    }
    let report = cleanup(&fsx, retention(7, 3), json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": ids[3]}))
        .await
        .unwrap();
    assert_eq!(report.deleted, vec![ids[0].clone()]);
    for id in &ids[1..] {
        assert_eq!(reason(&report, id), Some(KeepReason::AmongNewest));
    }
}

#[tokio::test]
async fn dry_run_reports_what_a_real_run_then_deletes() {
    let fsx = kit::fsx_client().await;
    let (inv, _) = inventory(&fsx).await;
    let before = remaining(&fsx, &inv.fs).await;
    let event = json!({"kind": "fsx", "fileSystemId": inv.fs, "newBackupId": inv.new});
    let mut preview_event = event.clone();
    preview_event["dryRun"] = json!(true);
    let preview = cleanup(&fsx, retention(7, 1), preview_event).await.unwrap();
    assert!(preview.dry_run);
    assert_eq!(remaining(&fsx, &inv.fs).await, before, "a dry run changed something");
    let real = cleanup(&fsx, retention(7, 1), event).await.unwrap();
    assert_eq!(preview.deleted, real.deleted);
    assert_eq!(preview.kept, real.kept);
}

#[tokio::test]
async fn pages_through_more_than_a_thousand_backups() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let ours = kit::our_tags(&fs);
    for _ in 0..1_020 {
        kit::create_backup(&fsx, &fs, &ours, 30).await;
    }
    let new = kit::create_backup(&fsx, &fs, &ours, 0).await;
    let paged =
        snapmgmt_core::aws::fsx::list_backups(&fsx, snapmgmt_core::aws::fsx::Source::of(&fs), None, Some(1_000))
            .await
            .unwrap();
    assert_eq!(paged.len(), 1_021);
    let report =
        cleanup(&fsx, retention(7, 1), json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": new})).await.unwrap();
    assert_eq!(report.counts.deleted, 1_020);
    assert_eq!(report.deleted.len(), snapmgmt_core::model::REPORT_ID_LIMIT, "the workflow gets the first ids");
    assert!(report.truncated);
    assert!(report.failed.is_empty());
    assert_eq!(remaining(&fsx, &fs).await, vec![new]);
}

#[tokio::test]
async fn a_bad_setting_fails_before_anything_is_read_or_changed() {
    let fsx = kit::fsx_client().await;
    let (inv, _) = inventory(&fsx).await;
    let before = remaining(&fsx, &inv.fs).await;
    let bad = RetentionConfig::from_source(&|name: &str| (name == "RETENTION_DAYS").then(|| "0".to_string()));
    let err =
        cleanup(&fsx, bad, json!({"kind": "fsx", "fileSystemId": inv.fs, "newBackupId": inv.new})).await.unwrap_err();
    assert!(matches!(err, Error::InvalidSetting { name: "RETENTION_DAYS", .. }), "{err}");
    assert!(err.to_string().contains("\"0\""), "{err}");
    assert_eq!(remaining(&fsx, &inv.fs).await, before);
}

#[tokio::test]
async fn bad_events_change_nothing() {
    let fsx = kit::fsx_client().await;
    let (inv, _) = inventory(&fsx).await;
    let other_fs = kit::create_windows_file_system(&fsx, &[]).await;
    let before = remaining(&fsx, &inv.fs).await;
    for (payload, field) in [
        (json!({"kind": "fsx", "fileSystemId": inv.fs}), "newBackupId"),
        (json!({"kind": "fsx", "fileSystemId": inv.fs, "newBackupId": 7}), "newBackupId"),
        (json!({"kind": "rds", "fileSystemId": inv.fs}), "kind"),
        (json!({"fileSystemId": inv.fs}), "kind"),
        (json!({"kind": "fsx", "fileSystemId": other_fs, "newBackupId": inv.new}), "newBackupId"),
    ] {
        let err = cleanup(&fsx, retention(7, 1), payload.clone()).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field: f, .. } if f == field), "{payload}: {err}");
    }
    assert_eq!(remaining(&fsx, &inv.fs).await, before);
}

// ---------------------------------------------------------------- EBS snapshot sets

#[tokio::test]
async fn ebs_deletes_only_our_expired_sets_and_keeps_in_use_snapshots() {
    let fsx = kit::fsx_client().await;
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let set = |run: &'static str| kit::our_snapshot_tags(&instance, run);
    // An old set of two snapshots, an old set an AMI uses, a pending old one, a young one, this run's.
    let mut old = vec![
        kit::create_snapshot(&ec2, &instance, &set("old"), 20).await,
        kit::create_snapshot(&ec2, &instance, &set("old"), 20).await,
    ];
    old.sort(); // reports list ids in order
    let in_use = kit::create_snapshot(&ec2, &instance, &set("in-use"), 30).await;
    let image =
        ec2.create_image().instance_id(&instance).name(kit::unique("ami")).send().await.unwrap().image_id.unwrap();
    kit::set_snapshot(&in_use, json!({"inUseBy": image}));
    let pending = kit::create_snapshot(&ec2, &instance, &set("pending"), 25).await;
    kit::set_snapshot(&pending, json!({"state": "pending"}));
    let young = kit::create_snapshot(&ec2, &instance, &set("young"), 2).await;
    let foreign = kit::create_snapshot(&ec2, &instance, &set("foreign"), 40).await;
    kit::set_snapshot(&foreign, json!({"ownerId": "210987654321"}));
    let not_ours = kit::create_snapshot(&ec2, &instance, &[], 40).await;
    let new = kit::create_snapshot(&ec2, &instance, &set("new"), 0).await;

    let report =
        cleanup(&fsx, retention(7, 1), json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": [new]}))
            .await
            .unwrap();

    assert_eq!(report.deleted, old, "{report:?}");
    assert_eq!(reason(&report, &in_use), Some(KeepReason::InUse));
    assert_eq!(reason(&report, &pending), Some(KeepReason::NotCompleted));
    assert_eq!(reason(&report, &young), Some(KeepReason::TooYoung));
    assert_eq!(reason(&report, &new), Some(KeepReason::AmongNewest));
    assert!(report.failed.is_empty(), "an AMI's snapshot is kept, not a failure: {report:?}");
    let remaining = kit::snapshots_of(&ec2, &instance).await;
    assert!(old.iter().all(|id| !remaining.contains(id)));
    // Never even looked at: another account's (OwnerIds=self) and untagged ones (server-side tag filter).
    for id in [&foreign, &not_ours] {
        assert!(report.kept.iter().all(|k| &k.id != id) && !report.deleted.contains(id));
        assert!(ec2.describe_snapshots().snapshot_ids(id.clone()).send().await.is_ok());
    }
}

#[tokio::test]
async fn ebs_deletes_nothing_until_this_runs_snapshots_complete() {
    let fsx = kit::fsx_client().await;
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let old = kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, "old"), 20).await;
    let new = kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, "new"), 0).await;
    kit::set_snapshot(&new, json!({"state": "pending"}));

    let report =
        cleanup(&fsx, retention(7, 1), json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": [new]}))
            .await
            .unwrap();

    assert!(report.deleted.is_empty());
    assert_eq!(reason(&report, &old), Some(KeepReason::NewBackupNotComplete));
    let err = cleanup(&fsx, retention(7, 1), json!({"kind": "ec2", "instanceId": instance})).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "newSnapshotIds"), "{err}");
    assert!(kit::snapshots_of(&ec2, &instance).await.contains(&old));
}

#[tokio::test]
async fn ebs_cleanup_pages_past_a_thousand_snapshots() {
    let fsx = kit::fsx_client().await;
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    // 1,010 old snapshots of one old run (one set), made concurrently, and this run's.
    let tags = kit::our_snapshot_tags(&instance, "old");
    let old: Vec<String> = futures::stream::iter(0..1_010)
        .map(|_| kit::create_snapshot(&ec2, &instance, &tags, 20))
        .buffer_unordered(16)
        .collect()
        .await;
    let new = kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, "new"), 0).await;

    let report =
        cleanup(&fsx, retention(7, 1), json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": [new]}))
            .await
            .unwrap();

    assert_eq!(report.counts.deleted, old.len());
    assert_eq!(kit::snapshots_of(&ec2, &instance).await, vec![new]);
}

// ---------------------------------------------------------------- the delete guard

pub(crate) fn guarded(days: u32) -> Result<RetentionConfig> {
    Ok(RetentionConfig { retention_days: days, min_keep: 1, max_delete_percent: 50, ..RetentionConfig::default() })
}

#[tokio::test]
async fn the_guard_refuses_a_mass_delete_whole_until_the_setting_allows_it() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let ours = kit::our_tags(&fs);
    for age in [30, 20, 10] {
        kit::create_backup(&fsx, &fs, &ours, age).await;
    }
    let new = kit::create_backup(&fsx, &fs, &ours, 0).await;
    let before = remaining(&fsx, &fs).await;
    let event = json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": new});

    // 3 of 4 is more than half: refused, in a dry run as in a real run, and nothing is deleted.
    for dry_run in [true, false] {
        let mut event = event.clone();
        event["dryRun"] = json!(dry_run);
        let err = cleanup(&fsx, guarded(7), event).await.unwrap_err();
        assert!(matches!(&err, Error::DeleteLimitExceeded { deleting: 3, total: 4, max_percent: 50, .. }), "{err}");
        assert_eq!(err.kind(), "DeleteLimitExceeded");
        assert!(err.to_string().contains(&fs) && err.to_string().contains("MAX_DELETE_PERCENT"), "{err}");
    }
    assert_eq!(remaining(&fsx, &fs).await, before);

    // An event cannot lift the guard: whoever can invoke cleanup could.
    let mut asked = event.clone();
    asked["maxDeletePercent"] = json!(100);
    let err = cleanup(&fsx, guarded(7), asked).await.unwrap_err();
    assert!(matches!(&err, Error::DeleteLimitExceeded { max_percent: 50, .. }), "{err}");
    assert_eq!(remaining(&fsx, &fs).await, before);

    // The operator raises the setting (the stack's MaxDeletePercent).
    let raised =
        Ok(RetentionConfig { retention_days: 7, min_keep: 1, max_delete_percent: 75, ..RetentionConfig::default() });
    let report = cleanup(&fsx, raised, event).await.unwrap();
    assert_eq!(report.deleted.len(), 3);
    assert_eq!(remaining(&fsx, &fs).await, vec![new]);
}

#[tokio::test]
async fn a_stack_deployed_as_a_dry_run_deletes_nothing_whatever_the_event_says() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let ours = kit::our_tags(&fs);
    kit::create_backup(&fsx, &fs, &ours, 30).await;
    let new = kit::create_backup(&fsx, &fs, &ours, 0).await;
    let before = remaining(&fsx, &fs).await;
    let event =
        json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": new, "dryRun": false, "runId": kit::SEEDED_RUN});
    let report = invoke(&settings(retention(7, 1), true, None), event).await.unwrap();

    assert!(report.dry_run);
    assert_eq!(report.deleted.len(), 1, "it says what it would delete");
    assert_eq!(remaining(&fsx, &fs).await, before, "and deletes nothing");
}

#[tokio::test]
async fn the_guard_counts_snapshot_sets_and_allows_a_nightly_delete() {
    let fsx = kit::fsx_client().await;
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 2).await;
    // Eight nightly sets of two snapshots, the oldest expired: one set of eight goes.
    let mut sets = Vec::new();
    for night in 0..8 {
        let run = format!("night-{night}");
        let tags = kit::our_snapshot_tags(&instance, &run);
        let age = if night == 0 { 10 } else { 7 - night }; // 10 days, then 6 to 0: clear of the cutoff
        sets.push(vec![
            kit::create_snapshot(&ec2, &instance, &tags, age).await,
            kit::create_snapshot(&ec2, &instance, &tags, age).await,
        ]);
    }
    let newest = sets[7].clone();
    let mut expired = sets[0].clone();
    expired.sort();

    let report = cleanup(&fsx, guarded(7), json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": newest}))
        .await
        .unwrap();

    assert_eq!(report.deleted, expired);
}

#[tokio::test]
async fn ebs_dry_run_reports_what_a_real_run_then_does_ami_snapshots_included() {
    let fsx = kit::fsx_client().await;
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let old = kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, "old"), 20).await;
    let in_use = kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, "ami"), 30).await;
    let image =
        ec2.create_image().instance_id(&instance).name(kit::unique("ami")).send().await.unwrap().image_id.unwrap();
    kit::set_snapshot(&in_use, json!({"inUseBy": image}));
    let new = kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, "new"), 0).await;
    let event = json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": [new]});
    let mut preview_event = event.clone();
    preview_event["dryRun"] = json!(true);

    let preview = cleanup(&fsx, retention(7, 1), preview_event).await.unwrap();
    assert_eq!(kit::snapshots_of(&ec2, &instance).await.len(), 3, "a dry run changed something");
    let real = cleanup(&fsx, retention(7, 1), event).await.unwrap();

    assert_eq!(preview.deleted, vec![old]);
    assert_eq!(reason(&preview, &in_use), Some(KeepReason::InUse));
    assert_eq!((preview.deleted, preview.kept), (real.deleted, real.kept));
}

// ---------------------------------------------------------------- AWS faults, through the fault proxy

use kit::fault_proxy::{Fault, Rule};
use snapmgmt_core::aws::CallPattern;

/// A file system with `expired` of our backups past the retention, and this run's; the expired ids.
async fn expired_inventory(fsx: &FsxClient, expired: usize) -> (String, String, Vec<String>) {
    let fs = kit::create_windows_file_system(fsx, &[]).await;
    let ours = kit::our_tags(&fs);
    let mut old = Vec::new();
    for _ in 0..expired {
        old.push(kit::create_backup(fsx, &fs, &ours, 30).await);
    }
    old.sort();
    (fs.clone(), kit::create_backup(fsx, &fs, &ours, 0).await, old)
}

#[tokio::test]
async fn under_30_percent_throttling_of_every_call_cleanup_deletes_exactly_the_expired_backups() {
    let fsx = kit::fsx_client().await;
    let (fs, new, expired) = expired_inventory(&fsx, 40).await;
    let proxy = kit::fault_proxy();
    proxy.set_rules(vec![Rule::new("*", Fault::Throttle).rate(0.3)], 30);
    let via = FsxClient::new(&kit::sdk_config_at(proxy.url(), CallPattern::Bursty).await);

    let report =
        cleanup(&via, retention(7, 1), json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": new})).await.unwrap();

    let faults = proxy.faults();
    let (sent, injected) = (faults.requests.values().sum::<u64>(), faults.injected.values().sum::<u64>());
    eprintln!("30% throttling: {sent} requests, {injected} throttled, {} of 40 deleted", report.deleted.len());
    assert!(injected > 0, "{faults:?}");
    assert_eq!(report.deleted, expired, "{report:?}");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(remaining(&fsx, &fs).await, vec![new]);
}

#[tokio::test]
async fn a_cleanup_describes_its_file_system_once_lists_its_backups_in_one_page_and_records_its_policy() {
    let fsx = kit::fsx_client().await;
    let (fs, new, expired) = expired_inventory(&fsx, 5).await;
    let proxy = kit::fault_proxy();
    proxy.set_rules(Vec::new(), 1);
    let via = FsxClient::new(&kit::sdk_config_at(proxy.url(), CallPattern::Bursty).await);

    let event = json!({"kind": "fsx", "fileSystemId": fs, "newBackupId": new, "runId": kit::SEEDED_RUN});
    let report = cleanup(&via, retention(7, 1), event).await.unwrap();

    assert_eq!(report.deleted, expired);
    let requests = proxy.faults().requests;
    // Its account and its snapmgmt:Retention tag come from one DescribeFileSystems.
    assert_eq!(requests.get("DescribeFileSystems"), Some(&1), "{requests:?}");
    // One listing page, and the new backup's ARN, which FSx tags by: its policy recorded in one TagResource.
    assert_eq!(requests.get("DescribeBackups"), Some(&2), "{requests:?}");
    assert_eq!(requests.get("TagResource"), Some(&1), "{requests:?}");
    assert_eq!(requests.get("DeleteBackup"), Some(&5), "{requests:?}");
}

#[tokio::test]
async fn when_the_time_budget_runs_out_the_report_is_partial_and_true() {
    let fsx = kit::fsx_client().await;
    let (fs, new, expired) = expired_inventory(&fsx, 20).await;
    let proxy = kit::fault_proxy();
    // Deletes take 3 s each, 4 at a time (five rounds: 15 s), and the budget ends 8 s from now: the listing
    // before them has most of it on a loaded machine (5 s was once not enough under CI's parallel tests), the
    // first deletes start, the last ones cannot.
    proxy.set_rules(vec![Rule::new("DeleteBackup", Fault::Delay).delay_ms(3_000)], 1);
    let via = FsxClient::new(&kit::sdk_config_at(proxy.url(), CallPattern::Bursty).await);
    let new_backup = [new.clone()];
    let request = Request {
        target_id: &fs,
        new_backup: Some(&new_backup),
        new_backup_field: "newBackupId",
        run_id: Some(kit::SEEDED_RUN),
        dry_run: false,
        now: snapmgmt_core::now_epoch_seconds(),
        budget_end: Some(std::time::Instant::now() + std::time::Duration::from_secs(8)),
        orphan: false,
        adopt: false,
        policy_override: None,
        orphan_grace_days: 0,
        orphan_since: None,
    };

    let report =
        snapmgmt_core::cleanup::run(&FsxStore { client: &via, sources: &via }, retention(7, 1).unwrap(), request)
            .await
            .unwrap();

    let deferred: Vec<String> =
        report.kept.iter().filter(|k| k.reason == KeepReason::OutOfTime).map(|k| k.id.clone()).collect();
    assert!(!report.deleted.is_empty() && !deferred.is_empty(), "{report:?}");
    let mut accounted = [report.deleted.clone(), deferred.clone()].concat();
    accounted.sort();
    assert_eq!(accounted, expired);
    // True to the account: what it says it deleted is gone, what it deferred is still there.
    let mut left = [deferred, vec![new]].concat();
    left.sort();
    assert_eq!(remaining(&fsx, &fs).await, left);
}

#[tokio::test]
async fn ebs_bad_events_are_named_and_delete_nothing() {
    let fsx = kit::fsx_client().await;
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let other = kit::create_instance(&ec2, &[], 1).await;
    let old = kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, "old"), 20).await;
    let new = kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, "new"), 0).await;
    let others = kit::create_snapshot(&ec2, &other, &kit::our_snapshot_tags(&other, "new"), 0).await;
    let foreign = kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, "new"), 0).await;
    kit::set_snapshot(&foreign, json!({"ownerId": "210987654321"}));
    let not_ours = kit::create_snapshot(&ec2, &instance, &[], 0).await;
    let oversized: Vec<String> = (0..129).map(|i| format!("snap-{i:017x}")).collect();

    for (payload, field) in [
        (json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": [others]}), "newSnapshotIds"),
        (json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": [foreign]}), "newSnapshotIds"),
        (json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": [not_ours]}), "newSnapshotIds"),
        (json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": oversized}), "newSnapshotIds"),
        (json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": new}), "newSnapshotIds"),
        (json!({"kind": "ec2", "instanceId": "web-1", "newSnapshotIds": [new]}), "instanceId"),
        (
            json!({"kind": "ec2", "instanceId": instance, "newSnapshotIds": [new], "maxDeletePercent": 0}),
            "maxDeletePercent",
        ),
    ] {
        let err = cleanup(&fsx, retention(7, 1), payload.clone()).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field: f, .. } if f == field), "{payload}: {err}");
    }
    assert!(kit::snapshots_of(&ec2, &instance).await.contains(&old));
}
