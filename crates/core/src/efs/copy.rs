//! The copy of a completed EFS recovery point in the copy Region: an AWS Backup copy job into the vault
//! there (COPY_BACKUP_VAULT_NAME), started once (its token derives from the run and the point, and each
//! answer hands the job on for the next ask to follow). AWS Backup copies the point's tags (ours among
//! them: the same run and target), so the destination's cleanup judges the copy by the same rule; the
//! source's id and Region are added once the copy completed.

use aws_sdk_backup::types::CopyJobState;
use aws_sdk_backup::Client;

use crate::aws::backup::{self as api, CopyJob};
use crate::config::{CopySettings, EfsBackupConfig};
use crate::error::{Error, Result};
use crate::model::{CheckStatus, CopyEfsEvent, CopyResult, RunId};
use crate::tags::{SOURCE_ID_KEY, SOURCE_REGION_KEY};

/// The two Regions a copy of a point joins (AWS Backup's client in each).
pub type Regions<'a> = crate::copy::Regions<'a, Client>;

/// Where a copy goes, and as whom.
#[derive(Debug, Clone, Copy)]
pub struct CopyVaults<'a> {
    /// The stack's vault, where the point is.
    pub source_vault: &'a str,
    /// The vault in the copy Region.
    pub destination_vault: &'a str,
    /// The role AWS Backup copies as.
    pub role_arn: &'a str,
    pub delete_after_days: Option<u32>,
}

impl<'a> CopyVaults<'a> {
    /// The vaults and role of a copy by these settings: the stack's vault and role (BACKUP_VAULT_NAME,
    /// BACKUP_ROLE_ARN), the copy Region's vault (COPY_BACKUP_VAULT_NAME); a missing one is named.
    pub fn of(config: &'a EfsBackupConfig, copy: &'a CopySettings) -> Result<Self> {
        let (Some(source_vault), Some(role_arn)) =
            (config.backup_vault_name.as_deref(), config.backup_role_arn.as_deref())
        else {
            return Err(Error::InvalidSetting {
                name: if config.backup_vault_name.is_none() { "BACKUP_VAULT_NAME" } else { "BACKUP_ROLE_ARN" },
                value: String::new(),
                reason: "is required to copy EFS recovery points: the stack's vault, and the role AWS Backup copies \
                         as"
                .into(),
            });
        };
        Ok(Self {
            source_vault,
            destination_vault: copy.destination_vault()?,
            role_arn,
            delete_after_days: config.delete_after_days,
        })
    }
}

/// Starts the copy job unless the event names it, and says how it is doing; once it completed, the copy
/// is tagged with its source's id and Region.
pub async fn copy_recovery_point(
    regions: Regions<'_>,
    vaults: CopyVaults<'_>,
    event: &CopyEfsEvent,
    request_id: &str,
) -> Result<CopyResult> {
    let waiting = CopyResult {
        copy_job_id: event.copy_job_id.clone(),
        ..CopyResult::to(regions.destination_region, event.attempt)
    };
    crate::copy::or_wait(copy_recovery_point_now(regions, vaults, event, request_id).await, waiting)
}

/// One ask of [`copy_recovery_point`], its throttling not yet turned into a wait.
async fn copy_recovery_point_now(
    regions: Regions<'_>,
    vaults: CopyVaults<'_>,
    event: &CopyEfsEvent,
    request_id: &str,
) -> Result<CopyResult> {
    let target = event.file_system_id.as_str();
    let mut answer = CopyResult {
        copy_job_id: event.copy_job_id.clone(),
        ..CopyResult::to(regions.destination_region, event.attempt)
    };
    let point = match event.recovery_point_arn.as_deref() {
        Some(arn) if !event.dry_run => arn,
        _ => {
            answer.status = CheckStatus::Ready;
            answer.detail = format!(
                "would copy this run's recovery point of {target} to {} in {}",
                vaults.destination_vault, regions.destination_region
            );
            return Ok(answer);
        }
    };
    let job_id = match &event.copy_job_id {
        Some(id) => id.clone(),
        None => {
            let run = RunId::or_request(event.run_id.as_ref(), request_id)?;
            let job = CopyJob {
                source_vault: vaults.source_vault,
                recovery_point_arn: point,
                destination_vault_arn: &vault_arn(point, regions.destination_region, vaults.destination_vault),
                role_arn: vaults.role_arn,
                token: &run.token(point),
                delete_after_days: vaults.delete_after_days,
            };
            match api::start_copy_job(regions.source, job).await? {
                Some(id) => id,
                None => {
                    answer.detail = format!(
                        "{point} not copied to {} yet; waiting: AWS Backup's limit on jobs is reached",
                        regions.destination_region
                    );
                    return Ok(answer);
                }
            }
        }
    };
    let job = api::describe_copy_job(regions.source, &job_id).await?;
    let state = job.state().cloned().unwrap_or_else(|| "UNKNOWN".into());
    answer.status = copy_job_status(&state);
    answer.detail = format!("copy job {job_id} of {target} to {} is {}", regions.destination_region, state.as_str());
    match (answer.status, job.destination_recovery_point_arn()) {
        (CheckStatus::Ready, Some(copy)) => {
            let source_tags = [(SOURCE_ID_KEY, point), (SOURCE_REGION_KEY, regions.source_region)];
            api::tag_recovery_point(regions.destination, copy, &source_tags).await?;
            answer.copy_ids = vec![copy.to_string()];
        }
        (CheckStatus::Failed, _) => {
            answer.detail.push_str(": ");
            answer.detail.push_str(job.status_message().unwrap_or("no status message"));
        }
        _ => {}
    }
    answer.copy_job_id = Some(job_id);
    Ok(answer)
}

/// Every copy job state as the workflow reads it: COMPLETED is success; FAILED, PARTIAL (and any final
/// state AWS adds) end the wait at once.
pub fn copy_job_status(state: &CopyJobState) -> CheckStatus {
    match state {
        CopyJobState::Created | CopyJobState::Running => CheckStatus::InProgress,
        CopyJobState::Completed => CheckStatus::Ready,
        _ => CheckStatus::Failed,
    }
}

/// The ARN of the vault `name` in `region`, in the point's partition and account.
fn vault_arn(point_arn: &str, region: &str, name: &str) -> String {
    let parts: Vec<&str> = point_arn.split(':').collect();
    let (partition, account) = (parts.get(1).copied().unwrap_or("aws"), parts.get(4).copied().unwrap_or_default());
    format!("arn:{partition}:backup:{region}:{account}:backup-vault:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_copy_job_state() {
        use CopyJobState as S;
        for s in [S::Created, S::Running] {
            assert_eq!(copy_job_status(&s), CheckStatus::InProgress, "{s:?}");
        }
        assert_eq!(copy_job_status(&S::Completed), CheckStatus::Ready);
        for s in [S::Failed, S::Partial, S::from("Novel")] {
            assert_eq!(copy_job_status(&s), CheckStatus::Failed, "{s:?}");
        }
    }

    #[test]
    fn the_destination_vault_is_in_the_points_account_and_partition() {
        let point = "arn:aws-us-gov:backup:us-gov-east-1:123456789012:recovery-point:abc";
        assert_eq!(
            vault_arn(point, "us-gov-west-1", "dr"),
            "arn:aws-us-gov:backup:us-gov-west-1:123456789012:backup-vault:dr"
        );
    }
}
