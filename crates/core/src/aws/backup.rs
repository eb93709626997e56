//! AWS Backup: start a backup job, read how it went; the recovery points of a vault, their tags, deletes.

use std::collections::BTreeMap;

use aws_sdk_backup::operation::describe_backup_job::DescribeBackupJobOutput;
use aws_sdk_backup::types::{Lifecycle, RecoveryPointStatus};
use aws_sdk_backup::Client;

use super::Deleted;
use crate::error::{Error, Result};
use crate::retention::{BackupInfo, BackupState};

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

/// What a copy job is asked to do: copy one point of `source_vault` into the vault `destination_vault_arn`
/// names (in another Region), as `role_arn`.
#[derive(Debug, Clone, Copy)]
pub struct CopyJob<'a> {
    pub source_vault: &'a str,
    pub recovery_point_arn: &'a str,
    pub destination_vault_arn: &'a str,
    pub role_arn: &'a str,
    /// The same token returns the job it started before.
    pub token: &'a str,
    pub delete_after_days: Option<u32>,
}

/// Starts the copy job (sent to the source point's Region); its id. None: AWS Backup's limit on jobs is
/// reached; ask again later.
pub async fn start_copy_job(client: &Client, job: CopyJob<'_>) -> Result<Option<String>> {
    let lifecycle = job.delete_after_days.map(|days| Lifecycle::builder().delete_after_days(days.into()).build());
    let out = client
        .start_copy_job()
        .source_backup_vault_name(job.source_vault)
        .recovery_point_arn(job.recovery_point_arn)
        .destination_backup_vault_arn(job.destination_vault_arn)
        .iam_role_arn(job.role_arn)
        .idempotency_token(job.token)
        .set_lifecycle(lifecycle)
        .send()
        .await;
    match out {
        Ok(out) => out.copy_job_id.map(Some).ok_or_else(|| Error::Aws {
            service: SERVICE,
            operation: "StartCopyJob",
            code: "EmptyResponse".into(),
            message: "the response named no job".into(),
        }),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_limit_exceeded_exception()) => Ok(None),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            Err(Error::NotFound { kind: "recovery point", id: job.recovery_point_arn.to_string() })
        }
        Err(e) => Err(Error::aws(SERVICE, "StartCopyJob", e)),
    }
}

/// One copy job; `NotFound` when it does not exist.
pub async fn describe_copy_job(client: &Client, job_id: &str) -> Result<aws_sdk_backup::types::CopyJob> {
    match client.describe_copy_job().copy_job_id(job_id).send().await {
        Ok(out) => out.copy_job.ok_or_else(|| Error::NotFound { kind: "copy job", id: job_id.to_string() }),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            Err(Error::NotFound { kind: "copy job", id: job_id.to_string() })
        }
        Err(e) => Err(Error::aws(SERVICE, "DescribeCopyJob", e)),
    }
}

/// Adds tags to a recovery point (an EFS point's tags are AWS Backup's, not EFS's).
pub async fn tag_recovery_point(client: &Client, arn: &str, tags: &[(&str, &str)]) -> Result<()> {
    let tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    client
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| Error::aws(SERVICE, "TagResource", e))
}

/// Whether the vault is under Vault Lock (governance or compliance): then no one may delete its points.
pub async fn vault_locked(client: &Client, vault: &str) -> Result<bool> {
    match client.describe_backup_vault().backup_vault_name(vault).send().await {
        Ok(out) => Ok(out.locked().unwrap_or(false)),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            Err(Error::NotFound { kind: "backup vault", id: vault.to_string() })
        }
        Err(e) => Err(Error::aws(SERVICE, "DescribeBackupVault", e)),
    }
}

/// A recovery point as the cleanup needs it, from the listing or a describe.
#[derive(Debug, Clone)]
pub struct RecoveryPoint {
    pub arn: String,
    pub resource_arn: Option<String>,
    pub status: Option<RecoveryPointStatus>,
    pub created: Option<aws_smithy_types::DateTime>,
    /// Made by a backup plan (not by a job snapmgmt started).
    pub by_backup_plan: bool,
}

