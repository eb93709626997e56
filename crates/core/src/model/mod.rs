//! The payloads that pass between the states of the workflow: the contract between states, one module
//! per function's event and result. JSON field names are camelCase; every event is parsed with
//! [`parse_event`], whose errors name the field.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub mod backup_fsx;
pub mod check;
pub mod cleanup;
pub mod cleanup_report;
pub mod copy;
pub mod efs_backup;
pub mod kind;
pub mod per_kind;
pub mod report;
pub mod run;
pub mod snapshot_ebs;
pub mod trigger;
pub mod verify;

pub use backup_fsx::*;
pub use check::*;
pub use cleanup::*;
pub use cleanup_report::*;
pub use copy::*;
pub use efs_backup::*;
pub use kind::{target_fields, KindInfo};
pub use per_kind::PerKind;
pub use report::*;
pub use run::*;
pub use snapshot_ebs::*;
pub use trigger::*;
pub use verify::*;

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

/// An FSx target: a file system (`fs-`) or an ONTAP volume (`fsvol-`), which FSx backs up on its own.
pub fn check_fsx_id(field: &str, value: &str) -> Result<()> {
    let prefix = if value.starts_with("fsvol-") { "fsvol-" } else { "fs-" };
    check_id(field, value, prefix)
}

/// The run a backup belongs to: the workflow's execution name (the trigger names it after the tick), or
/// the Lambda request id of a direct invoke. Checked where it enters, once: it becomes a tag value, an
/// EC2 filter value (where `*` and `?` are wildcards) and part of S3 keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

