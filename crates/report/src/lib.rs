//! report: the scheduled workflow's last step. Reads every target's result from what the Distributed Maps
//! wrote to the stack's bucket, writes the run's full report there, and returns its totals and failed
//! targets, the execution's output.

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use snapmgmt_core::aws::{aws_sdk_s3, SdkConfig};
use snapmgmt_core::config::ReportConfig;
use snapmgmt_core::model::{parse_event, ReportEvent, RunSummary};
use snapmgmt_core::serve::Function;
use snapmgmt_core::Result;

/// The report's one client: the stack's bucket.
pub struct Report {
    pub s3: aws_sdk_s3::Client,
}

impl Function for Report {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Settings = ReportConfig;
    type Output = RunSummary;

    fn settings() -> Result<ReportConfig> {
        ReportConfig::from_env()
    }

    fn new(sdk: &SdkConfig, _: Option<&ReportConfig>) -> Self {
        Self { s3: snapmgmt_core::aws::s3::client(sdk) }
    }

    async fn handle(&self, config: &ReportConfig, event: LambdaEvent<Value>) -> Result<RunSummary> {
        let request: ReportEvent = parse_event(event.payload)?;
        snapmgmt_core::report::build(&self.s3, config, &request).await
    }
}
