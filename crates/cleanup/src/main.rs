//! cleanup: deletes the expired backups (FSx), snapshot sets (EBS) or recovery points (EFS) of one target,
//! as the retention rule allows, once this run's backup has completed; or, named with `region`, the copies of
//! an instance's sets in the copy Region, once this run's copies completed. Returns what was deleted, kept
//! (and why) and failed.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::aws_sdk_backup::Client as BackupClient;
use snapmgmt_core::aws::aws_sdk_ec2::Client as Ec2Client;
use snapmgmt_core::aws::aws_sdk_efs::Client as EfsClient;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::cleanup::{self, Request};
use snapmgmt_core::config::{CleanupConfig, CopySettings};
use snapmgmt_core::ebs::EbsStore;
use snapmgmt_core::efs::EfsStore;
use snapmgmt_core::fsx::FsxStore;
use snapmgmt_core::logging::Instrument;
use snapmgmt_core::model::{CleanupEvent, CleanupReport, RunId, TargetKind, REPORT_ID_LIMIT};
use snapmgmt_core::{Error, Result};

/// Deletes stop starting this long before Lambda's deadline: the ones in flight end within their operation
/// timeout, and the partial report is returned in time.
const BUDGET_MARGIN: std::time::Duration =
    snapmgmt_core::aws::CallPattern::Bursty.operation_timeout().saturating_add(std::time::Duration::from_secs(15));

/// The clients of the cleanup: one per kind of backup it deletes, and EC2 in the copy Region (COPY_REGION).
#[derive(Clone, Copy)]
struct Clients<'a> {
    fsx: &'a FsxClient,
    ec2: &'a Ec2Client,
    efs: snapmgmt_core::efs::Clients<'a>,
    copy_ec2: Option<&'a Ec2Client>,
}

async fn handler(
    clients: Clients<'_>,
    settings: &Result<CleanupConfig>,
    event: LambdaEvent<Value>,
) -> Result<CleanupReport> {
    // A bad setting fails every invocation, before the event is read or AWS is called.
    let CleanupConfig { retention, dry_run, backup_vault_name, delete_orphans, adopt_original_sample, copy } =
        settings.clone()?;
    let budget_end = snapmgmt_core::concurrent::budget_end(event.context.deadline, BUDGET_MARGIN);
    let event = CleanupEvent::parse(event.payload)?;
    let mut retention = retention.with_delete_limit(event.max_delete_percent);
    let report_only_orphan = event.orphan && !delete_orphans;
    if report_only_orphan {
        // Only reported: the guard, which stops deletes, would fail every night a run that deletes nothing.
        retention.max_delete_percent = 100;
    }
    let request = Request {
        target_id: &event.target_id,
        new_backup: event.new_backup.as_deref(),
        new_backup_field: event.new_backup_field(),
        run_id: event.run_id.as_ref().map(RunId::as_str),
        // An orphan's backups are only reported unless DELETE_ORPHANS says otherwise.
        dry_run: dry_run.applied_to(event.dry_run) || report_only_orphan,
        now: snapmgmt_core::now_epoch_seconds(),
        budget_end,
        orphan: event.orphan,
        adopt: adopt_original_sample,
        policy_override: None,
    };
    let report = match event.kind {
        TargetKind::Fsx => cleanup::run(&FsxStore { client: clients.fsx }, retention, request).await?,
        TargetKind::Ec2 => {
            // Named with a region: the copies there, under the copy policy (default: the source's).
            let (client, request) = match &event.region {
                None => (clients.ec2, request),
                Some(region) => (
                    copy_region_client(clients, &copy, region)?,
                    Request { policy_override: copy.retention, ..request },
                ),
            };
            cleanup::run(&EbsStore { client, instances: clients.ec2 }, retention, request).await?
        }
        TargetKind::Efs => {
            let Some(vault) = backup_vault_name.as_deref() else {
                return Err(Error::InvalidSetting {
                    name: "BACKUP_VAULT_NAME",
                    value: String::new(),
                    reason: "is required to clean EFS recovery points: the stack's vault".into(),
                });
            };
            cleanup::run(&EfsStore { clients: clients.efs, vault }, retention, request).await?
        }
    };
    snapmgmt_core::logging::cleanup_report(&report);
    Ok(report.capped(REPORT_ID_LIMIT))
}

/// The copy Region's EC2 client, when `region` is that Region.
fn copy_region_client<'a>(clients: Clients<'a>, copy: &CopySettings, region: &str) -> Result<&'a Ec2Client> {
    let (Some(copy_region), Some(copy_ec2)) = (copy.region.as_deref(), clients.copy_ec2) else {
        return Err(Error::invalid_event("region", format!("{region}: COPY_REGION is not set, no copies are made")));
    };
    if region != copy_region {
        return Err(Error::invalid_event("region", format!("{region} is not the copy Region ({copy_region})")));
    }
    Ok(copy_ec2)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let settings = snapmgmt_core::config::logged_at_start(CleanupConfig::from_env());
    let sdk_config = snapmgmt_core::aws::load_config("cleanup", snapmgmt_core::aws::CallPattern::Bursty).await;
    let (fsx, ec2) = (FsxClient::new(&sdk_config), Ec2Client::new(&sdk_config));
    let (efs, backup) = (EfsClient::new(&sdk_config), BackupClient::new(&sdk_config));
    let copy_region = settings.as_ref().ok().and_then(|s| s.copy.region.as_deref());
    let copy_ec2 = copy_region.map(|region| snapmgmt_core::aws::ec2::client_in(&sdk_config, region));
    let efs_clients = snapmgmt_core::efs::Clients { efs: &efs, backup: &backup };
    let clients = Clients { fsx: &fsx, ec2: &ec2, efs: efs_clients, copy_ec2: copy_ec2.as_ref() };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = snapmgmt_core::logging::invocation_span("cleanup", &event.payload);
        handler(clients, &settings, event).instrument(span)
    }))
    .await
}

#[cfg(test)]
mod adopt_tests;
#[cfg(test)]
mod copy_tests;
#[cfg(test)]
mod efs_tests;
#[cfg(test)]
mod ontap_tests;
#[cfg(test)]
mod orphan_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tier_tests;
