//! The copy of a completed FSx backup in the copy Region: made once, found again by its
//! `snapmgmt:SourceId` tag (and, between the two, by CopyBackup's token), so a retried or repeated ask never
//! makes a second copy. The copy carries the source backup's tags (ours among them: the same run and
//! target), so the destination's cleanup judges it by the same rule; and the source's id and Region.

use aws_sdk_fsx::types::BackupType;
use aws_sdk_fsx::Client;

use crate::aws::fsx::{self as api, Source};
use crate::copy::status_of;
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
    let mut copy = find_copy(regions.destination, target, backup_id).await?;
    let mut limited = false;
    if copy.is_none() {
        let source = api::describe_backup(regions.source, backup_id).await?;
        let mut copy_tags = api::tag_map(source.tags());
        copy_tags.insert(SOURCE_ID_KEY.to_string(), backup_id.to_string());
        copy_tags.insert(SOURCE_REGION_KEY.to_string(), regions.source_region.to_string());
        let pairs: Vec<(&str, &str)> = copy_tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let token = run.token(backup_id);
        match api::copy_backup(regions.destination, regions.source_region, backup_id, &token, kms_key_id, &pairs)
            .await?
        {
            Some(started) => copy = Some(api::backup_info(&started)),
            None => limited = true,
        }
    }
    let (ids, states): (Vec<String>, Vec<_>) = copy.into_iter().map(|c| (c.id, c.state)).unzip();
    let status = status_of(&states, 1, limited);
    let mut detail = match ids.first() {
        Some(id) => format!("{backup_id} of {target} copied to {} as {id}: {status:?}", regions.destination_region),
        None => format!("{backup_id} of {target} not copied to {} yet", regions.destination_region),
    };
    if limited {
        detail.push_str("; waiting: AWS's limit on copies in flight to that Region is reached");
    }
    Ok(answer(status, ids, detail))
}

/// Our copy of `backup_id` in the destination, among the target's backups there.
async fn find_copy(destination: &Client, target: &str, backup_id: &str) -> Result<Option<BackupInfo>> {
    let listed = api::list_backups(destination, Source::of(target), Some(BackupType::UserInitiated), None).await?;
    Ok(listed.iter().map(api::backup_info).find(|copy| {
        let tag = |key| copy.tags.get(key).map(String::as_str);
        tag(tags::MANAGED_BY_KEY) == Some(tags::MANAGED_BY_VALUE) && tag(SOURCE_ID_KEY) == Some(backup_id)
    }))
}
