//! The job run end to end against the emulator: the library's runner, and the `snapmgmt` binary.

use std::process::Command;

use serde_json::{json, Value};
use snapmgmt_core::aws::fsx::list_backups;
use snapmgmt_core::config::{RetentionConfig, TargetTag};
use snapmgmt_core::local_run::{run, RunReport, RunRequest};
use snapmgmt_core::model::Timing;
use snapmgmt_core::retention::KeepReason;
use snapmgmt_testkit::{self as kit, aws_sdk_fsx::Client};

/// Each test tags its own file systems with its own tag value, so runs in one emulator stay apart.
fn unique_tag() -> TargetTag {
    TargetTag { key: "ResourceType".into(), value: kit::unique("target") }
}

fn request(tag: &TargetTag, dry_run: bool) -> RunRequest {
    let quick = Timing { fsx_wait_seconds: 1, fsx_max_wait_attempts: 10, backup_poll_seconds: 1, backup_max_polls: 10 };
    RunRequest {
        target_tag: tag.clone(),
        retention: RetentionConfig { retention_days: 7, min_keep: 1 },
        timing: quick,
        dry_run,
        run_id: kit::unique("run"),
    }
}

async fn backup_ids(fsx: &Client, fs: &str) -> Vec<String> {
    let mut ids: Vec<String> =
        list_backups(fsx, fs, None, None).await.unwrap().into_iter().filter_map(|b| b.backup_id).collect();
    ids.sort();
    ids
}

fn kept_reason(report: &RunReport, fs: &str, id: &str) -> Option<KeepReason> {
    let outcome = report.fsx.iter().find(|o| o.file_system_id == fs)?;
    outcome.cleanup.as_ref()?.kept.iter().find(|k| k.id == id).map(|k| k.reason)
}

#[tokio::test]
async fn backs_up_every_target_then_deletes_only_our_expired_backups() {
    let fsx = kit::fsx_client().await;
    let tag = unique_tag();
    let fs = kit::create_windows_file_system(&fsx, &[(&tag.key, &tag.value)]).await;
    let ours = kit::our_tags(&fs);
    let old = kit::create_backup(&fsx, &fs, &ours, 20).await;
    let young = kit::create_backup(&fsx, &fs, &ours, 2).await;
    let not_ours = kit::create_backup(&fsx, &fs, &[], 30).await;
    let untagged_fs = kit::create_windows_file_system(&fsx, &[]).await;
    let untouched = kit::create_backup(&fsx, &untagged_fs, &kit::our_tags(&untagged_fs), 90).await;
    // A backup already under way: the run waits for it before taking its own.
    fsx.create_backup().file_system_id(&fs).send().await.unwrap();

    let report = run(&fsx, &request(&tag, false)).await.unwrap();

    assert_eq!(report.failures(), 0, "{report:?}");
    assert_eq!(report.fsx.len(), 1, "only the tagged file system: {report:?}");
    let outcome = &report.fsx[0];
    let new = outcome.backup_id.clone().expect("a new backup");
    assert_eq!(outcome.cleanup.as_ref().unwrap().deleted, vec![old.clone()]);
    assert_eq!(kept_reason(&report, &fs, &young), Some(KeepReason::TooYoung));
    assert_eq!(kept_reason(&report, &fs, &not_ours), Some(KeepReason::NotOurs));
    assert_eq!(kept_reason(&report, &fs, &new), Some(KeepReason::AmongNewest));
    let remaining = backup_ids(&fsx, &fs).await;
    assert!(!remaining.contains(&old) && remaining.contains(&new) && remaining.contains(&young));
    assert_eq!(backup_ids(&fsx, &untagged_fs).await, vec![untouched]);
}

