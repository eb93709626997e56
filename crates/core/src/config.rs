//! Settings from the environment, validated once at start. Every error names the variable and the value.
//! One module per function's settings (the copy and backup settings are shared), over the parsing here.

mod backup;
mod cleanup;
mod copy;
mod efs_backup;
mod report;
mod snapshot;
mod trigger;
mod verify;

pub use backup::{copy_tags, copy_tags_from_env, BackupSettings};
pub use cleanup::{CleanupConfig, RetentionConfig, DEFAULT_MAX_DELETE_PERCENT};
pub use copy::CopySettings;
pub use efs_backup::EfsBackupConfig;
pub use report::{ReportConfig, DEFAULT_STALE_AFTER_HOURS};
pub use snapshot::{SnapshotConfig, MAX_FREEZE_SECONDS};
pub use trigger::{TargetTag, TriggerConfig, DEFAULT_TAG_KEY, DEFAULT_TAG_VALUE};
pub use verify::{FsxKind, VerifyConfig, DEFAULT_MAX_GIB_READ, DEFAULT_READ_FRACTION, DEFAULT_STALE_DAYS};

use crate::error::{Error, Result};

/// Where settings come from: the process environment in Lambda, a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Env;

impl Source for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<F: Fn(&str) -> Option<String>> Source for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// A function's settings as loaded at start: a bad one is logged once now, and every invocation then
/// fails with it, before its event is read or AWS is called.
pub fn logged_at_start<T>(loaded: Result<T>) -> Result<T> {
    if let Err(e) = &loaded {
        tracing::error!(error = %e, "invalid setting: every invocation will fail until it is fixed");
    }
    loaded
}

/// The DRY_RUN setting, which every function that creates or deletes reads itself: a stack deployed with
/// DryRun=true never creates or deletes, whoever starts the workflow or invokes a function, and whatever
/// the event says. An event can ask for a dry run, never undo the setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DryRunSetting {
    pub dry_run: bool,
}

impl DryRunSetting {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        Ok(Self { dry_run: flag(src, "DRY_RUN")? })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }

    /// Whether an invocation whose event asked `asked` is a dry run.
    pub fn applied_to(self, asked: bool) -> bool {
        asked || self.dry_run
    }
}

/// Concurrency bounds per kind, each chosen below the service's own limit on work in flight:
/// EC2_CONCURRENCY at most 100, SSM Automation's concurrent executions per account (more wait in its queue,
/// and its queue is bounded); FSX_CONCURRENCY and EFS_CONCURRENCY at most 100, so that the describe calls
/// of their polls stay within the services' API rates.
pub const MAX_CONCURRENCY: u32 = 100;

/// SNAPSHOT_MODE: `ssm` (the default) or `direct`. Read by snapshot-ebs, and by the trigger, which skips
/// stopped instances in the ssm mode.
fn snapshot_mode(src: &impl Source) -> Result<crate::model::SnapshotMode> {
    use crate::model::SnapshotMode;
    match src.get("SNAPSHOT_MODE").as_deref() {
        None | Some("ssm") => Ok(SnapshotMode::Ssm),
        Some("direct") => Ok(SnapshotMode::Direct),
        Some(other) => Err(invalid("SNAPSHOT_MODE", other, "must be ssm or direct")),
    }
}

/// An S3 bucket name, required: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending
/// with a letter or digit.
fn bucket_name(src: &impl Source, name: &'static str) -> Result<String> {
    let value = src.get(name).unwrap_or_default();
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok = (3..=63).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(value.chars().next())
        && edge(value.chars().last());
    if ok {
        Ok(value)
    } else {
        Err(invalid(name, &value, "is required: an S3 bucket name (3 to 63 of a-z, 0-9, '.', '-')"))
    }
}

fn non_empty_or(src: &impl Source, name: &'static str, default: &str, max_len: usize) -> Result<String> {
    match src.get(name) {
        None => Ok(default.to_string()),
        Some(v) if v.trim().is_empty() => Err(invalid(name, &v, "must not be empty")),
        Some(v) if v.len() > max_len => Err(invalid(name, &v, &format!("longer than {max_len} characters"))),
        Some(v) => Ok(v),
    }
}

/// `true` or `false`; false when unset.
fn flag(src: &impl Source, name: &'static str) -> Result<bool> {
    match src.get(name).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(invalid(name, other, "must be true or false")),
    }
}

fn required_number(src: &impl Source, name: &'static str, min: u32, max: u32) -> Result<u32> {
    match src.get(name) {
        None => Err(invalid(name, "", "is required: a whole number of days")),
        Some(v) => parse_number(name, &v, min, max),
    }
}

fn optional_number(src: &impl Source, name: &'static str, default: u32, min: u32, max: u32) -> Result<u32> {
    match src.get(name) {
        None => Ok(default),
        Some(v) => parse_number(name, &v, min, max),
    }
}

/// A number setting that may be unset (absent or blank): None, else the number, from `min` to `max`.
fn number_if_set(src: &impl Source, name: &'static str, min: u32, max: u32) -> Result<Option<u32>> {
    match src.get(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => parse_number(name, &v, min, max).map(Some),
    }
}

fn parse_number(name: &'static str, value: &str, min: u32, max: u32) -> Result<u32> {
    match value.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid(name, value, &format!("must be a whole number from {min} to {max}"))),
    }
}

fn invalid(name: &'static str, value: &str, reason: &str) -> Error {
    Error::InvalidSetting { name, value: value.to_string(), reason: reason.to_string() }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Source;
    use std::collections::HashMap;

    pub fn source(pairs: &[(&str, &str)]) -> impl Source {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name: &str| map.get(name).cloned()
    }

    pub const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:snapmgmt";

    pub const BUCKET: (&str, &str) = ("INVENTORY_BUCKET", "snapmgmt-inventory-123456789012");
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn the_dry_run_setting_overrides_every_event() {
        let preview = DryRunSetting::from_source(&source(&[("DRY_RUN", "true")])).unwrap();
        assert!(preview.applied_to(false) && preview.applied_to(true));
        let live = DryRunSetting::from_source(&source(&[])).unwrap();
        assert!(!live.applied_to(false) && live.applied_to(true));
        let bad = DryRunSetting::from_source(&source(&[("DRY_RUN", "1")]));
        assert!(matches!(bad, Err(Error::InvalidSetting { name: "DRY_RUN", .. })));
    }
}