impl RunId {
    /// 1 to 80 letters, digits, '-' and '_': what Step Functions allows in an execution name, and a
    /// Lambda request id (a UUID) is.
    pub fn new(field: &str, value: &str) -> Result<Self> {
        let ok = (1..=80).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(value.to_string()))
        } else {
            Err(Error::invalid_event(field, format!("{value:?} is not an execution name")))
        }
    }

    /// The event's run, or this invocation's own when the event names none (a direct invoke).
    pub fn or_request(run_id: Option<&RunId>, request_id: &str) -> Result<Self> {
        match run_id {
            Some(run) => Ok(run.clone()),
            None => Self::new("(request id)", request_id),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The idempotency token of this run's backup of `target` (FSx ClientRequestToken, AWS Backup
    /// IdempotencyToken): a retried call gets the same backup back, the next run a new one. 41 characters
    /// of [a-z0-9-], inside both services' limits.
    pub fn token(&self, target: &str) -> String {
        format!("snapmgmt-{}", self.digest(&[target]))
    }

    /// The same as a UUID, as SSM's ClientToken must be; one per attempt, so a retried run starts anew.
    pub fn uuid(&self, target: &str, attempt: u32) -> String {
        let hex = self.digest(&[target, &attempt.to_string()]);
        format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
    }

    /// 32 hex digits of SHA-256 over the run and `parts`.
    fn digest(&self, parts: &[&str]) -> String {
        let digest = Sha256::digest([&[self.as_str()], parts].concat().join("/").as_bytes());
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

impl TryFrom<String> for RunId {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        Self::new("runId", &value)
    }
}

impl From<RunId> for String {
    fn from(run: RunId) -> Self {
        run.0
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits an event of several kinds into its `kind` and the rest, which is parsed as that kind.
pub(crate) fn split_kind(event: serde_json::Value) -> Result<(String, serde_json::Value)> {
    split_on("kind", event)
}

/// Splits an event into the value of its `key` field and the rest.
pub(crate) fn split_on(key: &str, event: serde_json::Value) -> Result<(String, serde_json::Value)> {
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
pub(crate) fn check_snapshot_set(field: &str, ids: Option<&[String]>) -> Result<()> {
    let ids = ids.unwrap_or_default();
    if ids.len() > MAX_SET_SIZE {
        return Err(Error::invalid_event(field, format!("{} ids; one set has at most {MAX_SET_SIZE}", ids.len())));
    }
    ids.iter().try_for_each(|id| check_id(field, id, "snap-"))
}

/// A percentage from 1 to 100, when given.
pub(crate) fn check_percent(field: &str, value: Option<u32>) -> Result<()> {
    match value {
        Some(p) if !(1..=100).contains(&p) => {
            Err(Error::invalid_event(field, format!("{p} is not a percentage from 1 to 100")))
        }
        _ => Ok(()),
    }
}

pub(crate) fn unknown_kind(kind: &str, known: &[&str]) -> Error {
    unknown_value("kind", kind, known)
}

pub(crate) fn unknown_value(key: &str, value: &str, known: &[&str]) -> Error {
    Error::invalid_event(key, format!("unknown {key} {value:?}, expected one of {known:?}"))
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
    fn tokens_are_stable_per_run_and_target_and_fit_every_service() {
        let run = RunId::new("runId", "snapmgmt-20261125T160000Z").unwrap();
        let token = run.token("fs-0123456789abcdef0");
        assert_eq!(token, run.token("fs-0123456789abcdef0"));
        assert_ne!(token, run.token("fs-0123456789abcdef1"));
        assert!(token.len() <= 63 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        let uuid = run.uuid("i-0123456789abcdef0", 0);
        let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12], "{uuid}");
        assert_eq!(uuid, run.uuid("i-0123456789abcdef0", 0));
        assert_ne!(uuid, run.uuid("i-0123456789abcdef0", 1));
    }

    #[test]
    fn a_run_id_with_wildcards_or_an_arn_is_refused_naming_the_field() {
        for bad in ["x:*", "snap?", "", "arn:aws:states:us-east-1:123456789012:execution:sm:run"] {
            let err = parse_event::<BackupFsxEvent>(json!({"fileSystemId": "fs-01234567", "runId": bad})).unwrap_err();
            assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "runId"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_trigger_event_with_a_field_it_does_not_know_is_refused_naming_it() {
        // `dry_run` is not `dryRun`: read as nothing, it would start a real run.
        let err = parse_event::<TriggerEvent>(json!({"dry_run": true})).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "dry_run"), "{err}");
    }

    #[test]
    fn timing_defaults_are_the_original_samples() {
        let t: Timing = serde_json::from_value(json!({})).unwrap();
        assert_eq!((t.fsx_wait_seconds, t.fsx_max_wait_attempts), (60, 30));
    }

    #[test]
    fn the_earlier_names_of_ec2_and_of_the_fsx_poll_are_still_read() {
        // Deployed workflows and saved events send them until the stack is updated (CHANGELOG.md).
        let instance = "i-0123456789abcdef0";
        let old = CleanupEvent::parse(json!({"kind": "ebs", "instanceId": instance})).unwrap();
        assert_eq!(old, CleanupEvent::parse(json!({"kind": "ec2", "instanceId": instance})).unwrap());
        assert_eq!(old.kind, TargetKind::Ec2);
        let check = json!({"instanceId": instance, "automationExecutionId": "a"});
        let with_kind = |kind: &str| {
            let mut event = check.clone();
            event["kind"] = json!(kind);
            CheckEvent::parse(event).unwrap()
        };
        assert_eq!(with_kind("ebsSnapshot"), with_kind("ec2Snapshot"));
        let t: Timing = serde_json::from_value(json!({"backupPollSeconds": 5, "backupMaxPolls": 6,
            "ebsPollSeconds": 7, "ebsMaxPolls": 8, "ebsMaxRetries": 9}))
        .unwrap();
        let read = (t.fsx_poll_seconds, t.fsx_max_polls, t.ec2_poll_seconds, t.ec2_max_polls, t.ec2_max_retries);
        assert_eq!(read, (5, 6, 7, 8, 9));
        // What the trigger hands the workflow is written in today's names only.
        let written = serde_json::to_value(t).unwrap();
        assert_eq!(written["fsxPollSeconds"], 5);
        assert!(written.get("ebsMaxRetries").is_none());
    }
}
