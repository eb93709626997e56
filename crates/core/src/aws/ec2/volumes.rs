//! EC2 volumes a verify run's restore test makes from a snapshot, follows, deletes, and sweeps up.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification, VolumeState};
use aws_sdk_ec2::Client;

use crate::error::{Error, Result};

const SERVICE: &str = "ec2";

/// A new volume from the snapshot in the zone, with its tags set at creation; its id.
pub async fn create_from_snapshot(
    client: &Client,
    snapshot_id: &str,
    zone: &str,
    tags: &[(&str, &str)],
) -> Result<String> {
    let spec = TagSpecification::builder()
        .resource_type(ResourceType::Volume)
        .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect()))
        .build();
    let out = client
        .create_volume()
        .snapshot_id(snapshot_id)
        .availability_zone(zone)
        .tag_specifications(spec)
        .send()
        .await
        .map_err(|e| Error::aws(SERVICE, "CreateVolume", e))?;
    Ok(out.volume_id().unwrap_or_default().to_string())
}

/// Each volume's state (`creating`, `available`, `error`, ...); a volume that no longer exists is absent.
pub async fn states(client: &Client, ids: &[String]) -> Result<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let out = client.describe_volumes().set_volume_ids(Some(ids.to_vec())).send().await;
    let out = match out {
        Ok(out) => out,
        Err(e) if e.as_service_error().and_then(|s| s.meta().code()) == Some("InvalidVolume.NotFound") => {
            return Ok(Vec::new())
        }
        Err(e) => return Err(Error::aws(SERVICE, "DescribeVolumes", e)),
    };
    Ok(out
        .volumes()
        .iter()
        .filter_map(|v| {
            Some((v.volume_id()?.to_string(), v.state().map_or("unknown", VolumeState::as_str).to_string()))
        })
        .collect())
}

/// Deletes one volume; one already gone counts as deleted. False when it cannot be deleted yet (still being
/// created, or attached): a later sweep takes it.
pub async fn delete(client: &Client, volume_id: &str) -> Result<bool> {
    match client.delete_volume().volume_id(volume_id).send().await {
        Ok(_) => Ok(true),
        Err(e) => match e.as_service_error().and_then(|s| s.meta().code()) {
            Some("InvalidVolume.NotFound") => Ok(true),
            Some("IncorrectState") | Some("VolumeInUse") => Ok(false),
            _ => Err(Error::aws(SERVICE, "DeleteVolume", e)),
        },
    }
}

/// The volumes carrying `key` (any value) and every `tag:key=value` of `tags`, with when each was made (Unix
/// seconds), all pages, filtered on the server.
pub async fn list_tagged(client: &Client, key: &str, tags: &[(&str, &str)]) -> Result<Vec<(String, i64)>> {
    let mut request = client.describe_volumes().filters(Filter::builder().name("tag-key").values(key).build());
    for (k, v) in tags {
        request = request.filters(Filter::builder().name(format!("tag:{k}")).values(*v).build());
    }
    let mut pages = request.max_results(500).into_paginator().send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "DescribeVolumes", e))?;
        found.extend(page.volumes().iter().filter_map(|v| Some((v.volume_id()?.to_string(), v.create_time()?.secs()))));
    }
    Ok(found)
}
