//! Copies to a second Region: what snapshot-ebs is asked to copy (`"action": "copy"`), and how the copies
//! are doing, which the workflow's copy loop reads.

use serde::{Deserialize, Serialize};

use super::{check_id, check_snapshot_set, parse_event, CheckStatus, RunId, Validate};
use crate::error::{Error, Result};

/// Copy this run's completed set of one instance to the copy Region: each snapshot once, however often
/// the workflow asks; each answer says how the copies are doing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CopyEbsEvent {
    pub instance_id: String,
    pub snapshot_ids: Vec<String>,
    /// The run (the workflow's execution name); this invocation's request id when absent.
    #[serde(default)]
    pub run_id: Option<RunId>,
    #[serde(default)]
    pub dry_run: bool,
    /// How many times the workflow asked before.
    #[serde(default)]
    pub attempt: u32,
}

impl CopyEbsEvent {
    /// An event that names an action (snapshot-ebs's only one is `copy`; without one, it takes a set).
    pub fn parse(mut event: serde_json::Value) -> Result<Self> {
        match event.as_object_mut().and_then(|o| o.remove("action")) {
            Some(serde_json::Value::String(action)) if action == "copy" => parse_event(event),
            other => Err(Error::invalid_event("action", format!("{} is not one of: copy", other.unwrap_or_default()))),
        }
    }
}

impl Validate for CopyEbsEvent {
    fn validate(&self) -> Result<()> {
        check_id("instanceId", &self.instance_id, "i-")?;
        check_snapshot_set("snapshotIds", Some(&self.snapshot_ids))?;
        if self.snapshot_ids.is_empty() && !self.dry_run {
            return Err(Error::invalid_event("snapshotIds", "names no snapshot to copy"));
        }
        Ok(())
    }
}

/// How a backup's copies in the copy Region are doing: Ready once every one completed; InProgress while
/// one is copying, or while AWS's limit on copies in flight keeps some from starting; Failed when one failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyResult {
    pub region: String,
    pub copy_ids: Vec<String>,
    pub status: CheckStatus,
    /// The attempt this answer was for, plus one.
    pub attempt: u32,
    pub detail: String,
}
