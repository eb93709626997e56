//! Which targets have gone without a completed backup for too long: a ledger in the stack's bucket
//! (`state/last-backups.json`) keeps, per target, when it was first seen and when its backup last
//! completed. Each real run updates it from its results and its skipped targets. A target that stops
//! being one (its tag removed, terminated, deleted) stays for a while, named as disappeared, so that it goes
//! stale and alarms rather than going quiet. A failed target already fails its run; this catches the slower
//! failure, a resource that fails, is skipped or leaves, night after night, or whose backups never complete.

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
    /// How many targets (results and skipped) the last real run had: the next compares its own.
    #[serde(default)]
    pub last_run_targets: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub first_seen: i64,
    #[serde(default)]
    pub last_completed: Option<i64>,
    /// When a run last had it as a target (a result or skipped). None in a ledger written before.
    #[serde(default)]
    pub last_seen: Option<i64>,
}

impl Entry {
    /// When it was last a target: as recorded, or, in a ledger written before that was, the latest the
    /// entry tells (its completed backup, else its first sighting).
    pub fn last_seen(&self) -> i64 {
        self.last_seen.unwrap_or(self.last_completed.unwrap_or(self.first_seen).max(self.first_seen))
    }
}

/// A target of an earlier run that this run did not have (results nor skipped), kept in the ledger for
/// STALE_AFTER_HOURS plus DISAPPEARED_GRACE_HOURS after it was last seen (part of the run report).
pub use crate::model::DisappearedTarget;

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

/// The ledger key of a target: `kind:id`.
pub fn target_key(kind: TargetKind, id: &str) -> String {
    format!("{}:{id}", kind.as_str())
}

/// The ledger after a real run: every target of the run (its results and its skipped ones), first seen
/// now when new, seen now, completed now when its backup did. A target no longer in the run stays until
/// it was last seen more than `keep_departed_hours` ago.
pub fn updated(
    previous: &Ledger,
    now: i64,
    results: &[&TargetResult],
    skipped: &[Skipped],
    keep_departed_hours: u32,
) -> Ledger {
    let mut next = Ledger { last_run_targets: Some(results.len() + skipped.len()), ..Ledger::default() };
    let mut carry = |kind: TargetKind, id: &str, completed: bool| {
        let key = target_key(kind, id);
        let before = previous.targets.get(&key).copied();
        let new = Entry { first_seen: now, last_completed: None, last_seen: None };
        let entry = next.targets.entry(key).or_insert(before.unwrap_or(new));
        entry.last_seen = Some(now);
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
    let keep = i64::from(keep_departed_hours) * 3600;
    for (key, entry) in &previous.targets {
        if !next.targets.contains_key(key) && now - entry.last_seen() <= keep {
            next.targets.insert(key.clone(), Entry { last_seen: Some(entry.last_seen()), ..*entry });
        }
    }
    next
}

/// The ledger's targets that this run did not have, last seen first, each with why it is gone when an
/// orphan's cleanup could tell (`reasons`, by `kind:id`).
pub fn disappeared(ledger: &Ledger, now: i64, reasons: &BTreeMap<String, String>) -> Vec<DisappearedTarget> {
    let mut gone: Vec<DisappearedTarget> = ledger
        .targets
        .iter()
        .filter(|(_, entry)| entry.last_seen() < now)
        .filter_map(|(key, entry)| {
            let (kind, id) = parse_key(key)?;
            Some(DisappearedTarget {
                kind,
                target_id: id.to_string(),
                last_seen: entry.last_seen(),
                last_completed: entry.last_completed,
                reason: reasons.get(key).cloned().unwrap_or_else(|| UNKNOWN_REASON.to_string()),
            })
        })
        .collect();
    gone.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.target_id.cmp(&b.target_id)));
    gone
}

/// Why a target disappeared when no orphan's cleanup could tell: it has no backup of ours to look it up by.
pub const UNKNOWN_REASON: &str = "unknown: no longer tagged as a target, stopped being listed, or gone";

/// The kind and id of a ledger key (`kind:id`), as [`target_key`] writes it.
pub fn parse_key(key: &str) -> Option<(TargetKind, &str)> {
    let (kind, id) = key.split_once(':')?;
    Some((TargetKind::ALL.into_iter().find(|k| k.as_str() == kind)?, id))
}

