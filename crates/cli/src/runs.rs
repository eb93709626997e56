//! `runs` and `report`: the state machine's executions, and the full reports the runs wrote to the bucket.

use serde::Deserialize;
use serde::Serialize;
use snapmgmt_core::aws::aws_sdk_s3::Client as S3Client;
use snapmgmt_core::aws::aws_sdk_sfn::Client as SfnClient;
use snapmgmt_core::model::{report_key, RunReport, TargetResult, Totals};

use crate::args::RunRef;
use crate::Failure;

/// One run, as `runs` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// The run id: the execution's name, and the report's (`reports/RUN.json`).
    pub run: String,
    pub status: String,
    pub started: i64,
    pub stopped: Option<i64>,
    /// What the execution's output says; none while it runs, or when it failed before its report.
    pub dry_run: Option<bool>,
    pub totals: Option<Totals>,
    #[serde(skip)]
    execution_arn: String,
}

/// What the state machine's output holds of the run (its Report state's ResultSelector).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionOutput {
    dry_run: bool,
    totals: Totals,
}

impl Run {
    pub fn succeeded(&self) -> bool {
        self.status == "SUCCEEDED" || self.status == "RUNNING"
    }
}

/// The newest `limit` runs, newest first, as the execution list has them: one call, no totals yet.
pub async fn listed(sfn: &SfnClient, state_machine_arn: &str, limit: i32) -> Result<Vec<Run>, Failure> {
    let listed = sfn
        .list_executions()
        .state_machine_arn(state_machine_arn)
        .max_results(limit)
        .send()
        .await
        .map_err(|e| Failure::aws("sfn", "ListExecutions", e))?;
    Ok(listed
        .executions()
        .iter()
        .map(|execution| Run {
            run: execution.name().to_string(),
            status: execution.status().as_str().to_string(),
            started: execution.start_date().secs(),
            stopped: execution.stop_date().map(|d| d.secs()),
            dry_run: None,
            totals: None,
            execution_arn: execution.execution_arn().to_string(),
        })
        .collect())
}

/// Describes a few executions at once, well inside DescribeExecution's rate limit.
const DESCRIBED_AT_ONCE: usize = 4;

/// Each listed run with its totals, from its execution's output (DescribeExecution, a call per run).
pub async fn with_totals(sfn: &SfnClient, runs: Vec<Run>) -> Result<Vec<Run>, Failure> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    stream::iter(runs)
        .map(|run| async move {
            let described = sfn
                .describe_execution()
                .execution_arn(&run.execution_arn)
                .send()
                .await
                .map_err(|e| Failure::aws("sfn", "DescribeExecution", e))?;
            let summary: Option<ExecutionOutput> = described.output().and_then(|o| serde_json::from_str(o).ok());
            Ok(Run { dry_run: summary.as_ref().map(|s| s.dry_run), totals: summary.map(|s| s.totals), ..run })
        })
        .buffered(DESCRIBED_AT_ONCE)
        .try_collect()
        .await
}

/// A run's full report; `last`: the newest run that wrote one (a run still going has none yet).
pub async fn report(s3: &S3Client, bucket: &str, runs: &[Run], which: &RunRef) -> Result<RunReport, Failure> {
    let candidates: Vec<&str> = match which {
        RunRef::Id(id) => vec![id.as_str()],
        RunRef::Last => runs.iter().map(|r| r.run.as_str()).collect(),
    };
    for run in candidates {
        match snapmgmt_core::aws::s3::get(s3, bucket, &report_key(run)).await {
            Ok(bytes) => {
                let mut report: RunReport = serde_json::from_slice(&bytes)
                    .map_err(|e| Failure::NoAnswer(format!("the report of {run} does not read: {e}")))?;
                failed_first(&mut report);
                return Ok(report);
            }
            Err(snapmgmt_core::Error::NotFound { .. }) => continue,
            Err(e) => return Err(Failure::NoAnswer(e.to_string())),
        }
    }
    Err(Failure::NoAnswer(match which {
        RunRef::Id(id) => format!("no report of run {id} in s3://{bucket}/reports/"),
        RunRef::Last => format!("no run of the last {} has written a report yet", runs.len()),
    }))
}

/// Each kind's results with the failed targets first (then by id), as an operator reads them.
pub fn failed_first(report: &mut RunReport) {
    let order = |r: &TargetResult| (r.error.is_none(), r.target_id.clone());
    for kind in snapmgmt_core::model::TargetKind::ALL {
        report.results[kind].sort_by_key(order);
    }
    report.orphans.sort_by_key(order);
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapmgmt_core::model::TargetKind;

    fn result(id: &str, error: Option<&str>) -> TargetResult {
        serde_json::from_value(serde_json::json!({"kind": "fsx", "targetId": id, "error": error})).unwrap()
    }

    #[test]
    fn failed_targets_come_first_then_by_id() {
        let mut report = RunReport::default();
        report.results[TargetKind::Fsx] =
            vec![result("fs-a", None), result("fs-c", Some("X")), result("fs-b", Some("Y"))];
        failed_first(&mut report);
        let ids: Vec<_> = report.results[TargetKind::Fsx].iter().map(|r| r.target_id.as_str()).collect();
        assert_eq!(ids, ["fs-b", "fs-c", "fs-a"]);
    }
}
