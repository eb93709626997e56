//! Which tagged FSx resources are targets: file systems FSx backs up whole (Windows, persistent Lustre,
//! OpenZFS), and ONTAP volumes, which FSx backs up one by one. The rest are skipped with the reason.

use std::collections::BTreeSet;

use aws_sdk_fsx::types::{
    FileSystem, FileSystemLifecycle, FileSystemType, FlexCacheEndpointType, LustreDeploymentType, OntapVolumeType, Tag,
    Volume, VolumeLifecycle, VolumeType,
};

use crate::config::TargetTag;
use crate::model::{Skipped, TargetKind};

/// The targets (file system and volume ids) and the tagged resources that cannot be backed up. A tagged
/// ONTAP file system makes its read-write volumes targets when `volumes_of_tagged_ontap` is set, and is
/// skipped saying how to back it up when not.
pub fn select(
    file_systems: &[FileSystem],
    volumes: &[Volume],
    tag: &TargetTag,
    volumes_of_tagged_ontap: bool,
) -> (Vec<String>, Vec<Skipped>) {
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    let mut expanded = BTreeSet::new();
    for fs in file_systems {
        let Some(id) = fs.file_system_id().filter(|_| tagged(fs.tags(), tag)) else { continue };
        if fs.file_system_type() == Some(&FileSystemType::Ontap) && volumes_of_tagged_ontap {
            expanded.insert(id);
            continue;
        }
        match unsupported_reason(fs) {
            None => targets.push(id.to_string()),
            Some(reason) => skipped.push(Skipped { kind: TargetKind::Fsx, id: id.to_string(), reason }),
        }
    }
    for volume in volumes.iter().filter(|v| v.volume_type() == Some(&VolumeType::Ontap)) {
        let Some(id) = volume.volume_id() else { continue };
        let reason = volume_unsupported_reason(volume);
        if tagged(volume.tags(), tag) {
            match reason {
                None => targets.push(id.to_string()),
                Some(reason) => skipped.push(Skipped { kind: TargetKind::Fsx, id: id.to_string(), reason }),
            }
        } else if volume.file_system_id().is_some_and(|fs| expanded.contains(fs)) && reason.is_none() {
            // Of a tagged file system: only what FSx can back up, so that its DP copies and SVM roots are
            // not reported as skipped every night.
            targets.push(id.to_string());
        }
    }
    (targets, skipped)
}

fn tagged(tags: &[Tag], tag: &TargetTag) -> bool {
    tags.iter().any(|t| t.key() == Some(tag.key.as_str()) && t.value() == Some(tag.value.as_str()))
}

/// Why a file system cannot get a user-initiated file-system backup now; None when it can.
fn unsupported_reason(fs: &FileSystem) -> Option<String> {
    match fs.lifecycle() {
        Some(FileSystemLifecycle::Available) => {}
        other => {
            return Some(format!("lifecycle is {}, not AVAILABLE", other.map(|l| l.as_str()).unwrap_or("unknown")))
        }
    }
    match fs.file_system_type() {
        // OpenZFS backs up the whole file system (its root volume and children) by file system id.
        Some(FileSystemType::Windows | FileSystemType::Openzfs) => None,
        Some(FileSystemType::Lustre) => {
            let lustre = fs.lustre_configuration();
            match lustre.and_then(|c| c.deployment_type()) {
                Some(LustreDeploymentType::Scratch1 | LustreDeploymentType::Scratch2) => {
                    Some("scratch Lustre file systems do not support backups".to_string())
                }
                _ if lustre.and_then(|c| c.data_repository_configuration()).is_some() => Some(
                    "a persistent Lustre file system linked to an S3 data repository cannot be backed up by FSx"
                        .to_string(),
                ),
                _ => None,
            }
        }
        Some(FileSystemType::Ontap) => Some(
            "ONTAP is backed up per volume: tag its volumes, or deploy with OntapVolumesOfTaggedFileSystems=true"
                .to_string(),
        ),
        Some(other) => Some(format!("{} file systems are not backed up by snapmgmt", other.as_str())),
        None => Some("file system type unknown".to_string()),
    }
}

