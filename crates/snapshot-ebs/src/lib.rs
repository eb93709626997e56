//! snapshot-ebs: starts this attempt's EBS snapshot run of one instance: the SSM Automation document
//! (mode `ssm`: scripts, I/O freeze, one multi-volume set, thaw) or CreateSnapshots itself (mode `direct`).
//! A retried invocation gets the same run back; a retried attempt replaces the sets of failed ones.
//! Asked `"action": "copy"`, it copies a completed set to the copy Region (COPY_REGION), each snapshot once.

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use snapmgmt_core::aws::{aws_sdk_ec2, aws_sdk_ssm, SdkConfig};
use snapmgmt_core::config::{DryRunSetting, SnapshotConfig};
use snapmgmt_core::model::{parse_event, BackupOrCopy, CopyEc2Event, CopyResult, SnapshotEbsEvent, SnapshotEbsResult};
use snapmgmt_core::serve::Function;
use snapmgmt_core::{ec2, Result};

/// The copy settings and the copy Region's client, made once at start.
pub type Copying = snapmgmt_core::copy::Copying<aws_sdk_ec2::Client>;

/// EC2 and SSM in the stack's Region, and the copying to the copy Region (its settings' error, when they are
/// bad: only a copy fails with it).
pub struct SnapshotEbs {
    pub ec2: aws_sdk_ec2::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub copying: Result<Copying>,
}

impl Function for SnapshotEbs {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    type Settings = (SnapshotConfig, DryRunSetting);
    type Output = BackupOrCopy<SnapshotEbsResult>;

    fn settings() -> Result<Self::Settings> {
        Ok((SnapshotConfig::from_env()?, DryRunSetting::from_env()?))
    }

    fn new(sdk: &SdkConfig, _: Option<&Self::Settings>) -> Self {
        Self {
            ec2: aws_sdk_ec2::Client::new(sdk),
            ssm: aws_sdk_ssm::Client::new(sdk),
            copying: Copying::at_start(sdk, aws_sdk_ec2::Client::new),
        }
    }

    /// A snapshot run, or (`"action": "copy"`) a copy.
    async fn handle(&self, settings: &Self::Settings, event: LambdaEvent<Value>) -> Result<Self::Output> {
        let (config, dry_run) = settings;
        let request_id = &event.context.request_id;
        if event.payload.get("action").is_none() {
            let mut request: SnapshotEbsEvent = parse_event(event.payload)?;
            request.dry_run = dry_run.applied_to(request.dry_run);
            let clients = ec2::Clients { ec2: &self.ec2, ssm: &self.ssm };
            return Ok(BackupOrCopy::Backup(ec2::snapshot_instance(clients, config, &request, request_id).await?));
        }
        let request = CopyEc2Event::parse(event.payload)?;
        Ok(BackupOrCopy::Copy(self.copy(*dry_run, request, request_id).await?))
    }
}

impl SnapshotEbs {
    async fn copy(&self, dry_run: DryRunSetting, mut request: CopyEc2Event, request_id: &str) -> Result<CopyResult> {
        let copying = self.copying.as_ref().map_err(Clone::clone)?;
        request.dry_run = dry_run.applied_to(request.dry_run);
        let kms_key_id = copying.settings.kms_key_id.as_deref();
        ec2::copy::copy_set(copying.regions(&self.ec2)?, &request, kms_key_id, request_id).await
    }
}
