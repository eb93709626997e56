//! Property tests of the retention rule: over random inventories it never selects a protected backup.

use super::*;
use proptest::prelude::*;

const TARGET: &str = "fs-0123456789abcdef0";
const ACCOUNT: &str = "123456789012";
const NOW: i64 = 1_800_000_000;

static UTC: std::sync::LazyLock<jiff::tz::TimeZone> = std::sync::LazyLock::new(|| jiff::tz::TimeZone::UTC);
const OUR_STACK: &str = "snapmgmt@us-east-1";
const OTHER_STACK: &str = "snapmgmt@us-west-2";
static STACK: std::sync::LazyLock<crate::tags::StackId> =
    std::sync::LazyLock::new(|| crate::tags::StackId::parse(OUR_STACK).unwrap());

fn policy(retention_days: u32, min_keep: u32, new_backup_completed: bool) -> Policy<'static> {
    Policy {
        target_id: TARGET,
        account_id: ACCOUNT,
        retention_days,
        min_keep,
        tiers: crate::tiers::Tiers::default(),
        time_zone: &UTC,
        now: NOW,
        new_backup_completed,
        stack: Some(&STACK),
        claims_unstamped: true,
    }
}

fn ours(id: &str, age_days: i64) -> BackupInfo {
    BackupInfo {
        id: id.to_string(),
        owner_account: Some(ACCOUNT.to_string()),
        source_id: Some(TARGET.to_string()),
        tags: [(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, TARGET)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        created_at: Some(NOW - age_days * SECONDS_PER_DAY),
        state: BackupState::Completed,
        in_use: false,
        aws_backup_managed: false,
    }
}

fn reason_of(plan: &Plan, id: &str) -> Option<KeepReason> {
    plan.keep.iter().find(|k| k.id == id).map(|k| k.reason)
}

#[test]
fn deletes_old_backups_but_keeps_the_newest() {
    let backups = [ours("b-new", 0), ours("b-10", 10), ours("b-20", 20)];
    let plan = plan(&policy(7, 1, true), &backups);
    assert_eq!(plan.delete, vec!["b-10", "b-20"]);
    assert_eq!(reason_of(&plan, "b-new"), Some(KeepReason::AmongNewest));
}

#[test]
fn min_keep_holds_even_when_all_are_expired() {
    let backups = [ours("a", 30), ours("b", 40), ours("c", 50)];
    let plan = plan(&policy(7, 2, true), &backups);
    assert_eq!(plan.delete, vec!["c"]);
    assert_eq!(reason_of(&plan, "a"), Some(KeepReason::AmongNewest));
    assert_eq!(reason_of(&plan, "b"), Some(KeepReason::AmongNewest));
}

#[test]
fn nothing_is_deleted_while_the_new_backup_is_incomplete() {
    let backups = [ours("a", 30), ours("b", 40)];
    let plan = plan(&policy(7, 1, false), &backups);
    assert!(plan.delete.is_empty());
    assert_eq!(reason_of(&plan, "b"), Some(KeepReason::NewBackupNotComplete));
}

#[test]
fn a_backup_exactly_at_the_cutoff_is_kept() {
    let backups = [ours("new", 0), ours("edge", 7)];
    let plan = plan(&policy(7, 1, true), &backups);
    assert_eq!(reason_of(&plan, "edge"), Some(KeepReason::TooYoung));
}

#[test]
fn a_backup_that_names_no_stack_is_claimed_for_a_current_target_and_kept_for_an_orphan() {
    let stamped = |id: &str, age_days: i64| {
        let mut backup = ours(id, age_days);
        backup.tags.insert(crate::tags::STACK_KEY.into(), OUR_STACK.into());
        backup
    };
    let backups = [stamped("new", 0), ours("unstamped", 30), stamped("stamped", 30)];
    let current = plan(&policy(7, 1, true), &backups);
    assert_eq!(current.delete, ["unstamped", "stamped"]);
    let orphan = plan(&Policy { claims_unstamped: false, ..policy(7, 1, true) }, &backups);
    assert_eq!(orphan.delete, ["stamped"]);
    assert_eq!(reason_of(&orphan, "unstamped"), Some(KeepReason::Unstamped));
    // Without a stack of its own (a function outside a stack), every stack's is judged, as before.
    let any = plan(&Policy { stack: None, claims_unstamped: false, ..policy(7, 1, true) }, &backups);
    assert_eq!(any.delete, ["unstamped", "stamped"]);
}

#[test]
fn every_protection_has_its_reason() {
    let mut untagged = ours("untagged", 30);
    untagged.tags.clear();
    let mut other_tag = ours("other-tag", 30);
    other_tag.tags.insert(TARGET_ID_KEY.into(), "fs-ffffffffffffffff0".into());
    let mut other_source = ours("other-source", 30);
    other_source.source_id = Some("fs-ffffffffffffffff0".into());
    let mut foreign = ours("foreign", 30);
    foreign.owner_account = Some("210987654321".into());
    let mut managed = ours("managed", 30);
    managed.aws_backup_managed = true;
    let mut in_use = ours("in-use", 30);
    in_use.in_use = true;
    let mut pending = ours("pending", 30);
    pending.state = BackupState::Pending;
    let mut failed = ours("failed", 30);
    failed.state = BackupState::Failed;
    let mut other_stack = ours("other-stack", 30);
    other_stack.tags.insert(crate::tags::STACK_KEY.into(), OTHER_STACK.into());
    let backups = [
        ours("new", 0),
        other_stack,
        untagged,
        other_tag,
        other_source,
        foreign,
        managed,
        in_use,
        pending,
        failed,
        ours("young", 3),
    ];
    let plan = plan(&policy(7, 1, true), &backups);
    assert!(plan.delete.is_empty(), "{:?}", plan.delete);
    let expected = [
        ("new", KeepReason::AmongNewest),
        ("untagged", KeepReason::NotOurs),
        ("other-stack", KeepReason::OtherStack),
        ("other-tag", KeepReason::OtherTarget),
        ("other-source", KeepReason::OtherTarget),
        ("foreign", KeepReason::ForeignAccount),
        ("managed", KeepReason::AwsBackupManaged),
        ("in-use", KeepReason::InUse),
        ("pending", KeepReason::NotCompleted),
        ("failed", KeepReason::NotCompleted),
        ("young", KeepReason::TooYoung),
    ];
    for (id, reason) in expected {
        assert_eq!(reason_of(&plan, id), Some(reason), "{id}");
    }
}

fn arb_backup() -> impl Strategy<Value = BackupInfo> {
    (
        0u32..100_000,
        prop::option::of(prop_oneof![Just(ACCOUNT.to_string()), Just("210987654321".to_string())]),
        prop::option::of(prop_oneof![Just(TARGET.to_string()), Just("fs-ffffffffffffffff0".to_string())]),
        prop_oneof![Just(None), Just(Some(MANAGED_BY_VALUE)), Just(Some("someone-else"))],
        prop::option::of(prop_oneof![Just(TARGET), Just("fs-ffffffffffffffff0")]),
        -5i64..400 * SECONDS_PER_DAY,
        prop_oneof![Just(BackupState::Completed), Just(BackupState::Pending), Just(BackupState::Failed)],
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(None), Just(Some(OUR_STACK)), Just(Some(OTHER_STACK))],
    )
        .prop_map(|(n, owner, source, managed_by, tagged_target, age, state, in_use, aws_backup, stack)| {
            let mut tags = BTreeMap::new();
            if let Some(v) = managed_by {
                tags.insert(MANAGED_BY_KEY.to_string(), v.to_string());
            }
            if let Some(s) = stack {
                tags.insert(crate::tags::STACK_KEY.to_string(), s.to_string());
            }
            if let Some(t) = tagged_target {
                tags.insert(TARGET_ID_KEY.to_string(), t.to_string());
            }
            BackupInfo {
                id: format!("backup-{n:08x}"),
                owner_account: owner,
                source_id: source,
                tags,
                created_at: Some(NOW - age),
                state,
                in_use,
                aws_backup_managed: aws_backup,
            }
        })
}

