//! The FSx path: is a backup in progress, take a backup, wait for it, delete what expired.

use aws_sdk_fsx::types::{BackupLifecycle, BackupType};
use aws_sdk_fsx::Client;
use sha2::{Digest, Sha256};

use crate::aws::fsx as api;
use crate::concurrent::Outcome;
use crate::config::RetentionConfig;
use crate::error::{Error, Result};
use crate::model::{
    BackupFsxEvent, BackupFsxResult, CheckResult, CheckStatus, CleanupReport, FailedDelete, Kept, MANAGED_BY_KEY,
    MANAGED_BY_VALUE, RUN_ID_KEY, TARGET_ID_KEY,
};
use crate::retention::{self, BackupInfo, BackupState, KeepReason, Policy};

/// Deletes in flight at once for one file system: well inside FSx's API rate limits.
pub const DELETE_CONCURRENCY: usize = 4;

/// Is a backup of this file system under way? FSx takes one at a time, so the workflow waits for it.
/// CREATING, PENDING and TRANSFERRING all count (the original sample looked at CREATING only).
pub async fn check_backup_in_progress(client: &Client, file_system_id: &str, attempt: u32) -> Result<CheckResult> {
    api::describe_file_system(client, file_system_id).await?;
    let backups = api::list_backups(client, file_system_id, None, None).await?;
    let busy: Vec<String> = backups
        .iter()
        .filter(|b| {
            matches!(
                b.lifecycle(),
                Some(BackupLifecycle::Creating | BackupLifecycle::Pending | BackupLifecycle::Transferring)
            )
        })
        .map(|b| format!("{} {}", b.backup_id().unwrap_or("?"), b.lifecycle().map(|l| l.as_str()).unwrap_or("?")))
        .collect();
    let (status, detail) = if busy.is_empty() {
        (CheckStatus::Ready, format!("no backup of {file_system_id} in progress"))
    } else {
        (CheckStatus::InProgress, format!("in progress: {}", busy.join(", ")))
    };
    Ok(CheckResult { status, attempt: attempt.saturating_add(1), detail, snapshot_ids: None })
}

/// Has this backup become AVAILABLE?
pub async fn check_backup_available(client: &Client, backup_id: &str, attempt: u32) -> Result<CheckResult> {
    let backup = api::describe_backup(client, backup_id).await?;
    let lifecycle = backup.lifecycle().map(|l| l.as_str()).unwrap_or("UNKNOWN");
    let status = match backup.lifecycle() {
        Some(BackupLifecycle::Available) => CheckStatus::Ready,
        Some(BackupLifecycle::Failed | BackupLifecycle::Deleted) => CheckStatus::Failed,
        _ => CheckStatus::InProgress,
    };
    crate::metrics::backup_finished("fsx", backup_id, status, None);
    let mut detail = format!("{backup_id} is {lifecycle}");
    if let Some(message) = backup.failure_details().and_then(|f| f.message()) {
        detail.push_str(": ");
        detail.push_str(message);
    }
    Ok(CheckResult { status, attempt: attempt.saturating_add(1), detail, snapshot_ids: None })
}

/// Takes a backup of one file system, tagged as ours at creation. The token derives from the run, so a
/// retried invocation of the same run gets the same backup back instead of a second one.
pub async fn backup_file_system(client: &Client, event: &BackupFsxEvent, request_id: &str) -> Result<BackupFsxResult> {
    let fs = &event.file_system_id;
    let run = event.execution_id.as_deref().unwrap_or(request_id);
    if event.dry_run {
        api::describe_file_system(client, fs).await?;
        return Ok(BackupFsxResult { file_system_id: fs.clone(), backup_id: None, lifecycle: None, dry_run: true });
    }
    let run_name = run.rsplit(':').next().unwrap_or(run);
    let tags = [(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, fs.as_str()), (RUN_ID_KEY, run_name)];
    let backup = api::create_backup(client, fs, &request_token(run, fs), &tags).await?;
    crate::metrics::emit("fsx", "backup", fs, false, &[("BackupsStarted", 1.0, crate::metrics::Unit::Count)]);
    Ok(BackupFsxResult {
        file_system_id: fs.clone(),
        backup_id: backup.backup_id().map(str::to_string),
        lifecycle: backup.lifecycle().map(|l| l.as_str().to_string()),
        dry_run: false,
    })
}

