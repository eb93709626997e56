//! backup-fsx: takes one user-initiated backup of an FSx file system, tagged as ours at creation,
//! with an idempotency token derived from the execution so that a retry never makes a second backup.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::logging::Instrument;
use snapmgmt_core::model::{parse_event, BackupFsxEvent, BackupFsxResult};
use snapmgmt_core::{fsx, Result};

async fn handler(fsx_client: &FsxClient, event: LambdaEvent<Value>) -> Result<BackupFsxResult> {
    let request: BackupFsxEvent = parse_event(event.payload)?;
    fsx::backup_file_system(fsx_client, &request, &event.context.request_id).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let fsx_client = FsxClient::new(&snapmgmt_core::aws::load_config(snapmgmt_core::aws::CallPattern::Steady).await);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = snapmgmt_core::logging::invocation_span("backup-fsx", &event.payload);
        handler(&fsx_client, event).instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests;