/// Unique ids, as the APIs guarantee.
fn arb_inventory(max: usize) -> impl Strategy<Value = Vec<BackupInfo>> {
    prop::collection::vec(arb_backup(), 0..max).prop_map(|mut v| {
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v.dedup_by(|a, b| a.id == b.id);
        v
    })
}

fn is_ours_for_target(b: &BackupInfo) -> bool {
    b.tags.get(MANAGED_BY_KEY).map(String::as_str) == Some(MANAGED_BY_VALUE)
        && b.tags.get(crate::tags::STACK_KEY).is_none_or(|s| s == OUR_STACK)
        && b.tags.get(TARGET_ID_KEY).map(String::as_str) == Some(TARGET)
        && b.source_id.as_deref() == Some(TARGET)
        && b.owner_account.as_deref() == Some(ACCOUNT)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_deletes_a_protected_backup(
        backups in arb_inventory(60),
        retention_days in 1u32..60,
        min_keep in 1u32..5,
        new_backup_completed in any::<bool>(),
    ) {
        let p = policy(retention_days, min_keep, new_backup_completed);
        let plan = plan(&p, &backups);
        let cutoff = NOW - i64::from(retention_days) * SECONDS_PER_DAY;
        for id in &plan.delete {
            let b = backups.iter().find(|b| &b.id == id).unwrap();
            prop_assert!(is_ours_for_target(b), "deleted a backup that is not ours: {b:?}");
            prop_assert!(b.created_at.is_some_and(|t| t < cutoff), "deleted a backup inside the retention: {b:?}");
            prop_assert_eq!(b.state, BackupState::Completed);
            prop_assert!(!b.in_use && !b.aws_backup_managed);
            prop_assert!(new_backup_completed);
        }
    }

    #[test]
    fn never_deletes_another_stacks_backup_nor_an_orphans_unstamped_one(
        backups in arb_inventory(60),
        retention_days in 1u32..60,
        orphan in any::<bool>(),
    ) {
        let p = Policy { claims_unstamped: !orphan, ..policy(retention_days, 1, true) };
        let plan = plan(&p, &backups);
        for id in &plan.delete {
            let made_by = backups.iter().find(|b| &b.id == id).unwrap().tags.get(crate::tags::STACK_KEY);
            prop_assert!(made_by.is_none_or(|s| s == OUR_STACK), "deleted another stack's backup");
            prop_assert!(!orphan || made_by.is_some(), "deleted an orphan's backup that names no stack");
        }
    }

    #[test]
    fn always_keeps_the_newest_min_keep(backups in arb_inventory(60), min_keep in 1u32..5) {
        let plan = plan(&policy(1, min_keep, true), &backups);
        let completed_ours: Vec<&BackupInfo> = backups.iter()
            .filter(|b| is_ours_for_target(b) && b.state == BackupState::Completed)
            .collect();
        let remaining = completed_ours.iter().filter(|b| !plan.delete.contains(&b.id)).count();
        prop_assert!(remaining >= completed_ours.len().min(min_keep as usize));
        // And the ones kept are the newest: nothing deleted is newer than a kept AmongNewest one.
        let oldest_kept = plan.keep.iter().filter(|k| k.reason == KeepReason::AmongNewest)
            .filter_map(|k| backups.iter().find(|b| b.id == k.id)).map(|b| b.created_at).min();
        if let Some(oldest_kept) = oldest_kept {
            for id in &plan.delete {
                let b = backups.iter().find(|b| &b.id == id).unwrap();
                prop_assert!(b.created_at <= oldest_kept);
            }
        }
    }

    #[test]
    fn every_backup_gets_exactly_one_verdict(backups in arb_inventory(60)) {
        let plan = plan(&policy(7, 1, true), &backups);
        prop_assert_eq!(plan.delete.len() + plan.keep.len(), backups.len());
    }

    /// The guard measures against the target's own backups only, and passes exactly the plans that delete
    /// at most the allowed share of them.
    #[test]
    fn the_guard_passes_exactly_the_plans_within_the_limit(
        backups in arb_inventory(60),
        retention_days in 1u32..60,
        max_percent in 1u32..=100,
    ) {
        let plan = plan(&policy(retention_days, 1, true), &backups);
        prop_assert_eq!(plan.ours, backups.iter().filter(|b| is_ours_for_target(b)).count());
        let share_ok = plan.delete.len() as f64 <= plan.ours as f64 * f64::from(max_percent) / 100.0;
        prop_assert_eq!(plan.check_delete_limit(TARGET, max_percent).is_ok(), share_ok);
        prop_assert!(plan.check_delete_limit(TARGET, 100).is_ok(), "100% must allow every plan the rule makes");
    }
}

