//! Which backup a restore (and so a verification) takes.

use crate::retention::{BackupInfo, BackupState};
use crate::tags::{ATTEMPT_KEY, RUN_ID_KEY};

/// The newest completed backup at or before `to`: one backup, or with `sets` (EBS) every snapshot of the same
/// attempt of the same run as the newest one (an instance's set). The ids sorted, and when it was made.
pub fn newest_completed(listed: &[BackupInfo], to: i64, sets: bool) -> Option<(Vec<String>, i64)> {
    let usable: Vec<&BackupInfo> =
        listed.iter().filter(|b| b.state == BackupState::Completed && b.created_at.is_some_and(|c| c <= to)).collect();
    let newest = usable.iter().max_by_key(|b| (b.created_at, b.id.clone()))?;
    let set_of = |b: &BackupInfo| (b.tags.get(RUN_ID_KEY).cloned(), b.tags.get(ATTEMPT_KEY).cloned());
    let mut ids: Vec<String> = if sets && newest.tags.contains_key(RUN_ID_KEY) {
        usable.iter().filter(|b| set_of(b) == set_of(newest)).map(|b| b.id.clone()).collect()
    } else {
        vec![newest.id.clone()]
    };
    ids.sort();
    Some((ids, newest.created_at.unwrap_or_default()))
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
}
