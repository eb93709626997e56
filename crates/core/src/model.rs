//! The payloads that pass between the states of the workflow: the contract between states.
//! JSON field names are camelCase; every event is parsed with [`parse_event`], whose errors name the field.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub mod run;
pub use run::*;

/// Tag key and value that mark a backup or snapshot as made by snapmgmt.
pub const MANAGED_BY_KEY: &str = "ManagedBy";
pub const MANAGED_BY_VALUE: &str = "snapmgmt";
/// Tag naming the resource a backup belongs to.
pub const TARGET_ID_KEY: &str = "snapmgmt:TargetId";
/// Tag naming the run (Step Functions execution or Lambda request) that made a backup.
pub const RUN_ID_KEY: &str = "snapmgmt:RunId";

/// Parses an event into `T`; a missing field, a wrong type or a bad id names the field.
pub fn parse_event<T: DeserializeOwned + Validate>(event: serde_json::Value) -> Result<T> {
    // serde would also read a struct from an array of its fields in order: an event is an object.
    if !event.is_object() {
        return Err(Error::invalid_event("(event)", format!("expected a JSON object, got {event}")));
    }
    let parsed: T = serde_path_to_error::deserialize(event).map_err(|e| {
        let reason = e.inner().to_string();
        Error::invalid_event(field_of(&e.path().to_string(), &reason), reason)
    })?;
    parsed.validate()?;
    Ok(parsed)
}

/// The field a serde error is about: its path, completed by the name of a missing field (whose path
/// is its parent's).
fn field_of(path: &str, reason: &str) -> String {
    let named = reason.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    let parent = if path == "." { None } else { Some(path) };
    match (parent, named) {
        (Some(p), Some(n)) => format!("{p}.{n}"),
        (None, Some(n)) => n.to_string(),
        (Some(p), None) => p.to_string(),
        (None, None) => "(event)".to_string(),
    }
}

/// Checks on an event that its types alone cannot express.
pub trait Validate {
    fn validate(&self) -> Result<()>;
}

/// Checks that `value` looks like an AWS id such as `fs-0123456789abcdef0`: the prefix, then 8 to 21 hex digits.
pub fn check_id(field: &str, value: &str, prefix: &str) -> Result<()> {
    let hex = value.strip_prefix(prefix).unwrap_or("");
    let ok = (8..=21).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_event(field, format!("{value:?} is not an id of the form {prefix}<hex digits>")))
    }
}

// ---------------------------------------------------------------- trigger

/// What the trigger is invoked with: an EventBridge scheduled event, or anything from a manual test.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    /// Wait between checks that the new FSx backup is AVAILABLE.
    pub backup_poll_seconds: u32,
    pub backup_max_polls: u32,
    /// Wait between checks of an EBS snapshot run (the original sample: 40 s), how many checks before
    /// giving up on one run, and how many failed runs are retried (the original sample: 5).
    pub ebs_poll_seconds: u32,
    pub ebs_max_polls: u32,
    pub ebs_max_retries: u32,
    /// Wait between checks of an AWS Backup job for EFS.
    pub efs_poll_seconds: u32,
    pub efs_max_polls: u32,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            fsx_wait_seconds: 60,
            fsx_max_wait_attempts: 30,
            backup_poll_seconds: 30,
            backup_max_polls: 120,
            ebs_poll_seconds: 40,
            ebs_max_polls: 45,
            ebs_max_retries: 5,
            efs_poll_seconds: 60,
            efs_max_polls: 240,
        }
    }
}

/// A resource the trigger found tagged but will not back up, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
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
    pub skipped: Vec<Skipped>,
    /// Where the run's targets were written.
    pub inventory: Inventory,
}

// ---------------------------------------------------------------- check-in-progress

/// What check-in-progress is asked; the event's `kind` says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckEvent {
    /// `fsx`: is a backup of this FSx file system CREATING, PENDING or TRANSFERRING?
    Fsx(FsxCheck),
    /// `fsxBackup`: has this FSx backup become AVAILABLE?
    FsxBackup(FsxBackupCheck),
    /// `ebsSnapshot`: has this instance's snapshot run (SSM automation, or direct) completed?
    EbsSnapshot(EbsSnapshotCheck),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EbsSnapshotCheck {
    pub instance_id: String,
    /// The automation of the ssm mode; None in the direct mode.
    #[serde(default)]
    pub automation_execution_id: Option<String>,
    /// The snapshots of the direct mode (the ssm mode reads them from the automation's outputs).
    #[serde(default)]
    pub snapshot_ids: Option<Vec<String>>,
    #[serde(default)]
    pub attempt: u32,
    /// The workflow's execution, for the logs.
    #[serde(default)]
    pub execution_id: Option<String>,
}

