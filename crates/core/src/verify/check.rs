//! One target's check, as the verify run's child (or an operator by hand) asks it. An instance: the blocks of
//! its newest snapshot set read back against their checksums; then, when the event asks for it (its turn
//! among the run's VERIFY_MAX_RESTORES_PER_RUN), that set restored to volumes in the instance's zone. A file
//! system (EFS; FSx, by kind, opted into): its newest backup restored into a new file system (an ONTAP volume:
//! a new volume), and with copies its newest copy in the copy Region there. Whatever a check restores is
//! followed while it is made (`follow`), then deleted.

use super::ebs::{self, Budget, Reading};
use super::pending;
use super::restore;
use super::target::{Outcome, RestoredResource, TargetCheck};
use super::validate::Hook;
use super::Pick;
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
    pub fsx: &'a aws_sdk_fsx::Client,
    pub lambda: &'a aws_sdk_lambda::Client,
    /// The copy Region's, when the stack copies (COPY_REGION).
    pub copy: Option<CopyClients<'a>>,
}

/// The copy Region and its clients: the newest copies there are verified too.
#[derive(Clone, Copy)]
pub struct CopyClients<'a> {
    pub region: &'a str,
    pub ec2: &'a aws_sdk_ec2::Client,
    pub ebs: &'a aws_sdk_ebs::Client,
    pub efs: &'a aws_sdk_efs::Client,
    pub backup: &'a aws_sdk_backup::Client,
    pub fsx: &'a aws_sdk_fsx::Client,
}

impl<'a> CopyClients<'a> {
    /// EFS and AWS Backup in the copy Region.
    pub fn efs_clients(&self) -> crate::efs::Clients<'a> {
        crate::efs::Clients { efs: self.efs, backup: self.backup }
    }
}

/// The client of the Region a restored resource is in: the stack's, or the copy Region's for a copy's.
pub fn in_region<'a, C>(resource: &RestoredResource, here: &'a C, copy: Option<(&str, &'a C)>) -> Result<&'a C> {
    match (&resource.region, copy) {
        (None, _) => Ok(here),
        (Some(region), Some((copy_region, there))) if region == copy_region => Ok(there),
        (Some(region), _) => Err(Error::invalid_event(
            "check.restore.resources.region",
            format!("{region} is not this stack's copy Region (COPY_REGION)"),
        )),
    }
}

impl<'a> Clients<'a> {
    /// The stack's validation hook, when it has one.
    fn hook(&self, settings: &'a VerifyConfig) -> Option<Hook<'a>> {
        settings.validation_function.as_deref().map(|function| Hook { lambda: self.lambda, function })
    }

    /// EFS and AWS Backup in the stack's Region.
    pub fn efs_clients(&self) -> crate::efs::Clients<'a> {
        crate::efs::Clients { efs: self.efs, backup: self.backup }
    }
}

/// The event's target, checked as its kind is.
pub async fn target(
    clients: Clients<'_>,
    settings: &VerifyConfig,
    event: &VerifyEvent,
    run_id: &str,
    now: i64,
) -> Result<TargetCheck> {
    let (kind, id) = event.target();
    // A random pick is drawn by the run (a check by hand: its round, else its time) and the target.
    let run = event.run_id.as_ref().map_or(run_id, |r| r.as_str());
    let seed = format!("{run}/{}/{id}", event.round.unwrap_or(now as u64));
    let pick = Pick { window_days: settings.random_within_days, seed: &seed };
    if kind != TargetKind::Ec2 && settings.max_restores == 0 {
        let field = if kind == TargetKind::Efs { "fileSystemId" } else { "fsxId" };
        return Err(Error::invalid_event(
            field,
            "VERIFY_MAX_RESTORES_PER_RUN is 0 for this stack: it restores nothing",
        ));
    }
    match kind {
        TargetKind::Efs => super::efs::check_file_system(clients, settings, id, run_id, pick, now).await,
        TargetKind::Fsx => super::fsx::check_fsx(clients, settings, id, run_id, pick, now).await,
        TargetKind::Ec2 => instance(clients, settings, event, id, run_id, pick, now).await,
    }
}

/// One look at a file system check's pending restore (see [`super::pending`]).
pub async fn follow(clients: Clients<'_>, settings: &VerifyConfig, check: TargetCheck) -> Result<TargetCheck> {
    match check.kind {
        TargetKind::Efs => {
            let restorer = super::efs::EfsRestorer {
                clients: clients.efs_clients(),
                copy: clients.copy.map(|c| (c.region, c.efs_clients())),
                source_file_system_id: &check.target_id.clone(),
                stack: settings.stack.as_ref(),
            };
            pending::follow(&restorer, check, clients.hook(settings)).await
        }
        TargetKind::Fsx => {
            let restorer = super::fsx::FsxRestorer { fsx: clients.fsx, copy: clients.copy.map(|c| (c.region, c.fsx)) };
            pending::follow(&restorer, check, clients.hook(settings)).await
        }
        TargetKind::Ec2 => {
            let restorer = restore::VolumeRestorer { ec2: clients.ec2 };
            pending::follow(&restorer, check, clients.hook(settings)).await
        }
    }
}

async fn instance(
    clients: Clients<'_>,
    settings: &VerifyConfig,
    event: &VerifyEvent,
    instance_id: &str,
    run_id: &str,
    pick: Pick<'_>,
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
        ebs::check_instance(ebs_clients, instance_id, settings.stack.as_ref(), reading, &budget, pick, now).await?;
    if let Some(there) = clients.copy {
        let copy_clients = ebs::Clients { ec2: there.ec2, ebs: there.ebs };
        let copy =
            ebs::check_copy(copy_clients, there.region, instance_id, settings.stack.as_ref(), reading, &budget, now)
                .await?;
        if !copy.bad_blocks.is_empty() {
            check.outcome = Outcome::Failed;
        }
        check.blocks_read += copy.blocks_read;
        check.bytes_read += copy.bytes_read;
        check.cost_usd += copy.cost_usd;
        check.copy = Some(copy);
    }
    if !event.restore || check.outcome == Outcome::NoBackup {
        return Ok(check);
    }
    let zone = match aws::ec2::describe_instance(clients.ec2, instance_id).await {
        Ok(instance) => instance.placement().and_then(|p| p.availability_zone()).unwrap_or_default().to_string(),
        // Terminated since its backup: no zone of its own to restore into; its blocks were checked.
        Err(Error::NotFound { .. }) => return Ok(check),
        Err(e) => return Err(e),
    };
    let resources = restore::start_set(clients.ec2, &check.backup, &zone, run_id, settings.stack.as_ref()).await;
    pending::begin(&mut check, resources, settings, run_id, restore::RESTORE_TIMEOUT_SECONDS);
    if let Some(test) = check.restore.as_mut() {
        test.zone = zone;
    }
    Ok(check)
}
