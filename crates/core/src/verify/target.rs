//! What a verification of one target found, whatever its kind: the outcome, the backup verified, what was
//! read (EBS) and the restore test (EBS volumes, an EFS file system), each restored resource and whether it
//! is deleted.

use serde::{Deserialize, Serialize};

use super::ebs::{BadBlock, SnapshotCheck};
use crate::model::TargetKind;

/// What a verification of one target found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Every block read matched its checksum, and its restore test (if it had one) restored.
    Verified,
    /// A block did not read back, or its restore test did not restore: the backup is not to be trusted.
    Failed,
    /// No completed backup of ours to verify.
    #[default]
    NoBackup,
    /// The check could not run (an AWS error after the retries): nothing is known of the backup.
    Error,
}

/// A target's verification: which backup, what was read and restored, the totals and their cost. Every field
/// has a default: a check that could not run is read back from its child execution's error alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TargetCheck {
    pub kind: TargetKind,
    /// The instance or file system.
    pub target_id: String,
    pub outcome: Outcome,
    /// The backup verified (an instance's snapshot set, a recovery point) and when it was made; an instance's
    /// set before it, for the changed bytes.
    pub backup: Vec<String>,
    pub created: Option<i64>,
    pub previous: Vec<String>,
    pub snapshots: Vec<SnapshotCheck>,
    pub blocks_read: u64,
    pub bytes_read: u64,
    /// Bytes changed since the set before, all volumes (none when there is no set before).
    pub changed_bytes: Option<u64>,
    pub bad_blocks: Vec<BadBlock>,
    pub budget_reached: bool,
    /// At the EBS direct APIs' list prices.
    pub cost_usd: f64,
    pub duration_ms: u64,
    /// An instance's newest copy in the copy Region (COPY_REGION), read back too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<super::ebs::CopyCheck>,
    /// The restore test of the backup, when this check had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreTest>,
    /// Why the check could not run (outcome `error`): the error's name and its cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl TargetCheck {
    pub fn new(kind: TargetKind, target_id: &str) -> Self {
        Self { kind, target_id: target_id.to_string(), ..Default::default() }
    }
}

/// One resource a restore test made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RestoredResource {
    /// The backup it was made from: a snapshot id, a recovery point ARN.
    pub backup_id: String,
    /// What was made: a volume id, a file system id (empty when the restore made none).
    pub resource_id: String,
    /// AWS Backup's restore job, for what AWS Backup restores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Its last state seen: `available` (a volume, a file system) or `COMPLETED` (a restore job) when it
    /// restored.
    pub state: String,
    pub deleted: bool,
    /// The copy Region, for a restore of the newest copy there (none: the stack's own Region).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Why it did not restore: its restore refused, failed or late.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a restore test found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RestoreTest {
    /// Where EBS volumes were made (the instance's zone).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub zone: String,
    pub resources: Vec<RestoredResource>,
    /// Every backup restored, within the time.
    pub restored: bool,
    pub duration_ms: u64,
    /// Every resource it made is deleted (false: the next run's sweep deletes the rest).
    pub cleaned_up: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Still being made: the verify state machine waits `poll_seconds` and follows it (a file system takes
    /// minutes to hours, longer than a function may run), until it is made or `deadline` (epoch seconds) passes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_seconds: Option<u64>,
    /// When the restore started (epoch milliseconds): its duration counts from there across the follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_ms: Option<i64>,
    /// The verify run it belongs to (what it made is tagged, or its creation token marked, with it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The validation hook's answer (VERIFY_VALIDATION_FUNCTION), asked once what was restored was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<super::validate::Validation>,
}
