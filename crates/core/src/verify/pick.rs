//! Which backup a restore (and so a verification) takes.

use crate::cleanup::Store;
use crate::error::Result;
use crate::retention::{BackupInfo, BackupState};
use crate::tags::{StackId, ATTEMPT_KEY, RUN_ID_KEY};

/// The newest completed backup at or before `to`: one backup, or with `sets` (EBS) every snapshot of the same
/// attempt of the same run as the newest one (an instance's set). The ids sorted, and when it was made.
pub fn newest_completed(listed: &[BackupInfo], to: i64, sets: bool) -> Option<(Vec<String>, i64)> {
    let usable = usable(listed, to);
    let newest = usable.iter().max_by_key(|b| (b.created_at, b.id.clone()))?;
    Some(whole(&usable, newest, sets))
}

/// Which backup a verification takes: the newest completed one, or (VERIFY_RANDOM_WITHIN_DAYS) one drawn
/// from those completed within the last `window_days`, the draw fixed by `seed` (the run and the target: a
/// retried check takes the same one). With none in the window, the newest.
#[derive(Debug, Clone, Copy)]
pub struct Pick<'a> {
    pub window_days: u32,
    pub seed: &'a str,
}

pub fn chosen(listed: &[BackupInfo], now: i64, sets: bool, pick: Pick<'_>) -> Option<(Vec<String>, i64)> {
    if pick.window_days == 0 {
        return newest_completed(listed, now, sets);
    }
    let usable = usable(listed, now);
    let since = now - i64::from(pick.window_days) * 86_400;
    // One candidate per backup (per set, for sets), oldest first: the draw is by index.
    let mut candidates: Vec<(Vec<String>, i64)> =
        usable.iter().filter(|b| b.created_at.is_some_and(|c| c >= since)).map(|b| whole(&usable, b, sets)).collect();
    candidates.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    candidates.dedup();
    if candidates.is_empty() {
        return newest_completed(listed, now, sets);
    }
    let drawn = super::efs::fnv1a(pick.seed) as usize % candidates.len();
    Some(candidates.swap_remove(drawn))
}

fn usable(listed: &[BackupInfo], to: i64) -> Vec<&BackupInfo> {
    listed.iter().filter(|b| b.state == BackupState::Completed && b.created_at.is_some_and(|c| c <= to)).collect()
}

/// The backup `one` belongs to: itself, or with `sets` every snapshot of its run's attempt.
fn whole(usable: &[&BackupInfo], one: &BackupInfo, sets: bool) -> (Vec<String>, i64) {
    let set_of = |b: &BackupInfo| (b.tags.get(RUN_ID_KEY).cloned(), b.tags.get(ATTEMPT_KEY).cloned());
    let mut ids: Vec<String> = if sets && one.tags.contains_key(RUN_ID_KEY) {
        usable.iter().filter(|b| set_of(b) == set_of(one)).map(|b| b.id.clone()).collect()
    } else {
        vec![one.id.clone()]
    };
    ids.sort();
    // A set was made when its newest part was.
    let created = usable
        .iter()
        .filter(|b| ids.contains(&b.id))
        .filter_map(|b| b.created_at)
        .max()
        .unwrap_or_else(|| one.created_at.unwrap_or_default());
    (ids, created)
}

/// Which of the target's backups of this stack (`stack`), among those `store` lists, a verification takes.
pub async fn ours_chosen<S: Store>(
    store: &S,
    target_id: &str,
    stack: Option<&StackId>,
    pick: Pick<'_>,
    now: i64,
) -> Result<Option<(Vec<String>, i64)>> {
    let ours: Vec<BackupInfo> = store.list_ours(target_id).await?.into_iter().filter(|b| made_by(b, stack)).collect();
    Ok(chosen(&ours, now, false, pick))
}

