//! cleanup: deletes the expired backups of one target, as the retention rule allows, once this run's
//! backup has completed. Returns what was deleted, kept (and why) and failed.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::config::RetentionConfig;
use snapmgmt_core::fsx::{self, CleanupRequest};
use snapmgmt_core::model::{CleanupEvent, CleanupReport, FsxCleanup};
use snapmgmt_core::Result;

async fn handler(
    fsx_client: &FsxClient,
    retention: &Result<RetentionConfig>,
    event: LambdaEvent<Value>,
) -> Result<CleanupReport> {
    // A bad setting fails every invocation, before the event is read or AWS is called.
    let retention = retention.clone()?;
    match CleanupEvent::parse(event.payload)? {
        CleanupEvent::Fsx(FsxCleanup { file_system_id, new_backup_id, dry_run }) => {
            let request = CleanupRequest {
                file_system_id: &file_system_id,
                new_backup_id: new_backup_id.as_deref(),
                dry_run,
                now: snapmgmt_core::now_epoch_seconds(),
            };
            fsx::cleanup_file_system(fsx_client, retention, request).await
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let retention = RetentionConfig::from_env();
    if let Err(e) = &retention {
        tracing::error!(error = %e, "invalid setting: every invocation will fail until it is fixed");
    }
    let fsx_client = FsxClient::new(&snapmgmt_core::aws::load_config().await);
    lambda_runtime::run(service_fn(|event| handler(&fsx_client, &retention, event))).await
}

#[cfg(test)]
mod tests;
