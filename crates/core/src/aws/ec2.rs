//! EC2: instances and their EBS snapshots.

use aws_sdk_ec2::types::{Filter, InstanceSpecification, ResourceType, Snapshot, SnapshotState, Tag, TagSpecification};
use aws_sdk_ec2::Client;

use super::Deleted;
use crate::error::{Error, Result};
use crate::retention::{BackupInfo, BackupState};
use crate::tags;

const SERVICE: &str = "ec2";
/// DescribeSnapshots' largest page.
pub const SNAPSHOT_PAGE_SIZE: i32 = 1000;

/// A tagged instance the trigger may target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedInstance {
    pub id: String,
    pub stopped: bool,
    /// Its `snapmgmt:SnapshotMode` tag, if any.
    pub mode_tag: Option<String>,
}

/// The running and stopped instances carrying the tag, all pages, filtered on the server.
pub async fn list_tagged_instances(client: &Client, tag_key: &str, tag_value: &str) -> Result<Vec<TaggedInstance>> {
    let state = Filter::builder().name("instance-state-name").values("running").values("stopped").build();
    let mut pages = client
        .describe_instances()
        .filters(filter(&format!("tag:{tag_key}"), tag_value))
        .filters(state)
        // Pages of 1,000 (the most EC2 gives): a fleet's instances never come back in one slow answer.
        .max_results(1000)
        .into_paginator()
        .send();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "DescribeInstances", e))?;
        for reservation in page.reservations() {
            ids.extend(reservation.instances().iter().filter_map(|i| {
                Some(TaggedInstance {
                    id: i.instance_id()?.to_string(),
                    stopped: i.state().and_then(|s| s.name()) == Some(&aws_sdk_ec2::types::InstanceStateName::Stopped),
                    mode_tag: i
                        .tags()
                        .iter()
                        .find(|t| t.key() == Some(tags::SNAPSHOT_MODE_KEY))
                        .and_then(|t| t.value())
                        .map(str::to_string),
                })
            }));
        }
    }
    Ok(ids)
}

/// One instance; `NotFound` when it does not exist.
pub async fn describe_instance(client: &Client, instance_id: &str) -> Result<aws_sdk_ec2::types::Instance> {
    Ok(describe_instance_and_owner(client, instance_id).await?.1)
}

/// One instance and the account that owns it (its reservation's); `NotFound` when it does not exist.
pub async fn describe_instance_and_owner(
    client: &Client,
    instance_id: &str,
) -> Result<(String, aws_sdk_ec2::types::Instance)> {
    let out = client.describe_instances().instance_ids(instance_id).send().await;
    match out {
        Ok(out) => {
            let found = out.reservations.unwrap_or_default().into_iter().find_map(|r| {
                let owner = r.owner_id.unwrap_or_default();
                r.instances.unwrap_or_default().into_iter().next().map(|i| (owner, i))
            });
            found.ok_or_else(|| instance_not_found(instance_id))
        }
        Err(e) if is_instance_not_found(&e) => Err(instance_not_found(instance_id)),
        Err(e) => Err(Error::aws(SERVICE, "DescribeInstances", e)),
    }
}

/// Adds (or overwrites) these tags on one snapshot.
pub async fn tag_snapshot(client: &Client, snapshot_id: &str, tags: &[(&str, &str)]) -> Result<()> {
    tag_snapshots(client, &[snapshot_id.to_string()], tags).await
}

/// Adds (or overwrites) these tags on every one of these snapshots, in one CreateTags.
pub async fn tag_snapshots(client: &Client, snapshot_ids: &[String], tags: &[(&str, &str)]) -> Result<()> {
    client
        .create_tags()
        .set_resources(Some(snapshot_ids.to_vec()))
        .set_tags(Some(sdk_tags(tags)))
        .send()
        .await
        .map_err(|e| Error::aws(SERVICE, "CreateTags", e))?;
    Ok(())
}

fn instance_not_found(instance_id: &str) -> Error {
    Error::NotFound { kind: "EC2 instance", id: instance_id.to_string() }
}

