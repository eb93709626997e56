//! cleanup: the target whose expired backups to delete, and this run's new backup of it.

use serde::Deserialize;

use super::{
    check_fsx_id, check_id, check_percent, check_snapshot_set, parse_event, split_kind, unknown_kind, RunId, Validate,
};
use super::{InventoryItem, TargetKind};
use crate::error::Result;

/// What cleanup is asked, whatever the kind: one target, and this run's backup of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupEvent {
    pub kind: TargetKind,
    pub target_id: String,
    /// This run's backup, as the ids a delete removes: an FSx backup, or the snapshots of an EBS set.
    /// Required unless `dry_run`, where a missing one is assumed to complete.
    pub new_backup: Option<Vec<String>>,
    pub dry_run: bool,
    /// The delete guard's limit for this run (1 to 100 percent); the MAX_DELETE_PERCENT setting when absent.
    pub max_delete_percent: Option<u32>,
    /// The run (the workflow's execution name), for the logs.
    pub run_id: Option<RunId>,
    /// A resource that is no longer a target, whose backups of ours remain: there is no new backup, and
    /// the rule deletes only after their own retention, keeping the newest.
    pub orphan: bool,
    /// The copy Region, for the copies there (EBS): cleaned under the copy policy, with the copies as the
    /// new backup. None: the target's own Region.
    pub region: Option<String>,
    /// An orphan: when it was last a target, if the ledger remembers (seconds since the epoch).
    pub orphan_since: Option<i64>,
}

impl CleanupEvent {
    /// The event's `kind` says how the rest reads: `fsx` names a file system and its `newBackupId`, `ec2`
    /// an instance and its `newSnapshotIds`, `efs` a file system and its `newRecoveryPointArn`. `ebs`, its
    /// earlier name, which deployed workflows and saved test events still send, reads as `ec2`.
    pub fn parse(event: serde_json::Value) -> Result<Self> {
        match split_kind(event)? {
            (kind, rest) if kind == "fsx" => Ok(parse_event::<FsxCleanup>(rest)?.into()),
            (kind, rest) if kind == "ec2" || kind == "ebs" => Ok(parse_event::<Ec2Cleanup>(rest)?.into()),
            (kind, rest) if kind == "efs" => Ok(parse_event::<EfsCleanup>(rest)?.into()),
            (kind, rest) if kind == "orphan" => Ok(parse_event::<OrphanCleanup>(rest)?.into()),
            (kind, _) => Err(unknown_kind(&kind, &["fsx", "ec2", "efs", "orphan"])),
        }
    }

    /// The event's field that names the new backup, for errors about it.
    pub fn new_backup_field(&self) -> &'static str {
        self.kind.info().new_backup_field
    }
}

/// The `fsx` event as it arrives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FsxCleanup {
    /// A file system, or an ONTAP volume (`fsvol-`), which may be given as `volumeId`.
    #[serde(alias = "volumeId")]
    file_system_id: String,
    #[serde(default, deserialize_with = "one_id")]
    new_backup_id: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    max_delete_percent: Option<u32>,
    #[serde(default)]
    run_id: Option<RunId>,
}

impl Validate for FsxCleanup {
    fn validate(&self) -> Result<()> {
        check_fsx_id("fileSystemId", &self.file_system_id)?;
        if let Some(id) = &self.new_backup_id {
            check_id("newBackupId", id, "backup-")?;
        }
        check_percent("maxDeletePercent", self.max_delete_percent)
    }
}

impl From<FsxCleanup> for CleanupEvent {
    fn from(e: FsxCleanup) -> Self {
        Self {
            kind: TargetKind::Fsx,
            target_id: e.file_system_id,
            new_backup: e.new_backup_id.map(|id| vec![id]),
            dry_run: e.dry_run,
            max_delete_percent: e.max_delete_percent,
            run_id: e.run_id,
            orphan: false,
            region: e.region,
            orphan_since: None,
        }
    }
}

