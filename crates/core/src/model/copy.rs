//! Copies to a second Region: what snapshot-ebs, backup-fsx and efs-backup are asked to copy
//! (`"action": "copy"`), and how the copies are doing, which the workflow's copy loops read.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{
    check_fsx_id, check_id, check_snapshot_set, parse_event, split_on, unknown_value, CheckStatus, RunId, Validate,
};
use crate::error::{Error, Result};

/// An event that names an action: `copy`, the only one; a function asked without one does its own job.
fn parse_copy<T: DeserializeOwned + Validate>(event: serde_json::Value) -> Result<T> {
    match split_on("action", event)? {
        (action, rest) if action == "copy" => parse_event(rest),
        (action, _) => Err(unknown_value("action", &action, &["copy"])),
    }
}

/// Copy this run's completed set of one instance to the copy Region: each snapshot once, however often
/// the workflow asks; each answer says how the copies are doing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CopyEc2Event {
    pub instance_id: String,
    pub snapshot_ids: Vec<String>,
    /// The run (the workflow's execution name); this invocation's request id when absent.
    #[serde(default)]
    pub run_id: Option<RunId>,
    #[serde(default)]
    pub dry_run: bool,
    /// How many times the workflow asked before.
    #[serde(default)]
    pub attempt: u32,
}

impl CopyEc2Event {
    /// An event that names an action (snapshot-ebs's only one is `copy`; without one, it takes a set).
    pub fn parse(event: serde_json::Value) -> Result<Self> {
        parse_copy(event)
    }
}

impl Validate for CopyEc2Event {
    fn validate(&self) -> Result<()> {
        check_id("instanceId", &self.instance_id, "i-")?;
        check_snapshot_set("snapshotIds", Some(&self.snapshot_ids))?;
        if self.snapshot_ids.is_empty() && !self.dry_run {
            return Err(Error::invalid_event("snapshotIds", "names no snapshot to copy"));
        }
        Ok(())
    }
}

/// Copy this run's completed FSx backup of one file system (or ONTAP volume) to the copy Region: once,
/// however often the workflow asks; each answer says how the copy is doing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CopyFsxEvent {
    #[serde(alias = "volumeId")]
    pub file_system_id: String,
    /// The backup to copy; none in a dry run, which takes none.
    #[serde(default)]
    pub backup_id: Option<String>,
    #[serde(default)]
    pub run_id: Option<RunId>,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub attempt: u32,
}

impl CopyFsxEvent {
    /// An event that names an action (backup-fsx's only one is `copy`; without one, it takes a backup).
    pub fn parse(event: serde_json::Value) -> Result<Self> {
        parse_copy(event)
    }
}

impl Validate for CopyFsxEvent {
    fn validate(&self) -> Result<()> {
        check_fsx_id("fileSystemId", &self.file_system_id)?;
        match &self.backup_id {
            Some(id) => check_id("backupId", id, "backup-"),
            None if self.dry_run => Ok(()),
            None => Err(Error::invalid_event("backupId", "names no backup to copy")),
        }
    }
}

/// Copy this run's completed EFS recovery point to the copy Region's vault with an AWS Backup copy job:
/// started once (the job's token derives from the run), then followed by `copyJobId`. Read by
/// [`super::EfsBackupEvent::parse`] as its `copy` action.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CopyEfsEvent {
    pub file_system_id: String,
    /// The point to copy; none in a dry run, which takes none.
    #[serde(default)]
    pub recovery_point_arn: Option<String>,
    /// The copy job an earlier answer started.
    #[serde(default)]
    pub copy_job_id: Option<String>,
    #[serde(default)]
    pub run_id: Option<RunId>,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub attempt: u32,
}

impl Validate for CopyEfsEvent {
    fn validate(&self) -> Result<()> {
        check_id("fileSystemId", &self.file_system_id, "fs-")?;
        match &self.recovery_point_arn {
            Some(arn) => super::cleanup::check_recovery_point_arn("recoveryPointArn", arn),
            None if self.dry_run => Ok(()),
            None => Err(Error::invalid_event("recoveryPointArn", "names no recovery point to copy")),
        }
    }
}

/// How a backup's copies in the copy Region are doing: Ready once every one completed; InProgress while
/// one is copying, or while AWS's limit on copies in flight keeps some from starting; Failed when one failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyResult {
    pub region: String,
    pub copy_ids: Vec<String>,
    pub status: CheckStatus,
    /// The attempt this answer was for, plus one.
    pub attempt: u32,
    pub detail: String,
    /// The AWS Backup copy job (EFS), which the next ask follows; None for EBS and FSx.
    #[serde(default)]
    pub copy_job_id: Option<String>,
}

impl CopyResult {
    /// The answer to ask number `attempt` about copies to `region`, as it starts: in progress, no copy yet.
    pub fn to(region: &str, attempt: u32) -> Self {
        Self {
            region: region.to_string(),
            copy_ids: Vec::new(),
            status: CheckStatus::InProgress,
            attempt: attempt.saturating_add(1),
            detail: String::new(),
            copy_job_id: None,
        }
    }
}

/// What a function that backs up and copies answers: its backup's result, or (`"action": "copy"`) a copy's;
/// serialised as that result alone, the shape the workflow reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum BackupOrCopy<T> {
    Backup(T),
    Copy(CopyResult),
}

impl<T> BackupOrCopy<T> {
    /// The backup's result, when this answered a backup.
    pub fn backup(self) -> Option<T> {
        match self {
            BackupOrCopy::Backup(result) => Some(result),
            BackupOrCopy::Copy(_) => None,
        }
    }

    /// The copy's result, when this answered a copy.
    pub fn copy(self) -> Option<CopyResult> {
        match self {
            BackupOrCopy::Copy(result) => Some(result),
            BackupOrCopy::Backup(_) => None,
        }
    }
}
