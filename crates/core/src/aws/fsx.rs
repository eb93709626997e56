//! FSx: file systems, ONTAP volumes, and their backups.

use std::collections::BTreeMap;

use aws_sdk_fsx::types::{Backup, BackupLifecycle, BackupType, FileSystem, Filter, FilterName, Tag, Volume};
use aws_sdk_fsx::Client;

use super::Deleted;
use crate::error::{Error, Result};
use crate::retention::Resource;
use crate::retention::{BackupInfo, BackupState};

const SERVICE: &str = "fsx";

/// What an FSx backup is taken of: a whole file system (Windows, Lustre, OpenZFS) or one ONTAP volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    FileSystem(&'a str),
    Volume(&'a str),
}

impl<'a> Source<'a> {
    /// By the id's form: ONTAP volume ids begin `fsvol-`, file system ids `fs-`.
    pub fn of(id: &'a str) -> Self {
        if id.starts_with("fsvol-") {
            Self::Volume(id)
        } else {
            Self::FileSystem(id)
        }
    }

    pub fn id(&self) -> &'a str {
        match self {
            Self::FileSystem(id) | Self::Volume(id) => id,
        }
    }
}

/// What the workflow needs of one file system or volume: its account and its tags; `NotFound` when it
/// does not exist.
pub async fn describe_source(client: &Client, source: Source<'_>) -> Result<Resource> {
    match source {
        Source::FileSystem(id) => {
            let fs = describe_file_system(client, id).await?;
            Ok(Resource {
                owner_id: fs.owner_id().unwrap_or_default().to_string(),
                tags: tag_map(fs.tags()),
                gone: false,
            })
        }
        Source::Volume(id) => {
            let volume = describe_volume(client, id).await?;
            // A volume has no OwnerId: its ARN names the account.
            let owner_id = volume.resource_arn().and_then(|arn| arn.split(':').nth(4)).unwrap_or_default();
            Ok(Resource { owner_id: owner_id.to_string(), tags: tag_map(volume.tags()), gone: false })
        }
    }
}

/// Every volume in the account and region (ONTAP and OpenZFS), all pages. No server-side tag filter.
pub async fn list_volumes(client: &Client) -> Result<Vec<Volume>> {
    let mut pages = client.describe_volumes().into_paginator().send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "DescribeVolumes", e))?;
        all.extend(page.volumes.unwrap_or_default());
    }
    Ok(all)
}

/// One volume; `NotFound` when it does not exist.
pub async fn describe_volume(client: &Client, volume_id: &str) -> Result<Volume> {
    let out = client.describe_volumes().volume_ids(volume_id).send().await;
    let not_found = || Error::NotFound { kind: "FSx volume", id: volume_id.to_string() };
    match out {
        Ok(out) => out.volumes.unwrap_or_default().into_iter().next().ok_or_else(not_found),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_volume_not_found()) => Err(not_found()),
        Err(e) => Err(Error::aws(SERVICE, "DescribeVolumes", e)),
    }
}

/// Every file system in the account and region, all pages. FSx has no server-side tag filter.
pub async fn list_file_systems(client: &Client) -> Result<Vec<FileSystem>> {
    let mut pages = client.describe_file_systems().max_results(1000).into_paginator().send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "DescribeFileSystems", e))?;
        all.extend(page.file_systems.unwrap_or_default());
    }
    Ok(all)
}

/// One file system; `NotFound` when it does not exist.
pub async fn describe_file_system(client: &Client, file_system_id: &str) -> Result<FileSystem> {
    let out = client.describe_file_systems().file_system_ids(file_system_id).send().await;
    let not_found = || Error::NotFound { kind: "FSx file system", id: file_system_id.to_string() };
    match out {
        Ok(out) => out.file_systems.unwrap_or_default().into_iter().next().ok_or_else(not_found),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_file_system_not_found()) => Err(not_found()),
        Err(e) => Err(Error::aws(SERVICE, "DescribeFileSystems", e)),
    }
}