#[tokio::test]
async fn a_failed_backup_fails_its_file_system_only_and_deletes_nothing_there() {
    let fsx = kit::fsx_client().await;
    let tag = unique_tag();
    let failing = kit::create_windows_file_system(&fsx, &[(&tag.key, &tag.value)]).await;
    let healthy = kit::create_windows_file_system(&fsx, &[(&tag.key, &tag.value)]).await;
    let old_failing = kit::create_backup(&fsx, &failing, &kit::our_tags(&failing), 20).await;
    let old_healthy = kit::create_backup(&fsx, &healthy, &kit::our_tags(&healthy), 20).await;
    kit::script_next_backups(&failing, json!([{"lifecycle": "FAILED", "seconds": 0}]));

    let report = run(&fsx, &request(&tag, false)).await.unwrap();

    assert_eq!(report.failures(), 1, "{report:?}");
    let failed = report.fsx.iter().find(|o| o.file_system_id == failing).unwrap();
    assert!(failed.error.as_deref().unwrap().contains("FAILED"), "{failed:?}");
    assert!(failed.cleanup.is_none());
    assert!(backup_ids(&fsx, &failing).await.contains(&old_failing));
    let ok = report.fsx.iter().find(|o| o.file_system_id == healthy).unwrap();
    assert_eq!(ok.cleanup.as_ref().unwrap().deleted, vec![old_healthy]);
}

#[tokio::test]
async fn a_dry_run_reports_the_plan_and_changes_nothing() {
    let fsx = kit::fsx_client().await;
    let tag = unique_tag();
    let fs = kit::create_windows_file_system(&fsx, &[(&tag.key, &tag.value)]).await;
    let old = kit::create_backup(&fsx, &fs, &kit::our_tags(&fs), 20).await;
    let before = backup_ids(&fsx, &fs).await;

    let report = run(&fsx, &request(&tag, true)).await.unwrap();

    assert_eq!(report.fsx[0].backup_id, None);
    assert_eq!(report.fsx[0].cleanup.as_ref().unwrap().deleted, vec![old]);
    assert_eq!(backup_ids(&fsx, &fs).await, before);
}

/// The `snapmgmt` binary pointed at the emulator with these settings.
fn snapmgmt(tag: &TargetTag, settings: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_snapmgmt"))
        .args(args)
        .env_clear()
        .env("AWS_ENDPOINT_URL", kit::endpoint())
        .env("AWS_REGION", kit::REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TARGET_TAG_VALUE", &tag.value)
        .envs(settings.iter().copied())
        .output()
        .expect("run snapmgmt")
}

#[tokio::test]
async fn the_command_prints_the_report_as_json() {
    let fsx = kit::fsx_client().await;
    let tag = unique_tag();
    let fs = kit::create_windows_file_system(&fsx, &[(&tag.key, &tag.value)]).await;
    let old = kit::create_backup(&fsx, &fs, &kit::our_tags(&fs), 20).await;

    let out = snapmgmt(&tag, &[("RETENTION_DAYS", "7")], &["run", "--poll-seconds", "1", "--json"]);

    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["fsx"][0]["fileSystemId"], json!(fs));
    assert_eq!(report["fsx"][0]["cleanup"]["deleted"], json!([old]));
}

#[tokio::test]
async fn a_bad_setting_fails_naming_it_and_changes_nothing() {
    let fsx = kit::fsx_client().await;
    let tag = unique_tag();
    let fs = kit::create_windows_file_system(&fsx, &[(&tag.key, &tag.value)]).await;
    kit::create_backup(&fsx, &fs, &kit::our_tags(&fs), 20).await;
    let before = backup_ids(&fsx, &fs).await;

    for (settings, named) in [
        (vec![], "RETENTION_DAYS"),
        (vec![("RETENTION_DAYS", "0.5")], "\"0.5\""),
        (vec![("RETENTION_DAYS", "7"), ("MIN_KEEP", "0")], "MIN_KEEP"),
    ] {
        let out = snapmgmt(&tag, &settings, &["run", "--poll-seconds", "1"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(named), "{settings:?}: {stderr}");
    }
    assert_eq!(backup_ids(&fsx, &fs).await, before);
}
