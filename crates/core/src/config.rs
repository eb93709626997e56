//! Settings from the environment, validated once at start. Every error names the variable and the value.

use crate::error::{Error, Result};
use crate::tiers::{Tiers, Written};

pub const DEFAULT_TAG_KEY: &str = "ResourceType";
pub const DEFAULT_TAG_VALUE: &str = "SnapshotMgmtTarget";
/// The delete guard's default: a run may delete at most half of a target's own backups.
pub const DEFAULT_MAX_DELETE_PERCENT: u32 = 50;

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

/// The tag that marks a resource as one snapmgmt backs up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetTag {
    pub key: String,
    pub value: String,
}

/// Settings of the trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerConfig {
    pub target_tag: TargetTag,
    pub state_machine_arn: String,
    /// The stack's bucket: the run's inventory is written there, and the workflow's results and report.
    pub inventory_bucket: String,
    /// Targets of each kind backed up at once (each Distributed Map's MaxConcurrency).
    pub concurrency: crate::model::Concurrency,
    /// Every run a dry run (DRY_RUN=true): a deployment that only reports what it would do.
    pub dry_run: bool,
    /// The stack's snapshot mode (an instance's tag may choose its own): stopped instances are targets in
    /// the direct mode only.
    pub snapshot_mode: crate::model::SnapshotMode,
    /// BACKUP_VAULT_NAME, the stack's vault: EFS recovery points of resources that are no longer targets
    /// are looked for there (none when unset).
    pub backup_vault_name: Option<String>,
    /// ONTAP_VOLUMES_OF_TAGGED_FILE_SYSTEMS: a tagged ONTAP file system makes its read-write volumes
    /// targets (off: only tagged volumes are, and the file system is skipped saying so).
    pub ontap_volumes_of_tagged_file_systems: bool,
    /// COPY_REGION: where each run copies the new backups; None: nowhere.
    pub copy_region: Option<String>,
    /// COPY_BACKUP_VAULT_NAME: the vault of the EFS copies there, where orphans' copies are looked for.
    pub copy_backup_vault_name: Option<String>,
}

/// Copies to a second Region (COPY_REGION, empty: none): where, with which key (COPY_KMS_KEY_ID, empty: the
/// destination's default EBS and FSx keys), into which vault there for EFS (COPY_BACKUP_VAULT_NAME), and
/// kept how long there (COPY_RETENTION in the compact form, empty: the source's policy).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopySettings {
    pub region: Option<String>,
    pub kms_key_id: Option<String>,
    pub retention: Option<Written>,
    /// The AWS Backup vault in the copy Region that EFS recovery points are copied into.
    pub backup_vault_name: Option<String>,
}

impl CopySettings {
    /// The copy Region, for a function asked to copy: without one, no copy can be made.
    pub fn destination(&self) -> Result<&str> {
        self.region.as_deref().ok_or_else(|| Error::InvalidSetting {
            name: "COPY_REGION",
            value: String::new(),
            reason: "is not set: there is no Region to copy to".into(),
        })
    }

    /// The vault in the copy Region that EFS recovery points are copied into.
    pub fn destination_vault(&self) -> Result<&str> {
        self.backup_vault_name.as_deref().ok_or_else(|| Error::InvalidSetting {
            name: "COPY_BACKUP_VAULT_NAME",
            value: String::new(),
            reason: "is required to copy EFS recovery points: a vault in the copy Region".into(),
        })
    }

    pub fn from_source(src: &impl Source) -> Result<Self> {
        let set = |name: &str| src.get(name).filter(|v| !v.trim().is_empty());
        let region = match set("COPY_REGION") {
            None => None,
            Some(region) => {
                let parts: Vec<&str> = region.split('-').collect();
                let well_formed = parts.len() >= 3
                    && parts
                        .iter()
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
                    && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
                if !well_formed {
                    return Err(invalid("COPY_REGION", &region, "is not a Region name, such as us-west-2"));
                }
                if src.get("AWS_REGION").as_deref() == Some(region.as_str()) {
                    return Err(invalid(
                        "COPY_REGION",
                        &region,
                        "is this stack's own Region: a copy must survive its loss",
                    ));
                }
                Some(region)
            }
        };
        let retention = match set("COPY_RETENTION") {
            None => None,
            Some(text) => Some(Written::parse(&text).map_err(|reason| invalid("COPY_RETENTION", &text, &reason))?),
        };
        let backup_vault_name = set("COPY_BACKUP_VAULT_NAME");
        if let Some(name) = &backup_vault_name {
            // AWS Backup's own rule for vault names.
            let valid = (2..=50).contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err(invalid(
                    "COPY_BACKUP_VAULT_NAME",
                    name,
                    "is not a vault name: 2 to 50 of a-z, A-Z, 0-9, - and _",
                ));
            }
        }
        Ok(Self { region, kms_key_id: set("COPY_KMS_KEY_ID"), retention, backup_vault_name })
    }
}

