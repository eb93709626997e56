//! One target's check, as the verify run's child (or an operator by hand) asks it. An instance: the blocks of
//! its newest snapshot set read back against their checksums; then, when the event asks for it (its turn
//! among the run's VERIFY_MAX_RESTORES_PER_RUN), that set restored to volumes in the instance's zone and
//! deleted. A file system: its newest recovery point restored into a new file system, then deleted.

use super::ebs::{self, Budget, Reading};
use super::restore::{self, WAITING};
use super::target::{Outcome, TargetCheck};
use crate::aws;
use crate::config::VerifyConfig;
use crate::error::{Error, Result};
use crate::model::{TargetKind, VerifyEvent};

/// The clients a check may need.
#[derive(Clone, Copy)]
pub struct Clients<'a> {
    pub ec2: &'a aws_sdk_ec2::Client,
    pub ebs: &'a aws_sdk_ebs::Client,
    pub efs: &'a aws_sdk_efs::Client,
    pub backup: &'a aws_sdk_backup::Client,
}

/// The event's target, checked as its kind is.
pub async fn target(
    clients: Clients<'_>,
    settings: &VerifyConfig,
    event: &VerifyEvent,
    run_id: &str,
    now: i64,
) -> Result<TargetCheck> {
    match event.target() {
        (TargetKind::Efs, file_system_id) => {
            if settings.max_restores == 0 {
                let reason = "VERIFY_MAX_RESTORES_PER_RUN is 0 for this stack: it restores nothing";
                return Err(Error::invalid_event("fileSystemId", reason));
            }
            let efs_clients = crate::efs::Clients { efs: clients.efs, backup: clients.backup };
            super::efs::check_file_system(efs_clients, settings, file_system_id, run_id, WAITING, now).await
        }
        (_, instance_id) => instance(clients, settings, event, instance_id, run_id, now).await,
    }
}

async fn instance(
    clients: Clients<'_>,
    settings: &VerifyConfig,
    event: &VerifyEvent,
    instance_id: &str,
    run_id: &str,
    now: i64,
) -> Result<TargetCheck> {
    if event.restore && !settings.restore {
        let reason = "VERIFY_RESTORE is off for this stack (the VerifyRestore parameter): it makes no volumes";
        return Err(Error::invalid_event("restore", reason));
    }
    let reading = Reading { fraction: settings.read_fraction, round: event.round.unwrap_or((now / 86_400) as u64) };
    let budget = Budget::new(event.max_bytes.unwrap_or(u64::MAX).min(settings.max_bytes()));
    let ebs_clients = ebs::Clients { ec2: clients.ec2, ebs: clients.ebs };
    let mut check =
        ebs::check_instance(ebs_clients, instance_id, settings.stack.as_ref(), reading, &budget, now).await?;
    if !event.restore || check.outcome == Outcome::NoBackup {
        return Ok(check);
    }
    let zone = match aws::ec2::describe_instance(clients.ec2, instance_id).await {
        Ok(instance) => instance.placement().and_then(|p| p.availability_zone()).unwrap_or_default().to_string(),
        // Terminated since its backup: no zone of its own to restore into; its blocks were checked.
        Err(Error::NotFound { .. }) => return Ok(check),
        Err(e) => return Err(e),
    };
    let test = restore::restore_set(clients.ec2, &check.backup, &zone, run_id, settings.stack.as_ref(), WAITING).await;
    if !test.restored {
        check.outcome = Outcome::Failed;
    }
    check.restore = Some(test);
    Ok(check)
}
