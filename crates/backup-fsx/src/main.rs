//! backup-fsx: takes one user-initiated backup of an FSx file system (or ONTAP volume), tagged as ours at
//! creation with the source's allow-listed tags (COPY_TAGS), with an idempotency token derived from the
//! execution so that a retry never makes a second backup.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::config::BackupSettings;
use snapmgmt_core::logging::Instrument;
use snapmgmt_core::model::{parse_event, BackupFsxEvent, BackupFsxResult};
use snapmgmt_core::{fsx, Result};

async fn handler(
    fsx_client: &FsxClient,
    settings: &Result<BackupSettings>,
    event: LambdaEvent<Value>,
) -> Result<BackupFsxResult> {
    // A bad setting fails every invocation, before the event is read or AWS is called.
    let settings = settings.as_ref().map_err(Clone::clone)?;
    let mut request: BackupFsxEvent = parse_event(event.payload)?;
    request.dry_run = settings.dry_run.applied_to(request.dry_run);
    fsx::backup_file_system(fsx_client, &request, &settings.copy_tags, &event.context.request_id).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let settings = snapmgmt_core::config::logged_at_start(BackupSettings::from_env());
    let fsx_client =
        FsxClient::new(&snapmgmt_core::aws::load_config("backup-fsx", snapmgmt_core::aws::CallPattern::Steady).await);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = snapmgmt_core::logging::invocation_span("backup-fsx", &event.payload);
        handler(&fsx_client, &settings, event).instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests;
