//! Which backups may be deleted: the retention rule as pure functions (no I/O, no clock).
//!
//! A backup is deleted only if all hold: it carries our ownership tag and belongs to this target; it is
//! owned by this account; it is completed and not in use nor managed by AWS Backup; the backup taken in
//! this run completed; it is not among the newest `min_keep` completed backups of the target; and it is
//! older than the retention. Everything else is kept, with the first reason that applies.

use std::collections::BTreeMap;

pub use crate::model::cleanup_report::KeepReason;
use crate::model::cleanup_report::Kept;
use crate::tags::{MANAGED_BY_KEY, MANAGED_BY_VALUE, TARGET_ID_KEY};

pub const SECONDS_PER_DAY: i64 = 86_400;

/// The state of a backup as far as the rule cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupState {
    Completed,
    Pending,
    Failed,
    /// An EBS set whose snapshots are all completed but fewer than the volumes it was taken of (one failed
    /// and was removed, or was deleted): never among the newest nor kept by a tier, deleted once expired.
    Incomplete,
}

/// What a cleanup needs of the resource its backups are of: its account and its tags (its policy).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resource {
    pub owner_id: String,
    pub tags: BTreeMap<String, String>,
    /// Still described, but gone for good (a terminated instance, listed for a while after).
    pub gone: bool,
}

/// One backup or snapshot, reduced to what the rule needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub id: String,
    /// The account that owns it, as the API reports it.
    pub owner_account: Option<String>,
    /// The resource it was taken of, as the API reports it (file system, instance).
    pub source_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Creation time, seconds since the Unix epoch.
    /// None when the API gave none: kept, with its reason.
    pub created_at: Option<i64>,
    pub state: BackupState,
    pub in_use: bool,
    pub aws_backup_managed: bool,
}

/// The facts of one cleanup run.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    pub target_id: &'a str,
    pub account_id: &'a str,
    /// Backups younger than this are kept (0: no age rule, the tiers decide).
    pub retention_days: u32,
    pub min_keep: u32,
    /// The newest backup of each of the last N days, weeks, months, years (none: the age rule alone).
    pub tiers: crate::tiers::Tiers,
    pub time_zone: &'a jiff::tz::TimeZone,
    /// Now, seconds since the Unix epoch.
    pub now: i64,
    /// Whether the backup taken in this run has completed.
    pub new_backup_completed: bool,
    /// The stack judging (STACK_ID): a backup another stack made is never its own. None: every stack's.
    pub stack: Option<&'a crate::tags::StackId>,
    /// Whether a backup made before backups named their stack is judged as ours: yes for a current target
    /// of this stack (which claims it), never for an orphan (another stack's target, for all it can tell).
    pub claims_unstamped: bool,
}

/// The verdict on every backup looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub delete: Vec<String>,
    pub keep: Vec<Kept>,
    /// How many of the backups looked at are ours and of this target: what the delete guard measures against.
    pub ours: usize,
}

impl Plan {
    /// The delete guard: does this plan delete more than `max_percent` of the target's own backups? A run
    /// that would is refused whole: a sudden mass delete (a clock, tag or setting gone wrong, or backups
    /// paused for months) must be confirmed by an operator raising the limit.
    pub fn exceeds_delete_limit(&self, max_percent: u32) -> bool {
        self.delete.len() * 100 > self.ours * max_percent as usize
    }

    /// The guard as an error naming the target, the counts and how to allow it.
    pub fn check_delete_limit(&self, target_id: &str, max_percent: u32) -> crate::Result<()> {
        if !self.exceeds_delete_limit(max_percent) {
            return Ok(());
        }
        Err(crate::Error::DeleteLimitExceeded {
            target_id: target_id.to_string(),
            deleting: self.delete.len(),
            total: self.ours,
            max_percent,
        })
    }
}

/// Decides, for every backup, delete or keep (and why).
pub fn plan(policy: &Policy, backups: &[BackupInfo]) -> Plan {
    let newest = newest_completed_ids(policy, backups);
    let tiered = tier_keeps(policy, backups);
    let cutoff = policy.now - i64::from(policy.retention_days) * SECONDS_PER_DAY;
    let mut result = Plan::default();
    for backup in backups {
        result.ours += usize::from(ownership_reason(policy, backup).is_none());
        let reason = ownership_reason(policy, backup)
            .or_else(|| state_reason(backup))
            .or_else(|| backup.created_at.is_none().then_some(KeepReason::NoCreationTime))
            .or_else(|| (!policy.new_backup_completed).then_some(KeepReason::NewBackupNotComplete))
            .or_else(|| newest.contains(&backup.id.as_str()).then_some(KeepReason::AmongNewest))
            .or_else(|| tiered.get(backup.id.as_str()).copied())
            .or_else(|| {
                let young = backup.created_at.is_some_and(|t| t >= cutoff);
                let reason = match backup.state {
                    BackupState::Incomplete => KeepReason::Incomplete,
                    _ => KeepReason::TooYoung,
                };
                young.then_some(reason)
            });
        match reason {
            Some(reason) => result.keep.push(Kept { id: backup.id.clone(), reason }),
            None => result.delete.push(backup.id.clone()),
        }
    }
    result
}

