//! The verify function's settings.

use std::collections::BTreeSet;

use super::{bucket_name, flag, invalid, optional_number, Env, Source, TargetTag};
use crate::error::Result;
pub use crate::fsx::FsxKind;

/// Settings of the verify function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyConfig {
    /// Each run reads one block in this many of every snapshot, rotating, so every block of a lineage is read
    /// once over this many runs (1: every block, every run).
    pub read_fraction: u32,
    /// The most a verification reads, in GiB.
    pub max_gib_read: u32,
    /// The stack whose backups it verifies (STACK_ID): only those it made.
    pub stack: Option<crate::tags::StackId>,
    /// The stack's bucket (INVENTORY_BUCKET): a verify run's items, ledger and report. A single check
    /// needs none.
    pub inventory_bucket: Option<String>,
    /// The instances a verify run verifies: the stack's targets (TARGET_TAG_KEY, TARGET_TAG_VALUE).
    pub target_tag: TargetTag,
    /// A target not verified good for more than this many days counts in TargetsNotVerifiedRecently.
    pub stale_days: u32,
    /// Restore tests (VERIFY_RESTORE): a run also restores some targets' sets to volumes, then deletes them.
    pub restore: bool,
    /// At most this many restore tests a run (VERIFY_MAX_RESTORES_PER_RUN), every kind together.
    pub max_restores: u32,
    /// EFS restore tests: the stack's vault and the role AWS Backup restores as (BACKUP_VAULT_NAME,
    /// BACKUP_ROLE_ARN, both or neither). Without them a run verifies no file system.
    pub efs: Option<EfsRestoreSettings>,
    /// The FSx kinds restore-tested (VERIFY_FSX_RESTORE: WINDOWS, LUSTRE, OPENZFS, ONTAP; empty: none). A
    /// restored FSx file system costs for the hour or so it exists, so each kind is opted into.
    pub fsx_restore: BTreeSet<FsxKind>,
    /// How long the verify state machine waits between looks at a restore in progress (VERIFY_RESTORE_POLL_SECONDS).
    pub restore_poll_seconds: u32,
    /// ONTAP_VOLUMES_OF_TAGGED_FILE_SYSTEMS: the FSx targets are those the nightly run backs up.
    pub ontap_volumes_of_tagged_file_systems: bool,
    /// VERIFY_RANDOM_WITHIN_DAYS: verify a backup drawn from those of the last this many days, not the newest
    /// (0: the newest), so that older backups are proven too.
    pub random_within_days: u32,
    /// VERIFY_VALIDATION_FUNCTION: the operator's function that validates what a restore test made (a name or
    /// an ARN); none: a restore that is made is valid.
    pub validation_function: Option<String>,
    /// The copy Region (COPY_REGION): the newest copy there is verified too, as its kind is: an instance's
    /// read back, an EFS file system's restored from the copy vault (COPY_BACKUP_VAULT_NAME), an FSx target's
    /// restored where `copy_network` says.
    pub copy_region: Option<String>,
    pub copy_vault: Option<String>,
    pub copy_network: CopyNetwork,
}

/// Where an FSx copy is restored in the copy Region: the source's subnets and security groups are its own
/// Region's, so the copy Region's are named (VERIFY_COPY_SUBNET_IDS, the first of them the preferred one of a
/// Multi-AZ file system; VERIFY_COPY_SECURITY_GROUP_IDS), and for ONTAP volumes a storage virtual machine
/// there (VERIFY_COPY_SVM_ID). Without them, FSx copies are not restored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyNetwork {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub svm_id: Option<String>,
}

impl CopyNetwork {
    /// Whether copies of an ONTAP volume (`volumes`), or of a file system, are restored: where is named.
    pub fn restores(&self, volumes: bool) -> bool {
        if volumes {
            self.svm_id.is_some()
        } else {
            !self.subnet_ids.is_empty()
        }
    }
}

pub const DEFAULT_RESTORE_POLL_SECONDS: u32 = 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EfsRestoreSettings {
    pub vault: String,
    pub role_arn: String,
}

pub const DEFAULT_READ_FRACTION: u32 = 8;
pub const DEFAULT_MAX_GIB_READ: u32 = 100;
pub const DEFAULT_STALE_DAYS: u32 = 14;
pub const DEFAULT_MAX_RESTORES_PER_RUN: u32 = 10;

