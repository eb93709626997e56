//! A verify run, the verify state machine's first and last steps. `start` lists the tagged instances and
//! file systems, reads the round from the verify ledger, shares the run's byte budget among the instances and
//! its restore tests among all, and writes them as the Map's items; `record` reads every target's check from the Map's results, keeps each target's
//! `lastVerified`, writes the run's report and its metrics. Between them, one child execution per target runs
//! the check.

use serde::Serialize;
use tracing::info;

use super::blocks::BLOCK_BYTES;
use super::ledger::{self, VerifyLedger, LEDGER_KEY};
use super::restore;
use super::target::{Outcome, TargetCheck};
use crate::aws;
use crate::config::{FsxKind, VerifyConfig};
use crate::error::{Error, Result};
use crate::freshness::target_key;
use crate::metrics::{Metric, Unit};
use crate::model::{
    NotVerifiedRecently, ResultLocation, RunId, TargetKind, UnverifiedTarget, VerifyEvent, VerifyRecord, VerifyStart,
    VerifyStarted, VerifySummary, VerifyTotals,
};
use crate::report::{read_entries, ResultEntry};

/// Targets named in the execution's output; the report names them all.
pub const FAILED_TARGETS_LISTED: usize = 20;

/// The Map's items of a run, and every target it listed (`record` keeps their ledger entries).
pub fn items_key(run_id: &str) -> String {
    format!("inventory/verify/{run_id}/items.json")
}

pub fn listed_key(run_id: &str) -> String {
    format!("inventory/verify/{run_id}/listed.json")
}

pub fn report_key(run_id: &str) -> String {
    format!("reports/verify/{run_id}.json")
}

/// This run's targets and each one's bytes: the budget shared equally; when it cannot give every target a
/// block, as many targets as it can, a different run of them each round (every target within
/// ceil(targets / verifying) rounds).
pub fn share(ids: &[String], round: u64, budget_bytes: u64) -> (Vec<String>, u64) {
    if ids.is_empty() {
        return (Vec::new(), 0);
    }
    let n = ids.len() as u64;
    let verifying = n.min(budget_bytes / BLOCK_BYTES).max(1);
    let start = (round.wrapping_mul(verifying) % n) as usize;
    let chosen = ids.iter().cycle().skip(start).take(verifying as usize).cloned().collect();
    (chosen, budget_bytes / verifying)
}

/// The clients a run's start needs: the targets, and the sweeps of what earlier runs left.
#[derive(Clone, Copy)]
pub struct StartClients<'a> {
    pub ec2: &'a aws_sdk_ec2::Client,
    pub efs: &'a aws_sdk_efs::Client,
    pub fsx: &'a aws_sdk_fsx::Client,
    pub s3: &'a aws_sdk_s3::Client,
    /// The copy Region's EFS and FSx, whose copies' restore tests are swept there too.
    pub copy: Option<(&'a aws_sdk_efs::Client, &'a aws_sdk_fsx::Client)>,
}

