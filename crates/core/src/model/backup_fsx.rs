//! backup-fsx: the file system to back up, and the backup it started.

use serde::{Deserialize, Serialize};

use super::{check_fsx_id, RunId, Validate};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupFsxEvent {
    /// A file system, or an ONTAP volume (`fsvol-`), which may be given as `volumeId`.
    #[serde(alias = "volumeId")]
    pub file_system_id: String,
    /// The run (the workflow's execution name); this invocation's request id when absent.
    #[serde(default)]
    pub run_id: Option<RunId>,
    #[serde(default)]
    pub dry_run: bool,
}

impl Validate for BackupFsxEvent {
    fn validate(&self) -> Result<()> {
        check_fsx_id("fileSystemId", &self.file_system_id)
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