impl VerifyConfig {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        let copies = super::CopySettings::from_source(src)?;
        let copy_network = copy_network(src, copies.region.is_some())?;
        Ok(Self {
            read_fraction: optional_number(src, "VERIFY_READ_FRACTION", DEFAULT_READ_FRACTION, 1, 1024)?,
            max_gib_read: optional_number(src, "VERIFY_MAX_GIB_READ", DEFAULT_MAX_GIB_READ, 1, 1_000_000)?,
            stack: super::backup::stack_id(src)?,
            inventory_bucket: match src.get("INVENTORY_BUCKET") {
                None => None,
                Some(_) => Some(bucket_name(src, "INVENTORY_BUCKET")?),
            },
            target_tag: TargetTag::from_source(src)?,
            stale_days: optional_number(src, "VERIFY_STALE_DAYS", DEFAULT_STALE_DAYS, 1, 3650)?,
            restore: flag(src, "VERIFY_RESTORE")?,
            max_restores: optional_number(src, "VERIFY_MAX_RESTORES_PER_RUN", DEFAULT_MAX_RESTORES_PER_RUN, 0, 1000)?,
            efs: efs_restore(src)?,
            fsx_restore: fsx_kinds(src)?,
            restore_poll_seconds: optional_number(
                src,
                "VERIFY_RESTORE_POLL_SECONDS",
                DEFAULT_RESTORE_POLL_SECONDS,
                1,
                3600,
            )?,
            ontap_volumes_of_tagged_file_systems: flag(src, "ONTAP_VOLUMES_OF_TAGGED_FILE_SYSTEMS")?,
            random_within_days: optional_number(src, "VERIFY_RANDOM_WITHIN_DAYS", 0, 0, 3650)?,
            validation_function: src.get("VERIFY_VALIDATION_FUNCTION").filter(|f| !f.trim().is_empty()),
            copy_region: copies.region,
            copy_vault: copies.backup_vault_name,
            copy_network,
        })
    }

    /// The stack's bucket, which a verify run's steps need.
    pub fn bucket(&self) -> Result<&str> {
        let missing = "is required by a verify run (start, record): the stack's bucket";
        self.inventory_bucket.as_deref().ok_or_else(|| invalid("INVENTORY_BUCKET", "", missing))
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }

    /// The EFS restore settings, which an EFS check needs.
    pub fn efs(&self) -> Result<&EfsRestoreSettings> {
        let missing = "is required to verify a file system: AWS Backup restores as the stack's role";
        self.efs.as_ref().ok_or_else(|| invalid("BACKUP_ROLE_ARN", "", missing))
    }

    pub fn max_bytes(&self) -> u64 {
        u64::from(self.max_gib_read) * 1024 * 1024 * 1024
    }
}

fn fsx_kinds(src: &impl Source) -> Result<BTreeSet<FsxKind>> {
    let text = src.get("VERIFY_FSX_RESTORE").unwrap_or_default();
    let mut kinds = BTreeSet::new();
    for name in text.split([',', ' ']).map(str::trim).filter(|n| !n.is_empty()) {
        let kind = FsxKind::parse(&name.to_ascii_uppercase()).ok_or_else(|| {
            invalid("VERIFY_FSX_RESTORE", &text, "names WINDOWS, LUSTRE, OPENZFS or ONTAP, comma-separated")
        })?;
        kinds.insert(kind);
    }
    Ok(kinds)
}

