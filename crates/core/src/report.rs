//! The run report: reads what each Distributed Map's ResultWriter wrote (one entry per target's child
//! execution), sums the targets' own counts, writes the full report to the stack's bucket, and returns
//! the totals and the failed targets for the execution's output. Its size in the workflow's state is the
//! same whatever the fleet.

use serde::Deserialize;
use tracing::info;

use crate::aws;
use crate::config::ReportConfig;
use crate::error::{Error, Result};
use crate::freshness::{self, Ledger, LEDGER_KEY};
use crate::model::{
    report_key, search_failures_key, skipped_key, FailedTarget, ReportEvent, ResultLocation, RunReport, RunSummary,
    TargetKind, TargetResult, FAILED_TARGETS_LISTED,
};

/// A ResultWriter manifest (AWS's format): the result files of one Map Run, by the children's status.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Manifest {
    result_files: ResultFiles,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "UPPERCASE", default)]
struct ResultFiles {
    succeeded: Vec<ResultFile>,
    failed: Vec<ResultFile>,
    pending: Vec<ResultFile>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResultFile {
    key: String,
}

/// One child execution in a result file: its input and output as JSON strings, or its error and cause.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultEntry {
    pub status: String,
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub output: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
}

/// Reads the run's results, writes the full report, returns the summary for the execution's output.
pub async fn build(s3: &aws_sdk_s3::Client, config: &ReportConfig, event: &ReportEvent) -> Result<RunSummary> {
    let bucket = config.inventory_bucket.as_str();
    let mut per_kind = Vec::new();
    for kind in TargetKind::ALL {
        let location = event.results.of(kind);
        if location.bucket != bucket {
            let field = format!("results.{}.bucket", kind.as_str());
            return Err(Error::invalid_event(
                field,
                format!("{:?} is not the stack's bucket {bucket:?}", location.bucket),
            ));
        }
        per_kind.push((kind, read_results(s3, kind, location).await?));
    }
    let mut report = assemble(&event.run_id, event.execution_id.clone(), event.dry_run, per_kind);
    if let Some(location) = &event.results.orphans {
        if location.bucket != bucket {
            let reason = format!("{:?} is not the stack's bucket {bucket:?}", location.bucket);
            return Err(Error::invalid_event("results.orphans.bucket", reason));
        }
        // The kind placeholder is replaced by each orphan's own (its result, or its input).
        let orphans = read_results(s3, TargetKind::Fsx, location).await?.into_iter().map(as_orphan).collect();
        add_orphans(&mut report, orphans);
    }
    report.version = crate::VERSION.to_string();
    report.skipped = aws::s3::get_json_or_default(s3, bucket, &skipped_key(&event.run_id)).await?;
    report.orphan_search_failures =
        aws::s3::get_json_or_default(s3, bucket, &search_failures_key(&event.run_id)).await?;
    let now = crate::now_epoch_seconds();
    let results: Vec<&TargetResult> = report.results.values().flatten().collect();
    let keep_departed_hours = config.stale_after_hours + config.disappeared_grace_hours;
    let update = |previous: &Ledger| freshness::updated(previous, now, &results, &report.skipped, keep_departed_hours);
    // A preview changes nothing, the ledger included: it reports from the ledger as the run would leave it.
    let (previous, ledger) = if event.dry_run {
        let previous: Ledger = aws::s3::get_json_or_default(s3, bucket, LEDGER_KEY).await?;
        let next = update(&previous);
        (previous, next)
    } else {
        aws::s3::update_json(s3, bucket, LEDGER_KEY, update).await?
    };
    report.without_recent_backup = freshness::stale(&ledger, now, config.stale_after_hours);
    report.disappeared = freshness::disappeared(&ledger, now, &why_gone(&report.orphans));
    report.target_drop_percent = freshness::target_drop_percent(&previous, results.len() + report.skipped.len());
    crate::metrics::emit("run", "report", &event.run_id, event.dry_run, &run_metrics(&report));
    let key = report_key(&event.run_id);
    let body = serde_json::to_vec(&report).expect("the report serialises");
    aws::s3::put_json(s3, bucket, &key, body).await?;
    let summary = summarize(&report, ResultLocation { bucket: bucket.to_string(), key });
    info!(
        targets = summary.totals.targets,
        failed_targets = summary.totals.failed_targets,
        created = summary.totals.created,
        deleted = summary.totals.deleted,
        failed_deletes = summary.totals.failed_deletes,
        copied = summary.totals.copies.copied,
        copies_deleted = summary.totals.copies.deleted,
        skipped = report.skipped.len(),
        without_recent_backup = summary.without_recent_backup_count,
        orphan_search_failures = report.orphan_search_failures.len(),
        report = %format!("s3://{}/{}", summary.report.bucket, summary.report.key),
        "run report written"
    );
    Ok(summary)
}

