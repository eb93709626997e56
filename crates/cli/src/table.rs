//! Tables for people: aligned columns, times in UTC, a section per list.

use snapmgmt_core::model::{DisappearedTarget, RunReport, Skipped, TargetKind, TargetResult};

use crate::runs::Run;
use crate::status::Status;

/// Rows (the first is the header) as aligned columns, two spaces apart.
pub fn columns(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| rows.iter().map(|r| r.get(c).map_or(0, |v| v.chars().count())).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Unix seconds as `2026-12-06 02:00` (UTC).
pub fn time(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map_or_else(|_| seconds.to_string(), |t| t.strftime("%Y-%m-%d %H:%M").to_string())
}

fn row<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

pub fn runs(runs: &[Run]) -> String {
    let mut rows =
        vec![row(["RUN", "STATUS", "STARTED (UTC)", "SECONDS", "TARGETS", "FAILED", "CREATED", "DELETED", "KEPT"])];
    for run in runs {
        let seconds = run.stopped.map_or("-".into(), |s| (s - run.started).to_string());
        let status = if run.dry_run == Some(true) { format!("{} (dry run)", run.status) } else { run.status.clone() };
        let totals = run.totals.as_ref().map_or_else(
            || vec!["-".to_string(); 5],
            |t| [t.targets, t.failed_targets, t.created, t.deleted, t.kept].iter().map(usize::to_string).collect(),
        );
        let mut cells = vec![run.run.clone(), status, time(run.started), seconds];
        cells.extend(totals);
        rows.push(cells);
    }
    if runs.is_empty() {
        return "no runs yet\n".to_string();
    }
    columns(&rows)
}

pub fn report(report: &RunReport) -> String {
    let t = &report.totals;
    let mut out = format!(
        "run {}{}: {} targets, {} failed; {} created, {} {}, {} kept, {} failed deletes; {} orphans\n\n",
        report.run_id,
        if report.dry_run { " (dry run: nothing was changed)" } else { "" },
        t.targets,
        t.failed_targets,
        t.created,
        t.deleted,
        if report.dry_run { "to delete" } else { "deleted" },
        t.kept,
        t.failed_deletes,
        t.orphans,
    );
    let mut rows = vec![row(["KIND", "TARGET", "RESULT", "CREATED", "DELETED", "KEPT", "COPIES"])];
    for kind in TargetKind::ALL {
        rows.extend(report.results[kind].iter().map(result_row));
    }
    out.push_str(&columns(&rows));
    if !report.orphans.is_empty() {
        out.push_str("\norphans (no longer targets):\n");
        let mut rows = vec![row(["KIND", "TARGET", "REGION", "RESULT", "DELETED", "KEPT", "COPIES"])];
        rows.extend(report.orphans.iter().map(|o| {
            let mut cells = result_row(o);
            cells.insert(2, o.region.clone().unwrap_or_else(|| "(stack's)".into()));
            cells.truncate(7);
            cells
        }));
        out.push_str(&columns(&rows));
    }
    for stale in &report.without_recent_backup {
        out.push_str(&format!(
            "STALE {} {}: no completed backup for {} hours\n",
            stale.kind.as_str(),
            stale.target_id,
            stale.hours_without_backup
        ));
    }
    out.push_str(&left_out(&report.disappeared, &report.skipped));
    out
}

/// A line per target that left and per tagged resource that was not backed up.
fn left_out(disappeared: &[DisappearedTarget], skipped: &[Skipped]) -> String {
    let mut out = String::new();
    for gone in disappeared {
        let (kind, id, seen) = (gone.kind.as_str(), &gone.target_id, time(gone.last_seen));
        out.push_str(&format!("DISAPPEARED {kind} {id}: last a target {seen}; {}\n", gone.reason));
    }
    for skipped in skipped {
        out.push_str(&format!("SKIPPED {} {}: {}\n", skipped.kind.as_str(), skipped.id, skipped.reason));
    }
    out
}

fn result_row(result: &TargetResult) -> Vec<String> {
    let outcome = match &result.error {
        Some(error) => format!("FAILED {error}"),
        None => "ok".to_string(),
    };
    let (deleted, kept) = result.cleanup.as_ref().map_or((0, 0), |c| (c.counts.deleted, c.counts.kept));
    let copies = result.copy.as_ref().map_or("-".to_string(), |c| c.copy_ids.len().to_string());
    vec![
        result.kind.as_str().to_string(),
        result.target_id.clone(),
        outcome,
        result.created.len().to_string(),
        deleted.to_string(),
        kept.to_string(),
        copies,
    ]
}

pub fn status(status: &Status) -> String {
    let mut rows =
        vec![row(["KIND", "TARGET", "LAST BACKUP (UTC)", "HOURS", "STALE", "LAST COPIES", "LAST VERIFIED (UTC)"])];
    for t in &status.targets {
        rows.push(vec![
            t.kind.as_str().to_string(),
            if t.disappeared { format!("{} (disappeared)", t.target_id) } else { t.target_id.clone() },
            t.last_completed.map_or("never".to_string(), time),
            t.hours_without_backup.to_string(),
            if t.stale { format!("STALE (> {} h)", status.stale_after_hours) } else { "no".to_string() },
            t.last_copies.as_ref().map_or("-".to_string(), |c| c.len().to_string()),
            last_verified(t.last_verified.as_ref()),
        ]);
    }
    let mut out = match &status.last_run {
        Some(run) => format!("as of run {run}\n"),
        None => "no run has written a report yet\n".to_string(),
    };
    out.push_str(&columns(&rows));
    out.push_str(&left_out(&status.disappeared, &status.skipped));
    for orphan in &status.orphans {
        let region = orphan.region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default();
        let verb = if orphan.dry_run { "would delete" } else { "deleted" };
        out.push_str(&format!(
            "ORPHAN {} {}{region}: {verb} {}, kept {}\n",
            orphan.kind.as_str(),
            orphan.target_id,
            orphan.deleted,
            orphan.kept
        ));
    }
    out
}

/// When a target was last verified and what it found: `2026-12-06 04:00 verified`; `-` when never.
fn last_verified(last: Option<&snapmgmt_core::verify::ledger::LastVerified>) -> String {
    use snapmgmt_core::verify::Outcome;
    let Some((at, outcome)) = last.and_then(|v| Some((v.at?, v.outcome?))) else {
        return "-".to_string();
    };
    let word = match outcome {
        Outcome::Verified => "verified",
        Outcome::Failed => "FAILED",
        Outcome::NoBackup => "no backup",
        Outcome::Error => "not checked (error)",
    };
    format!("{} {word}", time(at))
}

pub fn plan(plan: &crate::plan::Plan) -> String {
    let t = &plan.totals;
    let mut out = format!(
        "plan for {} (UTC, {}), nothing changed: {} targets ({} new backups), {} to delete, {} kept; {} orphans\n",
        time(plan.at),
        plan.at_from,
        t.targets,
        t.to_create,
        t.to_delete,
        t.to_keep,
        t.orphans
    );
    let mut rows = vec![row(["KIND", "RESOURCE", "REGION", "POLICY", "DELETE", "KEEP", "KEPT BECAUSE"])];
    let mut going = String::new();
    for judged in plan.targets.iter().chain(&plan.orphans) {
        for region in &judged.regions {
            let name = if judged.orphan { format!("{} (orphan)", judged.resource) } else { judged.resource.clone() };
            let delete: Vec<&crate::backups::Judged> = region.backups.iter().filter(|b| b.goes_tonight).collect();
            let mut reasons = std::collections::BTreeMap::<&str, usize>::new();
            for b in region.backups.iter().filter(|b| !b.goes_tonight) {
                *reasons.entry(b.kept_because.as_deref().unwrap_or("expired, only reported")).or_default() += 1;
            }
            let because: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
            rows.push(vec![
                judged.kind.as_str().to_string(),
                name,
                region.region.clone(),
                region.policy.as_ref().map_or("-".to_string(), |p| p.policy.clone()),
                delete.len().to_string(),
                (region.backups.len() - delete.len()).to_string(),
                region.error.as_ref().map_or(because.join(", "), |e| format!("NOT JUDGED: {e}")),
            ]);
            if !delete.is_empty() {
                let ids: Vec<String> = delete
                    .iter()
                    .map(|b| format!("{} ({} days)", b.id, b.age_days.map_or("?".into(), |d| d.to_string())))
                    .collect();
                going.push_str(&format!(
                    "  {} {} in {}: {}\n",
                    judged.kind.as_str(),
                    judged.resource,
                    region.region,
                    ids.join(", ")
                ));
            }
        }
    }
    out.push_str(&columns(&rows));
    if !going.is_empty() {
        out.push_str("\nwould delete:\n");
        out.push_str(&going);
    }
    out.push_str(&left_out(&[], &plan.skipped));
    for failure in &plan.orphan_search_failures {
        let region = failure.region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default();
        out.push_str(&format!("ORPHAN SEARCH FAILED {}{region}: {}\n", failure.kind.as_str(), failure.error));
    }
    out
}

pub fn restore(restore: &crate::restore::Restore) -> String {
    let mut out = format!(
        "{} {}: the backup of {} ({})\n",
        restore.kind.as_str(),
        restore.resource,
        time(restore.created),
        restore.backup.join(", ")
    );
    for step in &restore.steps {
        out.push_str(&format!("# {}\n{}\n", step.what, step.command));
    }
    if !restore.made.is_empty() {
        out.push_str(&format!("made, ready: {}\n", restore.made.join(", ")));
    }
    out
}

pub fn backups(backups: &crate::backups::Backups) -> String {
    let mut out = format!(
        "{} {}{}\n",
        backups.kind.as_str(),
        backups.resource,
        if backups.orphan { " (no longer a target: judged as an orphan)" } else { "" }
    );
    for region in &backups.regions {
        let what = if region.copies { "copies in" } else { "backups in" };
        let policy =
            region.policy.as_ref().map_or(String::new(), |p| format!(", policy {} ({:?})", p.policy, p.source));
        out.push_str(&format!("\n{what} {}{policy}\n", region.region));
        if let Some(error) = &region.error {
            out.push_str(&format!("  could not judge them: {error}\n"));
            continue;
        }
        if region.backups.is_empty() {
            out.push_str("  none of ours\n");
            continue;
        }
        let mut rows = vec![row(["ID", "CREATED (UTC)", "AGE (DAYS)", "TONIGHT"])];
        for b in &region.backups {
            rows.push(vec![
                b.id.clone(),
                b.created.map_or("-".to_string(), time),
                b.age_days.map_or("-".to_string(), |d| d.to_string()),
                match (&b.kept_because, b.goes_tonight) {
                    (Some(reason), _) => format!("kept: {reason}"),
                    (None, true) => "goes".to_string(),
                    (None, false) => "expired; only reported (DeleteOrphans is off)".to_string(),
                },
            ]);
        }
        out.push_str(&columns(&rows));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_times_are_utc() {
        let rows = vec![row(["A", "BB"]), row(["long", "x"])];
        assert_eq!(columns(&rows), "A     BB\nlong  x\n");
        assert_eq!(time(1_800_000_000), "2027-01-15 08:00");
    }
}
