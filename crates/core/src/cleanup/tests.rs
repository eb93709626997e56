//! Property tests of the cleanup engine over an in-memory store: whatever the history, the failures and
//! the settings, it deletes only what the rule allows, keeps the newest, reports every part once, and
//! a dry run deletes nothing but says what the run will.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;

use super::memory::MemoryStore;
use super::*;
use crate::retention::SECONDS_PER_DAY;
use crate::tags::{MANAGED_BY_KEY, MANAGED_BY_VALUE, RUN_ID_KEY, TARGET_ID_KEY};
use crate::tiers::Tiers;

const TARGET: &str = "i-0123456789abcdef0";
const OTHER: &str = "i-0fedcba987654321f";
const ACCOUNT: &str = "123456789012";
const FOREIGN: &str = "210987654321";
const NOW: i64 = 1_800_000_000;
const NEW_RUN: &str = "run-new";

/// One part as the generator draws it.
#[derive(Debug, Clone)]
struct Drawn {
    run: u8,
    age_days: i64,
    ours: bool,
    target: bool,
    source: bool,
    own_account: bool,
    state: BackupState,
    in_use: bool,
}

fn drawn() -> impl Strategy<Value = Drawn> {
    let state =
        prop_oneof![8 => Just(BackupState::Completed), 1 => Just(BackupState::Pending), 1 => Just(BackupState::Failed)];
    (0u8..12, 0i64..60, prop::bool::weighted(0.9), prop::bool::weighted(0.9), prop::bool::weighted(0.95))
        .prop_flat_map(move |(run, age_days, ours, target, source)| {
            (
                Just((run, age_days, ours, target, source)),
                prop::bool::weighted(0.95),
                state.clone(),
                prop::bool::weighted(0.05),
            )
        })
        .prop_map(|((run, age_days, ours, target, source), own_account, state, in_use)| Drawn {
            run,
            age_days,
            ours,
            target,
            source,
            own_account,
            state,
            in_use,
        })
}

/// A completed backup part of ours, of the target, in this account.
fn ours_completed(age_days: i64) -> Drawn {
    Drawn {
        run: 1,
        age_days,
        ours: true,
        target: true,
        source: true,
        own_account: true,
        state: BackupState::Completed,
        in_use: false,
    }
}

fn part(id: String, run: &str, d: &Drawn) -> BackupInfo {
    part_at(id, run, d, 0)
}

/// `second` makes every part's creation time its own, so that no two backups tie for newest.
fn part_at(id: String, run: &str, d: &Drawn, second: i64) -> BackupInfo {
    let mut tags = BTreeMap::new();
    tags.insert(MANAGED_BY_KEY.to_string(), if d.ours { MANAGED_BY_VALUE } else { "someone" }.to_string());
    tags.insert(TARGET_ID_KEY.to_string(), if d.target { TARGET } else { OTHER }.to_string());
    tags.insert(RUN_ID_KEY.to_string(), run.to_string());
    BackupInfo {
        id,
        owner_account: Some(if d.own_account { ACCOUNT } else { FOREIGN }.to_string()),
        source_id: Some(if d.source { TARGET } else { OTHER }.to_string()),
        tags,
        created_at: Some(NOW - (d.age_days * SECONDS_PER_DAY + i64::from(d.run) * 60 + second)),
        state: d.state,
        in_use: false,
        aws_backup_managed: false,
    }
}