/// `start`: the targets, this run's round and share of them, written for the Map.
pub async fn start(clients: StartClients<'_>, config: &VerifyConfig, event: &VerifyStart) -> Result<VerifyStarted> {
    let bucket = config.bucket()?;
    let run_id = event.run_id.as_str();
    let tag = &config.target_tag;
    let mut instances: Vec<String> =
        aws::ec2::list_tagged_instances(clients.ec2, &tag.key, &tag.value).await?.into_iter().map(|i| i.id).collect();
    instances.sort();
    instances.dedup();
    // File systems are verified by restores: EFS ones need the stack's vault and backup role, FSx ones their
    // kind named in VERIFY_FSX_RESTORE.
    let mut file_systems: Vec<(TargetKind, String)> = match config.efs {
        Some(_) => aws::efs::list_tagged_file_systems(clients.efs, &tag.key, &tag.value)
            .await?
            .into_iter()
            .map(|id| (TargetKind::Efs, id))
            .collect(),
        None => Vec::new(),
    };
    file_systems.extend(fsx_targets(clients.fsx, config).await?.into_iter().map(|id| (TargetKind::Fsx, id)));
    file_systems.sort();
    // Restore-test resources a failed run left: never a reason not to verify.
    let now = crate::now_epoch_seconds();
    let stack = config.stack.as_ref();
    let (mut swept, mut sweep_errors) = (restore::Swept::default(), Vec::new());
    match restore::sweep(clients.ec2, stack, now).await {
        Ok(volumes) => swept.extend(volumes),
        Err(e) => sweep_errors.push(e.to_string()),
    }
    let copy = clients.copy;
    if config.efs.is_some() {
        let there = copy.filter(|_| config.copy_vault.is_some()).map(|(efs, _)| efs);
        for efs in std::iter::once(clients.efs).chain(there) {
            match super::efs::sweep(efs, stack, now).await {
                Ok(file_systems) => swept.extend(file_systems),
                Err(e) => sweep_errors.push(e.to_string()),
            }
        }
    }
    if !config.fsx_restore.is_empty() {
        let restored_there = config.copy_network.restores(true) || config.copy_network.restores(false);
        let there = copy.filter(|_| restored_there).map(|(_, fsx)| fsx);
        for fsx in std::iter::once(clients.fsx).chain(there) {
            match super::fsx::sweep(fsx, stack, now).await {
                Ok(file_systems) => swept.extend(file_systems),
                Err(e) => sweep_errors.push(e.to_string()),
            }
        }
    }
    let ledger: VerifyLedger = aws::s3::get_json_or_default(clients.s3, bucket, LEDGER_KEY).await?;
    let round = ledger.next_round;
    let items = plan(&instances, &file_systems, round, config, &event.run_id);
    let items_location = ResultLocation { bucket: bucket.to_string(), key: items_key(run_id) };
    aws::s3::put_json(clients.s3, bucket, &items_location.key, to_json(&items)).await?;
    let listed: Vec<String> = instances
        .iter()
        .map(|id| target_key(TargetKind::Ec2, id))
        .chain(file_systems.iter().map(|(kind, id)| target_key(*kind, id)))
        .collect();
    aws::s3::put_json(clients.s3, bucket, &listed_key(run_id), to_json(&listed)).await?;
    let restores = items.iter().filter(|i| i.restore).count();
    let max_bytes = items.iter().find_map(|i| i.max_bytes).unwrap_or(0);
    info!(run_id, round, targets = listed.len(), verifying = items.len(), max_bytes, restores, "verify run started");
    Ok(VerifyStarted {
        run_id: run_id.to_string(),
        round,
        targets: listed.len(),
        verifying: items.len(),
        max_bytes_per_target: max_bytes,
        restores,
        items: items_location,
        swept,
        sweep_error: (!sweep_errors.is_empty()).then(|| sweep_errors.join("; ")),
    })
}

/// The FSx targets the nightly run backs up whose kind VERIFY_FSX_RESTORE names.
async fn fsx_targets(fsx: &aws_sdk_fsx::Client, config: &VerifyConfig) -> Result<Vec<String>> {
    if config.fsx_restore.is_empty() {
        return Ok(Vec::new());
    }
    let (file_systems, volumes) = tokio::try_join!(aws::fsx::list_file_systems(fsx), aws::fsx::list_volumes(fsx))?;
    let tag = &config.target_tag;
    let (targets, _) =
        crate::fsx::targets::select(&file_systems, &volumes, tag, config.ontap_volumes_of_tagged_file_systems);
    let kind_of = |id: &str| match aws::fsx::Source::of(id) {
        aws::fsx::Source::Volume(_) => Some(FsxKind::Ontap),
        aws::fsx::Source::FileSystem(_) => file_systems
            .iter()
            .find(|f| f.file_system_id() == Some(id))
            .and_then(|f| FsxKind::parse(f.file_system_type()?.as_str())),
    };
    Ok(targets.into_iter().filter(|id| kind_of(id).is_some_and(|k| config.fsx_restore.contains(&k))).collect())
}

