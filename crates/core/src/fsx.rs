//! The FSx path: is a backup in progress, take a backup, wait for it; and the store the cleanup engine
//! deletes expired backups through. A target is a file system (`fs-`) or an ONTAP volume (`fsvol-`),
//! which FSx backs up on its own; the workflow carries either as `fileSystemId`.

use std::collections::HashSet;

use aws_sdk_fsx::types::{BackupLifecycle, BackupType};
use aws_sdk_fsx::Client;

use crate::aws::fsx::{self as api, Source};
use crate::aws::Deleted;
use crate::cleanup::{Resource, Store};
use crate::error::Result;
use crate::model::{BackupFsxEvent, BackupFsxResult, CheckResult, CheckStatus, RunId};
use crate::retention::BackupInfo;

pub mod copy;
pub mod targets;

/// Is a backup of this file system (or volume) under way? FSx takes one at a time, so the workflow waits
/// for it. CREATING, PENDING and TRANSFERRING all count (the original sample looked at CREATING only).
pub async fn check_backup_in_progress(client: &Client, file_system_id: &str, attempt: u32) -> Result<CheckResult> {
    let source = Source::of(file_system_id);
    api::describe_source(client, source).await?;
    let backups = api::list_backups(client, source, None, None).await?;
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
    Ok(CheckResult { status, attempt: attempt.saturating_add(1), detail, snapshot_ids: None, consistency: None })
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
    Ok(CheckResult { status, attempt: attempt.saturating_add(1), detail, snapshot_ids: None, consistency: None })
}

/// Takes a backup of one file system or ONTAP volume, tagged as ours at creation. The token derives from
/// the run, so a retried invocation of the same run gets the same backup back instead of a second one.
/// The source's tags on the allow-list are copied onto it, so that it still says what it was of, and the stack's.
pub async fn backup_file_system(
    client: &Client,
    event: &BackupFsxEvent,
    settings: &crate::config::BackupSettings,
    request_id: &str,
) -> Result<BackupFsxResult> {
    let fs = &event.file_system_id;
    let source = Source::of(fs);
    let facts = api::describe_source(client, source).await?;
    if event.dry_run {
        return Ok(BackupFsxResult { file_system_id: fs.clone(), backup_id: None, lifecycle: None, dry_run: true });
    }
    let run = RunId::or_request(event.run_id.as_ref(), request_id)?;
    let backup_tags = settings.backup_tags(fs, run.as_str(), &facts.tags);
    let backup = api::create_backup(client, source, &run.token(fs), &backup_tags).await?;
    crate::metrics::emit("fsx", "backup", fs, false, &[("BackupsStarted", 1.0, crate::metrics::Unit::Count)]);
    Ok(BackupFsxResult {
        file_system_id: fs.clone(),
        backup_id: backup.backup_id().map(str::to_string),
        lifecycle: backup.lifecycle().map(|l| l.as_str().to_string()),
        dry_run: false,
    })
}

/// The cleanup engine's view of FSx: a file system's (or ONTAP volume's) user-initiated backups, each
/// deleted on its own.
pub struct FsxStore<'a> {
    /// Where the backups are: the file system's Region, or the copy Region for its copies.
    pub client: &'a Client,
    /// The file system's own Region, where its owner and tags are read.
    pub sources: &'a Client,
}

impl Store for FsxStore<'_> {
    const KIND: &'static str = crate::model::TargetKind::Fsx.info().name;
    // The listing has every user-initiated backup of the file system, the sample's among them.
    const SAMPLE: Option<crate::adopt::SampleTags> = Some(crate::adopt::FSX);

    async fn list_ours(&self, file_system_id: &str) -> Result<Vec<BackupInfo>> {
        // FSx filters by file system and type only: our tag is checked by the rule.
        let source = Source::of(file_system_id);
        let backups = api::list_backups(self.client, source, Some(BackupType::UserInitiated), None).await?;
        Ok(backups.iter().map(api::backup_info).collect())
    }

    async fn resource(&self, file_system_id: &str) -> Result<Resource> {
        api::describe_source(self.sources, Source::of(file_system_id)).await
    }

    async fn describe(&self, ids: &[String]) -> Result<Vec<BackupInfo>> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.push(api::backup_info(&api::describe_backup(self.client, id).await?));
        }
        Ok(found)
    }

    async fn in_use(&self, _ids: &[String]) -> Result<HashSet<String>> {
        // A restore or copy in progress is known only from the delete's answer (Deleted::InUse).
        Ok(HashSet::new())
    }

    async fn delete(&self, backup_id: &str) -> Result<Deleted> {
        api::delete_backup(self.client, backup_id).await
    }

    async fn record_policy(&self, ids: &[String], policy: &str) -> Result<()> {
        for id in ids {
            api::tag_backup(self.client, id, &[(crate::tags::POLICY_KEY, policy)]).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

/// The FSx file system types, as FSx names them (ONTAP: its volumes, which FSx backs up one by one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FsxKind {
    Windows,
    Lustre,
    Openzfs,
    Ontap,
}

impl FsxKind {
    pub const ALL: [FsxKind; 4] = [FsxKind::Windows, FsxKind::Lustre, FsxKind::Openzfs, FsxKind::Ontap];

    pub fn as_str(self) -> &'static str {
        match self {
            FsxKind::Windows => "WINDOWS",
            FsxKind::Lustre => "LUSTRE",
            FsxKind::Openzfs => "OPENZFS",
            FsxKind::Ontap => "ONTAP",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}
