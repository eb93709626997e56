//! The trigger's event and result, and the timing of the workflow's wait loops.

use serde::{Deserialize, Serialize};

use super::{check_percent, Inventory, TargetKind, Validate};
use crate::error::{Error, Result};

/// What the trigger is invoked with: an EventBridge scheduled event, or a manual test's. A field it does
/// not know is refused, naming it: `{"dry_run": true}` must not start a real run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // the envelope's fields are accepted and never read
pub struct TriggerEvent {
    /// The schedule tick (EventBridge sets it); absent on a manual invoke.
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// Poll intervals for this run; the original sample's when absent (local runs pass short ones).
    #[serde(default)]
    pub timing: Option<Timing>,
    /// Raise (or lower) the delete guard's limit for this run only, in percent; MAX_DELETE_PERCENT when absent.
    #[serde(default)]
    pub max_delete_percent: Option<u32>,
    /// The rest of an EventBridge scheduled event's envelope: accepted, not read.
    #[serde(default, rename = "version")]
    envelope_version: Option<serde_json::Value>,
    #[serde(default, rename = "id")]
    envelope_id: Option<serde_json::Value>,
    #[serde(default, rename = "detail-type")]
    envelope_detail_type: Option<serde_json::Value>,
    #[serde(default, rename = "source")]
    envelope_source: Option<serde_json::Value>,
    #[serde(default, rename = "account")]
    envelope_account: Option<serde_json::Value>,
    #[serde(default, rename = "region")]
    envelope_region: Option<serde_json::Value>,
    #[serde(default, rename = "resources")]
    envelope_resources: Option<serde_json::Value>,
    #[serde(default, rename = "detail")]
    envelope_detail: Option<serde_json::Value>,
}

impl Validate for TriggerEvent {
    fn validate(&self) -> Result<()> {
        match &self.time {
            Some(t)
                if aws_smithy_types::DateTime::from_str(t, aws_smithy_types::date_time::Format::DateTime).is_err() =>
            {
                Err(Error::invalid_event("time", format!("{t:?} is not an RFC 3339 date-time")))
            }
            _ => check_percent("maxDeletePercent", self.max_delete_percent),
        }
    }
}

/// Poll intervals and limits of the workflow's wait loops (the state machine reads them with SecondsPath
/// and compares attempts against them): the original sample's by default, short ones in local runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Timing {
    /// Wait between checks for a backup already in progress (the original sample: 60 s, 30 times).
    pub fsx_wait_seconds: u32,
    pub fsx_max_wait_attempts: u32,
    /// Wait between checks that the new FSx backup is AVAILABLE (`backupPollSeconds`, `backupMaxPolls`
    /// before the kinds had one name each: still read).
    #[serde(alias = "backupPollSeconds")]
    pub fsx_poll_seconds: u32,
    #[serde(alias = "backupMaxPolls")]
    pub fsx_max_polls: u32,
    /// Wait between checks of an instance's snapshot run (the original sample: 40 s), how many checks before
    /// giving up on one run, and how many failed runs are retried (the original sample: 5); the `ebs...`
    /// names are still read.
    #[serde(alias = "ebsPollSeconds")]
    pub ec2_poll_seconds: u32,
    #[serde(alias = "ebsMaxPolls")]
    pub ec2_max_polls: u32,
    #[serde(alias = "ebsMaxRetries")]
    pub ec2_max_retries: u32,
    /// Wait between checks of an AWS Backup job for EFS.
    pub efs_poll_seconds: u32,
    pub efs_max_polls: u32,
    /// Wait between checks of the copies in the copy Region (a first copy of a large volume takes hours),
    /// and how many checks before giving up on them.
    pub copy_poll_seconds: u32,
    pub copy_max_polls: u32,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            fsx_wait_seconds: 60,
            fsx_max_wait_attempts: 30,
            fsx_poll_seconds: 30,
            fsx_max_polls: 120,
            ec2_poll_seconds: 40,
            ec2_max_polls: 45,
            ec2_max_retries: 5,
            efs_poll_seconds: 60,
            efs_max_polls: 240,
            copy_poll_seconds: 120,
            copy_max_polls: 720,
        }
    }
}

/// A resource the trigger found tagged but will not back up, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub kind: TargetKind,
    pub id: String,
    pub reason: String,
}

/// What the trigger returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerResult {
    pub execution_name: String,
    pub execution_arn: String,
    /// True when a retried trigger found the execution of this tick already started.
    pub already_started: bool,
    pub fsx_targets: usize,
    pub ec2_targets: usize,
    pub efs_targets: usize,
    /// Resources with backups of ours that are no longer targets (`inventory.orphans` lists them).
    #[serde(default)]
    pub orphans: usize,
    pub skipped: Vec<Skipped>,
    /// Where the run's targets were written.
    pub inventory: Inventory,
}
