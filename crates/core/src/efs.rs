//! The EFS path: back up a file system through AWS Backup (the SOP), follow the job; and the store the
//! cleanup engine deletes expired recovery points through.

use std::collections::HashSet;

use aws_sdk_backup::types::BackupJobState;
use aws_sdk_backup::Client as BackupClient;
use aws_sdk_efs::Client as EfsClient;

use crate::aws::backup::{self as backup_api, BackupJob};
use crate::aws::efs as efs_api;
use crate::aws::Deleted;
use crate::cleanup::{Resource, Store};
use crate::concurrent::Outcome;
use crate::config::EfsBackupConfig;
use crate::error::{Error, Result};
use crate::model::{CheckStatus, EfsBackupResult, EfsBackupStart, EfsBackupStatus, RunId};
use crate::retention::BackupInfo;

pub mod copy;

/// The clients of the EFS path.
#[derive(Clone, Copy)]
pub struct Clients<'a> {
    pub efs: &'a EfsClient,
    pub backup: &'a BackupClient,
}

/// Starts an AWS Backup job of one file system, into the event's vault and role or the settings', with
/// our tags on the recovery point. The token derives from the execution: a retried start returns the
/// same job, the next execution gets a new one (the SOP used the time of day).
pub async fn start_backup(
    clients: Clients<'_>,
    config: &EfsBackupConfig,
    settings: &crate::config::BackupSettings,
    event: &EfsBackupStart,
    request_id: &str,
) -> Result<EfsBackupResult> {
    let vault = event.backup_vault_name.as_deref().or(config.backup_vault_name.as_deref());
    let role = event.iam_role_arn.as_deref().or(config.backup_role_arn.as_deref());
    let (Some(vault), Some(role)) = (vault, role) else {
        return Err(Error::invalid_event(
            if vault.is_none() { "backupVaultName" } else { "iamRoleArn" },
            "is required: in the event, or set BACKUP_VAULT_NAME and BACKUP_ROLE_ARN",
        ));
    };
    let fs = efs_api::describe_file_system(clients.efs, &event.file_system_id).await?;
    let mut result = EfsBackupResult {
        backup_job_id: None,
        status: None,
        attempt: 0,
        detail: String::new(),
        recovery_point_arn: None,
        dry_run: event.dry_run,
    };
    if event.dry_run {
        result.detail = format!("would back up {} into {vault}", fs.file_system_arn().unwrap_or_default());
        return Ok(result);
    }
    let run = RunId::or_request(event.run_id.as_ref(), request_id)?;
    let source_tags = efs_api::tag_map(fs.tags());
    let tags = settings.backup_tags(&event.file_system_id, run.as_str(), &source_tags);
    let token = run.token(&event.file_system_id);
    let job = BackupJob {
        vault,
        resource_arn: fs.file_system_arn().unwrap_or_default(),
        role_arn: role,
        token: &token,
        recovery_point_tags: &tags,
        delete_after_days: config.delete_after_days,
    };
    let job_id = backup_api::start_backup_job(clients.backup, job).await?;
    let started = [("BackupJobsStarted", 1.0, crate::metrics::Unit::Count)];
    crate::metrics::emit("efs", "backup", &event.file_system_id, false, &started);
    result.detail = format!("backup job {job_id} of {} started", event.file_system_id);
    result.backup_job_id = Some(job_id);
    Ok(result)
}

/// How the job is doing: Ready once COMPLETED (with its recovery point), Failed at once on a failed
/// final state with the job's own message, InProgress otherwise.
pub async fn backup_status(backup: &BackupClient, event: &EfsBackupStatus) -> Result<EfsBackupResult> {
    let job = backup_api::describe_backup_job(backup, &event.backup_job_id).await?;
    let state = job.state().cloned().unwrap_or_else(|| "UNKNOWN".into());
    let status = job_status(&state);
    // The file system's id is the last part of its ARN, as the other kinds' metrics name their target.
    let target = job.resource_arn().and_then(|arn| arn.rsplit('/').next()).unwrap_or(&event.backup_job_id);
    crate::metrics::backup_finished("efs", target, status, job.backup_size_in_bytes());
    let mut detail = format!("backup job {} is {}", event.backup_job_id, state.as_str());
    if status == CheckStatus::Failed {
        detail.push_str(": ");
        detail.push_str(job.status_message().unwrap_or("no status message"));
    }
    Ok(EfsBackupResult {
        backup_job_id: Some(event.backup_job_id.clone()),
        status: Some(status),
        attempt: event.attempt.saturating_add(1),
        detail,
        recovery_point_arn: job.recovery_point_arn().map(str::to_string),
        dry_run: false,
    })
}