/// Made by snapmgmt (and by this stack, when it has an id): a backup a verification may prove.
pub fn made_by(backup: &BackupInfo, stack: Option<&StackId>) -> bool {
    let has = |(key, value): (&str, &str)| backup.tags.get(key).map(String::as_str) == Some(value);
    has((crate::tags::MANAGED_BY_KEY, crate::tags::MANAGED_BY_VALUE)) && stack.is_none_or(|s| has(s.tag()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(id: &str, created: i64, run: &str, state: BackupState) -> BackupInfo {
        BackupInfo {
            id: id.into(),
            owner_account: None,
            source_id: None,
            tags: [(RUN_ID_KEY.to_string(), run.to_string()), (ATTEMPT_KEY.to_string(), "1".to_string())].into(),
            created_at: Some(created),
            state,
            in_use: false,
            aws_backup_managed: false,
        }
    }

    #[test]
    fn the_newest_completed_set_at_or_before_the_time_is_chosen_whole() {
        let listed = [
            part("snap-a1", 100, "a", BackupState::Completed),
            part("snap-a2", 101, "a", BackupState::Completed),
            part("snap-b1", 200, "b", BackupState::Completed),
            part("snap-c1", 300, "c", BackupState::Pending),
        ];
        assert_eq!(newest_completed(&listed, 150, true), Some((vec!["snap-a1".into(), "snap-a2".into()], 101)));
        let pending_is_no_backup = Some((vec!["snap-b1".into()], 200));
        assert_eq!(newest_completed(&listed, 1000, true), pending_is_no_backup);
        assert_eq!(newest_completed(&listed, 50, true), None);
        assert_eq!(newest_completed(&listed, 150, false), Some((vec!["snap-a2".into()], 101)));
    }

    #[test]
    fn a_random_pick_draws_a_whole_set_within_the_window_the_same_for_the_same_seed() {
        const DAY: i64 = 86_400;
        let now = 30 * DAY;
        let listed = [
            part("snap-old", 10 * DAY, "old", BackupState::Completed),
            part("snap-a1", 25 * DAY, "a", BackupState::Completed),
            part("snap-a2", 25 * DAY + 1, "a", BackupState::Completed),
            part("snap-b1", 27 * DAY, "b", BackupState::Completed),
            part("snap-c1", 29 * DAY, "c", BackupState::Completed),
            part("snap-d1", 29 * DAY + 5, "d", BackupState::Pending),
        ];
        let mut drawn = std::collections::BTreeSet::new();
        for n in 0..40 {
            let seed = format!("run-{n}/i-1");
            let pick = Pick { window_days: 7, seed: &seed };
            let (ids, created) = chosen(&listed, now, true, pick).unwrap();
            assert_eq!(chosen(&listed, now, true, pick), Some((ids.clone(), created)), "the same seed, the same draw");
            assert!(created >= 23 * DAY, "within the window: {ids:?}");
            drawn.insert(ids);
        }
        let sets: Vec<Vec<&str>> = drawn.iter().map(|ids| ids.iter().map(String::as_str).collect()).collect();
        assert_eq!(
            sets,
            [vec!["snap-a1", "snap-a2"], vec!["snap-b1"], vec!["snap-c1"]],
            "every whole set, never a pending one"
        );
        let none_within = Pick { window_days: 1, seed: "x" };
        assert_eq!(chosen(&listed, 40 * DAY, true, none_within), newest_completed(&listed, 40 * DAY, true));
        assert_eq!(
            chosen(&listed, now, true, Pick { window_days: 0, seed: "x" }),
            newest_completed(&listed, now, true)
        );
    }

    #[test]
    fn only_our_stacks_points_are_verified() {
        use crate::tags::{MANAGED_BY_KEY, MANAGED_BY_VALUE};
        let stack = StackId::parse("s@us-east-1").unwrap();
        let point = |tags: &[(&str, &str)]| BackupInfo {
            id: "arn:aws:backup:us-east-1:123456789012:recovery-point:1".into(),
            owner_account: None,
            source_id: None,
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            created_at: Some(1),
            state: BackupState::Completed,
            in_use: false,
            aws_backup_managed: false,
        };
        assert!(made_by(&point(&[(MANAGED_BY_KEY, MANAGED_BY_VALUE), stack.tag()]), Some(&stack)));
        assert!(!made_by(&point(&[(MANAGED_BY_KEY, MANAGED_BY_VALUE)]), Some(&stack)));
        assert!(made_by(&point(&[(MANAGED_BY_KEY, MANAGED_BY_VALUE)]), None));
        assert!(!made_by(&point(&[stack.tag()]), Some(&stack)));
    }
}