/// A history, and this run's new backup (its parts, completed or not), or none for a dry run.
#[derive(Debug, Clone)]
struct Case {
    parts: Vec<BackupInfo>,
    in_use: HashSet<String>,
    failing: HashSet<String>,
    new_parts: Option<Vec<String>>,
    retention_days: u32,
    min_keep: u32,
    max_delete_percent: u32,
    /// No longer a target: no new backup, its backups judged against their own retention.
    orphan: bool,
    tiers: Tiers,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((drawn(), prop::bool::weighted(0.05)), 0..60),
        // Each run's age: the parts of one run are made together.
        prop::array::uniform12(0i64..60),
        prop::option::weighted(0.8, (1usize..4, prop::bool::weighted(0.8))),
        1u32..30,
        0u32..5,
        prop_oneof![Just(100u32), 1u32..100],
        prop_oneof![
            Just(Tiers::default()),
            (0u32..3, 0u32..8, 0u32..5, 0u32..3, 0u32..2).prop_map(|(last, daily, weekly, monthly, yearly)| Tiers {
                last,
                daily,
                weekly,
                monthly,
                yearly
            }),
        ],
    )
        .prop_map(|(drawn, run_ages, new, retention_days, min_keep, max_delete_percent, tiers)| {
            let mut parts = Vec::new();
            let (mut in_use, mut failing) = (HashSet::new(), HashSet::new());
            for (n, (d, fails)) in drawn.iter().enumerate() {
                let d = &Drawn { age_days: run_ages[usize::from(d.run)], ..d.clone() };
                let p = part_at(format!("snap-{n:08x}"), &format!("run-{:02}", d.run), d, n as i64);
                if d.in_use {
                    in_use.insert(p.id.clone());
                }
                if *fails {
                    failing.insert(p.id.clone());
                }
                parts.push(p);
            }
            let new_parts = new.map(|(count, completed)| {
                let state = if completed { BackupState::Completed } else { BackupState::Pending };
                let ours = Drawn { run: 0, state, ..ours_completed(0) };
                (0..count)
                    .map(|n| {
                        let mut p = part(format!("snap-new{n:04x}"), NEW_RUN, &ours);
                        p.created_at = Some(NOW);
                        parts.push(p);
                        format!("snap-new{n:04x}")
                    })
                    .collect()
            });
            Case {
                parts,
                in_use,
                failing,
                new_parts,
                retention_days,
                min_keep,
                max_delete_percent,
                orphan: false,
                tiers,
            }
        })
}

fn store<const SETS: bool>(case: &Case) -> MemoryStore<SETS> {
    let mut store = MemoryStore::new(ACCOUNT, case.parts.clone());
    store.in_use = case.in_use.clone();
    store.failing = case.failing.clone();
    store
}

fn clean<const SETS: bool>(store: &MemoryStore<SETS>, case: &Case, dry_run: bool) -> Result<CleanupReport> {
    let retention = RetentionConfig {
        retention_days: case.retention_days,
        min_keep: case.min_keep,
        max_delete_percent: case.max_delete_percent,
        tiers: case.tiers,
        ..RetentionConfig::default()
    };
    let request = Request {
        target_id: TARGET,
        new_backup: case.new_parts.as_deref(),
        new_backup_field: "newSnapshotIds",
        run_id: Some(NEW_RUN),
        dry_run: dry_run || (case.new_parts.is_none() && !case.orphan),
        now: NOW,
        budget_end: None,
        orphan: case.orphan,
        adopt: false,
        policy_override: None,
        orphan_grace_days: 0,
        orphan_since: None,
    };
    futures::executor::block_on(run(store, retention, request))
}

/// What the rule says of one part: ours, of the target, this account's, completed, not in use, and
/// expired, by its own age or, in a set, by its set's (the set's first part's).
fn deletable<const SETS: bool>(case: &Case, p: &BackupInfo) -> bool {
    let tag = |k: &str| p.tags.get(k).map(String::as_str);
    tag(MANAGED_BY_KEY) == Some(MANAGED_BY_VALUE)
        && tag(TARGET_ID_KEY) == Some(TARGET)
        && p.source_id.as_deref() == Some(TARGET)
        && p.owner_account.as_deref() == Some(ACCOUNT)
        && p.state == BackupState::Completed
        && !case.in_use.contains(&p.id)
        && created_for_rule::<SETS>(case, p).is_some_and(|t| t < NOW - i64::from(case.retention_days) * SECONDS_PER_DAY)
}