/// The run's own metrics (Kind `run`), each with an alarm: targets without a recent backup, deletes that
/// failed (every kind, here and in the copy Region), places the orphan search could not look, targets that
/// disappeared, and how far the number of targets fell since the last run.
pub fn run_metrics(report: &RunReport) -> [crate::metrics::Metric<'static>; 5] {
    use crate::metrics::Unit;
    let failed_deletes = report.totals.failed_deletes + report.totals.copies.failed_deletes;
    [
        ("TargetsWithoutRecentBackup", report.without_recent_backup.len() as f64, Unit::Count),
        ("DeleteFailures", failed_deletes as f64, Unit::Count),
        ("OrphanSearchFailures", report.orphan_search_failures.len() as f64, Unit::Count),
        ("TargetsDisappeared", report.disappeared.len() as f64, Unit::Count),
        ("TargetDropPercent", f64::from(report.target_drop_percent), Unit::Percent),
    ]
}

/// Why each orphan of the stack's own Region is gone, by ledger key, as its cleanup found its resource.
fn why_gone(orphans: &[TargetResult]) -> std::collections::BTreeMap<String, String> {
    orphans
        .iter()
        .filter(|orphan| orphan.region.is_none())
        .filter_map(|orphan| {
            let reason = match orphan.cleanup.as_ref()?.resource_gone {
                true => "deleted or terminated: the resource is gone",
                false => "no longer a target: the resource is there without the target tag",
            };
            Some((freshness::target_key(orphan.kind, &orphan.target_id), reason.to_string()))
        })
        .collect()
}

async fn read_results(
    s3: &aws_sdk_s3::Client,
    kind: TargetKind,
    manifest: &ResultLocation,
) -> Result<Vec<TargetResult>> {
    Ok(read_entries(s3, manifest).await?.into_iter().map(|entry| target_of(kind, entry)).collect())
}

/// Every child execution's entry in the result files of one Map Run, from its ResultWriter manifest.
pub async fn read_entries(s3: &aws_sdk_s3::Client, manifest: &ResultLocation) -> Result<Vec<ResultEntry>> {
    let bytes = aws::s3::get(s3, &manifest.bucket, &manifest.key).await?;
    let manifest_doc: Manifest = serde_json::from_slice(&bytes).map_err(|e| bad_result(&manifest.key, e))?;
    let files = manifest_doc.result_files;
    let mut entries = Vec::new();
    for file in files.succeeded.iter().chain(&files.failed).chain(&files.pending) {
        let bytes = aws::s3::get(s3, &manifest.bucket, &file.key).await?;
        let more: Vec<ResultEntry> = serde_json::from_slice(&bytes).map_err(|e| bad_result(&file.key, e))?;
        entries.extend(more);
    }
    Ok(entries)
}

fn bad_result(key: &str, e: serde_json::Error) -> Error {
    Error::Aws {
        service: "s3",
        operation: "GetObject",
        code: "InvalidResultFile".into(),
        message: format!("{key}: {e}"),
    }
}

/// A target's result from its child execution's entry. A failed child's cause is the target's result as
/// JSON (the state machine's Fail state); a child that failed otherwise (a runtime error, a timeout) is
/// named from its input.
pub fn target_of(kind: TargetKind, entry: ResultEntry) -> TargetResult {
    // An orphan's input names its own kind.
    let kind = entry.input.as_deref().and_then(kind_of_orphan_input).unwrap_or(kind);
    let mut unreadable = None;
    if entry.status == "SUCCEEDED" {
        match serde_json::from_str::<TargetResult>(entry.output.as_deref().unwrap_or("null")) {
            Ok(result) => return result,
            Err(e) => unreadable = Some(format!("its result is not a target result ({e}): {:?}", entry.output)),
        }
    } else if let Some(mut result) =
        entry.cause.as_deref().and_then(|c| serde_json::from_str::<TargetResult>(c).ok()).filter(|r| r.failed())
    {
        result.kind = kind;
        return result;
    }
    let target_id = entry.input.as_deref().and_then(target_id_of_input).unwrap_or_else(|| "(unknown)".to_string());
    TargetResult {
        kind,
        target_id,
        dry_run: false,
        created: Vec::new(),
        retries: 0,
        consistency: None,
        orphan: false,
        region: None,
        cleanup: None,
        copy: None,
        error: Some(match (&unreadable, entry.error) {
            (Some(_), _) => "UnreadableResult".to_string(),
            (None, Some(error)) => error,
            (None, None) => entry.status.clone(),
        }),
        cause: unreadable.or(entry.cause),
    }
}