/// Settings of the functions that take backups: DRY_RUN, and COPY_TAGS, the keys of a resource's tags
/// copied onto its backups (unset: [`crate::tags::DEFAULT_COPY_TAGS`]; empty: none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BackupSettings {
    pub dry_run: DryRunSetting,
    pub copy_tags: crate::tags::CopyTags,
}

impl BackupSettings {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        Ok(Self { dry_run: DryRunSetting::from_source(src)?, copy_tags: copy_tags(src)? })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }
}

/// COPY_TAGS alone: check-in-progress names and tags a completed EBS set with it.
pub fn copy_tags(src: &impl Source) -> Result<crate::tags::CopyTags> {
    let text = src.get("COPY_TAGS").unwrap_or_else(|| crate::tags::DEFAULT_COPY_TAGS.to_string());
    crate::tags::CopyTags::parse(&text).map_err(|reason| invalid("COPY_TAGS", &text, &reason))
}

/// COPY_TAGS from the environment.
pub fn copy_tags_from_env() -> Result<crate::tags::CopyTags> {
    copy_tags(&Env)
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

/// Settings of the report function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportConfig {
    /// The stack's bucket, the only one the report reads results from and writes the report to.
    pub inventory_bucket: String,
    /// A target with no completed backup for longer than this is named in the report (and alarms): two
    /// schedule periods and a margin.
    pub stale_after_hours: u32,
}

/// STALE_AFTER_HOURS when unset: two nightly periods and a margin.
pub const DEFAULT_STALE_AFTER_HOURS: u32 = 50;

impl ReportConfig {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        Ok(Self {
            inventory_bucket: bucket_name(src, "INVENTORY_BUCKET")?,
            stale_after_hours: optional_number(src, "STALE_AFTER_HOURS", DEFAULT_STALE_AFTER_HOURS, 1, 8_760)?,
        })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }
}

/// Concurrency bounds per kind, each chosen below the service's own limit on work in flight:
/// EC2_CONCURRENCY at most 100, SSM Automation's concurrent executions per account (more wait in its queue,
/// and its queue is bounded); FSX_CONCURRENCY and EFS_CONCURRENCY at most 100, so that the describe calls
/// of their polls stay within the services' API rates.
pub const MAX_CONCURRENCY: u32 = 100;

/// Settings of the cleanup: how long backups are kept, and how many are always kept.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionConfig {
    pub retention_days: u32,
    pub min_keep: u32,
    /// The delete guard: a cleanup that would delete more than this share (percent) of a target's own
    /// backups deletes none and fails that target.
    pub max_delete_percent: u32,
    /// RETENTION_TIERS: daily, weekly, monthly and yearly tiers kept besides the age (none by default).
    pub tiers: Tiers,
    /// RETENTION_TIME_ZONE: the zone the tiers' calendar periods are in (UTC by default).
    pub time_zone: jiff::tz::TimeZone,
}

impl Default for RetentionConfig {
    /// The template's defaults: 14 days, the newest kept, the guard at 50%, no tiers, UTC.
    fn default() -> Self {
        Self {
            retention_days: 14,
            min_keep: 1,
            max_delete_percent: DEFAULT_MAX_DELETE_PERCENT,
            tiers: Tiers::default(),
            time_zone: jiff::tz::TimeZone::UTC,
        }
    }
}

