//! verify: the events that ask for one target's backup to be read back, and for a verify run's first and
//! last steps (list the targets and share the budget; record each target's result); what those steps answer.

use serde::{Deserialize, Serialize};

use super::{
    check_fsx_id, check_id, parse_event, split_on, unknown_value, ResultLocation, RunId, TargetKind, Validate,
};
use crate::error::{Error, Result};

/// What the verify function is asked: with no `action`, one instance's check (the console's event and each
/// item of the verify run's Map); `start` and `record`, the verify state machine's first and last steps.
#[derive(Debug, Clone, PartialEq)]
pub enum VerifyRequest {
    Check(VerifyEvent),
    Start(VerifyStart),
    Record(VerifyRecord),
    Follow(VerifyFollow),
}

impl VerifyRequest {
    pub fn parse(event: serde_json::Value) -> Result<Self> {
        if event.get("action").is_none() {
            return Ok(Self::Check(VerifyEvent::parse(event)?));
        }
        match split_on("action", event)? {
            (action, rest) if action == "start" => Ok(Self::Start(parse_event(rest)?)),
            (action, rest) if action == "record" => Ok(Self::Record(parse_event(rest)?)),
            (action, rest) if action == "follow" => Ok(Self::Follow(parse_event(rest)?)),
            (action, _) => Err(unknown_value("action", &action, &["start", "record", "follow"])),
        }
    }
}

/// `follow`: look again at a restore a check started (its answer, `restore.pending`), and when it is made,
/// or its time is up, delete what it made and give the check's outcome.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyFollow {
    pub check: Box<crate::verify::TargetCheck>,
}

impl Validate for VerifyFollow {
    fn validate(&self) -> Result<()> {
        let pending = self.check.restore.as_ref().is_some_and(|r| r.pending && !r.resources.is_empty());
        if !pending {
            return Err(Error::invalid_event("check.restore.pending", "follows a check whose restore is pending"));
        }
        Ok(())
    }
}

/// `start`: list the targets, choose this run's share of them within the byte budget, write them for the Map.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyStart {
    pub run_id: RunId,
}

impl Validate for VerifyStart {
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// `record`: read every target's check from the Map's results, keep each target's `lastVerified`, write the
/// run's report.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRecord {
    pub run_id: RunId,
    /// The round the run read (its start's answer): the next run reads the one after.
    pub round: u64,
    pub results: ResultLocation,
    #[serde(default)]
    pub execution_id: Option<String>,
}

impl Validate for VerifyRecord {
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// What `start` answers: the state machine's input to its Map and to `record`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyStarted {
    pub run_id: String,
    pub round: u64,
    /// Targets listed, and how many of them this run verifies (all, unless the budget cannot give each a block).
    pub targets: usize,
    pub verifying: usize,
    pub max_bytes_per_target: u64,
    /// How many of them have a restore test this run.
    pub restores: usize,
    /// The Map's items ([`VerifyEvent`]s).
    pub items: ResultLocation,
    /// Restore-test resources an earlier run left (older than a day) deleted now, and any that could not be
    /// yet; or why the sweep could not look (the run goes on).
    pub swept: crate::verify::restore::Swept,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep_error: Option<String>,
}

/// A verify run's totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyTotals {
    pub targets: usize,
    pub verified: usize,
    pub failed: usize,
    pub no_backup: usize,
    /// Checks that could not run (an AWS error after the retries): not verified, named in the report.
    pub errors: usize,
    pub blocks_read: u64,
    pub bytes_read: u64,
    pub cost_usd: f64,
    /// Restore tests run, those that did not restore, and those whose volumes are not all deleted yet (the
    /// next run's sweep deletes them).
    pub restore_tests: usize,
    pub restore_tests_failed: usize,
    pub restore_volumes_left: usize,
}

/// A target whose verification failed or could not run, for the execution's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnverifiedTarget {
    pub kind: TargetKind,
    pub target_id: String,
    pub reason: String,
}

/// A listed target that has not verified good within VERIFY_STALE_DAYS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotVerifiedRecently {
    pub target: String,
    /// When it last verified good; never, if absent.
    pub last_good: Option<i64>,
}

/// What `record` answers: the execution's output (its size bounded whatever the fleet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifySummary {
    pub run_id: String,
    pub totals: VerifyTotals,
    /// The first of them (the report has all): failed first, then errors.
    pub failed_targets: Vec<UnverifiedTarget>,
    pub not_verified_recently: usize,
    pub report: ResultLocation,
}

/// Verify one target's newest backup: an instance's snapshot set (its blocks read back, and with `restore`
/// restored to volumes), or an EFS file system's recovery point (restored into a new file system, which
/// `restore` must say). Also each item of the verify run's Map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_system_id: Option<String>,
    /// An FSx file system or ONTAP volume (VERIFY_FSX_RESTORE must name its kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsx_id: Option<String>,
    /// The verification round: which share of each snapshot's blocks is read (blocks whose index agrees with
    /// it modulo VERIFY_READ_FRACTION). Absent: the day's number since the Unix epoch, so runs on different
    /// days read different shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u64>,
    /// The bytes this verification may read; absent: the whole of VERIFY_MAX_GIB_READ. Never more than that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// Restore the backup, wait until it is usable, delete what was made (an instance's: VERIFY_RESTORE
    /// must be on).
    #[serde(default)]
    pub restore: bool,
    /// The verify run (what its restore tests make is tagged with it); this invocation's request id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
}

impl VerifyEvent {
    pub fn parse(event: serde_json::Value) -> Result<Self> {
        parse_event(event)
    }