fn target_id_of_input(input: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(input).ok()?;
    let orphan = value.get("of").and_then(|of| of.get("id")?.as_str().map(str::to_string));
    orphan.or_else(|| ["fileSystemId", "instanceId"].iter().find_map(|k| value.get(k)?.as_str().map(str::to_string)))
}

fn kind_of_orphan_input(input: &str) -> Option<TargetKind> {
    let value: serde_json::Value = serde_json::from_str(input).ok()?;
    serde_json::from_value(value.get("of")?.get("kind")?.clone()).ok()
}

/// An orphan's result: marked so (its kind is its own, from its result or its input).
fn as_orphan(mut result: TargetResult) -> TargetResult {
    result.orphan = true;
    result
}

/// The orphans into the report: in kind and id order, their counts in the totals (a failure among the
/// failed targets: it needs a person as much), never as targets.
pub fn add_orphans(report: &mut RunReport, mut orphans: Vec<TargetResult>) {
    orphans.sort_by(|a, b| (a.kind.as_str(), &a.target_id).cmp(&(b.kind.as_str(), &b.target_id)));
    for orphan in &orphans {
        report.totals += orphan.counts();
        if let Some(error) = &orphan.error {
            report.failed_targets.push(FailedTarget {
                kind: orphan.kind,
                target_id: orphan.target_id.clone(),
                error: error.clone(),
            });
        }
    }
    report.orphans = orphans;
}

/// The full report from every target's result: targets in id order per kind, totals summed from each
/// target's own counts.
pub fn assemble(
    run_id: &str,
    execution_id: Option<String>,
    dry_run: bool,
    per_kind: Vec<(TargetKind, Vec<TargetResult>)>,
) -> RunReport {
    let mut report = RunReport { run_id: run_id.to_string(), execution_id, dry_run, ..Default::default() };
    for (kind, mut results) in per_kind {
        results.sort_by(|a, b| a.target_id.cmp(&b.target_id));
        for result in &mut results {
            result.dry_run = dry_run;
            report.totals += result.counts();
            if let Some(error) = &result.error {
                report.failed_targets.push(FailedTarget {
                    kind,
                    target_id: result.target_id.clone(),
                    error: error.clone(),
                });
            }
        }
        *report.results.get_mut(kind) = results;
    }
    report
}