fn copy_network(src: &impl Source, copies: bool) -> Result<CopyNetwork> {
    let ids = |name: &'static str, prefix: &str| -> Result<Vec<String>> {
        let text = src.get(name).unwrap_or_default();
        let ids: Vec<String> =
            text.split([',', ' ']).map(str::trim).filter(|i| !i.is_empty()).map(String::from).collect();
        match ids.iter().find(|id| !resource_id(id, prefix)) {
            Some(bad) => Err(invalid(name, &text, &format!("{bad} is not an id such as {prefix}-0123456789abcdef0"))),
            None => Ok(ids),
        }
    };
    let network = CopyNetwork {
        subnet_ids: ids("VERIFY_COPY_SUBNET_IDS", "subnet")?,
        security_group_ids: ids("VERIFY_COPY_SECURITY_GROUP_IDS", "sg")?,
        svm_id: ids("VERIFY_COPY_SVM_ID", "svm")?.into_iter().next(),
    };
    if network.subnet_ids.is_empty() && !network.security_group_ids.is_empty() {
        let text = network.security_group_ids.join(",");
        return Err(invalid(
            "VERIFY_COPY_SECURITY_GROUP_IDS",
            &text,
            "needs VERIFY_COPY_SUBNET_IDS: the subnets are theirs",
        ));
    }
    if !copies && (!network.subnet_ids.is_empty() || network.svm_id.is_some()) {
        let text = network.subnet_ids.first().or(network.svm_id.as_ref()).cloned().unwrap_or_default();
        let name = if network.subnet_ids.is_empty() { "VERIFY_COPY_SVM_ID" } else { "VERIFY_COPY_SUBNET_IDS" };
        return Err(invalid(name, &text, "names where copies are restored, but COPY_REGION is empty: there are none"));
    }
    Ok(network)
}