/// The backups of one file system or volume, filtered on the server by source and, when given, by type;
/// all pages, `page_size` items at most per page (None: the service's own maximum).
pub async fn list_backups(
    client: &Client,
    source: Source<'_>,
    backup_type: Option<BackupType>,
    page_size: Option<i32>,
) -> Result<Vec<Backup>> {
    let by_source = match source {
        Source::FileSystem(id) => filter(FilterName::FileSystemId, id),
        Source::Volume(id) => filter(FilterName::VolumeId, id),
    };
    let mut request = client.describe_backups().filters(by_source);
    if let Some(t) = backup_type {
        request = request.filters(filter(FilterName::BackupType, t.as_str()));
    }
    let mut pages = request.set_max_results(page_size).into_paginator().send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "DescribeBackups", e))?;
        all.extend(page.backups.unwrap_or_default());
    }
    Ok(all)
}

/// The resources (our `snapmgmt:TargetId` tag) our user-initiated backups (made by `stack`, when given) were
/// taken of, page by page. FSx filters by type on the server, not by tag.
pub async fn targets_of_our_backups(
    client: &Client,
    stack: Option<&crate::tags::StackId>,
) -> Result<std::collections::BTreeSet<String>> {
    let mut pages = client
        .describe_backups()
        .filters(filter(FilterName::BackupType, BackupType::UserInitiated.as_str()))
        .into_paginator()
        .send();
    let mut ids = std::collections::BTreeSet::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "DescribeBackups", e))?;
        for backup in page.backups() {
            let tags = tag_map(backup.tags());
            let ours = tags.get(crate::tags::MANAGED_BY_KEY).map(String::as_str) == Some(crate::tags::MANAGED_BY_VALUE);
            let by_stack =
                stack.is_none_or(|s| tags.get(crate::tags::STACK_KEY).map(String::as_str) == Some(s.as_str()));
            if ours && by_stack {
                ids.extend(tags.get(crate::tags::TARGET_ID_KEY).cloned());
            }
        }
    }
    Ok(ids)
}

/// One backup; `NotFound` when it does not exist.
pub async fn describe_backup(client: &Client, backup_id: &str) -> Result<Backup> {
    let out = client.describe_backups().backup_ids(backup_id).send().await;
    let not_found = || Error::NotFound { kind: "FSx backup", id: backup_id.to_string() };
    match out {
        Ok(out) => out.backups.unwrap_or_default().into_iter().next().ok_or_else(not_found),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_backup_not_found()) => Err(not_found()),
        Err(e) => Err(Error::aws(SERVICE, "DescribeBackups", e)),
    }
}

/// Starts a user-initiated backup with tags set at creation. The same `token` returns the same backup.
pub async fn create_backup(client: &Client, source: Source<'_>, token: &str, tags: &[(&str, &str)]) -> Result<Backup> {
    let tags = sdk_tags(tags);
    let request = match source {
        Source::FileSystem(id) => client.create_backup().file_system_id(id),
        Source::Volume(id) => client.create_backup().volume_id(id),
    };
    let out = request.client_request_token(token).set_tags(Some(tags)).send().await;
    match out {
        Ok(out) => out.backup.ok_or_else(|| Error::Aws {
            service: SERVICE,
            operation: "CreateBackup",
            code: "EmptyResponse".into(),
            message: "the response named no backup".into(),
        }),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_backup_in_progress()) => {
            Err(Error::BackupInProgress { file_system_id: source.id().to_string() })
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_file_system_not_found()) => {
            Err(Error::NotFound { kind: "FSx file system", id: source.id().to_string() })
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_volume_not_found()) => {
            Err(Error::NotFound { kind: "FSx volume", id: source.id().to_string() })
        }
        Err(e) => Err(Error::aws(SERVICE, "CreateBackup", e)),
    }
}

