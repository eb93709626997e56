//! Which targets have gone without a completed backup for too long: a ledger in the stack's bucket
//! (`state/last-backups.json`) keeps, per target, when it was first seen and when its backup last
//! completed. Each real run updates it from its results and its skipped targets; a target that stops
//! being one leaves it. A failed target already fails its run; this catches the slower failure, a
//! resource that fails, or is skipped, night after night, or whose backups never complete.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Skipped, TargetKind, TargetResult};

/// Where the ledger lives in the stack's bucket.
pub const LEDGER_KEY: &str = "state/last-backups.json";

/// Per target (`kind:id`), when it was first seen and when its backup last completed (Unix seconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    pub targets: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub first_seen: i64,
    #[serde(default)]
    pub last_completed: Option<i64>,
}

/// A target with no completed backup for longer than allowed (part of the run report, so in the model).
pub use crate::model::StaleTarget;

/// Did this target's backup complete in this run? A guard refusal, and a copy to the copy Region that
/// failed or ran out of time, come only after the new backup completed, so they count as a backup; any
/// other error does not.
pub fn backup_completed(result: &TargetResult) -> bool {
    const AFTER_THE_BACKUP: [&str; 3] = ["DeleteLimitExceeded", "CopyFailed", "CopyTimeout"];
    !result.dry_run
        && !result.created.is_empty()
        && result.error.as_deref().is_none_or(|error| AFTER_THE_BACKUP.contains(&error))
}

fn key(kind: TargetKind, id: &str) -> String {
    format!("{}:{id}", kind.as_str())
}

/// The ledger after a real run: every target of the run (its results and its skipped ones), first seen
/// now when new, completed now when its backup did; targets no longer in the run are dropped.
pub fn updated(previous: &Ledger, now: i64, results: &[&TargetResult], skipped: &[Skipped]) -> Ledger {
    let mut next = Ledger::default();
    let mut carry = |kind: TargetKind, id: &str, completed: bool| {
        let key = key(kind, id);
        let before = previous.targets.get(&key).copied();
        let entry =
            next.targets.entry(key).or_insert(before.unwrap_or(Entry { first_seen: now, last_completed: None }));
        if completed {
            entry.last_completed = Some(now);
        }
    };
    for result in results {
        carry(result.kind, &result.target_id, backup_completed(result));
    }
    for s in skipped {
        carry(s.kind, &s.id, false);
    }
    next
}

/// The targets of the ledger whose last completed backup (or, never backed up, their first sighting) is
/// more than `stale_after_hours` old, oldest first.
pub fn stale(ledger: &Ledger, now: i64, stale_after_hours: u32) -> Vec<StaleTarget> {
    let limit = i64::from(stale_after_hours) * 3600;
    let mut stale: Vec<StaleTarget> = ledger
        .targets
        .iter()
        .filter_map(|(key, entry)| {
            let since = entry.last_completed.unwrap_or(entry.first_seen);
            if now - since <= limit {
                return None;
            }
            let (kind, id) = key.split_once(':')?;
            let kind = TargetKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
            Some(StaleTarget {
                kind,
                target_id: id.to_string(),
                last_completed: entry.last_completed,
                hours_without_backup: (now - since) / 3600,
            })
        })
        .collect();
    stale.sort_by(|a, b| b.hours_without_backup.cmp(&a.hours_without_backup).then(a.target_id.cmp(&b.target_id)));
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;

    fn result(kind: TargetKind, id: &str, created: bool, error: Option<&str>) -> TargetResult {
        TargetResult {
            kind,
            target_id: id.into(),
            dry_run: false,
            created: if created { vec!["backup-1".into()] } else { Vec::new() },
            retries: 0,
            consistency: None,
            orphan: false,
            region: None,
            cleanup: None,
            copy: None,
            error: error.map(str::to_string),
            cause: None,
        }
    }

    /// Nights of a 24-hour schedule: each a list of (id, backup completed).
    fn nights(plan: &[&[(&str, bool)]]) -> (Ledger, i64) {
        let mut ledger = Ledger::default();
        let mut now = 1_000_000;
        for night in plan {
            now += 24 * HOUR;
            let results: Vec<TargetResult> = night
                .iter()
                .map(|(id, ok)| result(TargetKind::Fsx, id, *ok, (!ok).then_some("BackupFailed")))
                .collect();
            ledger = updated(&ledger, now, &results.iter().collect::<Vec<_>>(), &[]);
        }
        (ledger, now)
    }

    #[test]
    fn a_target_failing_two_nights_in_a_row_is_named_and_one_night_is_not() {
        let (ledger, now) = nights(&[
            &[("fs-a", true), ("fs-b", true)],
            &[("fs-a", false), ("fs-b", false)],
            &[("fs-a", false), ("fs-b", true)],
        ]);
        let named = stale(&ledger, now, 47);
        assert_eq!(named.len(), 1);
        assert_eq!((named[0].target_id.as_str(), named[0].hours_without_backup), ("fs-a", 48));
        assert!(named[0].last_completed.is_some());
    }

    #[test]
    fn a_new_target_that_never_completes_is_named_once_the_limit_passes() {
        let (ledger, now) = nights(&[&[("fs-new", false)], &[("fs-new", false)]]);
        assert!(stale(&ledger, now, 25).is_empty(), "24 hours since first seen");
        let (ledger, now) = nights(&[&[("fs-new", false)], &[("fs-new", false)], &[("fs-new", false)]]);
        let named = stale(&ledger, now, 47);
        assert_eq!(named[0].last_completed, None);
    }

    #[test]
    fn a_skipped_target_goes_stale_and_a_target_that_left_is_forgotten() {
        let mut ledger = Ledger::default();
        let skipped = [Skipped { kind: TargetKind::Ec2, id: "i-stopped".into(), reason: "stopped".into() }];
        let backed_up = result(TargetKind::Ec2, "i-stopped", true, None);
        ledger = updated(&ledger, 0, &[&backed_up], &[]);
        ledger = updated(&ledger, 24 * HOUR, &[], &skipped);
        ledger = updated(&ledger, 48 * HOUR, &[], &skipped);
        assert_eq!(stale(&ledger, 48 * HOUR, 47)[0].target_id, "i-stopped");
        let gone = updated(&ledger, 72 * HOUR, &[], &[]);
        assert!(gone.targets.is_empty());
    }

    #[test]
    fn a_guard_refusal_or_a_failed_copy_still_counts_the_backup_and_a_dry_run_never_does() {
        assert!(backup_completed(&result(TargetKind::Fsx, "fs-1", true, Some("DeleteLimitExceeded"))));
        assert!(backup_completed(&result(TargetKind::Ec2, "i-1", true, Some("CopyFailed"))));
        assert!(!backup_completed(&result(TargetKind::Fsx, "fs-1", true, Some("BackupFailed"))));
        assert!(!backup_completed(&result(TargetKind::Fsx, "fs-1", false, None)));
        let preview = TargetResult { dry_run: true, ..result(TargetKind::Fsx, "fs-1", true, None) };
        assert!(!backup_completed(&preview));
    }
}
