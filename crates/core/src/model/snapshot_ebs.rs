//! snapshot-ebs: the instance to snapshot, and the run it started.

use serde::{Deserialize, Serialize};

use super::{check_id, RunId, Validate};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotEbsEvent {
    pub instance_id: String,
    /// The run (the workflow's execution name); this invocation's request id when absent.
    #[serde(default)]
    pub run_id: Option<RunId>,
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