/// When the rule takes a part to be made: its own time, or in a set, the set's oldest part's. A part joins
/// its run's set when it agrees with the run's first listed part on whose it is.
fn created_for_rule<const SETS: bool>(case: &Case, p: &BackupInfo) -> Option<i64> {
    if !SETS {
        return p.created_at;
    }
    let run = p.tags.get(RUN_ID_KEY);
    let listed = |q: &&BackupInfo| {
        q.tags.get(MANAGED_BY_KEY).map(String::as_str) == Some(MANAGED_BY_VALUE)
            && q.tags.get(TARGET_ID_KEY).map(String::as_str) == Some(TARGET)
    };
    let of_run: Vec<&BackupInfo> = case.parts.iter().filter(listed).filter(|q| q.tags.get(RUN_ID_KEY) == run).collect();
    let first = of_run.first().copied().unwrap_or(p);
    if !retention::same_owner(first, p) {
        return p.created_at;
    }
    of_run.iter().filter(|q| retention::same_owner(first, q)).filter_map(|q| q.created_at).min()
}

fn new_backup_completed(case: &Case) -> bool {
    let parts = case.parts.iter().filter(|p| p.tags.get(RUN_ID_KEY).map(String::as_str) == Some(NEW_RUN));
    case.new_parts.is_none() || parts.into_iter().all(|p| p.state == BackupState::Completed)
}

