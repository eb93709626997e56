//! What names each kind of target, written once: its one name (in the inventory, the workflow, the
//! events' `kind`, the metrics, the logs and the stores), the event fields of its target and of its new
//! backup, and the form of its ids. The events, the logs, the metrics and the stores read it here.

use super::run::TargetKind;
use crate::error::Result;

/// One kind's names.
#[derive(Debug)]
pub struct KindInfo {
    /// `fsx`, `ec2`, `efs`: in the inventory, the workflow's input and results, the cleanup event's `kind`,
    /// the metrics' `Kind`, the logs and the report.
    pub name: &'static str,
    /// The event field naming a target, and the other names an operator may give it.
    pub id_field: &'static str,
    pub id_aliases: &'static [&'static str],
    /// The cleanup event's field naming this run's backup.
    pub new_backup_field: &'static str,
    /// The fields naming one of its backups in the events the functions take (the logs' target when no
    /// target is named).
    pub backup_fields: &'static [&'static str],
    /// Checks a target id of this kind, naming `field` when it is not one.
    pub check_id: fn(&str, &str) -> Result<()>,
    /// The trigger's setting of how many of its targets are backed up at once, and its default.
    pub concurrency_setting: &'static str,
    pub default_concurrency: u32,
}

pub const FSX: KindInfo = KindInfo {
    name: "fsx",
    id_field: "fileSystemId",
    id_aliases: &["volumeId"],
    new_backup_field: "newBackupId",
    backup_fields: &["backupId"],
    check_id: super::check_fsx_id,
    concurrency_setting: "FSX_CONCURRENCY",
    default_concurrency: 10,
};

pub const EC2: KindInfo = KindInfo {
    name: "ec2",
    id_field: "instanceId",
    id_aliases: &[],
    new_backup_field: "newSnapshotIds",
    backup_fields: &[],
    check_id: |field, value| super::check_id(field, value, "i-"),
    concurrency_setting: "EC2_CONCURRENCY",
    default_concurrency: 50,
};

pub const EFS: KindInfo = KindInfo {
    name: "efs",
    id_field: "fileSystemId",
    id_aliases: &[],
    new_backup_field: "newRecoveryPointArn",
    backup_fields: &["backupJobId"],
    check_id: |field, value| super::check_id(field, value, "fs-"),
    concurrency_setting: "EFS_CONCURRENCY",
    default_concurrency: 10,
};

impl TargetKind {
    /// This kind's names.
    pub const fn info(self) -> &'static KindInfo {
        match self {
            TargetKind::Fsx => &FSX,
            TargetKind::Ec2 => &EC2,
            TargetKind::Efs => &EFS,
        }
    }
}

/// The event fields that name a target, then a backup, of any kind: the logs' `target_id` is the first the
/// event has.
pub fn target_fields() -> impl Iterator<Item = &'static str> {
    let targets = TargetKind::ALL
        .into_iter()
        .flat_map(|k| std::iter::once(k.info().id_field).chain(k.info().id_aliases.iter().copied()));
    targets.chain(TargetKind::ALL.into_iter().flat_map(|k| k.info().backup_fields.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_names_and_checks_its_own_ids() {
        let names: std::collections::HashSet<_> = TargetKind::ALL.iter().map(|k| k.info().name).collect();
        assert_eq!(names.len(), TargetKind::ALL.len());
        for (kind, good, bad) in [
            (TargetKind::Fsx, "fsvol-0123456789abcdef0", "i-0123456789abcdef0"),
            (TargetKind::Ec2, "i-0123456789abcdef0", "fs-0123456789abcdef0"),
            (TargetKind::Efs, "fs-0123456789abcdef0", "fsvol-0123456789abcdef0"),
        ] {
            assert!((kind.info().check_id)("id", good).is_ok(), "{kind:?} {good}");
            assert!((kind.info().check_id)("id", bad).is_err(), "{kind:?} {bad}");
        }
        let fields: Vec<&str> = target_fields().collect();
        assert_eq!(fields[..4], ["fileSystemId", "volumeId", "instanceId", "fileSystemId"]);
        assert!(fields.contains(&"backupId") && fields.contains(&"backupJobId"));
    }
}
