//! Copies of a completed EBS set in the copy Region: each snapshot copied once, found again by its
//! `snapmgmt:SourceId` tag, so a retried or repeated ask never makes a second copy. The copies carry the
//! source's tags (ours among them: the same run, attempt and target) and the Description snapmgmt writes,
//! so the destination's cleanup judges them by the same rule; and the source's id and Region.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client as Ec2Client;

use crate::aws::ec2::{self as ec2_api, Copied};
use crate::copy::{Copier, Started};
use crate::error::Result;
use crate::model::{CheckStatus, CopyEc2Event, CopyResult, RunId};
use crate::retention::BackupInfo;
use crate::tags::{self, SOURCE_ID_KEY, SOURCE_REGION_KEY};

/// The two Regions a copy of a set joins.
pub type Regions<'a> = crate::copy::Regions<'a, Ec2Client>;

/// Starts the copies of this run's set that are not under way yet (as many as AWS's limit on copies in
/// flight allows), and says how all of them are doing.
pub async fn copy_set(
    regions: Regions<'_>,
    event: &CopyEc2Event,
    kms_key_id: Option<&str>,
    request_id: &str,
) -> Result<CopyResult> {
    let waiting = CopyResult::to(regions.destination_region, event.attempt);
    crate::copy::or_wait(copy_set_now(regions, event, kms_key_id, request_id).await, waiting)
}

/// One ask of [`copy_set`], its throttling not yet turned into a wait.
async fn copy_set_now(
    regions: Regions<'_>,
    event: &CopyEc2Event,
    kms_key_id: Option<&str>,
    request_id: &str,
) -> Result<CopyResult> {
    let instance = event.instance_id.as_str();
    let answer = |status, copy_ids, detail| CopyResult {
        status,
        copy_ids,
        detail,
        ..CopyResult::to(regions.destination_region, event.attempt)
    };
    if event.dry_run {
        let detail = format!("would copy {} snapshots to {}", event.snapshot_ids.len(), regions.destination_region);
        return Ok(answer(CheckStatus::Ready, Vec::new(), detail));
    }
    let run = RunId::or_request(event.run_id.as_ref(), request_id)?;
    let this_run = tags::ownership(instance, run.as_str());
    let copier = SetCopier { regions, instance, run: run.as_str(), this_run: &this_run, kms_key_id };
    let progress = crate::copy::run(&copier, &event.snapshot_ids).await?;
    let mut detail = format!(
        "{} of {} snapshots of {instance} copied to {}: {:?}",
        progress.copy_ids.len(),
        event.snapshot_ids.len(),
        regions.destination_region,
        progress.status
    );
    if progress.limit_reached {
        detail.push_str("; waiting: AWS's limit on copies in flight to that Region is reached");
    }
    Ok(answer(progress.status, progress.copy_ids, detail))
}

/// An instance's set: each snapshot copied on its own, with its tags and snapmgmt's Description.
struct SetCopier<'a> {
    regions: Regions<'a>,
    instance: &'a str,
    run: &'a str,
    this_run: &'a [(&'a str, &'a str)],
    kms_key_id: Option<&'a str>,
}

impl Copier for SetCopier<'_> {
    async fn copies(&self) -> Result<BTreeMap<String, BackupInfo>> {
        copies_by_source(self.regions.destination, self.this_run).await
    }

    async fn start(&self, parts: &[String]) -> Result<Started> {
        let regions = self.regions;
        for source in ec2_api::describe_snapshots(regions.source, parts).await? {
            let source_id = source.snapshot_id().unwrap_or_default().to_string();
            let mut copy_tags = ec2_api::snapshot_info(&source).tags;
            copy_tags.insert(SOURCE_ID_KEY.to_string(), source_id.clone());
            copy_tags.insert(SOURCE_REGION_KEY.to_string(), regions.source_region.to_string());
            let pairs: Vec<(&str, &str)> = copy_tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let description = tags::snapshot_description(self.instance, self.run);
            let copied = ec2_api::copy_snapshot(
                regions.destination,
                regions.source_region,
                &source_id,
                &description,
                self.kms_key_id,
                &pairs,
            )
            .await?;
            if copied == Copied::LimitReached {
                return Ok(Started { described: None, limit_reached: true });
            }
        }
        // The new copies, as the destination describes them.
        Ok(Started { described: None, limit_reached: false })
    }
}

/// This run's copies of ours in the destination, by the snapshot each is a copy of.
async fn copies_by_source(destination: &Ec2Client, this_run: &[(&str, &str)]) -> Result<BTreeMap<String, BackupInfo>> {
    let listed = ec2_api::list_own_snapshots(destination, this_run, ec2_api::SNAPSHOT_PAGE_SIZE).await?;
    Ok(listed
        .iter()
        .map(ec2_api::snapshot_info)
        .filter_map(|copy| Some((copy.tags.get(SOURCE_ID_KEY)?.clone(), copy)))
        .collect())
}
