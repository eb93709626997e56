//! report against the emulator: results as a ResultWriter writes them, the report it writes, bad input.

use lambda_runtime::LambdaEvent;
use report::Report;
use serde_json::{json, Value};
use snapmgmt_core::config::ReportConfig;
use snapmgmt_core::model::RunSummary;
use snapmgmt_core::serve::invoke;
use snapmgmt_core::Error;
use snapmgmt_core::Result;
use snapmgmt_testkit as kit;

/// Writes one Map Run's results as AWS's ResultWriter does; returns the manifest's location.
async fn write_results(bucket: &str, run: &str, succeeded: &[Value], failed: &[Value]) -> Value {
    let s3 = kit::s3_client().await;
    let mut files = json!({"SUCCEEDED": [], "FAILED": [], "PENDING": []});
    for (status, entries) in [("SUCCEEDED", succeeded), ("FAILED", failed)] {
        if entries.is_empty() {
            continue;
        }
        let key = format!("results/{run}/{status}_0.json");
        let body = serde_json::to_vec(entries).unwrap();
        snapmgmt_core::aws::s3::put_json(&s3, bucket, &key, body).await.unwrap();
        files[status].as_array_mut().unwrap().push(json!({"Key": key, "Size": 1}));
    }
    let key = format!("results/{run}/manifest.json");
    let manifest = json!({"DestinationBucket": bucket, "MapRunArn": "arn", "ResultFiles": files});
    snapmgmt_core::aws::s3::put_json(&s3, bucket, &key, manifest.to_string().into_bytes()).await.unwrap();
    json!({"bucket": bucket, "key": key})
}

fn succeeded(output: Value) -> Value {
    json!({"Status": "SUCCEEDED", "Input": "{}", "Output": output.to_string()})
}

fn failed(input: Value, error: &str, cause: &str) -> Value {
    json!({"Status": "FAILED", "Input": input.to_string(), "Error": error, "Cause": cause})
}

async fn report(bucket: &str, payload: Value) -> Result<RunSummary> {
    let s3 = kit::s3_client().await;
    let config =
        Ok(ReportConfig { inventory_bucket: bucket.to_string(), stale_after_hours: 50, disappeared_grace_hours: 168 });
    invoke(&Report { s3 }, &config, LambdaEvent::new(payload, lambda_runtime::Context::default())).await
}

#[tokio::test]
async fn sums_every_targets_counts_writes_the_full_report_and_names_failed_targets() {
    let bucket = kit::create_bucket().await;
    let counts = |deleted: usize| json!({"deleted": deleted, "kept": 2, "failed": 0, "keptByReason": {"TooYoung": 2}});
    let fsx = write_results(
        &bucket,
        "fsx-run",
        &[succeeded(json!({"kind": "fsx", "targetId": "fs-b", "created": "backup-1",
            "cleanup": {"targetId": "fs-b", "dryRun": false, "deleted": ["backup-0"], "kept": [], "failed": [],
                        "counts": counts(1), "truncated": false}}))],
        &[],
    )
    .await;
    // One instance deleted 250 (its lists cut at 100); one failed after its snapshots were made.
    let ec2 = write_results(
        &bucket,
        "ec2-run",
        &[succeeded(json!({"kind": "ec2", "targetId": "i-a", "created": ["snap-1", "snap-2"],
            "cleanup": {"targetId": "i-a", "dryRun": false, "deleted": [], "kept": [], "failed": [],
                        "counts": counts(250), "truncated": true}}))],
        &[failed(
            json!({"instanceId": "i-b"}),
            "DeleteLimitExceeded",
            &json!({"kind": "ec2", "targetId": "i-b", "created": ["snap-3"], "error": "DeleteLimitExceeded",
                    "cause": "refused"})
            .to_string(),
        )],
    )
    .await;
    let efs =
        write_results(&bucket, "efs-run", &[], &[failed(json!({"fileSystemId": "fs-c"}), "States.Runtime", "boom")])
            .await;

    let summary = report(
        &bucket,
        json!({"runId": "snapmgmt-run-1", "dryRun": false,
        "results": {"fsx": fsx, "ec2": ec2, "efs": efs}}),
    )
    .await
    .unwrap();

    let t = summary.totals;
    assert_eq!((t.targets, t.failed_targets, t.created, t.deleted, t.kept), (4, 2, 3, 251, 4));
    let failed: Vec<(&str, &str)> =
        summary.failed_targets.iter().map(|f| (f.target_id.as_str(), f.error.as_str())).collect();
    assert_eq!(failed, [("i-b", "DeleteLimitExceeded"), ("fs-c", "States.Runtime")]);
    assert!(!summary.failed_targets_truncated);
    assert_eq!(summary.report.key, "reports/snapmgmt-run-1.json");
    let full = kit::read_json(&bucket, &summary.report.key).await;
    assert_eq!(full["ec2"][1]["created"], json!(["snap-3"]));
    assert_eq!(full["efs"][0]["targetId"], "fs-c");
    assert_eq!(full["totals"]["deleted"], 251);
    assert_eq!(full["version"], env!("CARGO_PKG_VERSION"), "the version that wrote it");
}

