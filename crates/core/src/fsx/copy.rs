//! The copy of a completed FSx backup in the copy Region: made once, found again by its
//! `snapmgmt:SourceId` tag (and, between the two, by CopyBackup's token), so a retried or repeated ask never
//! makes a second copy. The copy carries the source backup's tags (ours among them: the same run and
//! target), so the destination's cleanup judges it by the same rule; and the source's id and Region.

use std::collections::BTreeMap;

use aws_sdk_fsx::types::BackupType;
use aws_sdk_fsx::Client;

use crate::aws::fsx::{self as api, Source};
use crate::copy::{Copier, Started};
use crate::error::Result;
use crate::model::{CheckStatus, CopyFsxEvent, CopyResult, RunId};
use crate::retention::BackupInfo;
use crate::tags::{self, SOURCE_ID_KEY, SOURCE_REGION_KEY};

/// The two Regions a copy of a backup joins.
pub type Regions<'a> = crate::copy::Regions<'a, Client>;

/// Starts the copy of this run's backup unless it is under way (or AWS's limit on copies in flight is
/// reached: then it waits), and says how it is doing.
pub async fn copy_backup(
    regions: Regions<'_>,
    event: &CopyFsxEvent,
    kms_key_id: Option<&str>,
    request_id: &str,
) -> Result<CopyResult> {
    let waiting = CopyResult::to(regions.destination_region, event.attempt);
    crate::copy::or_wait(copy_backup_now(regions, event, kms_key_id, request_id).await, waiting)
}

/// One ask of [`copy_backup`], its throttling not yet turned into a wait.
async fn copy_backup_now(
    regions: Regions<'_>,
    event: &CopyFsxEvent,
    kms_key_id: Option<&str>,
    request_id: &str,
) -> Result<CopyResult> {
    let target = event.file_system_id.as_str();
    let answer = |status, copy_ids, detail| CopyResult {
        status,
        copy_ids,
        detail,
        ..CopyResult::to(regions.destination_region, event.attempt)
    };
    let backup_id = match event.backup_id.as_deref() {
        Some(id) if !event.dry_run => id,
        _ => {
            let detail = format!("would copy this run's backup of {target} to {}", regions.destination_region);
            return Ok(answer(CheckStatus::Ready, Vec::new(), detail));
        }
    };
    let run = RunId::or_request(event.run_id.as_ref(), request_id)?;
    let copier = BackupCopier { regions, target, run: &run, kms_key_id };
    let progress = crate::copy::run(&copier, std::slice::from_ref(&backup_id.to_string())).await?;
    let mut detail = match progress.copy_ids.first() {
        Some(id) => {
            format!("{backup_id} of {target} copied to {} as {id}: {:?}", regions.destination_region, progress.status)
        }
        None => format!("{backup_id} of {target} not copied to {} yet", regions.destination_region),
    };
    if progress.limit_reached {
        detail.push_str("; waiting: AWS's limit on copies in flight to that Region is reached");
    }
    Ok(answer(progress.status, progress.copy_ids, detail))
}

/// A file system's (or volume's) backup: one copy, with CopyBackup's token between the ask and the listing.
struct BackupCopier<'a> {
    regions: Regions<'a>,
    target: &'a str,
    run: &'a RunId,
    kms_key_id: Option<&'a str>,
}

impl Copier for BackupCopier<'_> {
    async fn copies(&self) -> Result<BTreeMap<String, BackupInfo>> {
        let copies = list_copies(self.regions.destination, self.target).await?;
        Ok(copies.into_iter().filter_map(|copy| Some((copy.tags.get(SOURCE_ID_KEY)?.clone(), copy))).collect())
    }

    async fn start(&self, parts: &[String]) -> Result<Started> {
        let regions = self.regions;
        let mut described = Vec::new();
        for backup_id in parts {
            let source = api::describe_backup(regions.source, backup_id).await?;
            let mut copy_tags = api::tag_map(source.tags());
            copy_tags.insert(SOURCE_ID_KEY.to_string(), backup_id.to_string());
            copy_tags.insert(SOURCE_REGION_KEY.to_string(), regions.source_region.to_string());
            let pairs: Vec<(&str, &str)> = copy_tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let token = self.run.token(backup_id);
            let copied = api::copy_backup(
                regions.destination,
                regions.source_region,
                backup_id,
                &token,
                self.kms_key_id,
                &pairs,
            )
            .await?;
            match copied {
                Some(started) => described.push((backup_id.clone(), api::backup_info(&started))),
                None => return Ok(Started { described: Some(described), limit_reached: true }),
            }
        }
        Ok(Started { described: Some(described), limit_reached: false })
    }
}

/// Our copies in the destination among the target's backups there (each names its source's id).
async fn list_copies(destination: &Client, target: &str) -> Result<Vec<BackupInfo>> {
    let listed = api::list_backups(destination, Source::of(target), Some(BackupType::UserInitiated), None).await?;
    Ok(listed
        .iter()
        .map(api::backup_info)
        .filter(|copy| copy.tags.get(tags::MANAGED_BY_KEY).map(String::as_str) == Some(tags::MANAGED_BY_VALUE))
        .collect())
}
