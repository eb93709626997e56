//! efs-backup: the EFS backup SOP as a function. `start` starts an AWS Backup job of one file system
//! (idempotent per execution, our tags and the file system's allow-listed ones on the recovery point); `status` reports how the job is doing.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::{aws_sdk_backup, aws_sdk_efs};
use snapmgmt_core::config::{BackupSettings, EfsBackupConfig};
use snapmgmt_core::logging::Instrument;
use snapmgmt_core::model::{EfsBackupEvent, EfsBackupResult};
use snapmgmt_core::{efs, Result};

async fn handler(
    clients: efs::Clients<'_>,
    config: &Result<(EfsBackupConfig, BackupSettings)>,
    event: LambdaEvent<Value>,
) -> Result<EfsBackupResult> {
    // A bad setting fails every invocation, before the event is read or AWS is called.
    let (config, settings) = config.as_ref().map_err(Clone::clone)?;
    match EfsBackupEvent::parse(event.payload)? {
        EfsBackupEvent::Start(mut start) => {
            start.dry_run = settings.dry_run.applied_to(start.dry_run);
            efs::start_backup(clients, config, &settings.copy_tags, &start, &event.context.request_id).await
        }
        EfsBackupEvent::Status(status) => efs::backup_status(clients.backup, &status).await,
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let config = snapmgmt_core::config::logged_at_start(
        EfsBackupConfig::from_env().and_then(|config| Ok((config, BackupSettings::from_env()?))),
    );
    let sdk_config = snapmgmt_core::aws::load_config("efs-backup", snapmgmt_core::aws::CallPattern::Steady).await;
    let (efs, backup) = (aws_sdk_efs::Client::new(&sdk_config), aws_sdk_backup::Client::new(&sdk_config));
    let clients = efs::Clients { efs: &efs, backup: &backup };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = snapmgmt_core::logging::invocation_span("efs-backup", &event.payload);
        handler(clients, &config, event).instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests;