impl Validate for EbsSnapshotCheck {
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
    pub file_system_id: String,
    #[serde(default)]
    pub attempt: u32,
    /// The workflow's execution, for the logs.
    #[serde(default)]
    pub execution_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FsxBackupCheck {
    pub backup_id: String,
    #[serde(default)]
    pub attempt: u32,
    /// The workflow's execution, for the logs.
    #[serde(default)]
    pub execution_id: Option<String>,
}

impl CheckEvent {
    pub fn parse(event: serde_json::Value) -> Result<Self> {
        match split_kind(event)? {
            (kind, rest) if kind == "fsx" => Ok(Self::Fsx(parse_event(rest)?)),
            (kind, rest) if kind == "fsxBackup" => Ok(Self::FsxBackup(parse_event(rest)?)),
            (kind, rest) if kind == "ebsSnapshot" => Ok(Self::EbsSnapshot(parse_event(rest)?)),
            (kind, _) => Err(unknown_kind(&kind, &["fsx", "fsxBackup", "ebsSnapshot"])),
        }
    }
}

impl Validate for FsxCheck {
    fn validate(&self) -> Result<()> {
        check_id("fileSystemId", &self.file_system_id, "fs-")
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
}

// ---------------------------------------------------------------- snapshot-ebs

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotEbsEvent {
    pub instance_id: String,
    /// The Step Functions execution (`$$.Execution.Id`); idempotency and the RunId tag derive from it.
    #[serde(default)]
    pub execution_id: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// How many runs of this execution failed before this one (the workflow's retry count).
    #[serde(default)]
    pub attempt: u32,
}

impl Validate for SnapshotEbsEvent {
    fn validate(&self) -> Result<()> {
        check_id("instanceId", &self.instance_id, "i-")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SnapshotMode {
    /// Through the SSM Automation document: scripts, I/O freeze, snapshots, thaw.
    Ssm,
    /// CreateSnapshots called directly: crash-consistent, no scripts.
    Direct,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotEbsResult {
    pub instance_id: String,
    pub mode: SnapshotMode,
    /// The automation started (ssm mode); None in the direct mode and in a dry run.
    pub automation_execution_id: Option<String>,
    /// The snapshots made (direct mode); the ssm mode's come from the automation.
    pub snapshot_ids: Vec<String>,
    /// True when a retried invocation found this attempt's run already started and reused it.
    pub reused: bool,
    /// Snapshots of this execution's earlier, failed attempts, deleted so that one set remains.
    pub replaced: Vec<String>,
    pub dry_run: bool,
}

// ---------------------------------------------------------------- backup-fsx

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupFsxEvent {
    pub file_system_id: String,
    /// The Step Functions execution (`$$.Execution.Id`); the backup's idempotency token derives from it.
    #[serde(default)]
    pub execution_id: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
}

impl Validate for BackupFsxEvent {
    fn validate(&self) -> Result<()> {
        check_id("fileSystemId", &self.file_system_id, "fs-")?;
        match &self.execution_id {
            Some(id) if id.trim().is_empty() || id.len() > 2048 => {
                Err(Error::invalid_event("executionId", "must be a non-empty execution ARN"))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupFsxResult {
    pub file_system_id: String,
    /// The new backup; None in a dry run.
    pub backup_id: Option<String>,
    pub lifecycle: Option<String>,
    pub dry_run: bool,
}

// ---------------------------------------------------------------- efs-backup

/// What efs-backup is asked; the event's `action` says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EfsBackupEvent {
    /// `start`: start an AWS Backup job of one EFS file system.
    Start(EfsBackupStart),
    /// `status`: how is this backup job doing?
    Status(EfsBackupStatus),
}

impl EfsBackupEvent {
    pub fn parse(event: serde_json::Value) -> Result<Self> {
        match split_on("action", event)? {
            (action, rest) if action == "start" => Ok(Self::Start(parse_event(rest)?)),
            (action, rest) if action == "status" => Ok(Self::Status(parse_event(rest)?)),
            (action, _) => Err(unknown_value("action", &action, &["start", "status"])),
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
    /// The Step Functions execution; the job's idempotency token derives from it.
    #[serde(default)]
    pub execution_id: Option<String>,
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
    /// The workflow's execution, for the logs.
    #[serde(default)]
    pub execution_id: Option<String>,
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

// ---------------------------------------------------------------- cleanup

/// What cleanup is asked; the event's `kind` says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CleanupEvent {
    /// `fsx`: delete the expired backups of one FSx file system, once this run's backup is AVAILABLE.
    Fsx(FsxCleanup),
    /// `ebs`: delete the expired snapshot sets of one instance, once this run's snapshots completed.
    Ebs(EbsCleanup),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EbsCleanup {
    pub instance_id: String,
    /// This run's snapshots: required unless `dry_run`.
    #[serde(default)]
    pub new_snapshot_ids: Option<Vec<String>>,
    #[serde(default)]
    pub dry_run: bool,
    /// The delete guard's limit for this run (1 to 100 percent); the MAX_DELETE_PERCENT setting when absent.
    #[serde(default)]
    pub max_delete_percent: Option<u32>,
    /// The workflow's execution, for the logs.
    #[serde(default)]
    pub execution_id: Option<String>,
}

impl Validate for EbsCleanup {
    fn validate(&self) -> Result<()> {
        check_id("instanceId", &self.instance_id, "i-")?;
        check_snapshot_set("newSnapshotIds", self.new_snapshot_ids.as_deref())?;
        check_percent("maxDeletePercent", self.max_delete_percent)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FsxCleanup {
    pub file_system_id: String,
    /// This run's backup: required unless `dry_run`.
    #[serde(default)]
    pub new_backup_id: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// The delete guard's limit for this run (1 to 100 percent); the MAX_DELETE_PERCENT setting when absent.
    #[serde(default)]
    pub max_delete_percent: Option<u32>,
    /// The workflow's execution, for the logs.
    #[serde(default)]
    pub execution_id: Option<String>,
}

impl CleanupEvent {
    pub fn parse(event: serde_json::Value) -> Result<Self> {
        match split_kind(event)? {
            (kind, rest) if kind == "fsx" => Ok(Self::Fsx(parse_event(rest)?)),
            (kind, rest) if kind == "ebs" => Ok(Self::Ebs(parse_event(rest)?)),
            (kind, _) => Err(unknown_kind(&kind, &["fsx", "ebs"])),
        }
    }
}

impl Validate for FsxCleanup {
    fn validate(&self) -> Result<()> {
        check_id("fileSystemId", &self.file_system_id, "fs-")?;
        if let Some(id) = &self.new_backup_id {
            check_id("newBackupId", id, "backup-")?;
        }
        check_percent("maxDeletePercent", self.max_delete_percent)
    }
}

/// Splits an event of several kinds into its `kind` and the rest, which is parsed as that kind.
fn split_kind(event: serde_json::Value) -> Result<(String, serde_json::Value)> {
    split_on("kind", event)
}

/// Splits an event into the value of its `key` field and the rest.
fn split_on(key: &str, event: serde_json::Value) -> Result<(String, serde_json::Value)> {
    let serde_json::Value::Object(mut fields) = event else {
        return Err(Error::invalid_event("(event)", "expected a JSON object"));
    };
    match fields.remove(key) {
        Some(serde_json::Value::String(value)) => Ok((value, serde_json::Value::Object(fields))),
        Some(other) => Err(Error::invalid_event(key, format!("expected a string, got {other}"))),
        None => Err(Error::invalid_event(key, format!("missing field `{key}`"))),
    }
}

/// The most snapshots one set can have: one per EBS volume an instance can attach.
pub const MAX_SET_SIZE: usize = 128;

/// The snapshot ids of one set, when given: well-formed, and no more than an instance has volumes.
fn check_snapshot_set(field: &str, ids: Option<&[String]>) -> Result<()> {
    let ids = ids.unwrap_or_default();
    if ids.len() > MAX_SET_SIZE {
        return Err(Error::invalid_event(field, format!("{} ids; one set has at most {MAX_SET_SIZE}", ids.len())));
    }
    ids.iter().try_for_each(|id| check_id(field, id, "snap-"))
}

/// A percentage from 1 to 100, when given.
fn check_percent(field: &str, value: Option<u32>) -> Result<()> {
    match value {
        Some(p) if !(1..=100).contains(&p) => {
            Err(Error::invalid_event(field, format!("{p} is not a percentage from 1 to 100")))
        }
        _ => Ok(()),
    }
}

fn unknown_kind(kind: &str, known: &[&str]) -> Error {
    unknown_value("kind", kind, known)
}

fn unknown_value(key: &str, value: &str, known: &[&str]) -> Error {
    Error::invalid_event(key, format!("unknown {key} {value:?}, expected one of {known:?}"))
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
    pub kept_by_reason: std::collections::BTreeMap<crate::retention::KeepReason, usize>,
}

impl CleanupReport {
    /// The report in its final form: ids in order, whatever order concurrent deletes finished in, and counted.
    pub fn finished(mut self) -> Self {
        self.deleted.sort();
        self.kept.sort_by(|a, b| a.id.cmp(&b.id));
        self.failed.sort_by(|a, b| a.id.cmp(&b.id));
        let mut kept_by_reason = std::collections::BTreeMap::new();
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
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kept {
    pub id: String,
    pub reason: crate::retention::KeepReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedDelete {
    pub id: String,
    pub error: String,
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_event_is_an_object() {
        for event in [json!([]), json!(["fs-0123456789abcdef0"]), json!("fsx"), json!(null)] {
            let err = parse_event::<TriggerEvent>(event.clone()).unwrap_err();
            assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "(event)"), "{event}: {err}");
        }
    }

    #[test]
    fn missing_field_is_named() {
        let err = parse_event::<BackupFsxEvent>(json!({})).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "fileSystemId"), "{err}");
    }

    #[test]
    fn wrong_type_is_named_by_path() {
        let err = parse_event::<BackupFsxEvent>(json!({"fileSystemId": 5})).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "fileSystemId"), "{err}");
    }

    #[test]
    fn malformed_id_is_named() {
        let err = CheckEvent::parse(json!({"kind": "fsx", "fileSystemId": "i-0123456789abcdef0"})).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "fileSystemId"), "{err}");
    }

    #[test]
    fn unknown_kind_is_rejected() {
        let err = CleanupEvent::parse(json!({"kind": "s3", "fileSystemId": "fs-01234567"})).unwrap_err();
        assert!(err.to_string().contains("s3"), "{err}");
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "kind"), "{err}");
    }

    #[test]
    fn wrong_type_inside_a_kinded_event_is_named() {
        let err =
            CheckEvent::parse(json!({"kind": "fsx", "fileSystemId": "fs-01234567", "attempt": "two"})).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "attempt"), "{err}");
        let err = CheckEvent::parse(json!({"fileSystemId": "fs-01234567"})).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "kind"), "{err}");
    }

