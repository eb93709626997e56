//! efs-backup: start an AWS Backup job of a file system, or ask how a job is doing.

use serde::{Deserialize, Serialize};

use super::{check_id, parse_event, split_on, unknown_value, CheckStatus, RunId, Validate};
use crate::error::{Error, Result};

/// What efs-backup is asked; the event's `action` says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EfsBackupEvent {
    /// `start`: start an AWS Backup job of one EFS file system.
    Start(EfsBackupStart),
    /// `status`: how is this backup job doing?
    Status(EfsBackupStatus),
    /// `copy`: copy this run's recovery point to the copy Region, and say how the copy is doing.
    Copy(super::CopyEfsEvent),
}

impl EfsBackupEvent {
    pub fn parse(event: serde_json::Value) -> Result<Self> {
        match split_on("action", event)? {
            (action, rest) if action == "start" => Ok(Self::Start(parse_event(rest)?)),
            (action, rest) if action == "status" => Ok(Self::Status(parse_event(rest)?)),
            (action, rest) if action == "copy" => Ok(Self::Copy(parse_event(rest)?)),
            (action, _) => Err(unknown_value("action", &action, &["start", "status", "copy"])),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EfsBackupStart {
    pub file_system_id: String,
    /// The vault and the role AWS Backup runs as; the settings' when absent (the SOP gives them).
    #[serde(default)]
    pub backup_vault_name: Option<String>,
    #[serde(default)]
    pub iam_role_arn: Option<String>,
    /// The run (the workflow's execution name); this invocation's request id when absent.
    #[serde(default)]
    pub run_id: Option<RunId>,
    #[serde(default)]
    pub dry_run: bool,
}

impl Validate for EfsBackupStart {
    fn validate(&self) -> Result<()> {
        check_id("fileSystemId", &self.file_system_id, "fs-")?;
        if let Some(arn) = &self.iam_role_arn {
            if !(arn.starts_with("arn:") && arn.contains(":role/")) {
                return Err(Error::invalid_event("iamRoleArn", format!("{arn:?} is not an IAM role ARN")));
            }
        }
        match &self.backup_vault_name {
            Some(v) if v.is_empty() || v.len() > 50 => {
                Err(Error::invalid_event("backupVaultName", format!("{v:?} is not a vault name")))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EfsBackupStatus {
    pub backup_job_id: String,
    #[serde(default)]
    pub attempt: u32,
    /// The run (the workflow's execution name); this invocation's request id when absent.
    #[serde(default)]
    pub run_id: Option<RunId>,
}

impl Validate for EfsBackupStatus {
    fn validate(&self) -> Result<()> {
        if self.backup_job_id.trim().is_empty() || self.backup_job_id.len() > 1024 {
            return Err(Error::invalid_event("backupJobId", "must be a backup job id"));
        }
        Ok(())
    }
}

/// What efs-backup answers: the job (None in a dry run), and for `status` its state as the workflow reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EfsBackupResult {
    pub backup_job_id: Option<String>,
    pub status: Option<CheckStatus>,
    pub attempt: u32,
    pub detail: String,
    pub recovery_point_arn: Option<String>,
    pub dry_run: bool,
}
