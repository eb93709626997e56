//! An FSx target's newest backup of ours, proven by a restore (VERIFY_FSX_RESTORE names the kinds: a
//! restored file system costs for the hour or so it exists): a new file system made from the backup as the
//! source is made (deployment type, subnets, security groups, storage type, throughput), or for an ONTAP
//! volume a new volume in its storage virtual machine; tagged at creation as this stack's restore test,
//! followed until it is available (the verify state machine's loop, [`super::pending`]), then deleted without
//! a final backup, whatever happened. The verify role may delete no other file system or volume.

use aws_sdk_fsx::types::{FileSystemLifecycle, VolumeLifecycle};
use tracing::info;

use super::pending::{self, Progress, Restorer};
use super::restore::{Swept, SWEEP_AFTER_SECONDS};
use super::target::{RestoredResource, TargetCheck};
use crate::aws::fsx::{self as fsx_api, Placement, Source};
use crate::config::{FsxKind, VerifyConfig};
use crate::error::{Error, Result};
use crate::fsx::FsxStore;
use crate::model::TargetKind;
use crate::tags::{self, RESTORE_TEST_KEY};

/// How long an FSx restore may take before its check fails: FSx makes a file system from a backup in tens of
/// minutes, a large one in hours.
pub const RESTORE_TIMEOUT_SECONDS: i64 = 4 * 3600;

/// The kind of FSx target an id names: an ONTAP volume, or the file system's type.
pub async fn kind_of(fsx: &aws_sdk_fsx::Client, target_id: &str) -> Result<Option<FsxKind>> {
    if let Source::Volume(_) = Source::of(target_id) {
        return Ok(Some(FsxKind::Ontap));
    }
    let fs = fsx_api::describe_file_system(fsx, target_id).await?;
    Ok(fs.file_system_type().and_then(|t| FsxKind::parse(t.as_str())))
}

/// Restores the target's newest available backup of ours (made by the settings' stack), and with copies its
/// newest copy in the copy Region where VERIFY_COPY_* say: the restores started, its check pending.
pub async fn check_fsx(
    clients: super::check::Clients<'_>,
    settings: &VerifyConfig,
    target_id: &str,
    run_id: &str,
    pick: super::Pick<'_>,
    now: i64,
) -> Result<TargetCheck> {
    let fsx = clients.fsx;
    let kind = kind_of(fsx, target_id).await?;
    if !kind.is_some_and(|k| settings.fsx_restore.contains(&k)) {
        let named = kind.map_or("its kind", FsxKind::as_str);
        let reason = format!("VERIFY_FSX_RESTORE (the VerifyFsxRestore parameter) does not name {named}");
        return Err(Error::invalid_event("fsxId", reason));
    }
    let mut check = TargetCheck::new(TargetKind::Fsx, target_id);
    let stack = settings.stack.as_ref();
    let Some((backups, created)) = newest_of_ours(fsx, target_id, stack, pick, now).await? else {
        return Ok(check);
    };
    let network = &settings.copy_network;
    let restored_there = network.restores(matches!(Source::of(target_id), Source::Volume(_)));
    // Copies follow the nightly run: none there yet is none to verify.
    let copy = match clients.copy.filter(|_| restored_there) {
        Some(there) => newest_of_ours(there.fsx, target_id, stack, pick, now).await?.map(|(ids, _)| (there, ids)),
        None => None,
    };
    let backup_id = &backups[0];
    let mut labels = vec![(RESTORE_TEST_KEY, run_id), ("Name", "snapmgmt restore test")];
    labels.extend(stack.map(tags::StackId::tag));
    let name = restored_name(run_id, target_id);
    let mut resources = Vec::new();
    match Source::of(target_id) {
        Source::Volume(id) => {
            let source = fsx_api::describe_volume(fsx, id).await?;
            let svm = source.ontap_configuration().and_then(|o| o.storage_virtual_machine_id()).unwrap_or_default();
            let made = fsx_api::restore_volume(fsx, &source, backup_id, svm, &name, &labels).await;
            resources.push(started(made, backup_id, None)?);
            if let (Some((there, copy_ids)), Some(svm)) = (&copy, &network.svm_id) {
                let made = fsx_api::restore_volume(there.fsx, &source, &copy_ids[0], svm, &name, &labels).await;
                resources.push(copy_started(made, &copy_ids[0], there.region));
            }
        }
        Source::FileSystem(id) => {
            let source = fsx_api::describe_file_system(fsx, id).await?;
            let groups = security_groups(clients.ec2, source.network_interface_ids()).await?;
            let here = Placement::of_source(&source, groups);
            // Named before anything is made: a setting that cannot place the copy changes nothing.
            let there = match &copy {
                Some(_) => Some(Placement::elsewhere(
                    &source,
                    &network.subnet_ids,
                    &network.security_group_ids,
                    "VERIFY_COPY_SUBNET_IDS",
                )?),
                None => None,
            };
            let made = fsx_api::restore_file_system(fsx, &source, backup_id, &here, &name, &labels).await;
            resources.push(started(made, backup_id, None)?);
            if let (Some((copy_region, copy_ids)), Some(there)) = (&copy, &there) {
                let copy_id = &copy_ids[0];
                let made = fsx_api::restore_file_system(copy_region.fsx, &source, copy_id, there, &name, &labels).await;
                resources.push(copy_started(made, copy_id, copy_region.region));
            }
        }
    }
    pending::begin(&mut check, resources, settings, run_id, RESTORE_TIMEOUT_SECONDS);
    (check.backup, check.created) = (backups, Some(created));
    Ok(check)
}