/// Copies one backup into the Region of `destination` (the client the call is sent to), encrypted with
/// `kms_key_id` when given (else the default FSx key there), tagged at creation. The same `token` returns
/// the same copy. None: AWS's limit on copies in flight to that Region is reached; ask again later.
pub async fn copy_backup(
    destination: &Client,
    source_region: &str,
    source_backup_id: &str,
    token: &str,
    kms_key_id: Option<&str>,
    tags: &[(&str, &str)],
) -> Result<Option<Backup>> {
    let tags = sdk_tags(tags);
    let out = destination
        .copy_backup()
        .source_region(source_region)
        .source_backup_id(source_backup_id)
        .client_request_token(token)
        .set_kms_key_id(kms_key_id.map(str::to_string))
        .copy_tags(false)
        .set_tags(Some(tags))
        .send()
        .await;
    match out {
        Ok(out) => out.backup.map(Some).ok_or_else(|| Error::Aws {
            service: SERVICE,
            operation: "CopyBackup",
            code: "EmptyResponse".into(),
            message: "the response named no backup".into(),
        }),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_service_limit_exceeded()) => Ok(None),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_backup_not_found()) => {
            Err(Error::NotFound { kind: "FSx backup", id: source_backup_id.to_string() })
        }
        Err(e) => Err(Error::aws(SERVICE, "CopyBackup", e)),
    }
}

/// Deletes one backup. A backup that is already gone counts as deleted; one being restored or copied
/// is in use.
pub async fn delete_backup(client: &Client, backup_id: &str) -> Result<Deleted> {
    match client.delete_backup().backup_id(backup_id).send().await {
        Ok(_) => Ok(Deleted::Yes),
        Err(e) => match e.as_service_error() {
            Some(s) if s.is_backup_not_found() => Ok(Deleted::Yes),
            Some(s) if s.is_backup_restoring() || s.is_backup_being_copied() => Ok(Deleted::InUse),
            _ => Err(Error::aws(SERVICE, "DeleteBackup", e)),
        },
    }
}

/// What the retention rule needs to know of a backup.
/// Adds (or overwrites) these tags on one backup: FSx tags by ARN, which DescribeBackups gives.
pub async fn tag_backup(client: &Client, backup_id: &str, tags: &[(&str, &str)]) -> Result<()> {
    let backup = describe_backup(client, backup_id).await?;
    let Some(arn) = backup.resource_arn() else {
        return Err(Error::NotFound { kind: "FSx backup ARN", id: backup_id.to_string() });
    };
    client
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(sdk_tags(tags)))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| Error::aws(SERVICE, "TagResource", e))
}

pub fn backup_info(backup: &Backup) -> BackupInfo {
    let state = match backup.lifecycle() {
        Some(BackupLifecycle::Available) => BackupState::Completed,
        Some(BackupLifecycle::Failed) | Some(BackupLifecycle::Deleted) => BackupState::Failed,
        _ => BackupState::Pending,
    };
    BackupInfo {
        id: backup.backup_id().unwrap_or_default().to_string(),
        owner_account: backup.owner_id().map(str::to_string),
        // A volume's backup names its file system too: the volume is what it was taken of.
        source_id: backup
            .volume()
            .and_then(|v| v.volume_id())
            .or_else(|| backup.file_system().and_then(|f| f.file_system_id()))
            .map(str::to_string),
        tags: tag_map(backup.tags()),
        created_at: super::epoch_seconds(backup.creation_time()),
        state,
        in_use: false,
        aws_backup_managed: matches!(backup.r#type(), Some(BackupType::AwsBackup)),
    }
}

/// Tags as a map; keys are unique in FSx.
pub fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))).collect()
}

fn sdk_tags(tags: &[(&str, &str)]) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect()
}

fn filter(name: FilterName, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

#[cfg(test)]
mod tests;

/// Where a restored file system goes: its subnets (a Multi-AZ deployment's two, the preferred one named) and
/// security groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    pub subnet_ids: Vec<String>,
    pub preferred_subnet_id: Option<String>,
    pub security_group_ids: Vec<String>,
}