/// An EC2 or FSx id: the prefix, a dash, 8 or 17 hex digits.
fn resource_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('-')).is_some_and(|hex| {
        matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn efs_restore(src: &impl Source) -> Result<Option<EfsRestoreSettings>> {
    let value = |name| src.get(name).filter(|v: &String| !v.trim().is_empty());
    match (value("BACKUP_VAULT_NAME"), value("BACKUP_ROLE_ARN")) {
        (None, None) => Ok(None),
        (Some(vault), Some(role_arn)) if role_arn.starts_with("arn:") && role_arn.contains(":role/") => {
            Ok(Some(EfsRestoreSettings { vault, role_arn }))
        }
        (Some(_), Some(role_arn)) => Err(invalid("BACKUP_ROLE_ARN", &role_arn, "is not an IAM role ARN")),
        (Some(_), None) => Err(invalid("BACKUP_ROLE_ARN", "", "is required with BACKUP_VAULT_NAME")),
        (None, Some(_)) => Err(invalid("BACKUP_VAULT_NAME", "", "is required with BACKUP_ROLE_ARN")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::source;

    #[test]
    fn defaults_and_bad_values_named() {
        let config = VerifyConfig::from_source(&source(&[])).unwrap();
        assert_eq!((config.read_fraction, config.max_gib_read, config.stack.clone()), (8, 100, None));
        assert_eq!((config.inventory_bucket.as_deref(), config.stale_days), (None, 14));
        assert!(config.bucket().unwrap_err().to_string().contains("INVENTORY_BUCKET"));
        let bad = VerifyConfig::from_source(&source(&[("INVENTORY_BUCKET", "Not_A_Bucket")])).unwrap_err();
        assert!(bad.to_string().contains("INVENTORY_BUCKET"), "{bad}");
        assert_eq!((config.restore, config.max_restores), (false, 10));
        let bad = VerifyConfig::from_source(&source(&[("VERIFY_RESTORE", "yes")])).unwrap_err();
        assert!(bad.to_string().contains("VERIFY_RESTORE"), "{bad}");
        let bad = VerifyConfig::from_source(&source(&[("VERIFY_MAX_RESTORES_PER_RUN", "1001")])).unwrap_err();
        assert!(bad.to_string().contains("VERIFY_MAX_RESTORES_PER_RUN"), "{bad}");
        let bad = VerifyConfig::from_source(&source(&[("VERIFY_STALE_DAYS", "0")])).unwrap_err();
        assert!(bad.to_string().contains("VERIFY_STALE_DAYS"), "{bad}");
        let bad = VerifyConfig::from_source(&source(&[("VERIFY_READ_FRACTION", "0")])).unwrap_err();
        assert!(bad.to_string().contains("VERIFY_READ_FRACTION"), "{bad}");
        let bad = VerifyConfig::from_source(&source(&[("VERIFY_MAX_GIB_READ", "lots")])).unwrap_err();
        assert!(bad.to_string().contains("VERIFY_MAX_GIB_READ"), "{bad}");
    }

    #[test]
    fn fsx_restores_are_opted_into_per_kind() {
        let none = VerifyConfig::from_source(&source(&[])).unwrap();
        assert!(none.fsx_restore.is_empty() && none.restore_poll_seconds == 60);
        let some = VerifyConfig::from_source(&source(&[("VERIFY_FSX_RESTORE", "ontap, Windows")])).unwrap();
        assert_eq!(some.fsx_restore.into_iter().collect::<Vec<_>>(), [FsxKind::Windows, FsxKind::Ontap]);
        let bad = VerifyConfig::from_source(&source(&[("VERIFY_FSX_RESTORE", "WINDOWS,NETAPP")])).unwrap_err();
        assert!(bad.to_string().contains("VERIFY_FSX_RESTORE"), "{bad}");
        assert_eq!(none.random_within_days, 0, "the newest backup by default");
        let bad = VerifyConfig::from_source(&source(&[("VERIFY_RANDOM_WITHIN_DAYS", "-1")])).unwrap_err();
        assert!(bad.to_string().contains("VERIFY_RANDOM_WITHIN_DAYS"), "{bad}");
        let bad = VerifyConfig::from_source(&source(&[("VERIFY_RESTORE_POLL_SECONDS", "0")])).unwrap_err();
        assert!(bad.to_string().contains("VERIFY_RESTORE_POLL_SECONDS"), "{bad}");
    }

    #[test]
    fn fsx_copies_are_restored_where_the_settings_name_and_only_with_copies() {
        let none = VerifyConfig::from_source(&source(&[("COPY_REGION", "us-west-2")])).unwrap();
        assert_eq!(none.copy_network, CopyNetwork::default(), "not restored unless named");
        let named = VerifyConfig::from_source(&source(&[
            ("COPY_REGION", "us-west-2"),
            ("COPY_BACKUP_VAULT_NAME", "dr"),
            ("VERIFY_COPY_SUBNET_IDS", "subnet-0123456789abcdef0, subnet-12345678"),
            ("VERIFY_COPY_SECURITY_GROUP_IDS", "sg-0123456789abcdef0"),
            ("VERIFY_COPY_SVM_ID", "svm-0123456789abcdef0"),
        ]))
        .unwrap();
        assert_eq!(named.copy_network.subnet_ids, ["subnet-0123456789abcdef0", "subnet-12345678"]);
        assert_eq!(named.copy_network.svm_id.as_deref(), Some("svm-0123456789abcdef0"));
        assert_eq!((named.copy_region.as_deref(), named.copy_vault.as_deref()), (Some("us-west-2"), Some("dr")));
        for (settings, named) in [
            (
                &[("COPY_REGION", "us-west-2"), ("VERIFY_COPY_SUBNET_IDS", "sg-0123456789abcdef0")][..],
                "VERIFY_COPY_SUBNET_IDS",
            ),
            (&[("COPY_REGION", "us-west-2"), ("VERIFY_COPY_SVM_ID", "svm-xyz")][..], "VERIFY_COPY_SVM_ID"),
            (
                &[("COPY_REGION", "us-west-2"), ("VERIFY_COPY_SECURITY_GROUP_IDS", "sg-12345678")][..],
                "VERIFY_COPY_SECURITY_GROUP_IDS",
            ),
            (&[("VERIFY_COPY_SUBNET_IDS", "subnet-12345678")][..], "VERIFY_COPY_SUBNET_IDS"),
        ] {
            let bad = VerifyConfig::from_source(&source(settings)).unwrap_err();
            assert!(bad.to_string().contains(named), "{bad}");
        }
    }

    #[test]
    fn efs_restores_need_the_vault_and_a_role_together() {
        assert_eq!(VerifyConfig::from_source(&source(&[])).unwrap().efs, None);
        let role = "arn:aws:iam::123456789012:role/backup";
        let both = VerifyConfig::from_source(&source(&[("BACKUP_VAULT_NAME", "v"), ("BACKUP_ROLE_ARN", role)]));
        assert_eq!(both.unwrap().efs, Some(EfsRestoreSettings { vault: "v".into(), role_arn: role.into() }));
        for (settings, named) in [
            (&[("BACKUP_VAULT_NAME", "v")][..], "BACKUP_ROLE_ARN"),
            (&[("BACKUP_ROLE_ARN", role)][..], "BACKUP_VAULT_NAME"),
            (&[("BACKUP_VAULT_NAME", "v"), ("BACKUP_ROLE_ARN", "backup")][..], "BACKUP_ROLE_ARN"),
        ] {
            let bad = VerifyConfig::from_source(&source(settings)).unwrap_err();
            assert!(bad.to_string().contains(named), "{bad}");
        }
    }
}
