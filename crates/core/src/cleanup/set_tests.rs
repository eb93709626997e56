//! EBS sets that lost a volume: never among the newest nor kept by `last=N`, reported `Incomplete`, and
//! deleted once expired; a new set that lost one deletes nothing.

use super::memory::{self, MemoryStore};
use super::*;
use crate::retention::SECONDS_PER_DAY;
use crate::tags::{MANAGED_BY_KEY, MANAGED_BY_VALUE, RUN_ID_KEY, TARGET_ID_KEY};

const INSTANCE: &str = "i-0123456789abcdef0";
const ACCOUNT: &str = "123456789012";
const NOW: i64 = 1_800_000_000;

/// The snapshots of run `run` of the instance, `age_days` old: `made` of a set taken of `volumes` volumes.
fn set(run: &str, age_days: i64, made: usize, volumes: usize) -> Vec<BackupInfo> {
    (0..made)
        .map(|n| BackupInfo {
            id: format!("snap-{run}-{n}"),
            owner_account: Some(ACCOUNT.into()),
            source_id: Some(INSTANCE.into()),
            tags: [
                (MANAGED_BY_KEY, MANAGED_BY_VALUE.to_string()),
                (TARGET_ID_KEY, INSTANCE.to_string()),
                (RUN_ID_KEY, run.to_string()),
                (ATTEMPT_KEY, "0".to_string()),
                (VOLUMES_KEY, volumes.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            created_at: Some(NOW - age_days * SECONDS_PER_DAY),
            state: BackupState::Completed,
            in_use: false,
            aws_backup_managed: false,
        })
        .collect()
}

fn clean(parts: Vec<BackupInfo>, new: &[String], retention: RetentionConfig) -> CleanupReport {
    let store = MemoryStore::<true>::new(ACCOUNT, parts);
    let request =
        Request { dry_run: true, ..memory::request(INSTANCE, "newSnapshotIds", Some(new), Some("night-9"), NOW) };
    futures::executor::block_on(run(&store, retention, request)).unwrap()
}

fn reasons(report: &CleanupReport) -> BTreeMap<String, KeepReason> {
    report.kept.iter().map(|k| (k.id.clone(), k.reason)).collect()
}

#[test]
fn a_set_that_lost_a_volume_is_never_among_the_newest_and_goes_once_expired() {
    let tonight = set("night-9", 0, 2, 2);
    let new: Vec<String> = tonight.iter().map(|p| p.id.clone()).collect();
    // Night 8's set lost one of its two volumes; night 7's is whole, both within the 7 days.
    let parts = [tonight, set("night-8", 1, 1, 2), set("night-7", 2, 2, 2), set("night-1", 20, 1, 2)].concat();
    let retention = RetentionConfig { retention_days: 7, min_keep: 2, ..RetentionConfig::default() };

    let report = clean(parts, &new, retention);

    let kept = reasons(&report);
    assert_eq!(kept["snap-night-8-0"], KeepReason::Incomplete, "{report:?}");
    assert_eq!(kept["snap-night-7-0"], KeepReason::AmongNewest, "the second newest whole set, not night 8's");
    assert_eq!(report.deleted, ["snap-night-1-0"], "an expired incomplete set goes");
}

#[test]
fn the_last_tier_counts_whole_sets_only() {
    let tonight = set("night-9", 0, 3, 3);
    let new: Vec<String> = tonight.iter().map(|p| p.id.clone()).collect();
    let parts = [tonight, set("night-8", 1, 2, 3), set("night-7", 2, 3, 3), set("night-6", 3, 3, 3)].concat();
    let last_two = RetentionConfig {
        retention_days: 0,
        min_keep: 1,
        max_delete_percent: 100,
        tiers: crate::tiers::Tiers { last: 2, ..Default::default() },
        ..RetentionConfig::default()
    };

    let report = clean(parts, &new, last_two);

    let kept = reasons(&report);
    assert_eq!(kept["snap-night-7-0"], KeepReason::KeptLast, "{report:?}");
    assert!(report.deleted.contains(&"snap-night-8-0".to_string()), "night 8 lost a volume: no `last` keeps it");
    assert!(report.deleted.contains(&"snap-night-6-0".to_string()));
}

#[test]
fn a_new_set_that_lost_a_volume_deletes_nothing() {
    let tonight = set("night-9", 0, 1, 2);
    let new: Vec<String> = tonight.iter().map(|p| p.id.clone()).collect();
    let parts = [tonight, set("night-1", 20, 2, 2), set("night-0", 21, 2, 2)].concat();
    let retention = RetentionConfig { retention_days: 7, min_keep: 1, ..RetentionConfig::default() };

    let report = clean(parts, &new, retention);

    assert!(report.deleted.is_empty(), "{report:?}");
    assert!(report.kept.iter().all(|k| k.reason == KeepReason::NewBackupNotComplete || k.id.contains("night-9")));
}

#[test]
fn a_set_made_before_the_count_was_written_is_whole() {
    let mut old = set("night-1", 20, 1, 2);
    old[0].tags.remove(VOLUMES_KEY);
    assert_eq!(expected_parts(&old[0]), 1);
    let keys = backup_keys::<MemoryStore<true>>(&old);
    assert_eq!(backups_of(&old, &keys)[0].state, BackupState::Completed);
}