/// The id a dry run gives the backup its run would take.
pub const THIS_RUNS_BACKUP: &str = "(backup of this run)";

/// A dry run's stand-in for the backup its run would take: ours, completed, made now. Planned with the
/// others, it counts among the newest as the real one will, so the preview deletes what the run will.
pub fn this_runs_backup(target_id: &str, account_id: &str, now: i64) -> BackupInfo {
    BackupInfo {
        id: THIS_RUNS_BACKUP.to_string(),
        owner_account: Some(account_id.to_string()),
        source_id: Some(target_id.to_string()),
        tags: [(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, target_id)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        created_at: Some(now),
        state: BackupState::Completed,
        in_use: false,
        aws_backup_managed: false,
    }
}

/// Is it ours, of this target, in this account?
pub fn is_ours(policy: &Policy, backup: &BackupInfo) -> bool {
    ownership_reason(policy, backup).is_none()
}

/// Do two parts say the same about whose they are (account, resource, our tags)?
pub fn same_owner(a: &BackupInfo, b: &BackupInfo) -> bool {
    let tag = |backup: &BackupInfo, key: &str| backup.tags.get(key).cloned();
    a.owner_account == b.owner_account
        && a.source_id == b.source_id
        && tag(a, MANAGED_BY_KEY) == tag(b, MANAGED_BY_KEY)
        && tag(a, TARGET_ID_KEY) == tag(b, TARGET_ID_KEY)
}

/// Is it ours (this stack's), of this target, in this account? None when it is.
fn ownership_reason(policy: &Policy, backup: &BackupInfo) -> Option<KeepReason> {
    if backup.tags.get(MANAGED_BY_KEY).map(String::as_str) != Some(MANAGED_BY_VALUE) {
        return Some(KeepReason::NotOurs);
    }
    if let Some(stack) = policy.stack {
        match backup.tags.get(crate::tags::STACK_KEY) {
            Some(made_by) if made_by != stack.as_str() => return Some(KeepReason::OtherStack),
            None if !policy.claims_unstamped => return Some(KeepReason::Unstamped),
            _ => {}
        }
    }
    let tagged_for_target = backup.tags.get(TARGET_ID_KEY).map(String::as_str) == Some(policy.target_id);
    let taken_of_target = backup.source_id.as_deref() == Some(policy.target_id);
    if !tagged_for_target || !taken_of_target {
        return Some(KeepReason::OtherTarget);
    }
    if backup.owner_account.as_deref() != Some(policy.account_id) {
        return Some(KeepReason::ForeignAccount);
    }
    None
}

/// Is it in a state that allows deletion at all? None when it is.
fn state_reason(backup: &BackupInfo) -> Option<KeepReason> {
    if backup.aws_backup_managed {
        Some(KeepReason::AwsBackupManaged)
    } else if backup.in_use {
        Some(KeepReason::InUse)
    } else if !matches!(backup.state, BackupState::Completed | BackupState::Incomplete) {
        Some(KeepReason::NotCompleted)
    } else {
        None
    }
}

/// The backups a tier keeps, among the completed ones that are ours and of this target.
fn tier_keeps<'b>(policy: &Policy, backups: &'b [BackupInfo]) -> std::collections::HashMap<&'b str, KeepReason> {
    if policy.tiers.is_empty() {
        return Default::default();
    }
    let stream: Vec<(&str, i64)> = backups
        .iter()
        .filter(|b| ownership_reason(policy, b).is_none() && b.state == BackupState::Completed)
        .filter_map(|b| Some((b.id.as_str(), b.created_at?)))
        .collect();
    policy.tiers.keep(policy.time_zone, &stream)
}

/// The ids of the newest `min_keep` completed backups that are ours and of this target.
fn newest_completed_ids<'b>(policy: &Policy, backups: &'b [BackupInfo]) -> Vec<&'b str> {
    let mut ours: Vec<&BackupInfo> =
        backups.iter().filter(|b| ownership_reason(policy, b).is_none() && b.state == BackupState::Completed).collect();
    ours.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    ours.into_iter().take(policy.min_keep as usize).map(|b| b.id.as_str()).collect()
}

#[cfg(test)]
mod tests;
