//! report: the scheduled workflow's last step. Reads every target's result from what the Distributed Maps
//! wrote to the stack's bucket, writes the run's full report there, and returns its totals and failed
//! targets, the execution's output.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::config::ReportConfig;
use snapmgmt_core::logging::Instrument;
use snapmgmt_core::model::{parse_event, ReportEvent, RunSummary};
use snapmgmt_core::Result;

async fn handler(
    s3: &snapmgmt_core::aws::aws_sdk_s3::Client,
    config: &Result<ReportConfig>,
    event: LambdaEvent<Value>,
) -> Result<RunSummary> {
    // A bad setting fails every invocation, before the event is read or AWS is called.
    let config = config.clone()?;
    let request: ReportEvent = parse_event(event.payload)?;
    snapmgmt_core::report::build(s3, &config, &request).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let config = snapmgmt_core::config::logged_at_start(ReportConfig::from_env());
    let sdk_config = snapmgmt_core::aws::load_config("report", snapmgmt_core::aws::CallPattern::Steady).await;
    let s3 = snapmgmt_core::aws::s3::client(&sdk_config);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = snapmgmt_core::logging::invocation_span("report", &event.payload);
        handler(&s3, &config, event).instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests;
