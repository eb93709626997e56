//! cleanup: deletes the expired backups (FSx), snapshot sets (EBS) or recovery points (EFS) of one target,
//! as the retention rule allows, once this run's backup has completed; or, named with `region`, the
//! target's copies in the copy Region, once this run's copy completed. Returns what was deleted, kept
//! (and why) and failed.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::aws_sdk_backup::Client as BackupClient;
use snapmgmt_core::aws::aws_sdk_ec2::Client as Ec2Client;
use snapmgmt_core::aws::aws_sdk_efs::Client as EfsClient;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::cleanup::{self, Request};
use snapmgmt_core::config::{CleanupConfig, CopySettings};
use snapmgmt_core::copy::RegionClients;
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

/// The clients of the cleanup: one per kind of backup it deletes, and those of the copy Region (COPY_REGION).
#[derive(Clone, Copy)]
struct Clients<'a> {
    fsx: &'a FsxClient,
    ec2: &'a Ec2Client,
    efs: snapmgmt_core::efs::Clients<'a>,
    copies: Option<&'a RegionClients>,
}

async fn handler(
    clients: Clients<'_>,
    settings: &Result<CleanupConfig>,
    event: LambdaEvent<Value>,
) -> Result<CleanupReport> {
    // A bad setting fails every invocation, before the event is read or AWS is called.
    let settings = settings.clone()?;
    let ec2_pace = settings.ec2_pace();
    let CleanupConfig { retention, dry_run, backup_vault_name, delete_orphans, adopt_original_sample, copy, .. } =
        settings;
    let budget_end = snapmgmt_core::concurrent::budget_end(event.context.deadline, BUDGET_MARGIN);
    let event = CleanupEvent::parse(event.payload)?;
    let mut retention = retention.with_delete_limit(event.max_delete_percent);
    let report_only_orphan = event.orphan && !delete_orphans;
    if report_only_orphan {
        // Only reported: the guard, which stops deletes, would fail every night a run that deletes nothing.
        retention.max_delete_percent = 100;
    }
    // Named with a region: the copies there, under the copy policy (default: the source's).
    let copies = match &event.region {
        None => None,
        Some(region) => Some(copy_region_clients(clients, &copy, region)?),
    };
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
        policy_override: if copies.is_some() { copy.retention } else { None },
    };
    let report = match event.kind {
        TargetKind::Fsx => {
            let client = copies.map_or(clients.fsx, |c| &c.fsx);
            cleanup::run(&FsxStore { client, sources: clients.fsx }, retention, request).await?
        }
        TargetKind::Ec2 => {
            let client = copies.map_or(clients.ec2, |c| &c.ec2);
            cleanup::run(&EbsStore { client, instances: clients.ec2, pace: ec2_pace.as_ref() }, retention, request)
                .await?
        }
        TargetKind::Efs => {
            let vault = match copies {
                Some(_) => copy.destination_vault()?,
                None => backup_vault_name.as_deref().ok_or_else(|| Error::InvalidSetting {
                    name: "BACKUP_VAULT_NAME",
                    value: String::new(),
                    reason: "is required to clean EFS recovery points: the stack's vault".into(),
                })?,
            };
            // The file system is read in its own Region; the points are where the vault is.
            let backup = copies.map_or(clients.efs.backup, |c| &c.backup);
            let efs_clients = snapmgmt_core::efs::Clients { efs: clients.efs.efs, backup };
            cleanup::run(&EfsStore { clients: efs_clients, vault }, retention, request).await?
        }
    };
    snapmgmt_core::logging::cleanup_report(&report);
    Ok(report.capped(REPORT_ID_LIMIT))
}

/// The copy Region's clients, when `region` is that Region.
fn copy_region_clients<'a>(clients: Clients<'a>, copy: &CopySettings, region: &str) -> Result<&'a RegionClients> {
    let (Some(copy_region), Some(copies)) = (copy.region.as_deref(), clients.copies) else {
        return Err(Error::invalid_event("region", format!("{region}: COPY_REGION is not set, no copies are made")));
    };
    if region != copy_region {
        return Err(Error::invalid_event("region", format!("{region} is not the copy Region ({copy_region})")));
    }
    Ok(copies)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let settings = snapmgmt_core::config::logged_at_start(CleanupConfig::from_env());
    let sdk_config = snapmgmt_core::aws::load_config("cleanup", snapmgmt_core::aws::CallPattern::Bursty).await;
    let (fsx, ec2) = (FsxClient::new(&sdk_config), Ec2Client::new(&sdk_config));
    let (efs, backup) = (EfsClient::new(&sdk_config), BackupClient::new(&sdk_config));
    let copy_region = settings.as_ref().ok().and_then(|s| s.copy.region.as_deref());
    let in_copy_region = copy_region.map(|region| RegionClients::new(&sdk_config, region));
    let efs_clients = snapmgmt_core::efs::Clients { efs: &efs, backup: &backup };
    let clients = Clients { fsx: &fsx, ec2: &ec2, efs: efs_clients, copies: in_copy_region.as_ref() };
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
