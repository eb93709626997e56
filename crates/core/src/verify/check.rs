//! One target's check, as the verify run's child (or an operator by hand) asks it: the blocks of its newest
//! snapshot set read back against their checksums; then, when the event asks for it (its turn among the run's
//! VERIFY_MAX_RESTORES_PER_RUN), that set restored to volumes in the instance's zone and deleted.

use super::ebs::{self, Budget, InstanceCheck, Outcome, Reading};
use super::restore;
use crate::aws;
use crate::config::VerifyConfig;
use crate::error::{Error, Result};
use crate::model::VerifyEvent;

pub async fn instance(
    ec2: &aws_sdk_ec2::Client,
    ebs_client: &aws_sdk_ebs::Client,
    settings: &VerifyConfig,
    event: &VerifyEvent,
    run_id: &str,
    now: i64,
) -> Result<InstanceCheck> {
    if event.restore && !settings.restore {
        let reason = "VERIFY_RESTORE is off for this stack (the VerifyRestore parameter): it makes no volumes";
        return Err(Error::invalid_event("restore", reason));
    }
    let reading = Reading { fraction: settings.read_fraction, round: event.round.unwrap_or((now / 86_400) as u64) };
    let budget = Budget::new(event.max_bytes.unwrap_or(u64::MAX).min(settings.max_bytes()));
    let clients = ebs::Clients { ec2, ebs: ebs_client };
    let mut check =
        ebs::check_instance(clients, &event.instance_id, settings.stack.as_ref(), reading, &budget, now).await?;
    if !event.restore || check.outcome == Outcome::NoBackup {
        return Ok(check);
    }
    let zone = match aws::ec2::describe_instance(ec2, &event.instance_id).await {
        Ok(instance) => instance.placement().and_then(|p| p.availability_zone()).unwrap_or_default().to_string(),
        // Terminated since its backup: no zone of its own to restore into; its blocks were checked.
        Err(Error::NotFound { .. }) => return Ok(check),
        Err(e) => return Err(e),
    };
    let test = restore::restore_set(ec2, &check.backup, &zone, run_id, settings.stack.as_ref(), restore::WAITING).await;
    if !test.restored {
        check.outcome = Outcome::Failed;
    }
    check.restore = Some(test);
    Ok(check)
}
