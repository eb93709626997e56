//! The trigger's settings: which resources are targets, the workflow it starts, the kinds' concurrency.

use super::MAX_CONCURRENCY;
use super::{
    bucket_name, copy::CopySettings, flag, invalid, non_empty_or, optional_number, snapshot_mode, Env, Source,
};
use crate::error::Result;

pub const DEFAULT_TAG_KEY: &str = "ResourceType";
pub const DEFAULT_TAG_VALUE: &str = "SnapshotMgmtTarget";

/// The tag that marks a resource as one snapmgmt backs up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetTag {
    pub key: String,
    pub value: String,
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
    /// STACK_ID: orphans are looked for among this stack's backups only.
    pub stack: Option<crate::tags::StackId>,
}

impl TriggerConfig {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        let copy = CopySettings::from_source(src)?;
        Ok(Self {
            target_tag: TargetTag::from_source(src)?,
            state_machine_arn: state_machine_arn(src)?,
            inventory_bucket: bucket_name(src, "INVENTORY_BUCKET")?,
            concurrency: crate::model::Concurrency::try_from_fn(|kind| {
                let kind = kind.info();
                optional_number(src, kind.concurrency_setting, kind.default_concurrency, 1, MAX_CONCURRENCY)
            })?,
            dry_run: flag(src, "DRY_RUN")?,
            snapshot_mode: snapshot_mode(src)?,
            backup_vault_name: src.get("BACKUP_VAULT_NAME").filter(|v| !v.trim().is_empty()),
            ontap_volumes_of_tagged_file_systems: flag(src, "ONTAP_VOLUMES_OF_TAGGED_FILE_SYSTEMS")?,
            copy_region: copy.region,
            copy_backup_vault_name: copy.backup_vault_name,
            stack: super::backup::stack_id(src)?,
        })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::*;
    use crate::config::ReportConfig;
    use crate::error::Error;

    #[test]
    fn trigger_defaults_to_the_original_samples_tag() {
        let cfg = TriggerConfig::from_source(&source(&[("STATE_MACHINE_ARN", ARN), BUCKET])).unwrap();
        assert_eq!(cfg.target_tag, TargetTag { key: "ResourceType".into(), value: "SnapshotMgmtTarget".into() });
        assert_eq!(cfg.state_machine_arn, ARN);
        assert_eq!(cfg.inventory_bucket, BUCKET.1);
        assert_eq!(cfg.concurrency.values().copied().collect::<Vec<_>>(), [10, 50, 10]);
        assert!(!cfg.dry_run);
        let preview = TriggerConfig::from_source(&source(&[("STATE_MACHINE_ARN", ARN), BUCKET, ("DRY_RUN", "true")]));
        assert!(preview.unwrap().dry_run);
        let bad = TriggerConfig::from_source(&source(&[("STATE_MACHINE_ARN", ARN), BUCKET, ("DRY_RUN", "yes")]));
        assert!(matches!(bad, Err(Error::InvalidSetting { name: "DRY_RUN", .. })));
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
    fn a_target_tag_with_a_wildcard_is_refused() {
        for (name, value) in [("TARGET_TAG_VALUE", "*"), ("TARGET_TAG_KEY", "Resource?ype")] {
            let err = TargetTag::from_source(&source(&[(name, value)])).unwrap_err();
            assert!(matches!(&err, Error::InvalidSetting { name: n, .. } if *n == name), "{err}");
        }
    }
}