/// The backup of the target made by this stack a verification takes, among those FSx lists in `fsx`'s Region.
async fn newest_of_ours(
    fsx: &aws_sdk_fsx::Client,
    target_id: &str,
    stack: Option<&tags::StackId>,
    pick: super::Pick<'_>,
    now: i64,
) -> Result<Option<(Vec<String>, i64)>> {
    super::pick::ours_chosen(&FsxStore { client: fsx, sources: fsx }, target_id, stack, pick, now).await
}

/// The backup's restore, started: being made; refused by FSx: failed, nothing made. A source snapmgmt cannot
/// restore (its settings) is the check's error.
fn started(made: Result<String>, backup_id: &str, region: Option<&str>) -> Result<RestoredResource> {
    match made {
        Ok(id) => Ok(RestoredResource {
            backup_id: backup_id.to_string(),
            resource_id: id,
            state: "CREATING".into(),
            region: region.map(str::to_string),
            ..Default::default()
        }),
        Err(e @ Error::InvalidEvent { .. }) => Err(e),
        Err(e) => Ok(pending::refused(backup_id, region, &e)),
    }
}

/// The copy's restore, started or refused (the backup's already is: whatever stops the copy's fails it only).
fn copy_started(made: Result<String>, copy_id: &str, region: &str) -> RestoredResource {
    started(made, copy_id, Some(region)).unwrap_or_else(|e| pending::refused(copy_id, Some(region), &e))
}

/// A restored volume's name (and junction path, and the request's token): ONTAP allows letters, digits and
/// underscores; unique per run and target.
fn restored_name(run_id: &str, target_id: &str) -> String {
    format!("snapmgmt_rt_{:08x}", super::efs::fnv1a(&format!("{run_id}/{target_id}")))
}

/// The security groups of the source's network interfaces (FSx reports the interfaces, not the groups).
async fn security_groups(ec2: &aws_sdk_ec2::Client, interfaces: &[String]) -> Result<Vec<String>> {
    if interfaces.is_empty() {
        return Ok(Vec::new());
    }
    let out = ec2
        .describe_network_interfaces()
        .set_network_interface_ids(Some(interfaces.to_vec()))
        .send()
        .await
        .map_err(|e| Error::aws("ec2", "DescribeNetworkInterfaces", e))?;
    let mut groups: Vec<String> = out
        .network_interfaces()
        .iter()
        .flat_map(|i| i.groups())
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();
    groups.sort();
    groups.dedup();
    Ok(groups)
}

/// Follows an FSx restore: the new file system until AVAILABLE, the new volume until CREATED; in the stack's
/// Region, or a copy's in the copy Region.
pub struct FsxRestorer<'a> {
    pub fsx: &'a aws_sdk_fsx::Client,
    pub copy: Option<(&'a str, &'a aws_sdk_fsx::Client)>,
}

impl FsxRestorer<'_> {
    fn client_for(&self, resource: &RestoredResource) -> Result<&aws_sdk_fsx::Client> {
        super::check::in_region(resource, self.fsx, self.copy)
    }
}

