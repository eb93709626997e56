//! Each target's last verification, kept in the stack's bucket (`state/last-verified.json`) by the verify
//! run's last step, and the round the next run reads. Its own object, not the nightly ledger's: the two runs
//! write at their own times, and neither must wait on or overwrite the other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::target::{Outcome, TargetCheck};
use crate::freshness::target_key;
use crate::model::NotVerifiedRecently;

/// Where the verify ledger lives in the stack's bucket.
pub const LEDGER_KEY: &str = "state/last-verified.json";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VerifyLedger {
    /// The round the next run reads: consecutive runs read consecutive rounds, so every block of a lineage is
    /// read once in any VERIFY_READ_FRACTION runs in a row.
    pub next_round: u64,
    /// Per target (`kind:id`): its last verification.
    pub targets: BTreeMap<String, LastVerified>,
}

/// A target's last verification (`lastVerified`): when, which backup, what it found, how long it took and
/// what it read; and when it last verified good, which the stale alarm counts from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LastVerified {
    /// When a verify run first listed it: one never verified good is stale from then.
    pub first_seen: i64,
    pub at: Option<i64>,
    pub run_id: Option<String>,
    pub outcome: Option<Outcome>,
    /// The backup verified (an instance's snapshot set) and when it was made.
    pub backup: Vec<String>,
    pub backup_created: Option<i64>,
    pub duration_ms: u64,
    pub bytes_read: u64,
    pub last_good: Option<i64>,
}

/// The ledger after a run at `now` that read `round`: every target it listed (`kind:id`) is kept (verified this run or
/// not: a budget too small for all of them verifies a share each run), with this run's checks recorded; a
/// target no longer listed is dropped (the nightly ledger is the one that follows targets that disappear).
pub fn updated(
    previous: &VerifyLedger,
    now: i64,
    run_id: &str,
    round: u64,
    listed: &[String],
    checks: &[TargetCheck],
) -> VerifyLedger {
    let first = || LastVerified { first_seen: now, ..LastVerified::default() };
    let mut targets = BTreeMap::new();
    for key in listed {
        let entry = previous.targets.get(key).cloned().unwrap_or_else(first);
        targets.insert(key.clone(), entry);
    }
    for check in checks {
        let entry = targets.entry(target_key(check.kind, &check.target_id)).or_insert_with(first);
        entry.at = Some(now);
        entry.run_id = Some(run_id.to_string());
        entry.outcome = Some(check.outcome);
        entry.backup = check.backup.clone();
        entry.backup_created = check.created;
        entry.duration_ms = check.duration_ms;
        entry.bytes_read = check.bytes_read;
        if check.outcome == Outcome::Verified {
            entry.last_good = Some(now);
        }
    }
    VerifyLedger { next_round: previous.next_round.max(round + 1), targets }
}

/// The targets that have not verified good for more than `stale_days` (counted from their first listing
/// when they never have), the longest first.
pub fn not_verified_since(ledger: &VerifyLedger, now: i64, stale_days: u32) -> Vec<NotVerifiedRecently> {
    let limit = i64::from(stale_days) * 86_400;
    let mut stale: Vec<(i64, NotVerifiedRecently)> = ledger
        .targets
        .iter()
        .filter_map(|(key, entry)| {
            let since = entry.last_good.unwrap_or(entry.first_seen);
            (now - since > limit)
                .then(|| (since, NotVerifiedRecently { target: key.clone(), last_good: entry.last_good }))
        })
        .collect();
    stale.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.target.cmp(&b.1.target)));
    stale.into_iter().map(|(_, target)| target).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TargetKind;

    const DAY: i64 = 86_400;

    fn check(id: &str, outcome: Outcome) -> TargetCheck {
        TargetCheck {
            target_id: id.into(),
            outcome,
            backup: vec!["snap-1".into()],
            created: Some(5),
            bytes_read: 1024,
            duration_ms: 7,
            ..Default::default()
        }
    }

    #[test]
    fn a_run_records_its_checks_keeps_its_listed_targets_and_drops_the_rest() {
        let listed = ["ec2:i-1".to_string(), "ec2:i-2".to_string(), "efs:fs-1".to_string()];
        let gone = (target_key(TargetKind::Ec2, "i-gone"), LastVerified::default());
        let previous = VerifyLedger { next_round: 4, targets: [gone].into_iter().collect() };
        let file_system = TargetCheck { kind: TargetKind::Efs, ..check("fs-1", Outcome::Failed) };
        let next = updated(&previous, 100, "run-a", 4, &listed, &[check("i-1", Outcome::Verified), file_system]);
        assert_eq!(next.next_round, 5);
        assert_eq!(next.targets.keys().collect::<Vec<_>>(), ["ec2:i-1", "ec2:i-2", "efs:fs-1"]);
        assert_eq!(next.targets["efs:fs-1"].outcome, Some(Outcome::Failed));
        let one = &next.targets["ec2:i-1"];
        assert_eq!(
            (one.at, one.outcome, one.last_good, one.bytes_read),
            (Some(100), Some(Outcome::Verified), Some(100), 1024)
        );
        assert_eq!((one.backup.clone(), one.backup_created, one.duration_ms), (vec!["snap-1".to_string()], Some(5), 7));
        let two = &next.targets["ec2:i-2"];
        assert_eq!((two.first_seen, two.at, two.last_good), (100, None, None), "listed, not verified this run");

        // A later failure keeps when it last verified good; an older round never moves the next one back.
        let later = updated(&next, 200, "run-b", 1, &listed, &[check("i-1", Outcome::Failed)]);
        let one = &later.targets["ec2:i-1"];
        assert_eq!(
            (one.outcome, one.at, one.last_good, one.first_seen),
            (Some(Outcome::Failed), Some(200), Some(100), 100)
        );
        assert_eq!(later.next_round, 5);
    }

    #[test]
    fn stale_counts_from_the_last_good_verification_or_the_first_listing() {
        let entry = |first_seen, last_good| LastVerified { first_seen, last_good, ..Default::default() };
        let ledger = VerifyLedger {
            next_round: 0,
            targets: [
                ("ec2:i-fresh".to_string(), entry(0, Some(10 * DAY))),
                ("ec2:i-old".to_string(), entry(0, Some(DAY))),
                ("ec2:i-never".to_string(), entry(0, None)),
                ("ec2:i-new".to_string(), entry(19 * DAY, None)),
            ]
            .into_iter()
            .collect(),
        };
        let stale = not_verified_since(&ledger, 20 * DAY, 14);
        let names: Vec<&str> = stale.iter().map(|s| s.target.as_str()).collect();
        assert_eq!(names, ["ec2:i-never", "ec2:i-old"], "the longest first");
        assert_eq!(stale[1].last_good, Some(DAY));
    }
}