impl Placement {
    /// The source's own subnets and preferred subnet, with the security groups of its network interfaces.
    pub fn of_source(source: &FileSystem, security_group_ids: Vec<String>) -> Self {
        let preferred = source
            .windows_configuration()
            .and_then(|w| w.preferred_subnet_id())
            .or_else(|| source.open_zfs_configuration().and_then(|z| z.preferred_subnet_id()));
        Self {
            subnet_ids: source.subnet_ids().to_vec(),
            preferred_subnet_id: preferred.map(str::to_string),
            security_group_ids,
        }
    }

    /// Another Region's `subnet_ids` (the first one preferred) and groups, as many subnets as the source has
    /// (a Multi-AZ deployment: two); fails naming `setting` when it names too few.
    pub fn elsewhere(
        source: &FileSystem,
        subnet_ids: &[String],
        security_group_ids: &[String],
        setting: &'static str,
    ) -> Result<Self> {
        let wanted = source.subnet_ids().len().max(1);
        if subnet_ids.len() < wanted {
            return Err(Error::InvalidSetting {
                name: setting,
                value: subnet_ids.join(","),
                reason: format!(
                    "names {} subnet(s); {} is in {wanted} (a Multi-AZ deployment), so its copy needs as many",
                    subnet_ids.len(),
                    source.file_system_id().unwrap_or_default()
                ),
            });
        }
        let preferred = (source.windows_configuration().and_then(|w| w.preferred_subnet_id()).is_some()
            || source.open_zfs_configuration().and_then(|z| z.preferred_subnet_id()).is_some())
        .then(|| subnet_ids[0].clone());
        Ok(Self {
            subnet_ids: subnet_ids[..wanted].to_vec(),
            preferred_subnet_id: preferred,
            security_group_ids: security_group_ids.to_vec(),
        })
    }
}

/// A restore test's new file system from `backup_id`, as the source is made (its deployment type, storage
/// type and throughput), where `placement` says; tagged at creation. Its id.
/// Windows file systems joined to a self-managed Active Directory cannot be: the join needs the directory's
/// service account password, which snapmgmt does not hold.
pub async fn restore_file_system(
    client: &Client,
    source: &FileSystem,
    backup_id: &str,
    placement: &Placement,
    token: &str,
    tags: &[(&str, &str)],
) -> Result<String> {
    use aws_sdk_fsx::types::{
        CreateFileSystemLustreConfiguration, CreateFileSystemOpenZfsConfiguration,
        CreateFileSystemWindowsConfiguration, FileSystemType,
    };
    let mut request = client
        .create_file_system_from_backup()
        .backup_id(backup_id)
        .client_request_token(token)
        .set_subnet_ids(Some(placement.subnet_ids.clone()))
        .set_security_group_ids(
            (!placement.security_group_ids.is_empty()).then(|| placement.security_group_ids.clone()),
        )
        .set_storage_type(source.storage_type().cloned())
        .set_tags(Some(sdk_tags(tags)));
    let unsupported =
        |why: &str| Error::invalid_event("fsxId", format!("{}: {why}", source.file_system_id().unwrap_or("")));
    match source.file_system_type() {
        Some(FileSystemType::Windows) => {
            let w = source.windows_configuration().ok_or_else(|| unsupported("no Windows configuration"))?;
            if w.self_managed_active_directory_configuration().is_some() {
                return Err(unsupported(
                    "joined to a self-managed Active Directory: a restore needs the directory's service account \
                     password, which snapmgmt does not hold",
                ));
            }
            request = request.windows_configuration(
                CreateFileSystemWindowsConfiguration::builder()
                    .set_active_directory_id(w.active_directory_id().map(str::to_string))
                    .set_deployment_type(w.deployment_type().cloned())
                    .set_preferred_subnet_id(placement.preferred_subnet_id.clone())
                    .set_throughput_capacity(w.throughput_capacity())
                    .build(),
            );
        }
        Some(FileSystemType::Lustre) => {
            let l = source.lustre_configuration().ok_or_else(|| unsupported("no Lustre configuration"))?;
            request = request.lustre_configuration(
                CreateFileSystemLustreConfiguration::builder()
                    .set_deployment_type(l.deployment_type().cloned())
                    .set_per_unit_storage_throughput(l.per_unit_storage_throughput())
                    .build(),
            );
        }
        Some(FileSystemType::Openzfs) => {
            let z = source.open_zfs_configuration().ok_or_else(|| unsupported("no OpenZFS configuration"))?;
            request = request.open_zfs_configuration(
                CreateFileSystemOpenZfsConfiguration::builder()
                    .set_deployment_type(z.deployment_type().cloned())
                    .set_throughput_capacity(z.throughput_capacity())
                    .set_preferred_subnet_id(placement.preferred_subnet_id.clone())
                    .build(),
            );
        }
        _ => return Err(unsupported("FSx backs ONTAP up per volume: its volumes are the targets")),
    }
    let out = request.send().await.map_err(|e| Error::aws(SERVICE, "CreateFileSystemFromBackup", e))?;
    Ok(out.file_system().and_then(|f| f.file_system_id()).unwrap_or_default().to_string())
}