/// Settings of the cleanup: the rule, dry run, and the vault whose EFS recovery points it may delete.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanupConfig {
    pub retention: RetentionConfig,
    pub dry_run: DryRunSetting,
    /// BACKUP_VAULT_NAME: needed only for EFS targets, whose cleanup fails alone without it.
    pub backup_vault_name: Option<String>,
    /// DELETE_ORPHANS: whether the backups of resources that are no longer targets are deleted (after
    /// their own retention, keeping the newest, under the guard) or only reported. Off by default.
    pub delete_orphans: bool,
    /// ADOPT_ORIGINAL_SAMPLE: the original sample's backups of a target are judged as ours. Off by default.
    pub adopt_original_sample: bool,
    /// Where copies are, and the policy they are kept under there.
    pub copy: CopySettings,
    /// EC2_API_SHARE (percent, default 50) of the account's EC2 request budget the stack's deletes may use,
    /// divided among EC2_CONCURRENCY (default 50) cleanups at once (crate::pace); 0: no pace of its own (an
    /// account whose limits AWS raised), the deletes only back off when EC2 throttles them.
    pub ec2_api_share: u32,
    pub ec2_concurrency: u32,
}

impl CleanupConfig {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        Ok(Self {
            retention: RetentionConfig::from_source(src)?,
            dry_run: DryRunSetting::from_source(src)?,
            backup_vault_name: src.get("BACKUP_VAULT_NAME").filter(|v| !v.trim().is_empty()),
            delete_orphans: flag(src, "DELETE_ORPHANS")?,
            adopt_original_sample: flag(src, "ADOPT_ORIGINAL_SAMPLE")?,
            copy: CopySettings::from_source(src)?,
            ec2_api_share: optional_number(src, "EC2_API_SHARE", 50, 0, 100)?,
            ec2_concurrency: optional_number(src, "EC2_CONCURRENCY", 50, 1, MAX_CONCURRENCY)?,
        })
    }

    /// This invocation's pace of EC2 deletes, if it has one.
    pub fn ec2_pace(&self) -> Option<crate::pace::Pace> {
        (self.ec2_api_share > 0).then(|| crate::pace::Pace::ec2_mutating(self.ec2_api_share, self.ec2_concurrency))
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }
}

/// Settings of snapshot-ebs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotConfig {
    pub mode: crate::model::SnapshotMode,
    /// The SSM Automation document and the role it runs as (ssm mode).
    pub document_name: String,
    pub automation_role_arn: String,
    /// Leave the boot volume out of the snapshot set.
    pub exclude_boot_volume: bool,
    /// Commands run before the freeze and after the thaw (ssm mode); the document's defaults when None.
    pub pre_script: Option<String>,
    pub post_script: Option<String>,
}

impl SnapshotConfig {
    /// SNAPSHOT_MODE (`ssm`, the default, or `direct`); SNAPSHOT_DOCUMENT_NAME and AUTOMATION_ROLE_ARN,
    /// required in the ssm mode; EXCLUDE_BOOT_VOLUME (`true`/`false`, default false); PRE_SCRIPT, POST_SCRIPT.
    pub fn from_source(src: &impl Source) -> Result<Self> {
        use crate::model::SnapshotMode;
        let mode = snapshot_mode(src)?;
        let required = |name: &'static str| match src.get(name) {
            Some(v) if !v.trim().is_empty() => Ok(v),
            Some(v) => Err(invalid(name, &v, "must not be empty")),
            None if mode == SnapshotMode::Direct => Ok(String::new()),
            None => Err(invalid(name, "", "is required in the ssm mode")),
        };
        let exclude_boot_volume = flag(src, "EXCLUDE_BOOT_VOLUME")?;
        Ok(Self {
            mode,
            document_name: required("SNAPSHOT_DOCUMENT_NAME")?,
            automation_role_arn: required("AUTOMATION_ROLE_ARN")?,
            exclude_boot_volume,
            pre_script: src.get("PRE_SCRIPT").filter(|s| !s.trim().is_empty()),
            post_script: src.get("POST_SCRIPT").filter(|s| !s.trim().is_empty()),
        })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }
}

/// Settings of efs-backup: where scheduled backups go. The SOP's events name their own vault and role.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EfsBackupConfig {
    pub backup_vault_name: Option<String>,
    pub backup_role_arn: Option<String>,
    /// AWS Backup's own lifecycle deletes recovery points after this many days: a backstop far beyond the
    /// retention (cleanup deletes them by the rule); None (0, the default) leaves deletes to cleanup.
    pub delete_after_days: Option<u32>,
}