/// The `ec2` event as it arrives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Ec2Cleanup {
    instance_id: String,
    #[serde(default)]
    new_snapshot_ids: Option<Vec<String>>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    max_delete_percent: Option<u32>,
    #[serde(default)]
    run_id: Option<RunId>,
}

impl Validate for Ec2Cleanup {
    fn validate(&self) -> Result<()> {
        check_id("instanceId", &self.instance_id, "i-")?;
        check_snapshot_set("newSnapshotIds", self.new_snapshot_ids.as_deref())?;
        check_percent("maxDeletePercent", self.max_delete_percent)
    }
}

impl From<Ec2Cleanup> for CleanupEvent {
    fn from(e: Ec2Cleanup) -> Self {
        Self {
            kind: TargetKind::Ec2,
            target_id: e.instance_id,
            // An empty list names no set: the same as none.
            new_backup: e.new_snapshot_ids.filter(|ids| !ids.is_empty()),
            dry_run: e.dry_run,
            max_delete_percent: e.max_delete_percent,
            run_id: e.run_id,
            orphan: false,
            region: e.region,
            orphan_since: None,
        }
    }
}

/// The `efs` event as it arrives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EfsCleanup {
    file_system_id: String,
    #[serde(default, deserialize_with = "one_id")]
    new_recovery_point_arn: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    max_delete_percent: Option<u32>,
    #[serde(default)]
    run_id: Option<RunId>,
}

impl Validate for EfsCleanup {
    fn validate(&self) -> Result<()> {
        check_id("fileSystemId", &self.file_system_id, "fs-")?;
        if let Some(arn) = &self.new_recovery_point_arn {
            check_recovery_point_arn("newRecoveryPointArn", arn)?;
        }
        check_percent("maxDeletePercent", self.max_delete_percent)
    }
}

impl From<EfsCleanup> for CleanupEvent {
    fn from(e: EfsCleanup) -> Self {
        Self {
            kind: TargetKind::Efs,
            target_id: e.file_system_id,
            new_backup: e.new_recovery_point_arn.map(|arn| vec![arn]),
            dry_run: e.dry_run,
            max_delete_percent: e.max_delete_percent,
            run_id: e.run_id,
            orphan: false,
            region: e.region,
            orphan_since: None,
        }
    }
}

/// The `orphan` event as it arrives: the resource as the trigger's orphan inventory names it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OrphanCleanup {
    of: InventoryItem,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    max_delete_percent: Option<u32>,
    #[serde(default)]
    run_id: Option<RunId>,
}

impl Validate for OrphanCleanup {
    fn validate(&self) -> Result<()> {
        (self.of.kind.info().check_id)("of.id", &self.of.id)?;
        check_percent("maxDeletePercent", self.max_delete_percent)
    }
}

impl From<OrphanCleanup> for CleanupEvent {
    fn from(e: OrphanCleanup) -> Self {
        Self {
            kind: e.of.kind,
            target_id: e.of.id,
            new_backup: None,
            dry_run: e.dry_run,
            max_delete_percent: e.max_delete_percent,
            run_id: e.run_id,
            orphan: true,
            region: e.of.region,
            orphan_since: e.of.last_target_at,
        }
    }
}

/// One id, given as itself, as null, or as a list of at most one (the copy loop's `copyIds`, empty in a
/// dry run).
fn one_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Option<String>, D::Error> {
    let ids = super::run::one_or_many(deserializer)?;
    if ids.len() > 1 {
        return Err(serde::de::Error::custom(format!("names {} backups; one target has one new backup", ids.len())));
    }
    Ok(ids.into_iter().next())
}

/// An AWS Backup recovery point ARN: `arn:<partition>:backup:<region>:<account>:recovery-point:<id>`.
pub(crate) fn check_recovery_point_arn(field: &'static str, arn: &str) -> Result<()> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    let well_formed = parts.len() == 7
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "backup"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5] == "recovery-point"
        && !parts[6].is_empty()
        && arn.len() <= 1024;
    if well_formed {
        Ok(())
    } else {
        Err(crate::Error::invalid_event(field, format!("{arn:?} is not an AWS Backup recovery point ARN")))
    }
}