#[test]
fn the_function_says_its_version() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_report")).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("report {}\n", env!("CARGO_PKG_VERSION")));
}

#[tokio::test]
async fn results_outside_the_stacks_bucket_are_refused() {
    let bucket = kit::create_bucket().await;
    let other = kit::create_bucket().await;
    let there = json!({"bucket": other, "key": "results/x/manifest.json"});
    let here = json!({"bucket": bucket, "key": "results/x/manifest.json"});
    let err =
        report(&bucket, json!({"runId": "r", "results": {"fsx": there, "ec2": here, "efs": here}})).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "results.fsx.bucket"), "{err}");
    let bad_key = json!({"bucket": bucket, "key": "inventory/x.json"});
    let err = report(&bucket, json!({"runId": "r", "results": {"fsx": here, "ec2": bad_key, "efs": here}}))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "results.ec2.key"), "{err}");
    let err =
        report(&bucket, json!({"runId": "x:*", "results": {"fsx": here, "ec2": here, "efs": here}})).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "runId"), "{err}");
}

#[tokio::test]
async fn names_the_targets_without_a_recent_backup_and_the_skipped_ones_and_keeps_the_ledger() {
    use snapmgmt_core::freshness::{Entry, Ledger, LEDGER_KEY};
    let bucket = kit::create_bucket().await;
    let s3 = kit::s3_client().await;
    let now = snapmgmt_core::now_epoch_seconds();
    let hours_ago = |h: i64| now - h * 3600;
    // fs-ok last backed up 60 hours ago and backs up tonight; fs-bad failed tonight too; i-stopped is skipped
    // again; fs-gone left long ago (forgotten); fs-left was a target last night and is no more (named).
    let mut ledger = Ledger { last_run_targets: Some(5), ..Ledger::default() };
    for (key, last) in [("fsx:fs-ok", 60), ("fsx:fs-bad", 60), ("ec2:i-stopped", 70), ("fsx:fs-gone", 500)] {
        let entry = Entry { first_seen: hours_ago(1000), last_completed: Some(hours_ago(last)), last_seen: None };
        ledger.targets.insert(key.into(), entry);
    }
    let left =
        Entry { first_seen: hours_ago(1000), last_completed: Some(hours_ago(24)), last_seen: Some(hours_ago(24)) };
    ledger.targets.insert("fsx:fs-left".into(), left);
    let put = |key: &'static str, body: Vec<u8>| snapmgmt_core::aws::s3::put_json(&s3, &bucket, key, body);
    put(LEDGER_KEY, serde_json::to_vec(&ledger).unwrap()).await.unwrap();
    let skipped = json!([{"kind": "ec2", "id": "i-stopped", "reason": "stopped"}]);
    put("inventory/run-9/skipped.json", skipped.to_string().into_bytes()).await.unwrap();
    let fsx = write_results(
        &bucket,
        "fsx-9",
        &[succeeded(json!({"kind": "fsx", "targetId": "fs-ok", "created": "backup-9"}))],
        &[failed(
            json!({"fileSystemId": "fs-bad"}),
            "BackupFailed",
            &json!({"kind": "fsx", "targetId": "fs-bad", "error": "BackupFailed", "cause": "no"}).to_string(),
        )],
    )
    .await;
    let empty = write_results(&bucket, "none-9", &[], &[]).await;

    let summary = report(
        &bucket,
        json!({"runId": "run-9", "dryRun": false, "results": {"fsx": fsx, "ec2": empty, "efs": empty}}),
    )
    .await
    .unwrap();

    let named: Vec<&str> = summary.without_recent_backup.iter().map(|t| t.target_id.as_str()).collect();
    assert_eq!(named, ["i-stopped", "fs-bad"], "oldest first; fs-ok backed up tonight, fs-gone left");
    assert_eq!(summary.without_recent_backup_count, 2);
    let full = kit::read_json(&bucket, &summary.report.key).await;
    assert_eq!(full["skipped"][0]["id"], "i-stopped");
    assert_eq!(full["disappeared"].as_array().unwrap().len(), 1, "{}", full["disappeared"]);
    assert_eq!(full["disappeared"][0]["targetId"], "fs-left");
    assert_eq!(full["disappeared"][0]["lastSeen"], hours_ago(24));
    assert_eq!(full["targetDropPercent"], 40, "3 targets tonight, 5 the night before");
    let kept: Ledger = serde_json::from_value(kit::read_json(&bucket, LEDGER_KEY).await).unwrap();
    assert_eq!(kept.targets.keys().collect::<Vec<_>>(), ["ec2:i-stopped", "fsx:fs-bad", "fsx:fs-left", "fsx:fs-ok"]);
    assert_eq!(kept.last_run_targets, Some(3));
    assert!(kept.targets["fsx:fs-ok"].last_completed.unwrap() >= now);
}