/// The run's items: the instances within the byte budget (see [`share`]), then the file systems (EFS, FSx);
/// the run's VERIFY_MAX_RESTORES_PER_RUN restore tests taken in turn across all (instances only with
/// VERIFY_RESTORE), every one within ceil(n / max) rounds. A file system is verified only by its restore: one
/// without its turn waits for it.
pub fn plan(
    instances: &[String],
    file_systems: &[(TargetKind, String)],
    round: u64,
    config: &VerifyConfig,
    run_id: &RunId,
) -> Vec<VerifyEvent> {
    let (chosen, max_bytes) = share(instances, round, config.max_bytes());
    let restoring_instances = if config.restore { chosen.len() } else { 0 };
    let turns = restore::restore_turns(restoring_instances + file_systems.len(), round, config.max_restores as usize);
    let (instance_turns, file_system_turns) = turns.split_at(restoring_instances);
    let event = |restore| VerifyEvent {
        instance_id: None,
        file_system_id: None,
        fsx_id: None,
        round: Some(round),
        max_bytes: None,
        restore,
        run_id: Some(run_id.clone()),
    };
    let instances = chosen.iter().enumerate().map(|(i, id)| VerifyEvent {
        instance_id: Some(id.clone()),
        max_bytes: Some(max_bytes),
        ..event(instance_turns.get(i).copied().unwrap_or(false))
    });
    let file_systems = file_systems.iter().zip(file_system_turns).filter(|(_, turn)| **turn).map(|((kind, id), _)| {
        let (efs, fsx) = if *kind == TargetKind::Efs { (Some(id.clone()), None) } else { (None, Some(id.clone())) };
        VerifyEvent { file_system_id: efs, fsx_id: fsx, round: None, ..event(true) }
    });
    instances.chain(file_systems).collect()
}

/// A verify run's full report, in the stack's bucket.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    pub version: &'static str,
    pub run_id: String,
    pub execution_id: Option<String>,
    pub round: u64,
    pub totals: VerifyTotals,
    pub checks: Vec<TargetCheck>,
    pub not_verified_recently: Vec<NotVerifiedRecently>,
}

/// `record`: every target's check from the Map's results into the ledger, the report and the metrics.
pub async fn record(s3: &aws_sdk_s3::Client, config: &VerifyConfig, event: &VerifyRecord) -> Result<VerifySummary> {
    let bucket = config.bucket()?;
    if event.results.bucket != bucket {
        let reason = format!("{:?} is not the stack's bucket {bucket:?}", event.results.bucket);
        return Err(Error::invalid_event("results.bucket", reason));
    }
    let run_id = event.run_id.as_str();
    let mut checks: Vec<TargetCheck> = read_entries(s3, &event.results).await?.into_iter().map(check_of).collect();
    checks.sort_by(|a, b| (a.kind, &a.target_id).cmp(&(b.kind, &b.target_id)));
    let listed: Vec<String> = aws::s3::get_json_or_default(s3, bucket, &listed_key(run_id)).await?;
    let now = crate::now_epoch_seconds();
    let update = |previous: &VerifyLedger| ledger::updated(previous, now, run_id, event.round, &listed, &checks);
    let (_, ledger) = aws::s3::update_json(s3, bucket, LEDGER_KEY, update).await?;
    let report = VerifyReport {
        version: crate::VERSION,
        run_id: run_id.to_string(),
        execution_id: event.execution_id.clone(),
        round: event.round,
        totals: totals(&checks),
        not_verified_recently: ledger::not_verified_since(&ledger, now, config.stale_days),
        checks,
    };
    crate::metrics::emit("verify", "record", run_id, false, &run_metrics(&report));
    let location = ResultLocation { bucket: bucket.to_string(), key: report_key(run_id) };
    aws::s3::put_json(s3, bucket, &location.key, to_json(&report)).await?;
    let summary = VerifySummary {
        run_id: run_id.to_string(),
        totals: report.totals.clone(),
        failed_targets: unverified(&report.checks).into_iter().take(FAILED_TARGETS_LISTED).collect(),
        not_verified_recently: report.not_verified_recently.len(),
        report: location,
    };
    info!(
        run_id,
        targets = summary.totals.targets,
        verified = summary.totals.verified,
        failed = summary.totals.failed,
        errors = summary.totals.errors,
        bytes_read = summary.totals.bytes_read,
        not_verified_recently = summary.not_verified_recently,
        report = %format!("s3://{}/{}", summary.report.bucket, summary.report.key),
        "verify run recorded"
    );
    Ok(summary)
}

