//! The run's report: what the report function is invoked with (where each Map's results are), the full
//! report it writes, and the execution's output.

use serde::{Deserialize, Serialize};

use super::per_kind::read_kinds;
use super::{PerKind, RunId, SearchFailure, Skipped, TargetKind, TargetResult, Totals, Validate};
use crate::error::{Error, Result};

/// Where a Distributed Map's ResultWriter put its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResultLocation {
    pub bucket: String,
    pub key: String,
}

/// What the report function is invoked with: the run, and where each kind's results are.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportEvent {
    pub run_id: String,
    #[serde(default)]
    pub dry_run: bool,
    pub results: ResultsPerKind,
    /// The workflow's execution, for the logs and the report.
    #[serde(default)]
    pub execution_id: Option<String>,
}

/// Where each Map wrote its results: one location per kind, and the orphans'. Read strictly (a field it
/// does not know is refused, naming it), as the report's event is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsPerKind {
    pub kinds: PerKind<ResultLocation>,
    /// The orphans' Map (absent from runs of versions before it).
    pub orphans: Option<ResultLocation>,
}

impl ResultsPerKind {
    pub fn of(&self, kind: TargetKind) -> &ResultLocation {
        &self.kinds[kind]
    }
}

impl<'de> Deserialize<'de> for ResultsPerKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct ResultsVisitor;
        impl<'de> serde::de::Visitor<'de> for ResultsVisitor {
            type Value = ResultsPerKind;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("each Map's results location: one per kind, and the orphans'")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> std::result::Result<Self::Value, A::Error> {
                let mut orphans = None;
                let kinds = read_kinds(map, |key, map| match key.as_str() {
                    "orphans" => {
                        orphans = map.next_value()?;
                        Ok(())
                    }
                    _ => Err(serde::de::Error::custom(format!("unknown field `{key}`, expected a kind or `orphans`"))),
                })?;
                Ok(ResultsPerKind { kinds, orphans })
            }
        }
        deserializer.deserialize_map(ResultsVisitor)
    }
}

impl Validate for ReportEvent {
    fn validate(&self) -> Result<()> {
        RunId::new("runId", &self.run_id)?;
        let kinds = TargetKind::ALL.map(|kind| (kind.as_str(), Some(self.results.of(kind))));
        for (name, location) in kinds.into_iter().chain([("orphans", self.results.orphans.as_ref())]) {
            let Some(location) = location else { continue };
            let field = format!("results.{name}.key");
            if !(location.key.starts_with("results/") && location.key.ends_with("/manifest.json")) {
                return Err(Error::invalid_event(field, format!("{:?} is not a results manifest", location.key)));
            }
        }
        Ok(())
    }
}

/// A failed target, as the execution's output lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedTarget {
    pub kind: TargetKind,
    pub target_id: String,
    pub error: String,
}

/// The full report of a run, written to the bucket: every target's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub run_id: String,
    /// The snapmgmt version that wrote the report.
    #[serde(default)]
    pub version: String,
    pub execution_id: Option<String>,
    pub dry_run: bool,
    pub totals: Totals,
    pub failed_targets: Vec<FailedTarget>,
    /// Tagged resources the trigger did not back up, with the reason.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// Targets with no completed backup for longer than STALE_AFTER_HOURS, oldest first.
    #[serde(default)]
    pub without_recent_backup: Vec<StaleTarget>,
    /// Targets of earlier runs that this run did not have, last seen first (kept for STALE_AFTER_HOURS plus
    /// DISAPPEARED_GRACE_HOURS).
    #[serde(default)]
    pub disappeared: Vec<DisappearedTarget>,
    /// By how much (percent) this run's targets fell short of the last run's.
    #[serde(default)]
    pub target_drop_percent: u32,
    /// Every target's result, by kind: `fsx`, `ec2`, `efs` in the JSON.
    #[serde(flatten)]
    pub results: PerKind<Vec<TargetResult>>,
    /// Resources that are no longer targets, with their backups' ages and what was (or would be) deleted.
    #[serde(default)]
    pub orphans: Vec<TargetResult>,
    /// Where the orphan search could not look this night (a kind, in a Region): its orphans there are
    /// neither reported nor cleaned until it can.
    #[serde(default)]
    pub orphan_search_failures: Vec<SearchFailure>,
}

/// Failed targets the execution's output names; all of them are in the full report.
pub const FAILED_TARGETS_LISTED: usize = 100;

/// The execution's output: the totals, the failed targets (cut to [`FAILED_TARGETS_LISTED`], saying so),
/// and where the full report is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub run_id: String,
    pub dry_run: bool,
    pub totals: Totals,
    pub failed_targets: Vec<FailedTarget>,
    pub failed_targets_truncated: bool,
    /// Targets with no completed backup for too long (the first [`FAILED_TARGETS_LISTED`]), and how many.
    pub without_recent_backup: Vec<StaleTarget>,
    pub without_recent_backup_count: usize,
    /// Where the orphan search could not look (the first [`FAILED_TARGETS_LISTED`]; the report has all).
    #[serde(default)]
    pub orphan_search_failures: Vec<SearchFailure>,
    pub report: ResultLocation,
}

/// A target of an earlier run that this run did not have (crate::freshness keeps them for a while).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisappearedTarget {
    pub kind: TargetKind,
    pub target_id: String,
    /// When a run last had it as a target (Unix seconds).
    pub last_seen: i64,
    /// When its backup last completed (Unix seconds); None: never.
    pub last_completed: Option<i64>,
    /// Why it is gone, when its orphan's cleanup could tell: deleted or terminated, or no longer tagged.
    pub reason: String,
}

/// A target with no completed backup for longer than allowed (crate::freshness finds them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaleTarget {
    pub kind: TargetKind,
    pub target_id: String,
    /// When its backup last completed (Unix seconds); None: never, since it was first seen.
    pub last_completed: Option<i64>,
    /// Hours since then (or since it was first seen).
    pub hours_without_backup: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_report_event_reads_each_kinds_results_and_refuses_a_field_it_does_not_know() {
        let at = |kind: &str| json!({"bucket": "b", "key": format!("results/r/{kind}/manifest.json")});
        let mut results = json!({"fsx": at("fsx"), "ec2": at("ec2"), "efs": at("efs")});
        let event = |results: &serde_json::Value| json!({"runId": "r", "results": results});
        let read: ReportEvent = crate::model::parse_event(event(&results)).unwrap();
        assert_eq!(read.results.of(TargetKind::Efs).key, "results/r/efs/manifest.json");
        assert_eq!(read.results.orphans, None);
        results["orphans"] = at("orphans");
        let read: ReportEvent = crate::model::parse_event(event(&results)).unwrap();
        assert_eq!(read.results.orphans.unwrap().key, "results/r/orphans/manifest.json");
        results["ebs"] = at("ebs");
        let err = crate::model::parse_event::<ReportEvent>(event(&results)).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field.starts_with("results")), "{err}");
        assert!(err.to_string().contains("unknown field `ebs`"), "{err}");
        let err =
            crate::model::parse_event::<ReportEvent>(event(&json!({"fsx": at("fsx"), "ec2": at("ec2")}))).unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "results.efs"), "{err}");
    }
}