impl Restorer for FsxRestorer<'_> {
    async fn look(&self, resource: &mut RestoredResource) -> Result<Progress> {
        let fsx = self.client_for(resource)?;
        let gone = |id: &str| Progress::Failed(format!("{id} is gone: it was deleted while it was being made"));
        match Source::of(&resource.resource_id) {
            Source::Volume(id) => {
                let volume = match fsx_api::describe_volume(fsx, id).await {
                    Err(Error::NotFound { .. }) => return Ok(gone(id)),
                    other => other?,
                };
                let lifecycle = volume.lifecycle().cloned().unwrap_or(VolumeLifecycle::Pending);
                resource.state = lifecycle.as_str().to_string();
                let why = volume.lifecycle_transition_reason().and_then(|r| r.message()).unwrap_or("no message");
                Ok(match lifecycle {
                    VolumeLifecycle::Created | VolumeLifecycle::Available => Progress::Made,
                    VolumeLifecycle::Failed | VolumeLifecycle::Misconfigured => {
                        Progress::Failed(format!("{id} {}: {why}", lifecycle.as_str()))
                    }
                    _ => Progress::Pending,
                })
            }
            Source::FileSystem(id) => {
                let fs = match fsx_api::describe_file_system(fsx, id).await {
                    Err(Error::NotFound { .. }) => return Ok(gone(id)),
                    other => other?,
                };
                let lifecycle = fs.lifecycle().cloned().unwrap_or(FileSystemLifecycle::Creating);
                resource.state = lifecycle.as_str().to_string();
                let why = fs.failure_details().and_then(|f| f.message()).unwrap_or("no message");
                Ok(match lifecycle {
                    FileSystemLifecycle::Available => Progress::Made,
                    FileSystemLifecycle::Failed
                    | FileSystemLifecycle::Misconfigured
                    | FileSystemLifecycle::MisconfiguredUnavailable => {
                        Progress::Failed(format!("{id} {}: {why}", lifecycle.as_str()))
                    }
                    _ => Progress::Pending,
                })
            }
        }
    }

    async fn remove(&self, resource: &RestoredResource, _run_id: &str) -> Result<bool> {
        remove(self.client_for(resource)?, &resource.resource_id).await
    }
}

async fn remove(fsx: &aws_sdk_fsx::Client, id: &str) -> Result<bool> {
    match Source::of(id) {
        Source::Volume(id) => fsx_api::delete_restored_volume(fsx, id).await,
        Source::FileSystem(id) => match fsx_api::describe_file_system(fsx, id).await {
            Ok(fs) => fsx_api::delete_restored_file_system(fsx, &fs).await,
            Err(Error::NotFound { .. }) => Ok(true),
            Err(e) => Err(e),
        },
    }
}

/// Deletes this stack's restore-test file systems and volumes made more than a day before `now` (a failed
/// run's leftovers). Without a stack id it touches nothing.
pub async fn sweep(fsx: &aws_sdk_fsx::Client, stack: Option<&tags::StackId>, now: i64) -> Result<Swept> {
    let Some(stack) = stack else {
        return Ok(Swept::default());
    };
    let (file_systems, volumes) = tokio::try_join!(fsx_api::list_file_systems(fsx), fsx_api::list_volumes(fsx))?;
    let ours = |tags: &[aws_sdk_fsx::types::Tag], created: Option<&aws_sdk_fsx::primitives::DateTime>| {
        let tags = fsx_api::tag_map(tags);
        let (key, value) = stack.tag();
        tags.contains_key(RESTORE_TEST_KEY)
            && tags.get(key).map(String::as_str) == Some(value)
            && created.is_some_and(|c| now - c.secs() > SWEEP_AFTER_SECONDS)
    };
    let leftovers: Vec<String> = file_systems
        .iter()
        .filter(|f| ours(f.tags(), f.creation_time()))
        .filter_map(|f| f.file_system_id().map(str::to_string))
        .chain(
            volumes
                .iter()
                .filter(|v| ours(v.tags(), v.creation_time()))
                .filter_map(|v| v.volume_id().map(str::to_string)),
        )
        .collect();
    let mut swept = Swept::default();
    for id in leftovers {
        let deleted = remove(fsx, &id).await?;
        swept.record(id, deleted);
    }
    if !swept.deleted.is_empty() {
        info!(deleted = ?swept.deleted, "restore-test FSx file systems and volumes left by an earlier run swept");
    }
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_volumes_name_is_ontaps_and_its_runs_own() {
        let name = restored_name("verify-1", "fsvol-0123456789abcdef0");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && name.len() <= 203, "{name}");
        assert_ne!(name, restored_name("verify-2", "fsvol-0123456789abcdef0"));
    }
}