/// The execution's output: totals, the first failed targets (saying when the list is cut), where the rest is.
pub fn summarize(report: &RunReport, location: ResultLocation) -> RunSummary {
    RunSummary {
        run_id: report.run_id.clone(),
        dry_run: report.dry_run,
        totals: report.totals,
        failed_targets: report.failed_targets.iter().take(FAILED_TARGETS_LISTED).cloned().collect(),
        failed_targets_truncated: report.failed_targets.len() > FAILED_TARGETS_LISTED,
        without_recent_backup: report.without_recent_backup.iter().take(FAILED_TARGETS_LISTED).cloned().collect(),
        without_recent_backup_count: report.without_recent_backup.len(),
        orphan_search_failures: report.orphan_search_failures.iter().take(FAILED_TARGETS_LISTED).cloned().collect(),
        report: location,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CleanupCounts, CleanupReport, Totals};
    use serde_json::json;

    /// The totals of a report, recomputed target by target: what its own totals must equal.
    fn recount(report: &RunReport) -> Totals {
        let mut totals = Totals::default();
        for result in report.results.values().flatten() {
            totals += result.counts();
        }
        totals
    }

    fn entry(
        status: &str,
        input: serde_json::Value,
        output: Option<serde_json::Value>,
        cause: Option<&str>,
    ) -> ResultEntry {
        ResultEntry {
            status: status.into(),
            input: Some(input.to_string()),
            output: output.map(|o| o.to_string()),
            error: (status != "SUCCEEDED").then(|| "SnapshotFailed".to_string()),
            cause: cause.map(str::to_string),
        }
    }

    fn cleaned(deleted: usize) -> CleanupReport {
        let mut report =
            CleanupReport { deleted: (0..deleted).map(|n| format!("snap-{n:08x}")).collect(), ..Default::default() }
                .finished()
                .capped(crate::model::REPORT_ID_LIMIT);
        report.counts = CleanupCounts { deleted, ..report.counts };
        report
    }

    #[test]
    fn totals_are_sums_of_each_targets_counts_not_lengths_of_capped_lists() {
        let big = TargetResult {
            kind: TargetKind::Ec2,
            target_id: "i-1".into(),
            dry_run: false,
            created: vec!["snap-a".into(), "snap-b".into()],
            retries: 0,
            consistency: None,
            orphan: false,
            region: None,
            cleanup: Some(cleaned(250)),
            copy: None,
            error: None,
            cause: None,
        };
        assert_eq!(big.cleanup.as_ref().unwrap().deleted.len(), 100);
        assert!(big.cleanup.as_ref().unwrap().truncated);
        let small = TargetResult { target_id: "i-2".into(), cleanup: Some(cleaned(3)), ..big.clone() };
        let report = assemble("run", None, false, vec![(TargetKind::Ec2, vec![big, small])]);
        assert_eq!(report.totals.deleted, 253);
        assert_eq!(report.totals.created, 2);
        assert_eq!(report.totals, recount(&report));
    }

    #[test]
    fn a_failed_child_reports_its_result_from_the_cause_or_else_its_input() {
        let ours = json!({"kind": "fsx", "targetId": "fs-1", "created": "backup-1", "error": "DeleteLimitExceeded",
            "cause": "refused"});
        let from_cause =
            target_of(TargetKind::Fsx, entry("FAILED", json!({"fileSystemId": "fs-1"}), None, Some(&ours.to_string())));
        assert_eq!(
            (from_cause.created.as_slice(), from_cause.error.as_deref()),
            (&["backup-1".to_string()][..], Some("DeleteLimitExceeded"))
        );
        let runtime = target_of(
            TargetKind::Ec2,
            ResultEntry {
                error: Some("States.Runtime".into()),
                ..entry("FAILED", json!({"instanceId": "i-9"}), None, Some("boom"))
            },
        );
        assert_eq!((runtime.target_id.as_str(), runtime.error.as_deref()), ("i-9", Some("States.Runtime")));
    }

    #[test]
    fn the_summary_lists_at_most_100_failed_targets_and_says_so() {
        let failed: Vec<TargetResult> = (0..150)
            .map(|n| {
                target_of(TargetKind::Efs, entry("FAILED", json!({"fileSystemId": format!("fs-{n:03}")}), None, None))
            })
            .collect();
        let report = assemble("run", None, false, vec![(TargetKind::Efs, failed)]);
        let summary = summarize(&report, ResultLocation { bucket: "b".into(), key: "k".into() });
        assert_eq!((summary.totals.failed_targets, summary.failed_targets.len()), (150, 100));
        assert!(summary.failed_targets_truncated);
        assert_eq!(report.failed_targets.len(), 150);
    }

    #[test]
    fn the_run_metrics_count_failed_deletes_of_every_kind_and_region_and_the_failed_searches() {
        let mut report = RunReport::default();
        report.totals.failed_deletes = 2;
        report.totals.copies.failed_deletes = 1;
        report.orphan_search_failures =
            vec![crate::model::SearchFailure { kind: TargetKind::Efs, region: None, error: "throttled".into() }];
        report.target_drop_percent = 40;
        report.disappeared = vec![crate::model::DisappearedTarget {
            kind: TargetKind::Ec2,
            target_id: "i-0123456789abcdef0".into(),
            last_seen: 0,
            last_completed: None,
            reason: "untagged".into(),
        }];
        let metrics: Vec<(&str, f64)> = run_metrics(&report).iter().map(|(name, value, _)| (*name, *value)).collect();
        assert_eq!(
            metrics,
            [
                ("TargetsWithoutRecentBackup", 0.0),
                ("DeleteFailures", 3.0),
                ("OrphanSearchFailures", 1.0),
                ("TargetsDisappeared", 1.0),
                ("TargetDropPercent", 40.0)
            ]
        );
    }

    #[test]
    fn a_dry_run_counts_every_succeeded_target_once() {
        let ok = |id: &str, kind| {
            target_of(
                kind,
                entry("SUCCEEDED", json!({}), Some(json!({"kind": kind, "targetId": id, "created": null})), None),
            )
        };
        let report = assemble(
            "run",
            None,
            true,
            vec![
                (TargetKind::Fsx, vec![ok("fs-1", TargetKind::Fsx)]),
                (TargetKind::Ec2, vec![ok("i-1", TargetKind::Ec2), ok("i-2", TargetKind::Ec2)]),
            ],
        );
        assert_eq!((report.totals.targets, report.totals.created), (3, 3));
    }
}