/// By how much (percent) this run's targets fell short of the last run's: 0 when they did not.
pub fn target_drop_percent(previous: &Ledger, targets_now: usize) -> u32 {
    match previous.last_run_targets {
        Some(before) if before > targets_now => ((before - targets_now) * 100 / before) as u32,
        _ => 0,
    }
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
            let (kind, id) = parse_key(key)?;
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
            ledger = updated(&ledger, now, &results.iter().collect::<Vec<_>>(), &[], KEEP_HOURS);
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

    /// STALE_AFTER_HOURS 47 plus a grace of 48 hours.
    const KEEP_HOURS: u32 = 95;

    #[test]
    fn a_skipped_target_goes_stale() {
        let mut ledger = Ledger::default();
        let skipped = [Skipped { kind: TargetKind::Ec2, id: "i-stopped".into(), reason: "stopped".into() }];
        let backed_up = result(TargetKind::Ec2, "i-stopped", true, None);
        ledger = updated(&ledger, 0, &[&backed_up], &[], KEEP_HOURS);
        ledger = updated(&ledger, 24 * HOUR, &[], &skipped, KEEP_HOURS);
        ledger = updated(&ledger, 48 * HOUR, &[], &skipped, KEEP_HOURS);
        assert_eq!(stale(&ledger, 48 * HOUR, 47)[0].target_id, "i-stopped");
        assert!(disappeared(&ledger, 48 * HOUR, &BTreeMap::new()).is_empty(), "skipped is not gone");
    }

    #[test]
    fn a_target_that_left_is_named_goes_stale_and_is_forgotten_after_the_grace() {
        let backed_up = result(TargetKind::Fsx, "fs-gone", true, None);
        let other = result(TargetKind::Fsx, "fs-stays", true, None);
        let mut ledger = updated(&Ledger::default(), 0, &[&backed_up, &other], &[], KEEP_HOURS);
        // The next nights, fs-gone is no target (its tag removed): it stays, named, and goes stale.
        let reasons: BTreeMap<String, String> = [("fsx:fs-gone".to_string(), "untagged".to_string())].into();
        for night in 1..=3 {
            ledger = updated(&ledger, night * 24 * HOUR, &[&other], &[], KEEP_HOURS);
            let gone = disappeared(&ledger, night * 24 * HOUR, &reasons);
            assert_eq!(gone.len(), 1, "night {night}");
            assert_eq!(
                (gone[0].target_id.as_str(), gone[0].last_seen, gone[0].reason.as_str()),
                ("fs-gone", 0, "untagged")
            );
        }
        assert_eq!(stale(&ledger, 72 * HOUR, 47)[0].target_id, "fs-gone");
        // Last seen 96 hours ago, past 47 + 48: forgotten.
        ledger = updated(&ledger, 96 * HOUR, &[&other], &[], KEEP_HOURS);
        assert!(!ledger.targets.contains_key("fsx:fs-gone"), "{ledger:?}");
        // Without an orphan's word, the reason says it is not known.
        let ledger = updated(&Ledger::default(), 0, &[&backed_up], &[], KEEP_HOURS);
        let ledger = updated(&ledger, 24 * HOUR, &[], &[], KEEP_HOURS);
        assert_eq!(disappeared(&ledger, 24 * HOUR, &BTreeMap::new())[0].reason, UNKNOWN_REASON);
    }

    #[test]
    fn a_night_with_fewer_targets_says_by_how_much() {
        let results: Vec<TargetResult> =
            (0..10).map(|n| result(TargetKind::Ec2, &format!("i-{n}"), true, None)).collect();
        let all: Vec<&TargetResult> = results.iter().collect();
        let ledger = updated(&Ledger::default(), 0, &all, &[], KEEP_HOURS);
        assert_eq!(target_drop_percent(&ledger, 10), 0);
        assert_eq!(target_drop_percent(&ledger, 7), 30);
        assert_eq!(target_drop_percent(&ledger, 0), 100);
        assert_eq!(target_drop_percent(&Ledger::default(), 0), 0, "no earlier run: nothing to compare");
    }

    #[test]
    fn a_ledger_written_before_targets_were_seen_reads() {
        let old: Ledger =
            serde_json::from_str(r#"{"targets": {"fsx:fs-1": {"firstSeen": 10, "lastCompleted": 50}}}"#).unwrap();
        assert_eq!(old.targets["fsx:fs-1"].last_seen(), 50);
        assert_eq!(old.last_run_targets, None);
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
