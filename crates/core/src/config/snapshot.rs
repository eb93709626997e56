//! snapshot-ebs's settings: the snapshot mode, the SSM document and its role, the scripts.

use super::{flag, invalid, snapshot_mode, Env, Source};
use crate::error::Result;

/// The longest auto-thaw a setting or tag may ask for: ten minutes of an instance's writes held.
pub const MAX_FREEZE_SECONDS: u32 = 600;

/// The scripts the snapshot document runs around the freeze, per platform: bash on Linux, PowerShell on
/// Windows. PRE_SCRIPT_LINUX, POST_SCRIPT_LINUX, PRE_SCRIPT_WINDOWS, POST_SCRIPT_WINDOWS; PRE_SCRIPT and
/// POST_SCRIPT, the one string for both that came before them, are still read where a platform's is unset.
/// SCRIPT_TIMEOUT_SECONDS (10 to 120, as DLM allows); ON_PRE_SCRIPT_FAILURE (`crash`, the document's
/// default: the set is taken crash-consistent and labelled so, or `fail`: the run fails and is retried).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scripts {
    pub pre_linux: Option<String>,
    pub post_linux: Option<String>,
    pub pre_windows: Option<String>,
    pub post_windows: Option<String>,
    pub timeout_seconds: Option<u32>,
    pub on_pre_script_failure: Option<String>,
}

impl Scripts {
    fn from_source(src: &impl Source) -> Result<Self> {
        let set = |name: &str| src.get(name).filter(|s| !s.trim().is_empty());
        let either = |name: &str, shared: &str| set(name).or_else(|| set(shared));
        let on_failure = set("ON_PRE_SCRIPT_FAILURE");
        if let Some(value) = &on_failure {
            if value != "crash" && value != "fail" {
                return Err(invalid("ON_PRE_SCRIPT_FAILURE", value, "must be crash or fail"));
            }
        }
        let timeout = super::number_if_set(src, "SCRIPT_TIMEOUT_SECONDS", 10, 120)?;
        Ok(Self {
            pre_linux: either("PRE_SCRIPT_LINUX", "PRE_SCRIPT"),
            post_linux: either("POST_SCRIPT_LINUX", "POST_SCRIPT"),
            pre_windows: either("PRE_SCRIPT_WINDOWS", "PRE_SCRIPT"),
            post_windows: either("POST_SCRIPT_WINDOWS", "POST_SCRIPT"),
            timeout_seconds: timeout,
            on_pre_script_failure: on_failure,
        })
    }

    /// The document's parameters these set.
    pub fn document_parameters(&self) -> Vec<(&'static str, String)> {
        let timeout = self.timeout_seconds.map(|s| s.to_string());
        [
            ("PreScriptLinux", self.pre_linux.clone()),
            ("PostScriptLinux", self.post_linux.clone()),
            ("PreScriptWindows", self.pre_windows.clone()),
            ("PostScriptWindows", self.post_windows.clone()),
            ("ScriptTimeoutSeconds", timeout),
            ("OnPreScriptFailure", self.on_pre_script_failure.clone()),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect()
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
    /// The pre- and post-scripts of each platform, their timeout and what a failed pre-script does (ssm
    /// mode); the document's defaults where unset.
    pub scripts: Scripts,
    /// FREEZE_TIMEOUT_SECONDS (1 to 600): the auto-thaw of the document's Linux freeze; the document's 60 s
    /// when None. An instance's `snapmgmt:FreezeTimeoutSeconds` tag overrides it.
    pub freeze_timeout_seconds: Option<u32>,
    /// STACK_ID: the stack tagged on every snapshot.
    pub stack: Option<crate::tags::StackId>,
}

impl SnapshotConfig {
    /// SNAPSHOT_MODE (`ssm`, the default, or `direct`); SNAPSHOT_DOCUMENT_NAME and AUTOMATION_ROLE_ARN,
    /// required in the ssm mode; EXCLUDE_BOOT_VOLUME (`true`/`false`, default false); the scripts ([`Scripts`]).
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
            scripts: Scripts::from_source(src)?,
            freeze_timeout_seconds: super::number_if_set(src, "FREEZE_TIMEOUT_SECONDS", 1, MAX_FREEZE_SECONDS)?,
            stack: super::backup::stack_id(src)?,
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

    #[test]
    fn each_platform_has_its_scripts_and_the_one_string_form_is_still_read() {
        let cfg = SnapshotConfig::from_source(&source(&[
            ("SNAPSHOT_MODE", "direct"),
            ("PRE_SCRIPT", "systemctl stop app"),
            ("PRE_SCRIPT_WINDOWS", "Stop-Service app"),
            ("SCRIPT_TIMEOUT_SECONDS", "30"),
            ("ON_PRE_SCRIPT_FAILURE", "fail"),
        ]))
        .unwrap();
        let parameters = cfg.scripts.document_parameters();
        let of = |name: &str| parameters.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        assert_eq!(of("PreScriptLinux"), Some("systemctl stop app"));
        assert_eq!(of("PreScriptWindows"), Some("Stop-Service app"));
        assert_eq!(of("PostScriptLinux"), None, "unset: the document's own");
        assert_eq!((of("ScriptTimeoutSeconds"), of("OnPreScriptFailure")), (Some("30"), Some("fail")));
        for (name, bad) in
            [("SCRIPT_TIMEOUT_SECONDS", "5"), ("SCRIPT_TIMEOUT_SECONDS", "121"), ("ON_PRE_SCRIPT_FAILURE", "skip")]
        {
            let err = SnapshotConfig::from_source(&source(&[("SNAPSHOT_MODE", "direct"), (name, bad)])).unwrap_err();
            assert!(matches!(&err, Error::InvalidSetting { name: n, .. } if *n == name), "{err}");
        }
    }
}
