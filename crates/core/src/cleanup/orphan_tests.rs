//! An orphan's backups: judged by the policy each recorded when it was made, and all kept until the
//! resource has been an orphan for ORPHAN_GRACE_DAYS; a current target's new backup records its policy.

use proptest::prelude::*;

use super::memory::{self, MemoryStore};
use super::*;
use crate::retention::SECONDS_PER_DAY;
use crate::tags::{MANAGED_BY_KEY, MANAGED_BY_VALUE, RUN_ID_KEY, TARGET_ID_KEY};

const TARGET: &str = "fs-0123456789abcdef0";
const ACCOUNT: &str = "123456789012";
const NOW: i64 = 1_800_000_000;
const RUN: &str = "run-new";
/// Policies a resource may have had; the stack's own is 7 days.
const POLICIES: [&str; 4] = ["days=14", "days=14 monthly=12", "daily=7 weekly=4", "days=400"];

/// A completed backup of ours of the target, `age_days` old, that recorded `policy` (or none).
fn backup(n: usize, age_days: i64, policy: Option<&str>) -> BackupInfo {
    let mut tags: BTreeMap<String, String> = [(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, TARGET)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Some(policy) = policy {
        tags.insert(POLICY_KEY.to_string(), policy.to_string());
    }
    BackupInfo {
        id: format!("backup-{n:017}"),
        owner_account: Some(ACCOUNT.into()),
        source_id: Some(TARGET.into()),
        tags,
        created_at: Some(NOW - age_days * SECONDS_PER_DAY),
        state: BackupState::Completed,
        in_use: false,
        aws_backup_managed: false,
    }
}

fn stack_policy() -> RetentionConfig {
    RetentionConfig { retention_days: 7, min_keep: 1, max_delete_percent: 100, ..RetentionConfig::default() }
}

fn orphan_request(grace_days: u32, since: Option<i64>) -> Request<'static> {
    Request {
        orphan: true,
        orphan_grace_days: grace_days,
        orphan_since: since,
        ..memory::request(TARGET, "newBackupId", None, Some(RUN), NOW)
    }
}

fn clean_orphan(parts: Vec<BackupInfo>, grace_days: u32, since: Option<i64>) -> (CleanupReport, Vec<String>) {
    let store = MemoryStore::<false>::new(ACCOUNT, parts);
    let report = futures::executor::block_on(run(&store, stack_policy(), orphan_request(grace_days, since))).unwrap();
    (report, store.deleted())
}

/// What `policy` alone deletes of these backups, as the rule run for a target under it.
fn deleted_under(policy: &str, backups: &[BackupInfo]) -> Vec<String> {
    let retention = stack_policy().with_written(Written::parse(policy).unwrap());
    retention::plan(&rule(&retention, TARGET, ACCOUNT, NOW, true, true), backups).delete
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever policies its backups recorded, an orphan never loses a backup its own recorded policy
    /// would keep, nor one that recorded none that any policy in play would keep.
    #[test]
    fn an_orphan_never_loses_a_backup_its_recorded_policy_would_keep(
        drawn in prop::collection::vec((0i64..900, prop::option::of(0usize..POLICIES.len())), 1..40),
    ) {
        let parts: Vec<BackupInfo> =
            drawn.iter().enumerate().map(|(n, (age, p))| backup(n, *age, p.map(|p| POLICIES[p]))).collect();
        let (report, deleted) = clean_orphan(parts.clone(), 1, None);
        prop_assert_eq!(&report.deleted, &deleted);
        let recorded: Vec<&str> = POLICIES.iter().copied().filter(|p| drawn.iter().any(|(_, d)| d.map(|d| POLICIES[d]) == Some(*p))).collect();
        for part in &parts {
            let gone = deleted.contains(&part.id);
            match part.tags.get(POLICY_KEY) {
                Some(policy) => prop_assert!(!gone || deleted_under(policy, &parts).contains(&part.id), "{} deleted against {policy}", part.id),
                None => {
                    let every = recorded.iter().all(|p| deleted_under(p, &parts).contains(&part.id));
                    let stack = retention::plan(&rule(&stack_policy(), TARGET, ACCOUNT, NOW, true, true), &parts).delete;
                    prop_assert!(!gone || (every && stack.contains(&part.id)), "{} deleted though a policy keeps it", part.id);
                }
            }
        }
    }
}