#[tokio::test]
async fn orphans_are_reported_apart_from_targets_and_a_failed_one_is_named() {
    let bucket = kit::create_bucket().await;
    let cleanup = json!({"deleted": ["snap-1"], "kept": [], "failed": [], "truncated": false, "dryRun": true,
        "counts": {"deleted": 1, "kept": 1, "failed": 0, "keptByReason": {"AmongNewest": 1}},
        "ages": {"backups": 2, "newestDays": 3, "oldestDays": 40}});
    let orphans = write_results(
        &bucket,
        "orphans-7",
        &[succeeded(json!({"kind": "ec2", "targetId": "i-gone", "orphan": true, "dryRun": true, "cleanup": cleanup}))],
        &[failed(json!({"of": {"kind": "efs", "id": "fs-gone"}}), "States.Timeout", "too slow")],
    )
    .await;
    let empty = write_results(&bucket, "none-7", &[], &[]).await;

    let summary = report(
        &bucket,
        json!({"runId": "run-7", "dryRun": false,
               "results": {"fsx": empty, "ec2": empty, "efs": empty, "orphans": orphans}}),
    )
    .await
    .unwrap();

    assert_eq!((summary.totals.targets, summary.totals.orphans), (0, 2));
    assert_eq!(summary.totals.deleted, 1, "what the orphan's cleanup would delete counts");
    assert_eq!(summary.failed_targets.len(), 1);
    assert_eq!(
        (summary.failed_targets[0].kind, summary.failed_targets[0].target_id.as_str()),
        (snapmgmt_core::model::TargetKind::Efs, "fs-gone")
    );
    let full = kit::read_json(&bucket, &summary.report.key).await;
    assert_eq!(full["orphans"][1]["targetId"], "fs-gone", "in kind and id order");
    assert_eq!(full["orphans"][0]["cleanup"]["ages"]["oldestDays"], 40);
    assert!(full["ec2"].as_array().unwrap().is_empty(), "an orphan is no target");
}

#[tokio::test]
async fn reports_finishing_together_lose_no_ledger_update() {
    use snapmgmt_core::freshness::{Ledger, LEDGER_KEY};
    let bucket = kit::create_bucket().await;
    let now = snapmgmt_core::now_epoch_seconds();
    // Eight runs at once, each backing up its own file system and failing fs-shared but the first, which
    // backs it up: without conditional writes the last writer's view wins (and most drop the others').
    let mut events = Vec::new();
    for n in 0..8 {
        let shared = if n == 0 {
            succeeded(json!({"kind": "fsx", "targetId": "fs-shared", "created": "backup-s"}))
        } else {
            succeeded(json!({"kind": "fsx", "targetId": "fs-shared", "error": "BackupFailed"}))
        };
        let own = succeeded(json!({"kind": "fsx", "targetId": format!("fs-{n}"), "created": format!("backup-{n}")}));
        let fsx = write_results(&bucket, &format!("fsx-{n}"), &[shared, own], &[]).await;
        let empty = write_results(&bucket, &format!("none-{n}"), &[], &[]).await;
        events.push(json!({"runId": format!("run-{n}"), "results": {"fsx": fsx, "ec2": empty, "efs": empty}}));
    }

    let reports = futures::future::join_all(events.into_iter().map(|event| report(&bucket, event))).await;

    assert!(reports.iter().all(Result::is_ok), "{reports:?}");
    let ledger: Ledger = serde_json::from_value(kit::read_json(&bucket, LEDGER_KEY).await).unwrap();
    assert!(ledger.targets["fsx:fs-shared"].last_completed.is_some_and(|at| at >= now), "{ledger:?}");
}