/// A target's check from its child execution's entry: its output, or the cause of its Fail state (a failed
/// verification, or a check that could not run, which names no target: its input does); a child that failed
/// otherwise is named from its input.
pub fn check_of(entry: ResultEntry) -> TargetCheck {
    let text = if entry.status == "SUCCEEDED" { entry.output.as_deref() } else { entry.cause.as_deref() };
    // A check's answer says its outcome; anything else (a Lambda error's JSON) is not one.
    let answered = text
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .filter(|v| v.get("outcome").is_some())
        .and_then(|v| serde_json::from_value::<TargetCheck>(v).ok());
    let mut check = answered.unwrap_or_else(|| TargetCheck {
        outcome: Outcome::Error,
        error: Some(entry.error.clone().unwrap_or_else(|| entry.status.clone())),
        cause: entry.cause.clone(),
        ..Default::default()
    });
    if check.target_id.is_empty() {
        let input = entry.input.as_deref().and_then(|input| serde_json::from_str::<VerifyEvent>(input).ok());
        let (kind, id) = input.as_ref().map_or((TargetKind::Ec2, "(unknown)"), VerifyEvent::target);
        (check.kind, check.target_id) = (kind, id.to_string());
    }
    check
}

pub fn totals(checks: &[TargetCheck]) -> VerifyTotals {
    let count = |outcome: Outcome| checks.iter().filter(|c| c.outcome == outcome).count();
    VerifyTotals {
        targets: checks.len(),
        verified: count(Outcome::Verified),
        failed: count(Outcome::Failed),
        no_backup: count(Outcome::NoBackup),
        errors: count(Outcome::Error),
        blocks_read: checks.iter().map(|c| c.blocks_read).sum(),
        bytes_read: checks.iter().map(|c| c.bytes_read).sum(),
        cost_usd: checks.iter().map(|c| c.cost_usd).sum(),
        restore_tests: checks.iter().filter(|c| c.restore.is_some()).count(),
        restore_tests_failed: checks.iter().filter(|c| c.restore.as_ref().is_some_and(|r| !r.restored)).count(),
        restore_volumes_left: checks
            .iter()
            .filter_map(|c| c.restore.as_ref())
            .map(|r| r.resources.iter().filter(|v| !v.deleted).count())
            .sum(),
    }
}

/// The targets that failed verification (first, each with its first bad block) or could not be checked.
pub fn unverified(checks: &[TargetCheck]) -> Vec<UnverifiedTarget> {
    let failed = checks.iter().filter(|c| c.outcome == Outcome::Failed).map(|c| {
        let failed_restore = c.restore.as_ref().filter(|r| !r.restored);
        let bad_copy = c.copy.as_ref().filter(|copy| !copy.bad_blocks.is_empty());
        let bad = |blocks: &[super::ebs::BadBlock]| {
            let first = &blocks[0];
            let n = blocks.len();
            format!("{n} bad block(s); first: {} block {}: {}", first.snapshot_id, first.block_index, first.reason)
        };
        let reason = match (c.bad_blocks.is_empty(), bad_copy, failed_restore) {
            (false, _, _) => bad(&c.bad_blocks),
            (true, Some(copy), _) => format!("its copy in {}: {}", copy.region, bad(&copy.bad_blocks)),
            (true, None, Some(r)) => format!("restore test: {}", r.error.as_deref().unwrap_or("did not restore")),
            (true, None, None) => "failed".to_string(),
        };
        UnverifiedTarget { kind: c.kind, target_id: c.target_id.clone(), reason }
    });
    let errors = checks.iter().filter(|c| c.outcome == Outcome::Error).map(|c| UnverifiedTarget {
        kind: c.kind,
        target_id: c.target_id.clone(),
        reason: format!("{}: {}", c.error.as_deref().unwrap_or("error"), c.cause.as_deref().unwrap_or("")),
    });
    failed.chain(errors).collect()
}