#[test]
fn a_decommissioned_servers_monthly_history_outlives_the_stacks_shorter_policy() {
    // Nightly backups of the last 200 nights, made under `days=14 monthly=12`; the stack keeps 7 days.
    let parts: Vec<BackupInfo> = (0..200).map(|n| backup(n, 10 + n as i64, Some("days=14 monthly=12"))).collect();
    let (report, deleted) = clean_orphan(parts.clone(), 1, None);
    let kept_monthly = report.kept.iter().filter(|k| k.reason == KeepReason::KeptMonthly).count();
    assert!(kept_monthly >= 6, "{report:?}");
    assert_eq!(deleted, deleted_under("days=14 monthly=12", &parts));
    let policy = report.policy.unwrap();
    assert_eq!((policy.source, policy.policy.as_str()), (PolicySource::Recorded, "days=14 monthly=12"));
    assert_eq!(report.judged_by["days=14 monthly=12"].len(), 200, "every backup named with the policy that judged it");
}

#[test]
fn an_orphan_keeps_everything_until_its_grace_has_passed() {
    let parts: Vec<BackupInfo> = (0..30).map(|n| backup(n, 2 + n as i64, None)).collect();
    // Its newest backup is 2 days old: it was a target then.
    let (report, deleted) = clean_orphan(parts.clone(), 7, None);
    assert!(deleted.is_empty(), "{report:?}");
    assert!(report.kept.iter().any(|k| k.reason == KeepReason::OrphanGrace), "{report:?}");
    // Backups 20 days old at the newest, but the ledger saw it a target 3 days ago.
    let old: Vec<BackupInfo> = (0..30).map(|n| backup(n, 20 + n as i64, None)).collect();
    let (_, deleted) = clean_orphan(old.clone(), 7, Some(NOW - 3 * SECONDS_PER_DAY));
    assert!(deleted.is_empty());
    // Past the grace, the rule deletes as before: all but the newest (MIN_KEEP 1).
    let (_, deleted) = clean_orphan(old.clone(), 7, Some(NOW - 10 * SECONDS_PER_DAY));
    assert_eq!(deleted.len(), 29);
    let (_, deleted) = clean_orphan(old, 7, None);
    assert_eq!(deleted.len(), 29);
}

#[test]
fn a_targets_new_backup_records_the_policy_it_is_kept_under_once() {
    let mut new = backup(0, 0, None);
    new.tags.insert(RUN_ID_KEY.to_string(), RUN.to_string());
    let mut store = MemoryStore::<false>::new(ACCOUNT, vec![new.clone(), backup(1, 3, None)]);
    store.retention_tag = Some("daily=7 weekly=4".into());
    let ids = [new.id.clone()];
    let request = Request { new_backup: Some(&ids), orphan: false, dry_run: false, ..orphan_request(7, None) };
    futures::executor::block_on(run(&store, stack_policy(), request)).unwrap();
    assert_eq!(*store.recorded.lock().unwrap(), [(new.id.clone(), "daily=7 weekly=4".to_string())]);

    // Recorded already: not tagged again; a dry run records nothing.
    new.tags.insert(POLICY_KEY.to_string(), "daily=7 weekly=4".to_string());
    let mut again = MemoryStore::<false>::new(ACCOUNT, vec![new]);
    again.retention_tag = store.retention_tag.clone();
    futures::executor::block_on(run(&again, stack_policy(), request)).unwrap();
    futures::executor::block_on(run(&store, stack_policy(), Request { dry_run: true, ..request })).unwrap();
    assert!(again.recorded.lock().unwrap().is_empty());
    assert_eq!(store.recorded.lock().unwrap().len(), 1);
}
