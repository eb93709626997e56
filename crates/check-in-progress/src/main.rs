//! check-in-progress: is a backup of this file system under way, has the new backup become AVAILABLE,
//! has an instance's snapshot run completed (and then, its snapshots named by instance and device, with the
//! instance's allow-listed tags, COPY_TAGS)?
//! The workflow's wait loops call it and read `status` and `attempt`.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::aws::{aws_sdk_ec2, aws_sdk_ssm};
use snapmgmt_core::logging::Instrument;
use snapmgmt_core::model::{CheckEvent, CheckResult, FsxBackupCheck, FsxCheck};
use snapmgmt_core::tags::CopyTags;
use snapmgmt_core::{ebs, fsx, Result};

/// The clients of the checks: FSx for backups, EC2 and SSM for snapshot runs.
#[derive(Clone, Copy)]
struct Clients<'a> {
    fsx: &'a FsxClient,
    ebs: ebs::Clients<'a>,
}

async fn handler(clients: Clients<'_>, copy_tags: &Result<CopyTags>, event: LambdaEvent<Value>) -> Result<CheckResult> {
    // A bad setting fails every invocation, before the event is read or AWS is called.
    let copy_tags = copy_tags.as_ref().map_err(Clone::clone)?;
    match CheckEvent::parse(event.payload)? {
        CheckEvent::Fsx(FsxCheck { file_system_id, attempt, .. }) => {
            fsx::check_backup_in_progress(clients.fsx, &file_system_id, attempt).await
        }
        CheckEvent::FsxBackup(FsxBackupCheck { backup_id, attempt, .. }) => {
            fsx::check_backup_available(clients.fsx, &backup_id, attempt).await
        }
        CheckEvent::EbsSnapshot(check) => ebs::check_snapshot_run(clients.ebs, &check, copy_tags).await,
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::logging::init();
    let copy_tags = snapmgmt_core::config::logged_at_start(snapmgmt_core::config::copy_tags_from_env());
    let sdk_config =
        snapmgmt_core::aws::load_config("check-in-progress", snapmgmt_core::aws::CallPattern::Steady).await;
    let fsx = FsxClient::new(&sdk_config);
    let (ec2, ssm) = (aws_sdk_ec2::Client::new(&sdk_config), aws_sdk_ssm::Client::new(&sdk_config));
    let clients = Clients { fsx: &fsx, ebs: ebs::Clients { ec2: &ec2, ssm: &ssm } };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let span = snapmgmt_core::logging::invocation_span("check-in-progress", &event.payload);
        handler(clients, &copy_tags, event).instrument(span)
    }))
    .await
}

#[cfg(test)]
mod tests;
