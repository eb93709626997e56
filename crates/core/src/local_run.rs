//! The FSx branch of the workflow run in one process, step for step as the state machine runs it
//! (wait while a backup is in progress, back up, wait for AVAILABLE, clean up), for the `snapmgmt`
//! command that runs the job against the local emulator.

use std::time::Duration;

use aws_sdk_fsx::Client;
use futures::stream::{self, StreamExt};
use serde::Serialize;
use tracing::{info, warn};

use crate::aws;
use crate::config::{RetentionConfig, TargetTag};
use crate::error::{Error, Result};
use crate::fsx::{self, CleanupRequest};
use crate::model::{BackupFsxEvent, CheckResult, CheckStatus, CleanupReport, Skipped, Timing};
use crate::trigger::select_fsx_targets;

/// File systems worked on at once, as the state machine's Map state does.
pub const TARGET_CONCURRENCY: usize = 4;

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub run_id: String,
    pub dry_run: bool,
    pub fsx: Vec<FsxOutcome>,
    pub skipped: Vec<Skipped>,
}

impl RunReport {
    /// Targets whose branch failed: the run reports them and the others still complete.
    pub fn failures(&self) -> usize {
        self.fsx.iter().filter(|o| o.error.is_some()).count()
    }
}

/// What the run did for one file system. `error` is set when a step failed; the steps before it stand.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FsxOutcome {
    pub file_system_id: String,
    pub backup_id: Option<String>,
    pub cleanup: Option<CleanupReport>,
    pub error: Option<String>,
}

/// What a run is asked to do.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub target_tag: TargetTag,
    pub retention: RetentionConfig,
    pub timing: Timing,
    pub dry_run: bool,
    /// Names the run: the backups' idempotency tokens and RunId tags derive from it.
    pub run_id: String,
}

/// Runs the FSx branch for every tagged file system; one failing file system does not stop the others.
pub async fn run(client: &Client, request: &RunRequest) -> Result<RunReport> {
    let file_systems = aws::fsx::list_file_systems(client).await?;
    let (targets, skipped) = select_fsx_targets(&file_systems, &request.target_tag);
    let mut outcomes: Vec<FsxOutcome> = stream::iter(targets)
        .map(|target| run_file_system(client, request, target.file_system_id))
        .buffer_unordered(TARGET_CONCURRENCY)
        .collect()
        .await;
    outcomes.sort_by(|a, b| a.file_system_id.cmp(&b.file_system_id));
    Ok(RunReport { run_id: request.run_id.clone(), dry_run: request.dry_run, fsx: outcomes, skipped })
}

async fn run_file_system(client: &Client, request: &RunRequest, file_system_id: String) -> FsxOutcome {
    let mut outcome = FsxOutcome { file_system_id, ..Default::default() };
    if let Err(e) = run_steps(client, request, &mut outcome).await {
        warn!(file_system_id = %outcome.file_system_id, error = %e, "FSx branch failed");
        outcome.error = Some(e.to_string());
    }
    outcome
}

async fn run_steps(client: &Client, request: &RunRequest, outcome: &mut FsxOutcome) -> Result<()> {
    let fs_id = outcome.file_system_id.clone();
    let timing = request.timing;
    poll_until_ready(timing.fsx_wait_seconds, timing.fsx_max_wait_attempts, |attempt| {
        fsx::check_backup_in_progress(client, &fs_id, attempt)
    })
    .await?;

    let event = BackupFsxEvent {
        file_system_id: fs_id.clone(),
        execution_id: Some(request.run_id.clone()),
        dry_run: request.dry_run,
    };
    let backup = fsx::backup_file_system(client, &event, &request.run_id).await?;
    outcome.backup_id = backup.backup_id.clone();

    if let Some(backup_id) = &backup.backup_id {
        info!(file_system_id = %fs_id, backup_id = %backup_id, "backup started; waiting for AVAILABLE");
        poll_until_ready(timing.backup_poll_seconds, timing.backup_max_polls, |attempt| {
            fsx::check_backup_available(client, backup_id, attempt)
        })
        .await?;
    }

    let cleanup = CleanupRequest {
        file_system_id: &fs_id,
        new_backup_id: backup.backup_id.as_deref(),
        dry_run: request.dry_run,
        now: crate::now_epoch_seconds(),
    };
    outcome.cleanup = Some(fsx::cleanup_file_system(client, request.retention, cleanup).await?);
    Ok(())
}

/// Calls `check` until it answers Ready, waiting `wait_seconds` between calls, as the state machine's
/// Wait/Choice loops do; fails when it answers Failed or is still in progress after `max_attempts`.
async fn poll_until_ready<F, Fut>(wait_seconds: u32, max_attempts: u32, mut check: F) -> Result<CheckResult>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<CheckResult>>,
{
    let mut attempt = 0;
    loop {
        let result = check(attempt).await?;
        match result.status {
            CheckStatus::Ready => return Ok(result),
            CheckStatus::Failed => return Err(Error::BackupFailed(result.detail)),
            CheckStatus::InProgress if result.attempt >= max_attempts => {
                return Err(Error::WaitTimedOut(format!("{} (after {} checks)", result.detail, result.attempt)))
            }
            CheckStatus::InProgress => {
                attempt = result.attempt;
                tokio::time::sleep(Duration::from_secs(wait_seconds.into())).await;
            }
        }
    }
}