#[test]
fn the_guard_allows_half_and_refuses_more() {
    let two: Vec<BackupInfo> = vec![ours("new", 0), ours("old", 30)];
    assert!(plan(&policy(7, 1, true), &two).check_delete_limit(TARGET, 50).is_ok());
    let three: Vec<BackupInfo> = vec![ours("new", 0), ours("old1", 30), ours("old2", 31)];
    let err = plan(&policy(7, 1, true), &three).check_delete_limit(TARGET, 50).unwrap_err();
    assert!(matches!(err, crate::Error::DeleteLimitExceeded { deleting: 2, total: 3, max_percent: 50, .. }), "{err}");
    // Foreign and untagged backups do not dilute the share.
    let mut diluted = three.clone();
    diluted.extend((0..10).map(|i| BackupInfo { tags: BTreeMap::new(), ..ours(&format!("theirs{i}"), 1) }));
    assert!(plan(&policy(7, 1, true), &diluted).check_delete_limit(TARGET, 50).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// Inventories larger than one 1,000-item API page are judged as a whole, not page by page.
    #[test]
    fn judges_inventories_past_one_page(extra in 1usize..600, min_keep in 1u32..4) {
        let backups: Vec<BackupInfo> = (0..1_000 + extra).map(|i| ours(&format!("b{i:05}"), 10 + i as i64)).collect();
        let plan = plan(&policy(7, min_keep, true), &backups);
        prop_assert_eq!(plan.delete.len(), backups.len() - min_keep as usize);
        for i in 0..min_keep as usize {
            let id = format!("b{i:05}");
            prop_assert_eq!(reason_of(&plan, &id), Some(KeepReason::AmongNewest));
        }
    }
}

#[test]
fn a_backup_without_a_creation_time_is_kept_never_taken_for_the_oldest() {
    let mut undated = ours("undated", 0);
    undated.created_at = None;
    let backups = [ours("new", 0), ours("old", 40), undated];
    let plan = plan(&policy(7, 1, true), &backups);
    assert_eq!(plan.delete, vec!["old"]);
    assert_eq!(reason_of(&plan, "undated"), Some(KeepReason::NoCreationTime));
}
