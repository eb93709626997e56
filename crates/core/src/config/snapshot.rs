//! snapshot-ebs's settings: the snapshot mode, the SSM document and its role, the scripts.

use super::{flag, invalid, snapshot_mode, Env, Source};
use crate::error::Result;

/// The longest auto-thaw a setting or tag may ask for: ten minutes of an instance's writes held.
pub const MAX_FREEZE_SECONDS: u32 = 600;

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
    /// FREEZE_TIMEOUT_SECONDS (1 to 600): the auto-thaw of the document's Linux freeze; the document's 60 s
    /// when None. An instance's `snapmgmt:FreezeTimeoutSeconds` tag overrides it.
    pub freeze_timeout_seconds: Option<u32>,
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
            freeze_timeout_seconds: match src.get("FREEZE_TIMEOUT_SECONDS").filter(|s| !s.trim().is_empty()) {
                Some(v) => Some(super::parse_number("FREEZE_TIMEOUT_SECONDS", &v, 1, MAX_FREEZE_SECONDS)?),
                None => None,
            },
        })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::*;
    use crate::error::Error;

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
}