/// Every job state as the workflow reads it: COMPLETED is success; FAILED, ABORTED, EXPIRED (and any
/// final state AWS adds, PARTIAL among them) end the wait at once; the SOP waited out its timeout on them.
pub fn job_status(state: &BackupJobState) -> CheckStatus {
    use BackupJobState as S;
    match state {
        S::Created | S::Pending | S::Running | S::Aborting => CheckStatus::InProgress,
        S::Completed => CheckStatus::Ready,
        _ => CheckStatus::Failed,
    }
}

/// The cleanup engine's view of EFS: the recovery points of a file system in the stack's vault, each
/// deleted on its own. Only our vault is looked at: a point anywhere else is never ours to delete.
pub struct EfsStore<'a> {
    pub clients: Clients<'a>,
    pub vault: &'a str,
    /// BACKUP_DELETE_AFTER_DAYS: AWS Backup's lifecycle on the points (and their copies).
    pub lifecycle_days: Option<u32>,
}

/// ListTags calls in flight at once: AWS Backup lists points without their tags.
const TAG_READS_AT_ONCE: usize = 4;

impl EfsStore<'_> {
    /// Each point with its tags, read a few at a time.
    async fn with_tags(&self, points: Vec<backup_api::RecoveryPoint>) -> Result<Vec<BackupInfo>> {
        let by_arn: std::collections::HashMap<String, backup_api::RecoveryPoint> =
            points.into_iter().map(|p| (p.arn.clone(), p)).collect();
        let arns: Vec<String> = by_arn.keys().cloned().collect();
        let read = crate::concurrent::for_each_id(arns, TAG_READS_AT_ONCE, None, None, |arn| async move {
            backup_api::list_tags(self.clients.backup, &arn).await
        })
        .await;
        let mut infos = Vec::with_capacity(read.len());
        for (arn, outcome) in read {
            let Outcome::Done(tags) = outcome else { unreachable!("no budget: every read starts") };
            infos.push(backup_api::backup_info(&by_arn[&arn], tags?));
        }
        infos.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(infos)
    }
}

impl Store for EfsStore<'_> {
    const KIND: &'static str = crate::model::TargetKind::Efs.info().name;

    async fn list_ours(&self, file_system_id: &str) -> Result<Vec<BackupInfo>> {
        let points = match efs_api::describe_file_system(self.clients.efs, file_system_id).await {
            Ok(fs) => {
                let arn = fs.file_system_arn().unwrap_or_default();
                backup_api::list_recovery_points(self.clients.backup, self.vault, Some(arn)).await?
            }
            // A file system deleted since (an orphan): its points, by the id their resource ARN ends with.
            Err(crate::Error::NotFound { .. }) => {
                let all = backup_api::list_recovery_points(self.clients.backup, self.vault, None).await?;
                let suffix = format!("/{file_system_id}");
                all.into_iter().filter(|p| p.resource_arn.as_deref().is_some_and(|a| a.ends_with(&suffix))).collect()
            }
            Err(e) => return Err(e),
        };
        self.with_tags(points).await
    }

    async fn resource(&self, file_system_id: &str) -> Result<Resource> {
        let fs = efs_api::describe_file_system(self.clients.efs, file_system_id).await?;
        Ok(Resource { owner_id: fs.owner_id().to_string(), tags: efs_api::tag_map(fs.tags()), gone: false })
    }

    async fn describe(&self, arns: &[String]) -> Result<Vec<BackupInfo>> {
        let mut points = Vec::with_capacity(arns.len());
        for arn in arns {
            points.push(backup_api::describe_recovery_point(self.clients.backup, self.vault, arn).await?);
        }
        self.with_tags(points).await
    }

    async fn in_use(&self, _arns: &[String]) -> Result<HashSet<String>> {
        // A restore or copy in progress is known only from the delete's answer (Deleted::InUse).
        Ok(HashSet::new())
    }

    async fn delete(&self, arn: &str) -> Result<Deleted> {
        backup_api::delete_recovery_point(self.clients.backup, self.vault, arn).await
    }

    async fn locked(&self) -> Result<bool> {
        backup_api::vault_locked(self.clients.backup, self.vault).await
    }

    async fn record_policy(&self, arns: &[String], policy: &str) -> Result<()> {
        for arn in arns {
            backup_api::tag_recovery_point(self.clients.backup, arn, &[(crate::tags::POLICY_KEY, policy)]).await?;
        }
        Ok(())
    }

    fn lifecycle_days(&self) -> Option<u32> {
        self.lifecycle_days
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_job_state() {
        use BackupJobState as S;
        for s in [S::Created, S::Pending, S::Running, S::Aborting] {
            assert_eq!(job_status(&s), CheckStatus::InProgress, "{s:?}");
        }
        assert_eq!(job_status(&S::Completed), CheckStatus::Ready);
        for s in [S::Failed, S::Aborted, S::Expired, S::Partial, S::from("Novel")] {
            assert_eq!(job_status(&s), CheckStatus::Failed, "{s:?}");
        }
    }
}