fn is_instance_not_found<E: aws_sdk_ec2::error::ProvideErrorMetadata, R>(
    e: &aws_sdk_ec2::error::SdkError<E, R>,
) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some("InvalidInstanceID.NotFound")
}

/// One multi-volume, crash-consistent snapshot set of the instance, tagged at creation; the snapshot ids.
/// Sent once, never retried by the SDK: CreateSnapshots takes no idempotency token, so after a failed
/// call only the caller can tell (by the set's tags) whether it took effect.
pub async fn create_snapshots(
    client: &Client,
    instance_id: &str,
    exclude_boot_volume: bool,
    description: &str,
    tags: &[(&str, &str)],
) -> Result<Vec<String>> {
    let tags = snapshot_tags(tags);
    let spec =
        InstanceSpecification::builder().instance_id(instance_id).exclude_boot_volume(exclude_boot_volume).build();
    let out = client
        .create_snapshots()
        .instance_specification(spec)
        .description(description)
        .tag_specifications(tags)
        .customize()
        .config_override(sent_once())
        .send()
        .await
        .map_err(|e| Error::aws(SERVICE, "CreateSnapshots", e))?;
    Ok(out.snapshots().iter().filter_map(|s| s.snapshot_id().map(str::to_string)).collect())
}

/// What became of one CopySnapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copied {
    /// The copy's id, in the destination Region.
    Started(String),
    /// AWS's limit on copies in flight to the destination Region: none started; ask again later.
    LimitReached,
}

/// Copies one snapshot into the Region of `destination` (the client the call is sent to), encrypted (with
/// `kms_key_id`, else the destination's default EBS key), tagged at creation. Sent once, never retried by
/// the SDK: CopySnapshot takes no idempotency token, so after a failed call only the copy's tags tell
/// whether it took effect.
pub async fn copy_snapshot(
    destination: &Client,
    source_region: &str,
    source_id: &str,
    description: &str,
    kms_key_id: Option<&str>,
    tags: &[(&str, &str)],
) -> Result<Copied> {
    let tags = snapshot_tags(tags);
    let out = destination
        .copy_snapshot()
        .source_region(source_region)
        .source_snapshot_id(source_id)
        .description(description)
        .encrypted(true)
        .set_kms_key_id(kms_key_id.map(str::to_string))
        .tag_specifications(tags)
        .customize()
        .config_override(sent_once())
        .send()
        .await;
    match out {
        Ok(out) => Ok(Copied::Started(out.snapshot_id.unwrap_or_default())),
        Err(e) if aws_sdk_ec2::error::ProvideErrorMetadata::code(&e) == Some("ResourceLimitExceeded") => {
            Ok(Copied::LimitReached)
        }
        Err(e) => Err(Error::aws(SERVICE, "CopySnapshot", e)),
    }
}

/// This account's snapshots matching every `tag:key=value` filter, all pages of up to `page_size`.
pub async fn list_own_snapshots(client: &Client, tags: &[(&str, &str)], page_size: i32) -> Result<Vec<Snapshot>> {
    let mut request = client.describe_snapshots().owner_ids("self").max_results(page_size);
    for (key, value) in tags {
        request = request.filters(filter(&format!("tag:{key}"), value));
    }
    let mut pages = request.into_paginator().send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "DescribeSnapshots", e))?;
        all.extend(page.snapshots.unwrap_or_default());
    }
    Ok(all)
}

/// The resources (our `snapmgmt:TargetId` tag) this account's snapshots of ours (made by `stack`, when given)
/// were taken of, page by page.
pub async fn targets_of_our_snapshots(
    client: &Client,
    stack: Option<&tags::StackId>,
) -> Result<std::collections::BTreeSet<String>> {
    let ours = filter(&format!("tag:{}", tags::MANAGED_BY_KEY), tags::MANAGED_BY_VALUE);
    let by_stack = stack.map(|s| filter(&format!("tag:{}", tags::STACK_KEY), s.as_str()));
    let mut pages = client
        .describe_snapshots()
        .owner_ids("self")
        .set_filters(Some([Some(ours), by_stack].into_iter().flatten().collect()))
        .max_results(SNAPSHOT_PAGE_SIZE)
        .into_paginator()
        .send();
    let mut ids = std::collections::BTreeSet::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "DescribeSnapshots", e))?;
        for snapshot in page.snapshots() {
            let target = snapshot.tags().iter().find(|t| t.key() == Some(tags::TARGET_ID_KEY)).and_then(|t| t.value());
            ids.extend(target.map(str::to_string));
        }
    }
    Ok(ids)
}

