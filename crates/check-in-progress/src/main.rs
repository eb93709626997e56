//! check-in-progress: is a backup of this file system under way, or has the new backup become AVAILABLE?
//! The workflow's wait loops call it and read `status` and `attempt`.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::model::{CheckEvent, CheckResult, FsxBackupCheck, FsxCheck};
use snapmgmt_core::{fsx, Result};

async fn handler(fsx_client: &FsxClient, event: LambdaEvent<Value>) -> Result<CheckResult> {
    match CheckEvent::parse(event.payload)? {
        CheckEvent::Fsx(FsxCheck { file_system_id, attempt }) => {
            fsx::check_backup_in_progress(fsx_client, &file_system_id, attempt).await
        }
        CheckEvent::FsxBackup(FsxBackupCheck { backup_id, attempt }) => {
            fsx::check_backup_available(fsx_client, &backup_id, attempt).await
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let fsx_client = FsxClient::new(&snapmgmt_core::aws::load_config().await);
    lambda_runtime::run(service_fn(|event| handler(&fsx_client, event))).await
}

#[cfg(test)]
mod tests;