/// Why FSx cannot back up this ONTAP volume now; None when it can. FSx backs up read-write volumes only:
/// not data-protection (DP) or load-sharing (LS) copies, not FlexCache caches, not an SVM's root.
fn volume_unsupported_reason(volume: &Volume) -> Option<String> {
    match volume.lifecycle() {
        Some(VolumeLifecycle::Created | VolumeLifecycle::Available) => {}
        other => {
            return Some(format!("volume lifecycle is {}, not CREATED", other.map(|l| l.as_str()).unwrap_or("unknown")))
        }
    }
    let ontap = volume.ontap_configuration();
    if ontap.and_then(|o| o.storage_virtual_machine_root()) == Some(true) {
        return Some("the root volume of a storage virtual machine is not backed up".to_string());
    }
    match ontap.and_then(|o| o.ontap_volume_type()) {
        Some(OntapVolumeType::Rw) | None => {}
        Some(other) => {
            return Some(format!("FSx backs up read-write volumes only; this one is {}", other.as_str()));
        }
    }
    if ontap.and_then(|o| o.flex_cache_endpoint_type()) == Some(&FlexCacheEndpointType::Cache) {
        return Some("FSx does not back up a FlexCache cache volume".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_fsx::types::{DataRepositoryConfiguration, LustreFileSystemConfiguration, OntapVolumeConfiguration};

    fn tag() -> TargetTag {
        TargetTag { key: "ResourceType".into(), value: "SnapshotMgmtTarget".into() }
    }

    fn target_tag() -> Tag {
        Tag::builder().key("ResourceType").value("SnapshotMgmtTarget").build()
    }

    fn fs(
        id: &str,
        kind: FileSystemType,
        lifecycle: FileSystemLifecycle,
        tagged: bool,
    ) -> aws_sdk_fsx::types::builders::FileSystemBuilder {
        let mut b = FileSystem::builder().file_system_id(id).file_system_type(kind).lifecycle(lifecycle);
        if tagged {
            b = b.tags(target_tag());
        }
        b
    }

    fn volume(id: &str, fs: &str, tagged: bool, ontap: OntapVolumeConfiguration) -> Volume {
        let mut b = Volume::builder()
            .volume_id(id)
            .file_system_id(fs)
            .volume_type(VolumeType::Ontap)
            .lifecycle(VolumeLifecycle::Created)
            .ontap_configuration(ontap);
        if tagged {
            b = b.tags(target_tag());
        }
        b.build()
    }

    fn rw() -> OntapVolumeConfiguration {
        OntapVolumeConfiguration::builder().ontap_volume_type(OntapVolumeType::Rw).build()
    }

    #[test]
    fn selects_tagged_available_windows_openzfs_and_persistent_lustre() {
        use FileSystemLifecycle::*;
        let scratch = LustreFileSystemConfiguration::builder().deployment_type(LustreDeploymentType::Scratch2).build();
        let persistent =
            LustreFileSystemConfiguration::builder().deployment_type(LustreDeploymentType::Persistent2).build();
        let linked = LustreFileSystemConfiguration::builder()
            .deployment_type(LustreDeploymentType::Persistent1)
            .data_repository_configuration(DataRepositoryConfiguration::builder().import_path("s3://bucket").build())
            .build();
        let all = vec![
            fs("fs-1", FileSystemType::Windows, Available, true).build(),
            fs("fs-2", FileSystemType::Windows, Available, false).build(),
            fs("fs-3", FileSystemType::Lustre, Available, true).lustre_configuration(persistent).build(),
            fs("fs-4", FileSystemType::Lustre, Available, true).lustre_configuration(scratch).build(),
            fs("fs-5", FileSystemType::Ontap, Available, true).build(),
            fs("fs-6", FileSystemType::Windows, Creating, true).build(),
            fs("fs-7", FileSystemType::Openzfs, Available, true).build(),
            fs("fs-8", FileSystemType::Lustre, Available, true).lustre_configuration(linked).build(),
        ];
        let (targets, skipped) = select(&all, &[], &tag(), false);
        let ids: Vec<&str> = targets.iter().map(String::as_str).collect();
        assert_eq!(ids, ["fs-1", "fs-3", "fs-7"]);
        let skipped_ids: Vec<&str> = skipped.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(skipped_ids, ["fs-4", "fs-5", "fs-6", "fs-8"]);
        assert!(skipped[0].reason.contains("scratch"));
        assert!(skipped[1].reason.contains("ONTAP") && skipped[1].reason.contains("OntapVolumesOfTaggedFileSystems"));
        assert!(skipped[2].reason.contains("CREATING"));
        assert!(skipped[3].reason.contains("S3 data repository"));
    }

    #[test]
    fn tagged_ontap_volumes_are_targets_and_the_ones_fsx_cannot_back_up_are_skipped_with_why() {
        let dp = OntapVolumeConfiguration::builder().ontap_volume_type(OntapVolumeType::Dp).build();
        let root = OntapVolumeConfiguration::builder()
            .ontap_volume_type(OntapVolumeType::Rw)
            .storage_virtual_machine_root(true)
            .build();
        let cache = OntapVolumeConfiguration::builder()
            .ontap_volume_type(OntapVolumeType::Rw)
            .flex_cache_endpoint_type(FlexCacheEndpointType::Cache)
            .build();
        let volumes = [
            volume("fsvol-1", "fs-a", true, rw()),
            volume("fsvol-2", "fs-a", false, rw()),
            volume("fsvol-3", "fs-a", true, dp),
            volume("fsvol-4", "fs-a", true, root),
            volume("fsvol-5", "fs-a", true, cache),
            // OpenZFS volumes are backed up with their file system.
            Volume::builder().volume_id("fsvol-6").volume_type(VolumeType::Openzfs).tags(target_tag()).build(),
        ];
        let (targets, skipped) = select(&[], &volumes, &tag(), false);
        assert_eq!(targets, ["fsvol-1"]);
        let reasons: Vec<(&str, &str)> = skipped.iter().map(|s| (s.id.as_str(), s.reason.as_str())).collect();
        assert_eq!(reasons.len(), 3);
        assert!(reasons[0].0 == "fsvol-3" && reasons[0].1.contains("DP"));
        assert!(reasons[1].0 == "fsvol-4" && reasons[1].1.contains("root volume"));
        assert!(reasons[2].0 == "fsvol-5" && reasons[2].1.contains("FlexCache"));
    }

    #[test]
    fn a_tagged_ontap_file_system_gives_its_read_write_volumes_when_the_setting_is_on() {
        let ontap = [
            fs("fs-a", FileSystemType::Ontap, FileSystemLifecycle::Available, true).build(),
            fs("fs-b", FileSystemType::Ontap, FileSystemLifecycle::Available, false).build(),
        ];
        let dp = OntapVolumeConfiguration::builder().ontap_volume_type(OntapVolumeType::Dp).build();
        let root = OntapVolumeConfiguration::builder()
            .ontap_volume_type(OntapVolumeType::Rw)
            .storage_virtual_machine_root(true)
            .build();
        let volumes = [
            volume("fsvol-1", "fs-a", false, rw()),
            volume("fsvol-2", "fs-a", true, rw()),
            volume("fsvol-3", "fs-a", false, dp),
            volume("fsvol-4", "fs-a", false, root),
            volume("fsvol-5", "fs-b", false, rw()),
        ];

        let (targets, skipped) = select(&ontap, &volumes, &tag(), true);
        // Each volume once, the tagged one among them; the file system itself is not a target.
        assert_eq!(targets, ["fsvol-1", "fsvol-2"]);
        assert!(skipped.is_empty(), "{skipped:?}");

        let (targets, skipped) = select(&ontap, &volumes, &tag(), false);
        assert_eq!(targets, ["fsvol-2"]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].id, "fs-a");
    }
}
