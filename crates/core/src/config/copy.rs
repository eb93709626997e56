//! The copy settings: read by the trigger, the backup functions and the cleanup alike.

use super::{invalid, Source};
use crate::error::{Error, Result};
use crate::tiers::Written;

/// Copies to a second Region (COPY_REGION, empty: none): where, with which key (COPY_KMS_KEY_ID, empty: the
/// destination's default EBS and FSx keys), into which vault there for EFS (COPY_BACKUP_VAULT_NAME), and
/// kept how long there (COPY_RETENTION in the compact form, empty: the source's policy).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopySettings {
    pub region: Option<String>,
    pub kms_key_id: Option<String>,
    pub retention: Option<Written>,
    /// The AWS Backup vault in the copy Region that EFS recovery points are copied into.
    pub backup_vault_name: Option<String>,
}

impl CopySettings {
    /// The copy Region, for a function asked to copy: without one, no copy can be made.
    pub fn destination(&self) -> Result<&str> {
        self.region.as_deref().ok_or_else(|| Error::InvalidSetting {
            name: "COPY_REGION",
            value: String::new(),
            reason: "is not set: there is no Region to copy to".into(),
        })
    }

    /// The vault in the copy Region that EFS recovery points are copied into.
    pub fn destination_vault(&self) -> Result<&str> {
        self.backup_vault_name.as_deref().ok_or_else(|| Error::InvalidSetting {
            name: "COPY_BACKUP_VAULT_NAME",
            value: String::new(),
            reason: "is required to copy EFS recovery points: a vault in the copy Region".into(),
        })
    }

    pub fn from_source(src: &impl Source) -> Result<Self> {
        let set = |name: &str| src.get(name).filter(|v| !v.trim().is_empty());
        let region = match set("COPY_REGION") {
            None => None,
            Some(region) => {
                let parts: Vec<&str> = region.split('-').collect();
                let well_formed = parts.len() >= 3
                    && parts
                        .iter()
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
                    && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
                if !well_formed {
                    return Err(invalid("COPY_REGION", &region, "is not a Region name, such as us-west-2"));
                }
                if src.get("AWS_REGION").as_deref() == Some(region.as_str()) {
                    return Err(invalid(
                        "COPY_REGION",
                        &region,
                        "is this stack's own Region: a copy must survive its loss",
                    ));
                }
                Some(region)
            }
        };
        let retention = match set("COPY_RETENTION") {
            None => None,
            Some(text) => Some(Written::parse(&text).map_err(|reason| invalid("COPY_RETENTION", &text, &reason))?),
        };
        let backup_vault_name = set("COPY_BACKUP_VAULT_NAME");
        if let Some(name) = &backup_vault_name {
            // AWS Backup's own rule for vault names.
            let valid = (2..=50).contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err(invalid(
                    "COPY_BACKUP_VAULT_NAME",
                    name,
                    "is not a vault name: 2 to 50 of a-z, A-Z, 0-9, - and _",
                ));
            }
        }
        Ok(Self { region, kms_key_id: set("COPY_KMS_KEY_ID"), retention, backup_vault_name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::*;
    use crate::error::Error;

    #[test]
    fn the_copy_region_is_a_region_name_other_than_the_stacks_own() {
        let none = CopySettings::from_source(&source(&[("COPY_REGION", "")])).unwrap();
        assert_eq!(none, CopySettings::default());
        let copies = CopySettings::from_source(&source(&[
            ("COPY_REGION", "us-west-2"),
            ("AWS_REGION", "us-east-1"),
            ("COPY_KMS_KEY_ID", "alias/dr"),
            ("COPY_RETENTION", "daily=7,monthly=12"),
            ("COPY_BACKUP_VAULT_NAME", "snapmgmt-dr"),
        ]))
        .unwrap();
        assert_eq!(copies.backup_vault_name.as_deref(), Some("snapmgmt-dr"));
        assert_eq!(copies.region.as_deref(), Some("us-west-2"));
        assert_eq!(copies.kms_key_id.as_deref(), Some("alias/dr"));
        assert_eq!(copies.retention.unwrap().to_string(), "daily=7 monthly=12");
        for (name, pairs) in [
            ("COPY_REGION", vec![("COPY_REGION", "us-west")]),
            ("COPY_REGION", vec![("COPY_REGION", "US-WEST-2")]),
            ("COPY_REGION", vec![("COPY_REGION", "us-east-1"), ("AWS_REGION", "us-east-1")]),
            ("COPY_RETENTION", vec![("COPY_REGION", "us-west-2"), ("COPY_RETENTION", "weekly=x")]),
            ("COPY_BACKUP_VAULT_NAME", vec![("COPY_REGION", "us-west-2"), ("COPY_BACKUP_VAULT_NAME", "dr vault")]),
        ] {
            let err = CopySettings::from_source(&source(&pairs)).unwrap_err();
            assert!(matches!(&err, Error::InvalidSetting { name: n, .. } if *n == name), "{err}");
        }
    }
}
