//! check-in-progress: is a backup of this file system under way, has the new backup become AVAILABLE,
//! has an instance's snapshot run completed (and then, its snapshots named by instance and device, with the
//! instance's allow-listed tags, COPY_TAGS)?
//! The workflow's wait loops call it and read `status` and `attempt`.

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use snapmgmt_core::aws::{aws_sdk_ec2, aws_sdk_fsx, aws_sdk_ssm, SdkConfig};
use snapmgmt_core::model::{CheckEvent, CheckResult, FsxBackupCheck, FsxCheck};
use snapmgmt_core::serve::Function;
use snapmgmt_core::tags::CopyTags;
use snapmgmt_core::{ec2, fsx, Result};

/// The clients of the checks: FSx for backups, EC2 and SSM for snapshot runs.
pub struct CheckInProgress {
    pub fsx: aws_sdk_fsx::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub ssm: aws_sdk_ssm::Client,
}

impl Function for CheckInProgress {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    /// COPY_TAGS: a completed EBS set is tagged with them.
    type Settings = CopyTags;
    type Output = CheckResult;

    fn settings() -> Result<CopyTags> {
        snapmgmt_core::config::copy_tags_from_env()
    }

    fn new(sdk: &SdkConfig, _: Option<&CopyTags>) -> Self {
        Self {
            fsx: aws_sdk_fsx::Client::new(sdk),
            ec2: aws_sdk_ec2::Client::new(sdk),
            ssm: aws_sdk_ssm::Client::new(sdk),
        }
    }

    async fn handle(&self, copy_tags: &CopyTags, event: LambdaEvent<Value>) -> Result<CheckResult> {
        match CheckEvent::parse(event.payload)? {
            CheckEvent::Fsx(FsxCheck { file_system_id, attempt, .. }) => {
                fsx::check_backup_in_progress(&self.fsx, &file_system_id, attempt).await
            }
            CheckEvent::FsxBackup(FsxBackupCheck { backup_id, attempt, .. }) => {
                fsx::check_backup_available(&self.fsx, &backup_id, attempt).await
            }
            CheckEvent::Ec2Snapshot(check) => {
                let clients = ec2::Clients { ec2: &self.ec2, ssm: &self.ssm };
                ec2::check_snapshot_run(clients, &check, copy_tags).await
            }
        }
    }
}
