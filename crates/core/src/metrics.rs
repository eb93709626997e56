//! CloudWatch metrics as Embedded Metric Format (EMF) lines on stdout: CloudWatch Logs turns each line
//! into metric data points under one namespace, with no API call and no permission beyond writing logs.

use serde_json::{json, Map, Value};

/// The namespace of every snapmgmt metric (the template's dashboard reads it).
pub const NAMESPACE: &str = "snapmgmt";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Bytes,
    Percent,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Bytes => "Bytes",
            Unit::Percent => "Percent",
        }
    }
}

/// What one action on one target amounted to, e.g. `("BackupsDeleted", 3.0, Unit::Count)`.
pub type Metric<'a> = (&'a str, f64, Unit);

/// The EMF line for one action (`backup`, `cleanup`, ...) on one target of a kind (`fsx`, `ec2`, `efs`):
/// the metrics dimensioned by Kind; the target and the action ride along as properties, searchable in
/// the logs.
pub fn emf_line(kind: &str, action: &str, target_id: &str, metrics: &[Metric], timestamp_ms: i64) -> Value {
    let definitions: Vec<Value> =
        metrics.iter().map(|(name, _, unit)| json!({"Name": name, "Unit": unit.as_str()})).collect();
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [["Kind"]], "Metrics": definitions}],
        }),
    );
    line.insert("Kind".into(), kind.into());
    line.insert("action".into(), action.into());
    line.insert("target_id".into(), target_id.into());
    for (name, value, _) in metrics {
        line.insert((*name).into(), json!(value));
    }
    Value::Object(line)
}

/// Writes the EMF line of one action, unless it was a dry run (a preview creates and deletes nothing).
pub fn emit(kind: &str, action: &str, target_id: &str, dry_run: bool, metrics: &[Metric]) {
    if dry_run || metrics.is_empty() {
        return;
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    println!("{}", emf_line(kind, action, target_id, metrics, now_ms));
}

/// The figures of one cleanup.
pub fn cleanup(kind: &str, report: &crate::model::CleanupReport) {
    let counts = &report.counts;
    let metrics = [
        ("BackupsDeleted", counts.deleted as f64, Unit::Count),
        ("BackupsKept", counts.kept as f64, Unit::Count),
        ("DeleteFailures", counts.failed as f64, Unit::Count),
    ];
    emit(kind, "cleanup", &report.target_id, report.dry_run, &metrics);
}

/// The end of one backup's wait: created (AVAILABLE, completed), or failed.
pub fn backup_finished(kind: &str, target_id: &str, status: crate::model::CheckStatus, bytes: Option<i64>) {
    use crate::model::CheckStatus;
    let mut metrics = match status {
        CheckStatus::Ready => vec![("BackupsCreated", 1.0, Unit::Count)],
        CheckStatus::Failed => vec![("BackupsFailed", 1.0, Unit::Count)],
        CheckStatus::InProgress => return,
    };
    metrics.extend(bytes.map(|b| ("BackupBytes", b as f64, Unit::Bytes)));
    emit(kind, "backup", target_id, false, &metrics);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What CloudWatch requires of an EMF line: every metric declared under `_aws` is a number at the top
    /// level, every dimension a string at the top level, the timestamp in milliseconds.
    #[test]
    fn a_line_is_valid_embedded_metric_format() {
        let metrics = [("BackupsDeleted", 3.0, Unit::Count), ("BackupBytes", 1024.0, Unit::Bytes)];
        let line = emf_line("fsx", "cleanup", "fs-0123456789abcdef0", &metrics, 1_795_000_000_000);
        let text = line.to_string();
        assert!(!text.contains('\n'), "one line");
        let aws = &line["_aws"];
        assert_eq!(aws["Timestamp"], 1_795_000_000_000_i64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        for dimension_set in directive["Dimensions"].as_array().unwrap() {
            for dimension in dimension_set.as_array().unwrap() {
                assert!(line[dimension.as_str().unwrap()].is_string(), "{dimension}");
            }
        }
        let declared = directive["Metrics"].as_array().unwrap();
        assert_eq!(declared.len(), 2);
        for metric in declared {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name}");
            assert!(["Count", "Bytes"].contains(&metric["Unit"].as_str().unwrap()));
        }
        assert_eq!(line["target_id"], "fs-0123456789abcdef0");
    }
}