impl EfsBackupConfig {
    /// BACKUP_VAULT_NAME, BACKUP_ROLE_ARN, BACKUP_DELETE_AFTER_DAYS: all optional here; a start without a
    /// vault or role, in its event or here, is refused naming both. The backstop must lie beyond
    /// RETENTION_DAYS: a lifecycle inside the retention would expire points that MIN_KEEP and the
    /// completed-new-backup rule keep.
    pub fn from_source(src: &impl Source) -> Result<Self> {
        let delete_after_days = match src.get("BACKUP_DELETE_AFTER_DAYS") {
            None => None,
            Some(v) => Some(parse_number("BACKUP_DELETE_AFTER_DAYS", &v, 0, 36_500)?).filter(|days| *days > 0),
        };
        // A vault under Vault Lock takes only jobs whose lifecycle keeps points at least its minimum, and
        // no one may delete from it: the lifecycle is then what deletes them.
        let lock_days = match src.get("BACKUP_VAULT_LOCK_DAYS") {
            None => 0,
            Some(v) => parse_number("BACKUP_VAULT_LOCK_DAYS", &v, 0, 36_500)?,
        };
        if lock_days > 0 && delete_after_days.is_none_or(|days| days < lock_days) {
            return Err(invalid(
                "BACKUP_DELETE_AFTER_DAYS",
                &delete_after_days.unwrap_or(0).to_string(),
                &format!(
                    "must be at least BACKUP_VAULT_LOCK_DAYS ({lock_days}): the locked vault refuses jobs whose \
                     lifecycle is shorter, and the lifecycle is what deletes from it"
                ),
            ));
        }
        if let (Some(days), Some(retention)) = (delete_after_days, src.get("RETENTION_DAYS")) {
            let retention = parse_number("RETENTION_DAYS", &retention, 1, 36_500)?;
            if days <= retention {
                return Err(invalid(
                    "BACKUP_DELETE_AFTER_DAYS",
                    &days.to_string(),
                    &format!(
                        "is a backstop and must be more than RETENTION_DAYS ({retention}), or 0 for none: \
                         snapmgmt deletes by the rule, keeping the newest"
                    ),
                ));
            }
        }
        let non_empty = |name| src.get(name).filter(|v| !v.trim().is_empty());
        Ok(Self {
            backup_vault_name: non_empty("BACKUP_VAULT_NAME"),
            backup_role_arn: non_empty("BACKUP_ROLE_ARN"),
            delete_after_days,
        })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }
}

impl TargetTag {
    /// TARGET_TAG_KEY and TARGET_TAG_VALUE, the original sample's tag when unset.
    pub fn from_source(src: &impl Source) -> Result<Self> {
        let key = non_empty_or(src, "TARGET_TAG_KEY", DEFAULT_TAG_KEY, 128)?;
        let value = non_empty_or(src, "TARGET_TAG_VALUE", DEFAULT_TAG_VALUE, 256)?;
        // Both become an EC2 and EFS filter, where `*` and `?` are wildcards: `*` would target every instance.
        for (name, text) in [("TARGET_TAG_KEY", &key), ("TARGET_TAG_VALUE", &value)] {
            if text.contains(['*', '?']) {
                return Err(invalid(
                    name,
                    text,
                    "must not contain * or ?: it becomes a filter, where they are wildcards",
                ));
            }
        }
        Ok(Self { key, value })
    }
}

impl TriggerConfig {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        let copy = CopySettings::from_source(src)?;
        Ok(Self {
            target_tag: TargetTag::from_source(src)?,
            state_machine_arn: state_machine_arn(src)?,
            inventory_bucket: bucket_name(src, "INVENTORY_BUCKET")?,
            concurrency: crate::model::Concurrency {
                fsx: optional_number(src, "FSX_CONCURRENCY", 10, 1, MAX_CONCURRENCY)?,
                ec2: optional_number(src, "EC2_CONCURRENCY", 50, 1, MAX_CONCURRENCY)?,
                efs: optional_number(src, "EFS_CONCURRENCY", 10, 1, MAX_CONCURRENCY)?,
            },
            dry_run: flag(src, "DRY_RUN")?,
            snapshot_mode: snapshot_mode(src)?,
            backup_vault_name: src.get("BACKUP_VAULT_NAME").filter(|v| !v.trim().is_empty()),
            ontap_volumes_of_tagged_file_systems: flag(src, "ONTAP_VOLUMES_OF_TAGGED_FILE_SYSTEMS")?,
            copy_region: copy.region,
            copy_backup_vault_name: copy.backup_vault_name,
        })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }
}