/// An idempotency token for (run, file system): FSx allows 63 characters of [A-Za-z0-9_.-].
pub fn request_token(run: &str, file_system_id: &str) -> String {
    let digest = Sha256::digest(format!("{run}/{file_system_id}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("snapmgmt-{hex}")
}

/// What one cleanup is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct CleanupRequest<'a> {
    pub file_system_id: &'a str,
    /// This run's backup; required unless `dry_run`, where a missing one is assumed to complete.
    pub new_backup_id: Option<&'a str>,
    pub dry_run: bool,
    /// Now, seconds since the Unix epoch.
    pub now: i64,
    /// No delete starts after this; the ones left are kept as `OutOfTime`, for the next run.
    pub budget_end: Option<std::time::Instant>,
}

/// Deletes the expired user-initiated backups of one file system, as the retention rule allows, once this
/// run's backup is AVAILABLE. One failed delete does not stop the others; all are reported.
pub async fn cleanup_file_system(
    client: &Client,
    retention: RetentionConfig,
    request: CleanupRequest<'_>,
) -> Result<CleanupReport> {
    let fs_id = request.file_system_id;
    let fs = api::describe_file_system(client, fs_id).await?;
    let account_id = fs.owner_id().unwrap_or_default().to_string();
    let mut backups: Vec<BackupInfo> = api::list_backups(client, fs_id, Some(BackupType::UserInitiated), None)
        .await?
        .iter()
        .map(api::backup_info)
        .collect();

    let new_backup_completed = match request.new_backup_id {
        Some(id) => {
            // Listed with the others (one call fewer), unless the listing missed it.
            let new = match backups.iter().find(|b| b.id == id) {
                Some(listed) => listed.clone(),
                None => api::backup_info(&api::describe_backup(client, id).await?),
            };
            if new.source_id.as_deref() != Some(fs_id) {
                return Err(Error::invalid_event("newBackupId", format!("{id} is not a backup of {fs_id}")));
            }
            new.state == BackupState::Completed
        }
        None if request.dry_run => {
            // Preview: the backup this run would take counts as the newest, as it will in the real run.
            backups.push(retention::this_runs_backup(fs_id, &account_id, request.now));
            true
        }
        None => return Err(Error::invalid_event("newBackupId", "is required unless dryRun is true")),
    };

    let policy = Policy {
        target_id: fs_id,
        account_id: &account_id,
        retention_days: retention.retention_days,
        min_keep: retention.min_keep,
        now: request.now,
        new_backup_completed,
    };
    let mut plan = retention::plan(&policy, &backups);
    plan.check_delete_limit(fs_id, retention.max_delete_percent)?;
    plan.delete.sort();
    let mut report = CleanupReport { target_id: fs_id.to_string(), dry_run: request.dry_run, ..Default::default() };
    report.kept = plan.keep.into_iter().filter(|k| k.id != retention::THIS_RUNS_BACKUP).collect();
    if request.dry_run {
        report.deleted = plan.delete;
        return Ok(report.finished());
    }
    let results =
        crate::concurrent::for_each_id(plan.delete, DELETE_CONCURRENCY, request.budget_end, |id| async move {
            api::delete_backup(client, &id).await
        })
        .await;
    for (id, result) in results {
        match result {
            Outcome::Done(Ok(())) => report.deleted.push(id),
            Outcome::Done(Err(e)) => report.failed.push(FailedDelete { id, error: e.to_string() }),
            Outcome::NotStarted => report.kept.push(Kept { id, reason: KeepReason::OutOfTime }),
        }
    }
    let report = report.finished();
    crate::metrics::cleanup("fsx", &report);
    Ok(report)
}

#[cfg(test)]
mod tests;