/// The vault's EFS recovery points, of one resource when given (filtered on the server), all pages.
pub async fn list_recovery_points(
    client: &Client,
    vault: &str,
    resource_arn: Option<&str>,
) -> Result<Vec<RecoveryPoint>> {
    let mut pages = efs_points(client, vault, resource_arn).into_paginator().send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| match e.as_service_error() {
            Some(s) if s.is_resource_not_found_exception() => {
                Error::NotFound { kind: "backup vault", id: vault.into() }
            }
            _ => Error::aws(SERVICE, "ListRecoveryPointsByBackupVault", e),
        })?;
        all.extend(page.recovery_points().iter().map(|p| RecoveryPoint {
            arn: p.recovery_point_arn().unwrap_or_default().to_string(),
            resource_arn: p.resource_arn().map(str::to_string),
            status: p.status().cloned(),
            created: p.creation_date().copied(),
            by_backup_plan: p.created_by().and_then(|c| c.backup_plan_id()).is_some(),
        }));
    }
    Ok(all)
}

/// The listing of the vault's EFS recovery points (of one resource when given), in AWS's largest pages.
fn efs_points(
    client: &Client,
    vault: &str,
    resource_arn: Option<&str>,
) -> aws_sdk_backup::operation::list_recovery_points_by_backup_vault::builders::ListRecoveryPointsByBackupVaultFluentBuilder
{
    client
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(vault)
        .set_by_resource_arn(resource_arn.map(str::to_string))
        .by_resource_type("EFS")
        .max_results(1000)
}

/// The file systems (ids) with EFS recovery points in the vault that `wanted` accepts, each with its
/// newest point's ARN, folded page by page (one entry per file system, whatever its points).
pub async fn newest_point_per_resource(
    client: &Client,
    vault: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut pages = efs_points(client, vault, None).into_paginator().send();
    let mut newest: std::collections::BTreeMap<String, (aws_smithy_types::DateTime, String)> = Default::default();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "ListRecoveryPointsByBackupVault", e))?;
        for point in page.recovery_points() {
            let Some(id) = point.resource_arn().and_then(|a| a.rsplit('/').next()).filter(|id| wanted(id)) else {
                continue;
            };
            let created = point.creation_date().copied().unwrap_or(aws_smithy_types::DateTime::from_secs(0));
            let arn = point.recovery_point_arn().unwrap_or_default().to_string();
            match newest.get_mut(id) {
                Some(seen) if seen.0 >= created => {}
                Some(seen) => *seen = (created, arn),
                None => {
                    newest.insert(id.to_string(), (created, arn));
                }
            }
        }
    }
    Ok(newest.into_iter().map(|(id, (_, arn))| (id, arn)).collect())
}

/// One recovery point of the vault; `NotFound` when it is not there.
pub async fn describe_recovery_point(client: &Client, vault: &str, arn: &str) -> Result<RecoveryPoint> {
    match client.describe_recovery_point().backup_vault_name(vault).recovery_point_arn(arn).send().await {
        Ok(p) => Ok(RecoveryPoint {
            arn: p.recovery_point_arn().unwrap_or(arn).to_string(),
            resource_arn: p.resource_arn().map(str::to_string),
            status: p.status().cloned(),
            created: p.creation_date().copied(),
            by_backup_plan: p.created_by().and_then(|c| c.backup_plan_id()).is_some(),
        }),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            Err(Error::NotFound { kind: "recovery point", id: arn.to_string() })
        }
        Err(e) => Err(Error::aws(SERVICE, "DescribeRecoveryPoint", e)),
    }
}

/// A recovery point's tags, all pages: AWS Backup lists points without them.
pub async fn list_tags(client: &Client, arn: &str) -> Result<BTreeMap<String, String>> {
    let mut pages = client.list_tags().resource_arn(arn).into_paginator().send();
    let mut tags = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "ListTags", e))?;
        tags.extend(page.tags.unwrap_or_default());
    }
    Ok(tags)
}

