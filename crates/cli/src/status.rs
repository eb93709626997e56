//! `status`: every target the freshness ledger knows, with its last completed backup, its age and whether
//! it is stale (by the stack's own StaleAfterHours, the rule the report applies), the last run's copy of it;
//! and, from the last report, the disappeared and skipped targets and the orphans; and, from the verify
//! ledger, each target's last verification.

use std::collections::BTreeSet;

use serde::Serialize;
use snapmgmt_core::freshness::{self, Ledger};
use snapmgmt_core::model::{DisappearedTarget, RunReport, Skipped, TargetKind, TargetResult};
use snapmgmt_core::verify::ledger::{LastVerified, VerifyLedger};
use snapmgmt_core::verify::Outcome;

/// The template's default of StaleAfterHours, for a stack that does not report its parameters.
pub const DEFAULT_STALE_AFTER_HOURS: u32 = 50;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The run whose report the disappeared, skipped and orphan lists come from.
    pub last_run: Option<String>,
    pub stale_after_hours: u32,
    pub targets: Vec<TargetStatus>,
    pub disappeared: Vec<DisappearedTarget>,
    pub skipped: Vec<Skipped>,
    pub orphans: Vec<Orphan>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    pub kind: TargetKind,
    pub target_id: String,
    /// When its backup last completed (Unix seconds); None: never since it was first seen.
    pub last_completed: Option<i64>,
    /// Hours since then (or since it was first seen).
    pub hours_without_backup: i64,
    pub stale: bool,
    /// The last run's copies of it in the copy Region; None when that run made none for it.
    pub last_copies: Option<Vec<String>>,
    /// No longer a target: the last run named it disappeared.
    pub disappeared: bool,
    /// Its last verification (when, which backup, what it found); None: never verified.
    pub last_verified: Option<LastVerified>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Orphan {
    pub kind: TargetKind,
    pub target_id: String,
    /// The copy Region, for its copies there; None: the stack's Region.
    pub region: Option<String>,
    pub deleted: usize,
    pub kept: usize,
    pub dry_run: bool,
}

impl Status {
    /// Whether an operator should look: a stale or disappeared target, or one whose backup last failed to
    /// verify.
    pub fn needs_attention(&self) -> bool {
        let failed_verification = |t: &TargetStatus| {
            t.last_verified.as_ref().and_then(|v| v.outcome).is_some_and(|o| matches!(o, Outcome::Failed))
        };
        self.targets.iter().any(|t| t.stale || failed_verification(t)) || !self.disappeared.is_empty()
    }
}