/// The verify run's metrics (Kind `verify`), two with an alarm: targets whose backup did not verify (or could
/// not be checked), and targets not verified good within VERIFY_STALE_DAYS.
pub fn run_metrics(report: &VerifyReport) -> [Metric<'static>; 4] {
    let totals = &report.totals;
    [
        ("TargetsVerified", totals.verified as f64, Unit::Count),
        ("VerificationsFailed", (totals.failed + totals.errors) as f64, Unit::Count),
        ("TargetsNotVerifiedRecently", report.not_verified_recently.len() as f64, Unit::Count),
        ("BytesVerified", totals.bytes_read as f64, Unit::Bytes),
    ]
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::ebs::BadBlock;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("i-{i:08x}")).collect()
    }

    #[test]
    fn a_budget_for_every_target_is_shared_equally() {
        let (chosen, each) = share(&ids(4), 3, 100 * BLOCK_BYTES);
        assert_eq!((chosen.len(), each), (4, 25 * BLOCK_BYTES));
        assert_eq!(share(&[], 0, BLOCK_BYTES), (Vec::new(), 0));
    }

    #[test]
    fn a_budget_too_small_for_all_verifies_a_rotating_share_reaching_every_target() {
        let all = ids(10);
        let mut seen = std::collections::BTreeSet::new();
        for round in 0..4 {
            let (chosen, each) = share(&all, round, 3 * BLOCK_BYTES);
            assert_eq!((chosen.len(), each), (3, BLOCK_BYTES), "one block each, never over the budget");
            seen.extend(chosen);
        }
        assert_eq!(seen.len(), 10, "ceil(10 / 3) = 4 rounds reach every target");
    }

    fn entry(status: &str, input: &str, output: Option<&str>, error: Option<&str>, cause: Option<&str>) -> ResultEntry {
        ResultEntry {
            status: status.into(),
            input: Some(input.into()),
            output: output.map(Into::into),
            error: error.map(Into::into),
            cause: cause.map(Into::into),
        }
    }

    #[test]
    fn each_childs_entry_gives_its_check_and_a_failure_names_its_target() {
        let input = r#"{"instanceId":"i-0123456789abcdef0","round":1,"maxBytes":524288}"#;
        let verified = r#"{"kind":"ec2","targetId":"i-0123456789abcdef0","outcome":"verified","bytesRead":524288}"#;
        let check = check_of(entry("SUCCEEDED", input, Some(verified), None, None));
        assert_eq!((check.outcome, check.bytes_read), (Outcome::Verified, BLOCK_BYTES));
        let failed = r#"{"targetId":"i-0123456789abcdef0","outcome":"failed","badBlocks":[{"snapshotId":"snap-1","blockIndex":64,"reason":"checksum"}]}"#;
        let check = check_of(entry("FAILED", input, None, Some("VerificationFailed"), Some(failed)));
        assert_eq!(
            check.bad_blocks,
            vec![BadBlock { snapshot_id: "snap-1".into(), block_index: 64, reason: "checksum".into() }]
        );
        // A check that could not run is caught without its target: the input names it, whatever its kind.
        let caught = r#"{"outcome":"error","error":"Throttled","cause":"slow down"}"#;
        let efs_input = r#"{"fileSystemId":"fs-0123456789abcdef0","restore":true,"runId":"verify-1"}"#;
        let check = check_of(entry("FAILED", efs_input, None, Some("VerificationFailed"), Some(caught)));
        assert_eq!((check.outcome, check.error.as_deref()), (Outcome::Error, Some("Throttled")));
        assert_eq!((check.kind, check.target_id.as_str()), (TargetKind::Efs, "fs-0123456789abcdef0"));
        // A Lambda error's JSON is no check's answer, however few fields a check needs.
        let lambda_error = r#"{"errorType":"InvalidEvent","errorMessage":"bad"}"#;
        let check = check_of(entry("FAILED", input, None, Some("InvalidEvent"), Some(lambda_error)));
        assert_eq!((check.outcome, check.error.as_deref()), (Outcome::Error, Some("InvalidEvent")));
        let timed_out = check_of(entry("TIMED_OUT", input, None, None, None));
        assert_eq!((timed_out.target_id.as_str(), timed_out.outcome), ("i-0123456789abcdef0", Outcome::Error));
        assert_eq!(timed_out.error.as_deref(), Some("TIMED_OUT"));
    }

    fn config(restore: bool, max_restores: u32, max_gib_read: u32) -> VerifyConfig {
        let mut config = VerifyConfig::from_source(&crate::config::test_support::source(&[])).unwrap();
        (config.restore, config.max_restores, config.max_gib_read) = (restore, max_restores, max_gib_read);
        config
    }

    #[test]
    fn a_plan_restores_in_turn_across_kinds_and_a_file_system_waits_for_its_turn() {
        let run = RunId::new("runId", "verify-1").unwrap();
        let file_systems = vec![
            (TargetKind::Efs, "fs-1".to_string()),
            (TargetKind::Efs, "fs-2".to_string()),
            (TargetKind::Fsx, "fsvol-3".to_string()),
        ];
        let instances = ids(2);
        let mut restored = std::collections::BTreeMap::new();
        for round in 0..5 {
            let items = plan(&instances, &file_systems, round, &config(true, 2, 100), &run);
            assert_eq!(items.iter().filter(|i| i.restore).count(), 2, "round {round}: the cap, across kinds");
            assert_eq!(items.iter().filter(|i| i.instance_id.is_some()).count(), 2, "every instance reads blocks");
            assert!(items.iter().filter(|i| i.instance_id.is_none()).all(|i| i.restore && i.max_bytes.is_none()));
            for item in items.iter().filter(|i| i.restore) {
                *restored.entry(item.target().1.to_string()).or_insert(0) += 1;
            }
        }
        assert_eq!(restored.len(), 5, "ceil(5 / 2) = 3 rounds give every target a turn: {restored:?}");
        let no_volume_restores = plan(&instances, &file_systems, 0, &config(false, 2, 100), &run);
        assert!(no_volume_restores.iter().filter(|i| i.instance_id.is_some()).all(|i| !i.restore));
        let restoring = |items: &[VerifyEvent]| items.iter().filter(|i| i.instance_id.is_none()).count();
        assert_eq!(restoring(&no_volume_restores), 2);
        let fsx = plan(&[], &file_systems, 2, &config(false, 3, 100), &run);
        assert_eq!(fsx.iter().filter_map(|i| i.fsx_id.as_deref()).collect::<Vec<_>>(), ["fsvol-3"]);
        assert!(plan(&[], &file_systems, 0, &config(true, 0, 100), &run).is_empty(), "no restores: no file system");
        for item in plan(&instances, &file_systems, 0, &config(true, 2, 100), &run) {
            let json = serde_json::to_value(&item).unwrap();
            assert_eq!(VerifyEvent::parse(json).unwrap(), item, "an item is the event its child reads");
        }
    }

    #[test]
    fn the_totals_count_each_outcome_and_failures_come_first_with_their_first_bad_block() {
        let check =
            |id: &str, outcome| TargetCheck { target_id: id.into(), outcome, bytes_read: 10, ..Default::default() };
        let mut bad = check("i-b", Outcome::Failed);
        bad.bad_blocks = vec![BadBlock { snapshot_id: "snap-9".into(), block_index: 3, reason: "checksum".into() }];
        let mut error = check("i-a", Outcome::Error);
        error.error = Some("Throttled".into());
        let checks = vec![error, bad, check("i-c", Outcome::Verified), check("i-d", Outcome::NoBackup)];
        let totals = totals(&checks);
        assert_eq!((totals.targets, totals.verified, totals.failed, totals.no_backup, totals.errors), (4, 1, 1, 1, 1));
        assert_eq!(totals.bytes_read, 40);
        let named = unverified(&checks);
        assert_eq!(named.iter().map(|t| t.target_id.as_str()).collect::<Vec<_>>(), ["i-b", "i-a"]);
        assert!(named[0].reason.contains("snap-9 block 3"), "{}", named[0].reason);
        let report = VerifyReport {
            version: "x",
            run_id: "r".into(),
            execution_id: None,
            round: 0,
            totals,
            checks,
            not_verified_recently: Vec::new(),
        };
        let metrics = run_metrics(&report);
        assert_eq!(metrics[1], ("VerificationsFailed", 2.0, Unit::Count), "a failure and an error both alarm");
    }
}