/// These snapshots; `NotFound` when one does not exist.
pub async fn describe_snapshots(client: &Client, ids: &[String]) -> Result<Vec<Snapshot>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let out = client.describe_snapshots().set_snapshot_ids(Some(ids.to_vec())).send().await;
    match out {
        Ok(out) => Ok(out.snapshots.unwrap_or_default()),
        Err(e) if e.as_service_error().and_then(|s| s.meta().code()) == Some("InvalidSnapshot.NotFound") => {
            Err(Error::NotFound { kind: "EBS snapshot", id: ids.join(", ") })
        }
        Err(e) => Err(Error::aws(SERVICE, "DescribeSnapshots", e)),
    }
}

/// The snapshots this account's own AMIs (deprecated and disabled ones too) are made of: they cannot be
/// deleted while the AMI exists. All pages.
pub async fn snapshots_of_own_images(client: &Client) -> Result<std::collections::HashSet<String>> {
    let mut pages = client
        .describe_images()
        .owners("self")
        .include_deprecated(true)
        .include_disabled(true)
        .max_results(1000)
        .into_paginator()
        .send();
    let mut ids = std::collections::HashSet::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "DescribeImages", e))?;
        let mappings = page.images().iter().flat_map(|image| image.block_device_mappings());
        ids.extend(mappings.filter_map(|m| m.ebs()?.snapshot_id().map(str::to_string)));
    }
    Ok(ids)
}

/// Deletes one snapshot. One already gone counts as deleted.
pub async fn delete_snapshot(client: &Client, snapshot_id: &str) -> Result<Deleted> {
    match client.delete_snapshot().snapshot_id(snapshot_id).send().await {
        Ok(_) => Ok(Deleted::Yes),
        Err(e) => match e.as_service_error().and_then(|s| s.meta().code()) {
            Some("InvalidSnapshot.InUse") => Ok(Deleted::InUse),
            Some("InvalidSnapshot.NotFound") => Ok(Deleted::Yes),
            _ => Err(Error::aws(SERVICE, "DeleteSnapshot", e)),
        },
    }
}

/// Tags as a map; keys are unique in EC2.
pub fn tag_map(tags: &[Tag]) -> std::collections::BTreeMap<String, String> {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))).collect()
}

fn sdk_tags(tags: &[(&str, &str)]) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect()
}

/// Tags set on new snapshots at their creation.
fn snapshot_tags(tags: &[(&str, &str)]) -> TagSpecification {
    TagSpecification::builder().resource_type(ResourceType::Snapshot).set_tags(Some(sdk_tags(tags))).build()
}

/// A call without the SDK's retries: for calls that take no idempotency token.
fn sent_once() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::new().retry_config(aws_config::retry::RetryConfig::disabled())
}

/// What the retention rule needs to know of a snapshot. A snapshot records its volume, not its instance:
/// the instance it was taken of is the one its Description and its tags agree on, else none.
pub fn snapshot_info(snapshot: &Snapshot) -> BackupInfo {
    let tags = tag_map(snapshot.tags());
    BackupInfo {
        id: snapshot.snapshot_id().unwrap_or_default().to_string(),
        owner_account: snapshot.owner_id().map(str::to_string),
        source_id: tags::described_instance(snapshot.description().unwrap_or_default(), &tags).map(str::to_string),
        tags,
        created_at: super::epoch_seconds(snapshot.start_time()),
        state: match snapshot.state() {
            Some(SnapshotState::Completed) => BackupState::Completed,
            Some(SnapshotState::Error) => BackupState::Failed,
            _ => BackupState::Pending,
        },
        in_use: false,
        aws_backup_managed: false,
    }
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

pub mod volumes;

#[cfg(test)]
mod tests;
