//! efs-backup: the EFS backup SOP as a function. `start` starts an AWS Backup job of one file system
//! (idempotent per execution, our tags and the file system's allow-listed ones on the recovery point);
//! `status` reports how the job is doing; `copy` copies a completed recovery point to the vault in the
//! copy Region (COPY_REGION, COPY_BACKUP_VAULT_NAME) with a copy job, once, and follows it.

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use snapmgmt_core::aws::{aws_sdk_backup, aws_sdk_efs, SdkConfig};
use snapmgmt_core::config::{BackupSettings, EfsBackupConfig};
use snapmgmt_core::efs::copy::CopyVaults;
use snapmgmt_core::model::{BackupOrCopy, CopyEfsEvent, CopyResult, EfsBackupEvent, EfsBackupResult};
use snapmgmt_core::serve::Function;
use snapmgmt_core::{efs, Result};

/// The copy settings and the copy Region's client, made once at start.
pub type Copying = snapmgmt_core::copy::Copying<aws_sdk_backup::Client>;

/// EFS and AWS Backup in the stack's Region, and the copying to the copy Region (its settings' error, when
/// they are bad: only a copy fails with it).
pub struct EfsBackup {
    pub efs: aws_sdk_efs::Client,
    pub backup: aws_sdk_backup::Client,
    pub copying: Result<Copying>,
}

impl Function for EfsBackup {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Settings = (EfsBackupConfig, BackupSettings);
    type Output = BackupOrCopy<EfsBackupResult>;

    fn settings() -> Result<Self::Settings> {
        Ok((EfsBackupConfig::from_env()?, BackupSettings::from_env()?))
    }

    fn new(sdk: &SdkConfig, _: Option<&Self::Settings>) -> Self {
        Self {
            efs: aws_sdk_efs::Client::new(sdk),
            backup: aws_sdk_backup::Client::new(sdk),
            copying: Copying::at_start(sdk, aws_sdk_backup::Client::new),
        }
    }

    async fn handle(&self, settings: &Self::Settings, event: LambdaEvent<Value>) -> Result<Self::Output> {
        let (config, settings) = settings;
        let request_id = &event.context.request_id;
        let clients = efs::Clients { efs: &self.efs, backup: &self.backup };
        let result = match EfsBackupEvent::parse(event.payload)? {
            EfsBackupEvent::Start(mut start) => {
                start.dry_run = settings.dry_run.applied_to(start.dry_run);
                efs::start_backup(clients, config, settings, &start, request_id).await?
            }
            EfsBackupEvent::Status(status) => efs::backup_status(&self.backup, &status).await?,
            EfsBackupEvent::Copy(mut copy) => {
                copy.dry_run = settings.dry_run.applied_to(copy.dry_run);
                return Ok(BackupOrCopy::Copy(self.copy(config, &copy, request_id).await?));
            }
        };
        Ok(BackupOrCopy::Backup(result))
    }
}

impl EfsBackup {
    async fn copy(&self, config: &EfsBackupConfig, request: &CopyEfsEvent, request_id: &str) -> Result<CopyResult> {
        let copying = self.copying.as_ref().map_err(Clone::clone)?;
        let regions = copying.regions(&self.backup)?;
        let vaults = CopyVaults::of(config, &copying.settings)?;
        efs::copy::copy_recovery_point(regions, vaults, request, request_id).await
    }
}
