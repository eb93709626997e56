//! cleanup: deletes the expired backups (FSx), snapshot sets (EBS) or recovery points (EFS) of one target,
//! as the retention rule allows, once this run's backup has completed; or, named with `region`, the
//! target's copies in the copy Region, once this run's copy completed. Returns what was deleted, kept
//! (and why) and failed. What an event may ask is decided in the core (`cleanup::invocation`).

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use snapmgmt_core::aws::aws_sdk_backup::Client as BackupClient;
use snapmgmt_core::aws::aws_sdk_ec2::Client as Ec2Client;
use snapmgmt_core::aws::aws_sdk_efs::Client as EfsClient;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::aws::{CallPattern, SdkConfig};
use snapmgmt_core::cleanup::{self, invocation};
use snapmgmt_core::config::CleanupConfig;
use snapmgmt_core::copy::RegionClients;
use snapmgmt_core::ec2::Ec2Store;
use snapmgmt_core::efs::EfsStore;
use snapmgmt_core::fsx::FsxStore;
use snapmgmt_core::model::{CleanupEvent, CleanupReport, TargetKind, REPORT_ID_LIMIT};
use snapmgmt_core::serve::Function;
use snapmgmt_core::Result;

/// Deletes stop starting this long before Lambda's deadline: the ones in flight end within their operation
/// timeout, and the partial report is returned in time.
const BUDGET_MARGIN: std::time::Duration =
    CallPattern::Bursty.operation_timeout().saturating_add(std::time::Duration::from_secs(15));

/// The clients of the cleanup: one per kind of backup it deletes, and those of the copy Region (COPY_REGION).
pub struct Cleanup {
    pub fsx: FsxClient,
    pub ec2: Ec2Client,
    pub efs: EfsClient,
    pub backup: BackupClient,
    pub copies: Option<RegionClients>,
}

impl Function for Cleanup {
    const NAME: &'static str = env!("CARGO_PKG_NAME");
    const CALLS: CallPattern = CallPattern::Bursty;
    type Settings = CleanupConfig;
    type Output = CleanupReport;

    fn settings() -> Result<CleanupConfig> {
        CleanupConfig::from_env()
    }

    fn new(sdk: &SdkConfig, settings: Option<&CleanupConfig>) -> Self {
        let copy_region = settings.and_then(|s| s.copy.region.as_deref());
        Self {
            fsx: FsxClient::new(sdk),
            ec2: Ec2Client::new(sdk),
            efs: EfsClient::new(sdk),
            backup: BackupClient::new(sdk),
            copies: copy_region.map(|region| RegionClients::new(sdk, region)),
        }
    }

    async fn handle(&self, settings: &CleanupConfig, event: LambdaEvent<Value>) -> Result<CleanupReport> {
        let budget_end = snapmgmt_core::concurrent::budget_end(event.context.deadline, BUDGET_MARGIN);
        let event = CleanupEvent::parse(event.payload)?;
        let now = snapmgmt_core::now_epoch_seconds();
        let invocation::Invocation { retention, request, in_copy_region } =
            invocation::plan(settings, &event, now, budget_end)?;
        let copies = match (in_copy_region, &self.copies) {
            (false, _) => None,
            (true, Some(copies)) => Some(copies),
            (true, None) => unreachable!("the copy Region's clients are made whenever COPY_REGION is set"),
        };
        let report = match event.kind {
            TargetKind::Fsx => {
                let client = copies.map_or(&self.fsx, |c| &c.fsx);
                cleanup::run(&FsxStore { client, sources: &self.fsx }, retention, request).await?
            }
            TargetKind::Ec2 => {
                let client = copies.map_or(&self.ec2, |c| &c.ec2);
                let pace = settings.ec2_pace();
                let store = Ec2Store { client, instances: &self.ec2, pace: pace.as_ref() };
                cleanup::run(&store, retention, request).await?
            }
            TargetKind::Efs => {
                let vault = invocation::efs_vault(settings, in_copy_region)?;
                // The file system is read in its own Region; the points are where the vault is.
                let backup = copies.map_or(&self.backup, |c| &c.backup);
                let clients = snapmgmt_core::efs::Clients { efs: &self.efs, backup };
                cleanup::run(
                    &EfsStore { clients, vault, lifecycle_days: settings.efs_lifecycle_days },
                    retention,
                    request,
                )
                .await?
            }
        };
        snapmgmt_core::logging::cleanup_report(&report);
        Ok(report.capped(REPORT_ID_LIMIT))
    }
}
