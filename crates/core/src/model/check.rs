//! check-in-progress: what it is asked (one of three checks) and its answer, which the wait loops read.

use serde::{Deserialize, Serialize};

use super::{check_fsx_id, check_id, check_snapshot_set, parse_event, split_kind, unknown_kind, RunId, Validate};
use crate::error::{Error, Result};

/// What check-in-progress is asked; the event's `kind` says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckEvent {
    /// `fsx`: is a backup of this FSx file system CREATING, PENDING or TRANSFERRING?
    Fsx(FsxCheck),
    /// `fsxBackup`: has this FSx backup become AVAILABLE?
    FsxBackup(FsxBackupCheck),
    /// `ec2Snapshot` (earlier `ebsSnapshot`, still read): has this instance's snapshot run (SSM
    /// automation, or direct) completed?
    Ec2Snapshot(Ec2SnapshotCheck),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ec2SnapshotCheck {
    pub instance_id: String,
    /// The automation of the ssm mode; None in the direct mode.
    #[serde(default)]
    pub automation_execution_id: Option<String>,
    /// The snapshots of the direct mode (the ssm mode reads them from the automation's outputs).
    #[serde(default)]
    pub snapshot_ids: Option<Vec<String>>,
    #[serde(default)]
    pub attempt: u32,
    /// The run (the workflow's execution name); this invocation's request id when absent.
    #[serde(default)]
    pub run_id: Option<RunId>,
}

impl Validate for Ec2SnapshotCheck {
    fn validate(&self) -> Result<()> {
        check_id("instanceId", &self.instance_id, "i-")?;
        check_snapshot_set("snapshotIds", self.snapshot_ids.as_deref())?;
        if self.automation_execution_id.is_none() && self.snapshot_ids.as_ref().is_none_or(Vec::is_empty) {
            return Err(Error::invalid_event("automationExecutionId", "give it, or snapshotIds"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FsxCheck {
    /// A file system, or an ONTAP volume (`fsvol-`), which may be given as `volumeId`.
    #[serde(alias = "volumeId")]
    pub file_system_id: String,
    #[serde(default)]
    pub attempt: u32,
    /// The run (the workflow's execution name); this invocation's request id when absent.
    #[serde(default)]
    pub run_id: Option<RunId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FsxBackupCheck {
    pub backup_id: String,
    #[serde(default)]
    pub attempt: u32,
    /// The run (the workflow's execution name); this invocation's request id when absent.
    #[serde(default)]
    pub run_id: Option<RunId>,
}

impl CheckEvent {
    pub fn parse(event: serde_json::Value) -> Result<Self> {
        match split_kind(event)? {
            (kind, rest) if kind == "fsx" => Ok(Self::Fsx(parse_event(rest)?)),
            (kind, rest) if kind == "fsxBackup" => Ok(Self::FsxBackup(parse_event(rest)?)),
            (kind, rest) if kind == "ec2Snapshot" || kind == "ebsSnapshot" => Ok(Self::Ec2Snapshot(parse_event(rest)?)),
            (kind, _) => Err(unknown_kind(&kind, &["fsx", "fsxBackup", "ec2Snapshot"])),
        }
    }
}

impl Validate for FsxCheck {
    fn validate(&self) -> Result<()> {
        check_fsx_id("fileSystemId", &self.file_system_id)
    }
}

impl Validate for FsxBackupCheck {
    fn validate(&self) -> Result<()> {
        check_id("backupId", &self.backup_id, "backup-")
    }
}

/// The answer of check-in-progress: the state machine's Choice reads `status`, its wait loop `attempt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckStatus {
    /// Still busy: wait and check again.
    InProgress,
    /// Nothing in the way (no backup in progress, or the new backup is AVAILABLE).
    Ready,
    /// It will not become ready (the new backup FAILED or was deleted).
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub status: CheckStatus,
    /// The attempt this answer was for, plus one.
    pub attempt: u32,
    /// The ids it looked at and their state, for the log and the report.
    pub detail: String,
    /// For an EBS snapshot run: the snapshots it made (so far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_ids: Option<Vec<String>>,
    /// For a completed EBS set: how consistent it is (`app`, `crash`, `auto-thawed`, `freeze-failed`,
    /// `unknown`); null otherwise. Always written: the workflow reads it into the target's result.
    #[serde(default)]
    pub consistency: Option<String>,
}