pub fn build(
    ledger: &Ledger,
    verified: &VerifyLedger,
    last: Option<&RunReport>,
    now: i64,
    stale_after_hours: u32,
) -> Status {
    let stale: BTreeSet<(TargetKind, String)> =
        freshness::stale(ledger, now, stale_after_hours).into_iter().map(|s| (s.kind, s.target_id)).collect();
    let disappeared: BTreeSet<(TargetKind, &str)> =
        last.map(|r| r.disappeared.iter().map(|d| (d.kind, d.target_id.as_str())).collect()).unwrap_or_default();
    let mut targets: Vec<TargetStatus> = ledger
        .targets
        .iter()
        .filter_map(|(key, entry)| {
            let (kind, id) = freshness::parse_key(key)?;
            let since = entry.last_completed.unwrap_or(entry.first_seen);
            Some(TargetStatus {
                kind,
                target_id: id.to_string(),
                last_completed: entry.last_completed,
                hours_without_backup: (now - since).max(0) / 3600,
                stale: stale.contains(&(kind, id.to_string())),
                last_copies: last
                    .and_then(|r| result_of(r, kind, id))
                    .and_then(|r| r.copy.as_ref())
                    .map(|c| c.copy_ids.clone()),
                disappeared: disappeared.contains(&(kind, id)),
                last_verified: verified.targets.get(key).cloned(),
            })
        })
        .collect();
    // The ones to look at first: stale, then the longest without a backup.
    targets.sort_by(|a, b| {
        b.stale
            .cmp(&a.stale)
            .then(b.hours_without_backup.cmp(&a.hours_without_backup))
            .then(a.target_id.cmp(&b.target_id))
    });
    let orphans = last
        .map(|r| {
            r.orphans
                .iter()
                .map(|o| {
                    let cleanup = o.cleanup.as_ref();
                    Orphan {
                        kind: o.kind,
                        target_id: o.target_id.clone(),
                        region: o.region.clone(),
                        // The counts: the id lists may be cut short in a large report.
                        deleted: cleanup.map_or(0, |c| c.counts.deleted),
                        kept: cleanup.map_or(0, |c| c.counts.kept),
                        dry_run: cleanup.is_some_and(|c| c.dry_run),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Status {
        last_run: last.map(|r| r.run_id.clone()),
        stale_after_hours,
        targets,
        disappeared: last.map(|r| r.disappeared.clone()).unwrap_or_default(),
        skipped: last.map(|r| r.skipped.clone()).unwrap_or_default(),
        orphans,
    }
}

fn result_of<'r>(report: &'r RunReport, kind: TargetKind, id: &str) -> Option<&'r TargetResult> {
    report.results[kind].iter().find(|r| r.target_id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapmgmt_core::freshness::Entry;

    const NOW: i64 = 1_800_000_000;
    const HOUR: i64 = 3600;

    fn ledger(entries: &[(&str, i64, Option<i64>)]) -> Ledger {
        let mut ledger = Ledger::default();
        for (key, first_seen, last_completed) in entries {
            let entry = Entry { first_seen: *first_seen, last_completed: *last_completed, last_seen: Some(NOW) };
            ledger.targets.insert(key.to_string(), entry);
        }
        ledger
    }

    #[test]
    fn a_target_is_stale_past_the_stacks_hours_and_comes_first() {
        let ledger = ledger(&[
            ("fsx:fs-fresh", NOW - 100 * HOUR, Some(NOW - 2 * HOUR)),
            ("ec2:i-old", NOW - 100 * HOUR, Some(NOW - 60 * HOUR)),
            ("efs:fs-never", NOW - 51 * HOUR, None),
        ]);
        let status = build(&ledger, &VerifyLedger::default(), None, NOW, 50);
        let rows: Vec<_> =
            status.targets.iter().map(|t| (t.target_id.as_str(), t.stale, t.hours_without_backup)).collect();
        assert_eq!(rows, [("i-old", true, 60), ("fs-never", true, 51), ("fs-fresh", false, 2)]);
        assert!(status.needs_attention());
        assert!(
            !build(&ledger, &VerifyLedger::default(), None, NOW, 100).needs_attention(),
            "within 100 hours, none is stale"
        );
    }

    #[test]
    fn the_last_report_names_the_copies_the_disappeared_and_the_orphans() {
        let ledger = ledger(&[
            ("fsx:fs-1", NOW - 10 * HOUR, Some(NOW - HOUR)),
            ("fsx:fs-gone", NOW - 90 * HOUR, Some(NOW - 30 * HOUR)),
        ]);
        let report: RunReport = serde_json::from_value(serde_json::json!({
            "runId": "run-1", "executionId": null, "dryRun": false,
            "totals": {"targets": 1, "failedTargets": 0, "created": 1, "deleted": 0, "kept": 0, "failedDeletes": 0},
            "failedTargets": [],
            "fsx": [{"kind": "fsx", "targetId": "fs-1", "created": ["backup-1"],
                     "copy": {"region": "us-west-2", "copyIds": ["backup-9"]}}],
            "ec2": [], "efs": [],
            "disappeared": [{"kind": "fsx", "targetId": "fs-gone", "lastSeen": NOW - 30 * HOUR,
                             "lastCompleted": NOW - 30 * HOUR, "reason": "deleted or terminated"}],
            "orphans": [{"kind": "fsx", "targetId": "fs-gone", "orphan": true,
                         "cleanup": {"targetId": "fs-gone", "dryRun": true, "deleted": ["backup-2"], "kept": [], "failed": [],
                                     "counts": {"deleted": 1, "kept": 0, "failed": 0, "keptByReason": {}}}}]
        }))
        .unwrap();
        let status = build(&ledger, &VerifyLedger::default(), Some(&report), NOW, 50);
        assert_eq!(status.last_run.as_deref(), Some("run-1"));
        let fs1 = status.targets.iter().find(|t| t.target_id == "fs-1").unwrap();
        assert_eq!(fs1.last_copies.as_deref(), Some(&["backup-9".to_string()][..]));
        assert!(status.targets.iter().find(|t| t.target_id == "fs-gone").unwrap().disappeared);
        assert_eq!((status.orphans[0].deleted, status.orphans[0].dry_run), (1, true));
        assert!(status.needs_attention(), "a target disappeared");
    }

    #[test]
    fn each_target_shows_its_last_verification_and_a_failed_one_needs_attention() {
        let ledger = ledger(&[("ec2:i-1", NOW - 10 * HOUR, Some(NOW - HOUR))]);
        let last = LastVerified { first_seen: NOW - 9 * HOUR, at: Some(NOW - 5 * HOUR), ..Default::default() };
        let verified = |outcome| VerifyLedger {
            next_round: 1,
            targets: [("ec2:i-1".to_string(), LastVerified { outcome: Some(outcome), ..last.clone() })].into(),
        };
        let good = build(&ledger, &verified(Outcome::Verified), None, NOW, 50);
        assert_eq!(good.targets[0].last_verified.as_ref().and_then(|v| v.at), Some(NOW - 5 * HOUR));
        assert!(!good.needs_attention());
        assert!(build(&ledger, &verified(Outcome::Failed), None, NOW, 50).needs_attention());
    }
}
