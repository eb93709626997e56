//! AWS Backup: start a backup job, read how it went.

use aws_sdk_backup::operation::describe_backup_job::DescribeBackupJobOutput;
use aws_sdk_backup::types::Lifecycle;
use aws_sdk_backup::Client;

use crate::error::{Error, Result};

const SERVICE: &str = "backup";

/// What a backup job is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct BackupJob<'a> {
    pub vault: &'a str,
    pub resource_arn: &'a str,
    pub role_arn: &'a str,
    /// The same token returns the job it started before.
    pub token: &'a str,
    pub recovery_point_tags: &'a [(&'a str, &'a str)],
    pub delete_after_days: Option<u32>,
}

/// Starts the job; its id.
pub async fn start_backup_job(client: &Client, job: BackupJob<'_>) -> Result<String> {
    let mut request = client
        .start_backup_job()
        .backup_vault_name(job.vault)
        .resource_arn(job.resource_arn)
        .iam_role_arn(job.role_arn)
        .idempotency_token(job.token);
    for (key, value) in job.recovery_point_tags {
        request = request.recovery_point_tags(*key, *value);
    }
    if let Some(days) = job.delete_after_days {
        request = request.lifecycle(Lifecycle::builder().delete_after_days(days.into()).build());
    }
    let out = request.send().await;
    match out {
        Ok(out) => out.backup_job_id.ok_or_else(|| Error::Aws {
            service: SERVICE,
            operation: "StartBackupJob",
            code: "EmptyResponse".into(),
            message: "the response named no job".into(),
        }),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            Err(Error::NotFound { kind: "backup vault", id: job.vault.to_string() })
        }
        Err(e) => Err(Error::aws(SERVICE, "StartBackupJob", e)),
    }
}

/// One backup job; `NotFound` when it does not exist.
pub async fn describe_backup_job(client: &Client, job_id: &str) -> Result<DescribeBackupJobOutput> {
    match client.describe_backup_job().backup_job_id(job_id).send().await {
        Ok(out) => Ok(out),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            Err(Error::NotFound { kind: "backup job", id: job_id.to_string() })
        }
        Err(e) => Err(Error::aws(SERVICE, "DescribeBackupJob", e)),
    }
}
