//! backup-fsx: takes one user-initiated backup of an FSx file system (or ONTAP volume), tagged as ours at
//! creation with the source's allow-listed tags (COPY_TAGS), with an idempotency token derived from the
//! execution so that a retry never makes a second backup. Asked `"action": "copy"`, it copies a completed
//! backup to the copy Region (COPY_REGION), once.

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::aws::SdkConfig;
use snapmgmt_core::config::BackupSettings;
use snapmgmt_core::model::{parse_event, BackupFsxEvent, BackupFsxResult, BackupOrCopy, CopyFsxEvent, CopyResult};
use snapmgmt_core::serve::Function;
use snapmgmt_core::{fsx, Result};

/// The copy settings and the copy Region's client, made once at start.
pub type Copying = snapmgmt_core::copy::Copying<FsxClient>;

/// FSx in the stack's Region, and the copying to the copy Region (its settings' error, when they are bad:
/// only a copy fails with it).
pub struct BackupFsx {
    pub fsx: FsxClient,
    pub copying: Result<Copying>,
}

impl Function for BackupFsx {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Settings = BackupSettings;
    type Output = BackupOrCopy<BackupFsxResult>;

    fn settings() -> Result<BackupSettings> {
        BackupSettings::from_env()
    }

    fn new(sdk: &SdkConfig, _: Option<&BackupSettings>) -> Self {
        Self { fsx: FsxClient::new(sdk), copying: Copying::at_start(sdk, FsxClient::new) }
    }

    /// A backup, or (`"action": "copy"`) a copy.
    async fn handle(&self, settings: &BackupSettings, event: LambdaEvent<Value>) -> Result<Self::Output> {
        let request_id = &event.context.request_id;
        if event.payload.get("action").is_none() {
            let mut request: BackupFsxEvent = parse_event(event.payload)?;
            request.dry_run = settings.dry_run.applied_to(request.dry_run);
            let result = fsx::backup_file_system(&self.fsx, &request, settings, request_id).await?;
            return Ok(BackupOrCopy::Backup(result));
        }
        let request = CopyFsxEvent::parse(event.payload)?;
        Ok(BackupOrCopy::Copy(self.copy(settings, request, request_id).await?))
    }
}

impl BackupFsx {
    async fn copy(&self, settings: &BackupSettings, mut request: CopyFsxEvent, request_id: &str) -> Result<CopyResult> {
        let copying = self.copying.as_ref().map_err(Clone::clone)?;
        request.dry_run = settings.dry_run.applied_to(request.dry_run);
        let kms_key_id = copying.settings.kms_key_id.as_deref();
        fsx::copy::copy_backup(copying.regions(&self.fsx)?, &request, kms_key_id, request_id).await
    }
}