/// A restore test's new ONTAP volume from `backup_id`, in storage virtual machine `svm` (the source's, or the
/// copy Region's), named and mounted as `name`, token `name`; tagged at creation. Its id.
pub async fn restore_volume(
    client: &Client,
    source: &Volume,
    backup_id: &str,
    svm: &str,
    name: &str,
    tags: &[(&str, &str)],
) -> Result<String> {
    let token = name;
    let ontap = aws_sdk_fsx::types::CreateOntapVolumeConfiguration::builder()
        .storage_virtual_machine_id(svm)
        .junction_path(format!("/{name}"))
        .set_size_in_bytes(source.ontap_configuration().and_then(|o| o.size_in_bytes()))
        .build();
    let out = client
        .create_volume_from_backup()
        .backup_id(backup_id)
        .name(name)
        .client_request_token(token)
        .ontap_configuration(ontap)
        .set_tags(Some(sdk_tags(tags)))
        .send()
        .await
        .map_err(|e| Error::aws(SERVICE, "CreateVolumeFromBackup", e))?;
    Ok(out.volume().and_then(|v| v.volume_id()).unwrap_or_default().to_string())
}

/// Deletes a restore test's file system without a final backup (FSx would otherwise make one, a backup no
/// one asked for); true when it is deleted or already gone.
pub async fn delete_restored_file_system(client: &Client, file_system: &FileSystem) -> Result<bool> {
    use aws_sdk_fsx::types::{
        DeleteFileSystemLustreConfiguration, DeleteFileSystemOpenZfsConfiguration, DeleteFileSystemOpenZfsOption,
        DeleteFileSystemWindowsConfiguration, FileSystemType,
    };
    let id = file_system.file_system_id().unwrap_or_default();
    let mut request = client.delete_file_system().file_system_id(id);
    request = match file_system.file_system_type() {
        Some(FileSystemType::Windows) => request
            .windows_configuration(DeleteFileSystemWindowsConfiguration::builder().skip_final_backup(true).build()),
        Some(FileSystemType::Lustre) => {
            request.lustre_configuration(DeleteFileSystemLustreConfiguration::builder().skip_final_backup(true).build())
        }
        Some(FileSystemType::Openzfs) => request.open_zfs_configuration(
            DeleteFileSystemOpenZfsConfiguration::builder()
                .skip_final_backup(true)
                .options(DeleteFileSystemOpenZfsOption::DeleteChildVolumesAndSnapshots)
                .build(),
        ),
        _ => request,
    };
    match request.send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_file_system_not_found()) => Ok(true),
        Err(e) => Err(Error::aws(SERVICE, "DeleteFileSystem", e)),
    }
}

/// Deletes a restore test's ONTAP volume without a final backup; true when it is deleted or already gone.
pub async fn delete_restored_volume(client: &Client, volume_id: &str) -> Result<bool> {
    let ontap = aws_sdk_fsx::types::DeleteVolumeOntapConfiguration::builder().skip_final_backup(true).build();
    match client.delete_volume().volume_id(volume_id).ontap_configuration(ontap).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_volume_not_found()) => Ok(true),
        Err(e) => Err(Error::aws(SERVICE, "DeleteVolume", e)),
    }
}