/// Deletes one recovery point. One already gone counts as deleted; one AWS Backup is acting on (a restore,
/// a copy) is in use.
pub async fn delete_recovery_point(client: &Client, vault: &str, arn: &str) -> Result<Deleted> {
    match client.delete_recovery_point().backup_vault_name(vault).recovery_point_arn(arn).send().await {
        Ok(_) => Ok(Deleted::Yes),
        Err(e) => match e.as_service_error() {
            Some(s) if s.is_resource_not_found_exception() => Ok(Deleted::Yes),
            Some(s) if s.is_invalid_resource_state_exception() => Ok(Deleted::InUse),
            _ => Err(Error::aws(SERVICE, "DeleteRecoveryPoint", e)),
        },
    }
}

/// What the retention rule needs to know of a recovery point. Its account is the one in its ARN (the
/// vault's); its resource is the file system its resource ARN names.
pub fn backup_info(point: &RecoveryPoint, tags: BTreeMap<String, String>) -> BackupInfo {
    let state = match &point.status {
        Some(RecoveryPointStatus::Completed) => BackupState::Completed,
        // PARTIAL, EXPIRED (the lifecycle could not delete it), STOPPED: not a backup to count on.
        Some(RecoveryPointStatus::Partial | RecoveryPointStatus::Expired | RecoveryPointStatus::Stopped) => {
            BackupState::Failed
        }
        _ => BackupState::Pending,
    };
    BackupInfo {
        id: point.arn.clone(),
        owner_account: point.arn.split(':').nth(4).filter(|a| !a.is_empty()).map(str::to_string),
        source_id: point.resource_arn.as_deref().and_then(|arn| arn.rsplit('/').next()).map(str::to_string),
        tags,
        created_at: super::epoch_seconds(point.created.as_ref()),
        state,
        in_use: false,
        aws_backup_managed: point.by_backup_plan,
    }
}

/// A restore of an EFS recovery point into a new file system, made by AWS Backup as `role_arn`, with the
/// source's encryption and performance mode. AWS Backup cannot tag the file system it makes: `creation_token`
/// is what tells it apart afterwards (and the same token returns the same job).
#[derive(Debug, Clone, Copy)]
pub struct EfsRestore<'a> {
    pub recovery_point_arn: &'a str,
    pub role_arn: &'a str,
    pub source_file_system_id: &'a str,
    pub encrypted: bool,
    pub kms_key_id: Option<&'a str>,
    pub performance_mode: &'a str,
    pub creation_token: &'a str,
}

/// Starts the restore job; its id.
pub async fn start_efs_restore(client: &Client, restore: EfsRestore<'_>) -> Result<String> {
    let mut request = client
        .start_restore_job()
        .recovery_point_arn(restore.recovery_point_arn)
        .iam_role_arn(restore.role_arn)
        .resource_type("EFS")
        .idempotency_token(restore.creation_token)
        .metadata("file-system-id", restore.source_file_system_id)
        .metadata("newFileSystem", "true")
        .metadata("Encrypted", restore.encrypted.to_string())
        .metadata("PerformanceMode", restore.performance_mode)
        .metadata("CreationToken", restore.creation_token);
    if let Some(key) = restore.kms_key_id {
        request = request.metadata("KmsKeyId", key);
    }
    let out = request.send().await.map_err(|e| Error::aws(SERVICE, "StartRestoreJob", e))?;
    out.restore_job_id.ok_or_else(|| Error::Aws {
        service: SERVICE,
        operation: "StartRestoreJob",
        code: "EmptyResponse".into(),
        message: "the response named no job".into(),
    })
}

/// How a restore job stands: its status (`PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `ABORTED`), why it
/// failed, and what it made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreJob {
    pub status: String,
    pub message: Option<String>,
    pub created_resource_arn: Option<String>,
}

pub async fn describe_restore_job(client: &Client, job_id: &str) -> Result<RestoreJob> {
    let out = client
        .describe_restore_job()
        .restore_job_id(job_id)
        .send()
        .await
        .map_err(|e| Error::aws(SERVICE, "DescribeRestoreJob", e))?;
    Ok(RestoreJob {
        status: out.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        message: out.status_message().map(str::to_string),
        created_resource_arn: out.created_resource_arn().map(str::to_string),
    })
}
