//! What a cleanup did with every backup it looked at, and why it kept what it kept: the report types
//! that the retention rule, the cleanup engine and the run report share.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Why a backup was kept. Serialised as its name in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeepReason {
    /// It lacks our ManagedBy tag: someone else made it.
    NotOurs,
    /// Ours, but tagged for, or taken of, another resource.
    OtherTarget,
    /// Made by another stack (its `snapmgmt:Stack`): that stack's to judge.
    OtherStack,
    /// Made before backups named their stack (no `snapmgmt:Stack`), of a resource that is no target of this
    /// stack now: no stack can tell it is its own, so none deletes it.
    Unstamped,
    /// Owned by another account (shared with us).
    ForeignAccount,
    /// Created and owned by AWS Backup.
    AwsBackupManaged,
    /// In use, e.g. by an AMI.
    InUse,
    /// Not completed: pending, creating, or failed.
    NotCompleted,
    /// The API gave no creation time: its age is unknown, so it is never taken for an old one.
    NoCreationTime,
    /// This run's new backup has not completed, so nothing old is deleted.
    NewBackupNotComplete,
    /// One of the newest `min_keep` completed backups of the target.
    AmongNewest,
    /// The newest of the newest backups kept outright by the `last` tier.
    KeptLast,
    /// The newest backup of one of the days the `daily` tier keeps.
    KeptDaily,
    /// The newest backup of one of the ISO weeks the `weekly` tier keeps.
    KeptWeekly,
    /// The newest backup of one of the months the `monthly` tier keeps.
    KeptMonthly,
    /// The newest backup of one of the years the `yearly` tier keeps.
    KeptYearly,
    /// Inside the retention period.
    TooYoung,
    /// An EBS set with fewer snapshots than the volumes it was taken of, inside the retention period: it never
    /// counts among the newest nor for a tier, and goes once expired.
    Incomplete,
    /// Expired, but this invocation's time budget ran out before its delete: the next run deletes it.
    OutOfTime,
    /// An orphan's backup, kept until the resource has been an orphan for ORPHAN_GRACE_DAYS.
    OrphanGrace,
    /// Expired, but in a vault under AWS Backup Vault Lock, where no one may delete: its lifecycle does.
    VaultLocked,
}

/// What a cleanup did for one target: every backup it looked at is in exactly one list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupReport {
    /// Left out of the workflow's state (the target's result names the target and the run).
    #[serde(default)]
    pub target_id: String,
    #[serde(default)]
    pub dry_run: bool,
    /// Deleted (or, in a dry run, would be deleted).
    pub deleted: Vec<String>,
    pub kept: Vec<Kept>,
    pub failed: Vec<FailedDelete>,
    /// How many of each, and of the kept how many for each reason: the run report's figures.
    pub counts: CleanupCounts,
    /// Whether the id lists were cut to [`REPORT_ID_LIMIT`] each (the counts never are).
    #[serde(default)]
    pub truncated: bool,
    /// How many backups of ours the resource has, and how old the newest and oldest are (null: none).
    #[serde(default)]
    pub ages: Option<BackupAges>,
    /// The policy the resource got, and from where.
    #[serde(default)]
    pub policy: Option<AppliedPolicy>,
    /// Backups the original sample made, judged as ours (ADOPT_ORIGINAL_SAMPLE); also in the lists above.
    #[serde(default)]
    pub adopted: Vec<String>,
    /// An orphan whose resource is gone: not found (deleted), or a terminated instance.
    #[serde(default)]
    pub resource_gone: bool,
    /// An orphan judged by its backups' recorded policies: each policy and the backups it judged.
    #[serde(default)]
    pub judged_by: BTreeMap<String, Vec<String>>,
}

/// The retention policy one resource got: the stack's settings, or its own `snapmgmt:Retention` tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPolicy {
    pub source: PolicySource,
    /// In the compact form, e.g. `days=14` or `daily=7 weekly=4 monthly=12`.
    pub policy: String,
    /// The zone its calendar periods are in.
    pub time_zone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicySource {
    /// RETENTION_DAYS and RETENTION_TIERS.
    Stack,
    /// The resource's `snapmgmt:Retention` tag.
    Tag,
    /// COPY_RETENTION, for the copies in the copy Region.
    Copy,
    /// The policies an orphan's backups recorded when they were made (`snapmgmt:Policy`); the report's
    /// `judgedBy` says which judged which. The policy named is the newest backup's.
    Recorded,
}

/// The backups of ours a resource has, by age in whole days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupAges {
    pub backups: usize,
    pub newest_days: i64,
    pub oldest_days: i64,
}

/// Ids listed per list in a report that goes into the workflow's state: the state of one execution is
/// limited to 256 KiB, so a target with thousands of deletions reports its counts and the first ids; its
/// cleanup's log has them all.
pub const REPORT_ID_LIMIT: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupCounts {
    pub deleted: usize,
    pub kept: usize,
    pub failed: usize,
    pub kept_by_reason: BTreeMap<KeepReason, usize>,
}

impl CleanupReport {
    /// The report in its final form: ids in order, whatever order concurrent deletes finished in, and counted.
    pub fn finished(mut self) -> Self {
        self.deleted.sort();
        self.kept.sort_by(|a, b| a.id.cmp(&b.id));
        self.failed.sort_by(|a, b| a.id.cmp(&b.id));
        let mut kept_by_reason = BTreeMap::new();
        for kept in &self.kept {
            *kept_by_reason.entry(kept.reason).or_insert(0) += 1;
        }
        self.counts = CleanupCounts {
            deleted: self.deleted.len(),
            kept: self.kept.len(),
            failed: self.failed.len(),
            kept_by_reason,
        };
        self
    }

    /// The report cut to `limit` ids per list, for the workflow's state; the counts stay whole.
    pub fn capped(mut self, limit: usize) -> Self {
        self.truncated = self.deleted.len() > limit || self.kept.len() > limit || self.failed.len() > limit;
        self.deleted.truncate(limit);
        self.kept.truncate(limit);
        self.failed.truncate(limit);
        self.adopted.truncate(limit);
        for ids in self.judged_by.values_mut() {
            self.truncated |= ids.len() > limit;
            ids.truncate(limit);
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kept {
    pub id: String,
    pub reason: KeepReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedDelete {
    pub id: String,
    pub error: String,
}