fn check_engine<const SETS: bool>(case: &Case) -> std::result::Result<(), TestCaseError> {
    let store = store::<SETS>(case);
    let result = clean(&store, case, false);
    let deleted: HashSet<String> = store.deleted().into_iter().collect();
    let Ok(report) = result else {
        // Refused (the guard): nothing at all was deleted.
        prop_assert!(deleted.is_empty());
        prop_assert!(matches!(result, Err(Error::DeleteLimitExceeded { .. })), "{result:?}");
        return Ok(());
    };
    // Only what the rule allows, and only once the new backup completed.
    for id in &deleted {
        let p = case.parts.iter().find(|p| &p.id == id).unwrap();
        prop_assert!(deletable::<SETS>(case, p), "deleted {p:?}");
        prop_assert!(new_backup_completed(case), "deleted {id} before the new backup completed");
    }
    // Every part listed (ours and of the target by tag) is in exactly one list; nothing else is reported.
    let listed: HashSet<&str> = case
        .parts
        .iter()
        .filter(|p| {
            p.tags.get(MANAGED_BY_KEY).map(String::as_str) == Some(MANAGED_BY_VALUE)
                && p.tags.get(TARGET_ID_KEY).map(String::as_str) == Some(TARGET)
        })
        .map(|p| p.id.as_str())
        .collect();
    let mut reported: Vec<&str> = report.deleted.iter().map(String::as_str).collect();
    reported.extend(report.kept.iter().map(|k| k.id.as_str()));
    reported.extend(report.failed.iter().map(|f| f.id.as_str()));
    prop_assert_eq!(reported.len(), listed.len(), "a part reported twice, or one left out");
    prop_assert_eq!(&reported.into_iter().collect::<HashSet<_>>(), &listed);
    // The delete calls made are the deleted and the failed (none in a dry run).
    let attempted: HashSet<String> =
        report.deleted.iter().cloned().chain(report.failed.iter().map(|f| f.id.clone())).collect();
    if report.dry_run {
        prop_assert!(deleted.is_empty());
    } else {
        prop_assert_eq!(&attempted, &deleted);
    }
    // The newest min_keep completed backups of ours keep every part. A part joins its run's set when it
    // agrees with the set's first part on whose it is; else it is a backup of its own.
    let mut by_backup: BTreeMap<String, Vec<&BackupInfo>> = BTreeMap::new();
    let mut first_of_run: BTreeMap<&str, &BackupInfo> = BTreeMap::new();
    for p in case.parts.iter().filter(|p| listed.contains(p.id.as_str())) {
        let run = p.tags[RUN_ID_KEY].as_str();
        let first = *first_of_run.entry(run).or_insert(p);
        let key = if SETS && retention::same_owner(first, p) { run.to_string() } else { p.id.clone() };
        by_backup.entry(key).or_default().push(p);
    }
    let mut newest_candidates: Vec<(Option<i64>, &String)> = by_backup
        .iter()
        .filter(|(_, parts)| {
            let first = parts[0];
            first.source_id.as_deref() == Some(TARGET)
                && first.owner_account.as_deref() == Some(ACCOUNT)
                && parts.iter().all(|p| p.state == BackupState::Completed)
        })
        .map(|(key, parts)| (parts.iter().map(|p| p.created_at).min().unwrap(), key))
        .collect();
    newest_candidates.sort_by(|a, b| b.cmp(a));
    for (_, key) in newest_candidates.iter().take(case.min_keep as usize) {
        for p in &by_backup[*key] {
            prop_assert!(!deleted.contains(&p.id), "deleted {} of {key}, one of the newest {}", p.id, case.min_keep);
        }
    }
    // Every tier: the newest backup of each of its last N periods that have one keeps every part.
    let period = |at: i64, tier: usize, index: usize| -> (i64, i64) {
        let date = jiff::tz::TimeZone::UTC.to_datetime(jiff::Timestamp::from_second(at).unwrap()).date();
        match tier {
            // `last`: each backup is a period of its own, even two made the same second.
            0 => (-1, index as i64),
            1 => (date.year().into(), date.day_of_year().into()),
            2 => (date.iso_week_date().year().into(), date.iso_week_date().week().into()),
            3 => (date.year().into(), date.month().into()),
            _ => (date.year().into(), 0),
        }
    };
    let t = case.tiers;
    for (tier, count) in [t.last, t.daily, t.weekly, t.monthly, t.yearly].into_iter().enumerate() {
        let mut periods_kept = Vec::new();
        for (index, (created, key)) in newest_candidates.iter().enumerate() {
            let Some(at) = created else { continue };
            let p = period(*at, tier, index);
            if periods_kept.contains(&p) {
                continue;
            }
            if periods_kept.len() == count as usize {
                break;
            }
            periods_kept.push(p);
            for part in &by_backup[*key] {
                prop_assert!(
                    !deleted.contains(&part.id),
                    "deleted {} of {key}, the newest of period {p:?} of tier {tier}",
                    part.id
                );
            }
        }
    }
    // A set goes whole: of its free parts (not in use, not failing), all deleted or none.
    if SETS {
        for parts in by_backup.values() {
            let free: Vec<_> =
                parts.iter().filter(|p| !case.in_use.contains(&p.id) && !case.failing.contains(&p.id)).collect();
            let gone = free.iter().filter(|p| deleted.contains(&p.id)).count();
            prop_assert!(gone == 0 || gone == free.len(), "a set deleted in part: {gone} of {}", free.len());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn deletes_only_what_the_rule_allows_per_backup(case in case()) {
        check_engine::<false>(&case)?;
    }

    #[test]
    fn deletes_only_what_the_rule_allows_per_set(case in case()) {
        check_engine::<true>(&case)?;
    }

    #[test]
    fn an_orphan_keeps_its_newest_and_deletes_only_its_expired_backups(case in case()) {
        let orphan = Case { new_parts: None, orphan: true, ..case };
        check_engine::<false>(&orphan)?;
        check_engine::<true>(&orphan)?;
    }

    #[test]
    fn a_dry_run_deletes_nothing_and_says_what_the_run_deletes(case in case()) {
        let mut case = case;
        case.failing.clear();
        let preview_store = store::<true>(&case);
        let preview = clean(&preview_store, &case, true);
        prop_assert!(preview_store.deleted().is_empty());
        let real_store = store::<true>(&case);
        let real = clean(&real_store, &case, false);
        match (preview, real) {
            (Ok(preview), Ok(real)) if case.new_parts.is_some() => prop_assert_eq!(preview.deleted, real.deleted),
            (Ok(_), Ok(_)) => {}
            (Err(a), Err(b)) => prop_assert_eq!(a.kind(), b.kind()),
            (a, b) => prop_assert!(false, "preview {a:?}, run {b:?}"),
        }
    }

    #[test]
    fn a_second_run_right_after_deletes_nothing(case in case()) {
        let mut case = case;
        case.failing.clear();
        case.max_delete_percent = 100;
        let first = store::<true>(&case);
        if case.new_parts.is_some() && clean(&first, &case, false).is_ok() {
            let gone: HashSet<String> = first.deleted().into_iter().collect();
            case.parts.retain(|p| !gone.contains(&p.id));
            let second = store::<true>(&case);
            let report = clean(&second, &case, false).unwrap();
            prop_assert!(report.deleted.is_empty(), "{:?}", report.deleted);
        }
    }
}

#[test]
fn a_new_backup_that_is_not_ours_is_refused_and_nothing_is_deleted() {
    let mine = ours_completed(40);
    let foreign = Drawn { own_account: false, age_days: 0, ..mine.clone() };
    let old: Vec<BackupInfo> = (0..3).map(|n| part(format!("snap-old{n:04x}"), &format!("run-{n}"), &mine)).collect();
    let mut parts = old.clone();
    parts.push(part("snap-foreign0".into(), "run-x", &foreign));
    let store = MemoryStore::<true>::new(ACCOUNT, parts);
    let new = ["snap-foreign0".to_string()];
    let request = memory::request(TARGET, "newSnapshotIds", Some(&new), Some("run-x"), NOW);
    let retention =
        RetentionConfig { retention_days: 7, min_keep: 0, max_delete_percent: 100, ..RetentionConfig::default() };
    let err = futures::executor::block_on(run(&store, retention.clone(), request)).unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "newSnapshotIds"), "{err}");
    assert!(store.deleted().is_empty());
}