impl RetentionConfig {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        let retention_days = required_number(src, "RETENTION_DAYS", 1, 36_500)?;
        let min_keep = optional_number(src, "MIN_KEEP", 1, 1, 1_000)?;
        let max_delete_percent = optional_number(src, "MAX_DELETE_PERCENT", DEFAULT_MAX_DELETE_PERCENT, 1, 100)?;
        let tiers = match src.get("RETENTION_TIERS").filter(|v| !v.trim().is_empty()) {
            None => Tiers::default(),
            Some(text) => match Written::parse(&text) {
                Ok(Written { days: Some(_), .. }) => {
                    return Err(invalid("RETENTION_TIERS", &text, "takes tiers only: the age is RETENTION_DAYS"))
                }
                Ok(written) => written.tiers,
                Err(reason) => return Err(invalid("RETENTION_TIERS", &text, &reason)),
            },
        };
        let zone = src.get("RETENTION_TIME_ZONE").filter(|v| !v.trim().is_empty()).unwrap_or_else(|| "UTC".into());
        let time_zone =
            crate::tiers::time_zone(&zone).map_err(|reason| invalid("RETENTION_TIME_ZONE", &zone, &reason))?;
        Ok(Self { retention_days, min_keep, max_delete_percent, tiers, time_zone })
    }

    /// The policy a resource's `snapmgmt:Retention` tag writes, in place of the stack's age and tiers: its
    /// days (none when it gives tiers only), its tiers. MIN_KEEP, the guard and the time zone stay.
    pub fn with_written(self, written: Written) -> Self {
        Self { retention_days: written.days.unwrap_or(0), tiers: written.tiers, ..self }
    }

    /// The stack's policy in the compact form.
    pub fn written(&self) -> Written {
        Written { days: (self.retention_days > 0).then_some(self.retention_days), tiers: self.tiers }
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }

    /// These settings with the delete guard's limit of one run (an event's maxDeletePercent): an event can
    /// lower the limit, never raise it above MAX_DELETE_PERCENT, so that whoever can start the workflow or
    /// invoke cleanup cannot lift the guard. Raising it is a change of the stack's setting.
    pub fn with_delete_limit(self, max_delete_percent: Option<u32>) -> Self {
        let limit = max_delete_percent.map_or(self.max_delete_percent, |asked| asked.min(self.max_delete_percent));
        Self { max_delete_percent: limit, ..self }
    }
}

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

