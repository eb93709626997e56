//! EFS: file systems.

use aws_sdk_efs::types::{FileSystemDescription, LifeCycleState};
use aws_sdk_efs::Client;

use crate::error::{Error, Result};

const SERVICE: &str = "elasticfilesystem";

/// The available file systems carrying the tag, all pages. EFS has no server-side tag filter.
pub async fn list_tagged_file_systems(client: &Client, tag_key: &str, tag_value: &str) -> Result<Vec<String>> {
    let mut pages = client.describe_file_systems().into_paginator().send();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "DescribeFileSystems", e))?;
        ids.extend(
            page.file_systems()
                .iter()
                .filter(|fs| fs.life_cycle_state() == &LifeCycleState::Available)
                .filter(|fs| fs.tags().iter().any(|t| t.key() == tag_key && t.value() == tag_value))
                .map(|fs| fs.file_system_id().to_string()),
        );
    }
    Ok(ids)
}

/// Tags as a map; keys are unique in EFS.
pub fn tag_map(tags: &[aws_sdk_efs::types::Tag]) -> std::collections::BTreeMap<String, String> {
    tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

/// One file system; `NotFound` when it does not exist.
pub async fn describe_file_system(client: &Client, file_system_id: &str) -> Result<FileSystemDescription> {
    let out = client.describe_file_systems().file_system_id(file_system_id).send().await;
    let not_found = || Error::NotFound { kind: "EFS file system", id: file_system_id.to_string() };
    match out {
        Ok(out) => out.file_systems.unwrap_or_default().into_iter().next().ok_or_else(not_found),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_file_system_not_found()) => Err(not_found()),
        Err(e) => Err(Error::aws(SERVICE, "DescribeFileSystems", e)),
    }
}

/// Every file system of the account and Region, all pages (with their tags and creation tokens).
pub async fn list_file_systems(client: &Client) -> Result<Vec<FileSystemDescription>> {
    let mut pages = client.describe_file_systems().into_paginator().send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        all.extend(page.map_err(|e| Error::aws(SERVICE, "DescribeFileSystems", e))?.file_systems.unwrap_or_default());
    }
    Ok(all)
}

pub async fn tag_file_system(client: &Client, file_system_id: &str, tags: &[(&str, &str)]) -> Result<()> {
    let tags: Vec<aws_sdk_efs::types::Tag> = tags
        .iter()
        .map(|(k, v)| aws_sdk_efs::types::Tag::builder().key(*k).value(*v).build())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::invalid_event("tags", e.to_string()))?;
    client
        .tag_resource()
        .resource_id(file_system_id)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| Error::aws(SERVICE, "TagResource", e))?;
    Ok(())
}

/// Deletes a file system; true when it is deleted or already gone.
pub async fn delete_file_system(client: &Client, file_system_id: &str) -> Result<bool> {
    match client.delete_file_system().file_system_id(file_system_id).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_file_system_not_found()) => Ok(true),
        Err(e) => Err(Error::aws(SERVICE, "DeleteFileSystem", e)),
    }
}