#[test]
fn a_part_put_to_use_meanwhile_is_kept_not_failed() {
    let old = ours_completed(40);
    let new = Drawn { age_days: 0, ..old.clone() };
    let mut parts = vec![part("snap-a0000000".into(), "run-1", &old), part("snap-b0000000".into(), "run-1", &old)];
    parts.push(part("snap-new00000".into(), NEW_RUN, &new));
    let mut store = MemoryStore::<true>::new(ACCOUNT, parts);
    // An AMI made from it after the in-use look, before its delete.
    store.in_use_on_delete.insert("snap-b0000000".into());
    let new_backup = ["snap-new00000".to_string()];
    let request = memory::request(TARGET, "newSnapshotIds", Some(&new_backup), Some(NEW_RUN), NOW);
    let retention =
        RetentionConfig { retention_days: 7, min_keep: 1, max_delete_percent: 100, ..RetentionConfig::default() };
    let report = futures::executor::block_on(run(&store, retention, request)).unwrap();
    assert_eq!(report.deleted, ["snap-a0000000"]);
    assert!(report.failed.is_empty());
    assert!(report.kept.contains(&Kept { id: "snap-b0000000".into(), reason: KeepReason::InUse }), "{report:?}");
}

#[test]
fn a_new_backup_of_another_run_is_refused_and_nothing_is_deleted() {
    let mine = ours_completed(40);
    let parts: Vec<BackupInfo> = (0..3).map(|n| part(format!("snap-old{n:04x}"), &format!("run-{n}"), &mine)).collect();
    let store = MemoryStore::<true>::new(ACCOUNT, parts);
    // An old backup of ours, offered as this run's: completed, so it would let the cleanup go ahead.
    let offered = ["snap-old0000".to_string()];
    let retention =
        RetentionConfig { retention_days: 7, min_keep: 0, max_delete_percent: 100, ..RetentionConfig::default() };
    for run_id in [Some("run-now"), None] {
        let request = memory::request(TARGET, "newSnapshotIds", Some(&offered), run_id, NOW);
        let err = futures::executor::block_on(run(&store, retention.clone(), request)).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { .. }), "{err}");
    }
    assert!(store.deleted().is_empty());
}