fn state_machine_arn(src: &impl Source) -> Result<String> {
    const NAME: &str = "STATE_MACHINE_ARN";
    let value = src.get(NAME).unwrap_or_default();
    let fields: Vec<&str> = value.split(':').collect();
    if fields.len() == 7 && fields[0] == "arn" && fields[2] == "states" && fields[5] == "stateMachine" {
        Ok(value)
    } else {
        Err(invalid(NAME, &value, "expected arn:<partition>:states:<region>:<account>:stateMachine:<name>"))
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
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn source(pairs: &[(&str, &str)]) -> impl Source {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name: &str| map.get(name).cloned()
    }

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:snapmgmt";

    const BUCKET: (&str, &str) = ("INVENTORY_BUCKET", "snapmgmt-inventory-123456789012");

    #[test]
    fn trigger_defaults_to_the_original_samples_tag() {
        let cfg = TriggerConfig::from_source(&source(&[("STATE_MACHINE_ARN", ARN), BUCKET])).unwrap();
        assert_eq!(cfg.target_tag, TargetTag { key: "ResourceType".into(), value: "SnapshotMgmtTarget".into() });
        assert_eq!(cfg.state_machine_arn, ARN);
        assert_eq!(cfg.inventory_bucket, BUCKET.1);
        assert_eq!((cfg.concurrency.fsx, cfg.concurrency.ec2, cfg.concurrency.efs), (10, 50, 10));
        assert!(!cfg.dry_run);
        let preview = TriggerConfig::from_source(&source(&[("STATE_MACHINE_ARN", ARN), BUCKET, ("DRY_RUN", "true")]));
        assert!(preview.unwrap().dry_run);
        let bad = TriggerConfig::from_source(&source(&[("STATE_MACHINE_ARN", ARN), BUCKET, ("DRY_RUN", "yes")]));
        assert!(matches!(bad, Err(Error::InvalidSetting { name: "DRY_RUN", .. })));
    }

    #[test]
    fn the_cleanups_share_of_ec2s_budget_defaults_to_half_over_the_ec2_concurrency() {
        let cfg = CleanupConfig::from_source(&source(&[("RETENTION_DAYS", "7")])).unwrap();
        assert_eq!((cfg.ec2_api_share, cfg.ec2_concurrency), (50, 50));
        assert!((cfg.ec2_pace().unwrap().per_second() - 0.05).abs() < 1e-9, "5 a second, halved, over 50 cleanups");
        let unpaced = CleanupConfig::from_source(&source(&[("RETENTION_DAYS", "7"), ("EC2_API_SHARE", "0")]));
        assert!(unpaced.unwrap().ec2_pace().is_none());
        for (name, bad) in [("EC2_API_SHARE", "101"), ("EC2_API_SHARE", "half"), ("EC2_CONCURRENCY", "0")] {
            let err = CleanupConfig::from_source(&source(&[("RETENTION_DAYS", "7"), (name, bad)]));
            assert!(matches!(err, Err(Error::InvalidSetting { name: n, .. }) if n == name), "{name}={bad}");
        }
    }

    #[test]
    fn concurrency_is_bounded_by_the_services_limits() {
        for name in ["FSX_CONCURRENCY", "EC2_CONCURRENCY", "EFS_CONCURRENCY"] {
            for bad in ["0", "101", "many"] {
                let err = TriggerConfig::from_source(&source(&[("STATE_MACHINE_ARN", ARN), BUCKET, (name, bad)]));
                assert!(matches!(err, Err(Error::InvalidSetting { name: n, .. }) if n == name), "{name}={bad}");
            }
        }
    }

    #[test]
    fn the_bucket_is_required_and_must_be_a_bucket_name() {
        for bad in ["", "ab", "Upper", "-edge", "under_score"] {
            let err = TriggerConfig::from_source(&source(&[("STATE_MACHINE_ARN", ARN), ("INVENTORY_BUCKET", bad)]));
            assert!(matches!(err, Err(Error::InvalidSetting { name: "INVENTORY_BUCKET", .. })), "{bad:?}");
            assert!(ReportConfig::from_source(&source(&[("INVENTORY_BUCKET", bad)])).is_err(), "{bad:?}");
        }
        assert!(ReportConfig::from_source(&source(&[BUCKET])).is_ok());
    }

    #[test]
    fn missing_state_machine_arn_names_the_variable() {
        let err = TriggerConfig::from_source(&source(&[])).unwrap_err();
        assert!(err.to_string().contains("STATE_MACHINE_ARN"), "{err}");
    }

    #[test]
    fn malformed_state_machine_arn_names_variable_and_value() {
        let err = TriggerConfig::from_source(&source(&[("STATE_MACHINE_ARN", "snapmgmt")])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("STATE_MACHINE_ARN") && text.contains("\"snapmgmt\""), "{text}");
    }

    #[test]
    fn empty_tag_key_is_rejected() {
        let err = TriggerConfig::from_source(&source(&[("STATE_MACHINE_ARN", ARN), ("TARGET_TAG_KEY", " ")]));
        assert!(matches!(err, Err(Error::InvalidSetting { name: "TARGET_TAG_KEY", .. })));
    }

    #[test]
    fn snapshot_mode_ssm_needs_its_document_and_role() {
        let err = SnapshotConfig::from_source(&source(&[])).unwrap_err();
        assert!(matches!(err, Error::InvalidSetting { name: "SNAPSHOT_DOCUMENT_NAME", .. }), "{err}");
        let direct = SnapshotConfig::from_source(&source(&[("SNAPSHOT_MODE", "direct")])).unwrap();
        assert_eq!(direct.mode, crate::model::SnapshotMode::Direct);
        let err = SnapshotConfig::from_source(&source(&[("SNAPSHOT_MODE", "vss")])).unwrap_err();
        assert!(err.to_string().contains("SNAPSHOT_MODE") && err.to_string().contains("\"vss\""), "{err}");
        let bad = [("SNAPSHOT_MODE", "direct"), ("EXCLUDE_BOOT_VOLUME", "yes")];
        assert!(matches!(
            SnapshotConfig::from_source(&source(&bad)),
            Err(Error::InvalidSetting { name: "EXCLUDE_BOOT_VOLUME", .. })
        ));
    }

    #[test]
    fn retention_is_required() {
        let err = RetentionConfig::from_source(&source(&[])).unwrap_err();
        assert!(matches!(err, Error::InvalidSetting { name: "RETENTION_DAYS", .. }), "{err}");
    }

    #[test]
    fn retention_rejects_zero_negative_fractions_and_units() {
        for bad in ["0", "-1", "1.5", "7d", "", "microseconds"] {
            let err = RetentionConfig::from_source(&source(&[("RETENTION_DAYS", bad)])).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("RETENTION_DAYS") && text.contains(&format!("{bad:?}")), "{text}");
        }
    }

    #[test]
    fn min_keep_defaults_to_one_and_rejects_zero() {
        let cfg = RetentionConfig::from_source(&source(&[("RETENTION_DAYS", "7")])).unwrap();
        assert_eq!(
            cfg,
            RetentionConfig { retention_days: 7, min_keep: 1, max_delete_percent: 50, ..RetentionConfig::default() }
        );
        let err = RetentionConfig::from_source(&source(&[("RETENTION_DAYS", "7"), ("MIN_KEEP", "0")]));
        assert!(matches!(err, Err(Error::InvalidSetting { name: "MIN_KEEP", .. })));
    }

    #[test]
    fn max_delete_percent_defaults_to_half_and_is_a_percentage() {
        for bad in ["0", "101", "50%", "half"] {
            let err = RetentionConfig::from_source(&source(&[("RETENTION_DAYS", "7"), ("MAX_DELETE_PERCENT", bad)]));
            assert!(matches!(err, Err(Error::InvalidSetting { name: "MAX_DELETE_PERCENT", .. })), "{bad}");
        }
        let cfg = RetentionConfig::from_source(&source(&[("RETENTION_DAYS", "7"), ("MAX_DELETE_PERCENT", "100")]));
        assert_eq!(cfg.unwrap().max_delete_percent, 100);
    }

    #[test]
    fn an_event_can_lower_the_delete_limit_never_raise_it() {
        let cfg =
            RetentionConfig { retention_days: 7, min_keep: 1, max_delete_percent: 50, ..RetentionConfig::default() };
        assert_eq!(cfg.clone().with_delete_limit(None).max_delete_percent, 50);
        assert_eq!(cfg.clone().with_delete_limit(Some(20)).max_delete_percent, 20);
        assert_eq!(cfg.with_delete_limit(Some(100)).max_delete_percent, 50);
    }

    #[test]
    fn the_dry_run_setting_overrides_every_event() {
        let preview = DryRunSetting::from_source(&source(&[("DRY_RUN", "true")])).unwrap();
        assert!(preview.applied_to(false) && preview.applied_to(true));
        let live = DryRunSetting::from_source(&source(&[])).unwrap();
        assert!(!live.applied_to(false) && live.applied_to(true));
        let bad = DryRunSetting::from_source(&source(&[("DRY_RUN", "1")]));
        assert!(matches!(bad, Err(Error::InvalidSetting { name: "DRY_RUN", .. })));
    }

    #[test]
    fn a_target_tag_with_a_wildcard_is_refused() {
        for (name, value) in [("TARGET_TAG_VALUE", "*"), ("TARGET_TAG_KEY", "Resource?ype")] {
            let err = TargetTag::from_source(&source(&[(name, value)])).unwrap_err();
            assert!(matches!(&err, Error::InvalidSetting { name: n, .. } if *n == name), "{err}");
        }
    }

    #[test]
    fn the_efs_lifecycle_is_a_backstop_beyond_the_retention_or_none() {
        let read = |pairs: &[(&str, &str)]| EfsBackupConfig::from_source(&source(pairs));
        assert_eq!(read(&[("BACKUP_DELETE_AFTER_DAYS", "0")]).unwrap().delete_after_days, None);
        assert_eq!(read(&[]).unwrap().delete_after_days, None);
        let far = read(&[("BACKUP_DELETE_AFTER_DAYS", "400"), ("RETENTION_DAYS", "14")]).unwrap();
        assert_eq!(far.delete_after_days, Some(400));
        let locked = |days: &str| {
            read(&[("BACKUP_DELETE_AFTER_DAYS", days), ("RETENTION_DAYS", "14"), ("BACKUP_VAULT_LOCK_DAYS", "90")])
        };
        assert_eq!(locked("90").unwrap().delete_after_days, Some(90));
        for short in ["0", "30"] {
            let err = locked(short).unwrap_err();
            assert!(err.to_string().contains("BACKUP_VAULT_LOCK_DAYS (90)"), "{err}");
        }
        for inside in ["14", "7"] {
            let err = read(&[("BACKUP_DELETE_AFTER_DAYS", inside), ("RETENTION_DAYS", "14")]).unwrap_err();
            assert!(matches!(err, Error::InvalidSetting { name: "BACKUP_DELETE_AFTER_DAYS", .. }), "{err}");
            assert!(err.to_string().contains("RETENTION_DAYS (14)"), "{err}");
        }
    }

    #[test]
    fn tiers_and_their_time_zone_are_read_checked_and_named() {
        let read = |pairs: &[(&str, &str)]| {
            RetentionConfig::from_source(&source(&[&[("RETENTION_DAYS", "7")], pairs].concat()))
        };
        let none = read(&[]).unwrap();
        assert!(none.tiers.is_empty() && none.time_zone.iana_name() == Some("UTC"));
        let tiered =
            read(&[("RETENTION_TIERS", "daily=7,weekly=4"), ("RETENTION_TIME_ZONE", "Europe/Berlin")]).unwrap();
        assert_eq!((tiered.tiers.daily, tiered.tiers.weekly), (7, 4));
        assert_eq!(tiered.written().to_string(), "days=7 daily=7 weekly=4");
        for (name, value) in [
            ("RETENTION_TIERS", "daily=seven"),
            ("RETENTION_TIERS", "days=30"),
            ("RETENTION_TIME_ZONE", "Mars/Olympus"),
        ] {
            let err = read(&[(name, value)]).unwrap_err();
            assert!(matches!(&err, Error::InvalidSetting { name: n, .. } if *n == name), "{err}");
            assert!(err.to_string().contains(value), "{err}");
        }
    }

    #[test]
    fn the_copy_region_is_a_region_name_other_than_the_stacks_own() {
        let none = CopySettings::from_source(&source(&[("COPY_REGION", "")])).unwrap();
        assert_eq!(none, CopySettings::default());
        let copies = CopySettings::from_source(&source(&[
            ("COPY_REGION", "us-west-2"),
            ("AWS_REGION", "us-east-1"),
            ("COPY_KMS_KEY_ID", "alias/dr"),
            ("COPY_RETENTION", "daily=7,monthly=12"),
            ("COPY_BACKUP_VAULT_NAME", "snapmgmt-dr"),
        ]))
        .unwrap();
        assert_eq!(copies.backup_vault_name.as_deref(), Some("snapmgmt-dr"));
        assert_eq!(copies.region.as_deref(), Some("us-west-2"));
        assert_eq!(copies.kms_key_id.as_deref(), Some("alias/dr"));
        assert_eq!(copies.retention.unwrap().to_string(), "daily=7 monthly=12");
        for (name, pairs) in [
            ("COPY_REGION", vec![("COPY_REGION", "us-west")]),
            ("COPY_REGION", vec![("COPY_REGION", "US-WEST-2")]),
            ("COPY_REGION", vec![("COPY_REGION", "us-east-1"), ("AWS_REGION", "us-east-1")]),
            ("COPY_RETENTION", vec![("COPY_REGION", "us-west-2"), ("COPY_RETENTION", "weekly=x")]),
            ("COPY_BACKUP_VAULT_NAME", vec![("COPY_REGION", "us-west-2"), ("COPY_BACKUP_VAULT_NAME", "dr vault")]),
        ] {
            let err = CopySettings::from_source(&source(&pairs)).unwrap_err();
            assert!(matches!(&err, Error::InvalidSetting { name: n, .. } if *n == name), "{err}");
        }
    }
}