    /// The target it names (validated: exactly one).
    pub fn target(&self) -> (TargetKind, &str) {
        match (&self.instance_id, &self.file_system_id, &self.fsx_id) {
            (Some(id), _, _) => (TargetKind::Ec2, id),
            (None, Some(id), _) => (TargetKind::Efs, id),
            (None, None, Some(id)) => (TargetKind::Fsx, id),
            (None, None, None) => (TargetKind::Ec2, ""),
        }
    }
}

impl Validate for VerifyEvent {
    fn validate(&self) -> Result<()> {
        let named = [&self.instance_id, &self.file_system_id, &self.fsx_id].iter().filter(|id| id.is_some()).count();
        if named != 1 {
            let field = if named == 0 { "instanceId" } else { "fileSystemId" };
            let reason =
                "name one target: instanceId, fileSystemId (EFS) or fsxId (an FSx file system or ONTAP volume)";
            return Err(Error::invalid_event(field, reason));
        }
        match self.target() {
            (TargetKind::Ec2, instance) => check_id("instanceId", instance, "i-")?,
            (kind, id) => {
                if kind == TargetKind::Efs {
                    check_id("fileSystemId", id, "fs-")?;
                } else {
                    check_fsx_id("fsxId", id)?;
                }
                if !self.restore {
                    let reason = "a file system's backup is verified by restoring it into a new one, which is then \
                                  deleted: say so with \"restore\": true";
                    return Err(Error::invalid_event("restore", reason));
                }
                if self.max_bytes.is_some() {
                    return Err(Error::invalid_event("maxBytes", "only an instance's check reads blocks"));
                }
            }
        }
        // Less than a block would read nothing, and a verification that read nothing must not say verified.
        if self.max_bytes.is_some_and(|bytes| bytes < crate::verify::blocks::BLOCK_BYTES) {
            let reason =
                "less than one block (524,288 bytes) would read nothing: leave it out for the setting's budget";
            return Err(Error::invalid_event("maxBytes", reason));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_event_names_its_bad_field() {
        let bad = VerifyEvent::parse(json!({"instanceId": "vol-0123456789abcdef0"})).unwrap_err();
        assert!(bad.to_string().contains("`instanceId`"), "{bad}");
        let bad = VerifyEvent::parse(json!({"instanceId": "i-0123456789abcdef0", "round": "x"})).unwrap_err();
        assert!(bad.to_string().contains("`round`"), "{bad}");
        for too_few in [0, 524_287] {
            let bad =
                VerifyEvent::parse(json!({"instanceId": "i-0123456789abcdef0", "maxBytes": too_few})).unwrap_err();
            assert!(bad.to_string().contains("`maxBytes`"), "{bad}");
        }
        let bad = VerifyEvent::parse(json!({"instanceId": "i-0123456789abcdef0", "extra": 1})).unwrap_err();
        assert!(bad.to_string().contains("extra"), "{bad}");
        let good = VerifyEvent::parse(json!({"instanceId": "i-0123456789abcdef0", "round": 3})).unwrap();
        assert_eq!((good.round, good.target()), (Some(3), (TargetKind::Ec2, "i-0123456789abcdef0")));
        let efs = json!({"fileSystemId": "fs-0123456789abcdef0", "restore": true});
        assert_eq!(VerifyEvent::parse(efs).unwrap().target(), (TargetKind::Efs, "fs-0123456789abcdef0"));
        let ontap = json!({"fsxId": "fsvol-0123456789abcdef0", "restore": true});
        assert_eq!(VerifyEvent::parse(ontap).unwrap().target(), (TargetKind::Fsx, "fsvol-0123456789abcdef0"));
        for (bad, field) in [
            (json!({"fileSystemId": "fs-0123456789abcdef0"}), "`restore`"),
            (json!({"fileSystemId": "fs-0123456789abcdef0", "restore": true, "maxBytes": 524_288}), "`maxBytes`"),
            (json!({"fileSystemId": "fs-0123", "restore": true}), "`fileSystemId`"),
            (json!({"instanceId": "i-0123456789abcdef0", "fileSystemId": "fs-0123456789abcdef0"}), "`fileSystemId`"),
            (json!({"round": 1}), "`instanceId`"),
            (json!({"fsxId": "fsvol-0123456789abcdef0"}), "`restore`"),
            (json!({"fsxId": "vol-0123456789abcdef0", "restore": true}), "`fsxId`"),
        ] {
            let error = VerifyEvent::parse(bad).unwrap_err().to_string();
            assert!(error.contains(field), "{field}: {error}");
        }
    }

    #[test]
    fn the_action_says_which_step_and_none_is_one_check() {
        let check = VerifyRequest::parse(json!({"instanceId": "i-0123456789abcdef0"})).unwrap();
        assert!(matches!(check, VerifyRequest::Check(_)));
        let start = VerifyRequest::parse(json!({"action": "start", "runId": "verify-1"})).unwrap();
        assert!(matches!(start, VerifyRequest::Start(VerifyStart { ref run_id }) if run_id.as_str() == "verify-1"));
        let record = json!({"action": "record", "runId": "verify-1", "round": 2,
                            "results": {"bucket": "b", "key": "results/m.json"}});
        assert!(matches!(VerifyRequest::parse(record).unwrap(), VerifyRequest::Record(VerifyRecord { round: 2, .. })));
        let bad = VerifyRequest::parse(json!({"action": "restore", "runId": "verify-1"})).unwrap_err();
        assert!(bad.to_string().contains("`action`"), "{bad}");
        let bad = VerifyRequest::parse(json!({"action": "record", "runId": "verify-1"})).unwrap_err();
        assert!(bad.to_string().contains("round"), "{bad}");
        let bad = VerifyRequest::parse(json!({"action": "start", "runId": "a:b"})).unwrap_err();
        assert!(bad.to_string().contains("`runId`"), "{bad}");
    }
}