    #[test]
    fn unknown_field_is_rejected_not_ignored() {
        let err = parse_event::<BackupFsxEvent>(json!({"fileSystemId": "fs-01234567", "dryrun": true})).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "dryrun"), "{err}");
    }

    #[test]
    fn non_object_event_is_rejected() {
        assert!(CheckEvent::parse(json!("fs-01234567")).is_err());
        assert!(parse_event::<TriggerEvent>(json!([1, 2])).is_err());
    }

    #[test]
    fn trigger_accepts_a_scheduled_event_and_an_empty_one() {
        let scheduled = json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.events",
            "time": "2026-11-25T16:00:00Z", "resources": [], "detail": {}});
        assert_eq!(parse_event::<TriggerEvent>(scheduled).unwrap().time.as_deref(), Some("2026-11-25T16:00:00Z"));
        assert_eq!(parse_event::<TriggerEvent>(json!({})).unwrap().time, None);
        let err = parse_event::<TriggerEvent>(json!({"time": "tonight"})).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "time"), "{err}");
    }

    #[test]
    fn timing_defaults_are_the_original_samples() {
        let t: Timing = serde_json::from_value(json!({})).unwrap();
        assert_eq!((t.fsx_wait_seconds, t.fsx_max_wait_attempts), (60, 30));
    }
}
