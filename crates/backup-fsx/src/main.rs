//! backup-fsx: takes one user-initiated backup of an FSx file system (or ONTAP volume), tagged as ours at
//! creation with the source's allow-listed tags (COPY_TAGS), with an idempotency token derived from the
//! execution so that a retry never makes a second backup. Asked `"action": "copy"`, it copies a completed
//! backup to the copy Region (COPY_REGION), once.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::config::BackupSettings;
use snapmgmt_core::logging::Instrument;
use snapmgmt_core::model::{parse_event, BackupFsxEvent, BackupFsxResult, CopyFsxEvent, CopyResult};
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

/// The copy settings and the copy Region's client, made once at start.
type Copying = snapmgmt_core::copy::Copying<FsxClient>;

async fn copy_handler(
    source: &FsxClient,
    copying: &Result<Copying>,
    settings: &Result<BackupSettings>,
    mut request: CopyFsxEvent,
    request_id: &str,
) -> Result<CopyResult> {
    let dry_run = settings.as_ref().map_err(Clone::clone)?.dry_run;
    let copying = copying.as_ref().map_err(Clone::clone)?;
    request.dry_run = dry_run.applied_to(request.dry_run);
    fsx::copy::copy_backup(copying.regions(source)?, &request, copying.settings.kms_key_id.as_deref(), request_id).await
}

/// A backup, or (`"action": "copy"`) a copy.
async fn route(
    fsx_client: &FsxClient,
    settings: &Result<BackupSettings>,
    copying: &Result<Copying>,
    event: LambdaEvent<Value>,
) -> Result<Value> {
    if event.payload.get("action").is_none() {
        let result = handler(fsx_client, settings, event).await?;
        return Ok(serde_json::to_value(result).expect("the result serialises"));
    }
    let request = CopyFsxEvent::parse(event.payload)?;
    let result = copy_handler(fsx_client, copying, settings, request, &event.context.request_id).await?;
    Ok(serde_json::to_value(result).expect("the result serialises"))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let settings = snapmgmt_core::config::logged_at_start(BackupSettings::from_env());
    let sdk_config = snapmgmt_core::aws::load_config("backup-fsx", snapmgmt_core::aws::CallPattern::Steady).await;
    let fsx_client = FsxClient::new(&sdk_config);
    let copying = Copying::at_start(&sdk_config, FsxClient::new);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = snapmgmt_core::logging::invocation_span("backup-fsx", &event.payload);
        route(&fsx_client, &settings, &copying, event).instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests;
