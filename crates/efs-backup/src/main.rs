//! efs-backup: the EFS backup SOP as a function. `start` starts an AWS Backup job of one file system
//! (idempotent per execution, our tags and the file system's allow-listed ones on the recovery point);
//! `status` reports how the job is doing; `copy` copies a completed recovery point to the vault in the
//! copy Region (COPY_REGION, COPY_BACKUP_VAULT_NAME) with a copy job, once, and follows it.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::{aws_sdk_backup, aws_sdk_efs};
use snapmgmt_core::config::{BackupSettings, EfsBackupConfig};
use snapmgmt_core::efs::copy::CopyVaults;
use snapmgmt_core::logging::Instrument;
use snapmgmt_core::model::{CopyEfsEvent, CopyResult, EfsBackupEvent};
use snapmgmt_core::{efs, Error, Result};

/// The copy settings and the copy Region's client, made once at start.
type Copying = snapmgmt_core::copy::Copying<aws_sdk_backup::Client>;

async fn handler(
    clients: efs::Clients<'_>,
    config: &Result<(EfsBackupConfig, BackupSettings)>,
    copying: &Result<Copying>,
    event: LambdaEvent<Value>,
) -> Result<Value> {
    // A bad setting fails every invocation, before the event is read or AWS is called.
    let (config, settings) = config.as_ref().map_err(Clone::clone)?;
    let request_id = &event.context.request_id;
    let result = match EfsBackupEvent::parse(event.payload)? {
        EfsBackupEvent::Start(mut start) => {
            start.dry_run = settings.dry_run.applied_to(start.dry_run);
            efs::start_backup(clients, config, &settings.copy_tags, &start, request_id).await?
        }
        EfsBackupEvent::Status(status) => efs::backup_status(clients.backup, &status).await?,
        EfsBackupEvent::Copy(mut copy) => {
            copy.dry_run = settings.dry_run.applied_to(copy.dry_run);
            let copied = copy_handler(clients.backup, config, copying, &copy, request_id).await?;
            return Ok(serde_json::to_value(copied).expect("the result serialises"));
        }
    };
    Ok(serde_json::to_value(result).expect("the result serialises"))
}

async fn copy_handler(
    source: &aws_sdk_backup::Client,
    config: &EfsBackupConfig,
    copying: &Result<Copying>,
    request: &CopyEfsEvent,
    request_id: &str,
) -> Result<CopyResult> {
    let copying = copying.as_ref().map_err(Clone::clone)?;
    let regions = copying.regions(source)?;
    let (Some(source_vault), Some(role_arn)) = (config.backup_vault_name.as_deref(), config.backup_role_arn.as_deref())
    else {
        return Err(Error::InvalidSetting {
            name: if config.backup_vault_name.is_none() { "BACKUP_VAULT_NAME" } else { "BACKUP_ROLE_ARN" },
            value: String::new(),
            reason: "is required to copy EFS recovery points: the stack's vault, and the role AWS Backup copies as"
                .into(),
        });
    };
    let vaults = CopyVaults {
        source_vault,
        destination_vault: copying.settings.destination_vault()?,
        role_arn,
        delete_after_days: config.delete_after_days,
    };
    efs::copy::copy_recovery_point(regions, vaults, request, request_id).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let config = snapmgmt_core::config::logged_at_start(
        EfsBackupConfig::from_env().and_then(|config| Ok((config, BackupSettings::from_env()?))),
    );
    let sdk_config = snapmgmt_core::aws::load_config("efs-backup", snapmgmt_core::aws::CallPattern::Steady).await;
    let (efs, backup) = (aws_sdk_efs::Client::new(&sdk_config), aws_sdk_backup::Client::new(&sdk_config));
    let copying = Copying::at_start(&sdk_config, aws_sdk_backup::Client::new);
    let clients = efs::Clients { efs: &efs, backup: &backup };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = snapmgmt_core::logging::invocation_span("efs-backup", &event.payload);
        handler(clients, &config, &copying, event).instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests;
