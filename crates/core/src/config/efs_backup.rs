//! efs-backup's settings: the stack's vault, the role AWS Backup runs as, the lifecycle backstop.

use super::{invalid, parse_number, Env, Source};
use crate::error::Result;

/// Settings of efs-backup: where scheduled backups go. The SOP's events name their own vault and role.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EfsBackupConfig {
    pub backup_vault_name: Option<String>,
    pub backup_role_arn: Option<String>,
    /// AWS Backup's own lifecycle deletes recovery points after this many days: a backstop far beyond the
    /// retention (cleanup deletes them by the rule); None (0, the default) leaves deletes to cleanup.
    pub delete_after_days: Option<u32>,
}

impl EfsBackupConfig {
    /// BACKUP_VAULT_NAME, BACKUP_ROLE_ARN, BACKUP_DELETE_AFTER_DAYS: all optional here; a start without a
    /// vault or role, in its event or here, is refused naming both. The backstop must lie beyond
    /// RETENTION_DAYS: a lifecycle inside the retention would expire points that MIN_KEEP and the
    /// completed-new-backup rule keep.
    pub fn from_source(src: &impl Source) -> Result<Self> {
        let delete_after_days = match src.get("BACKUP_DELETE_AFTER_DAYS") {
            None => None,
            Some(v) => Some(parse_number("BACKUP_DELETE_AFTER_DAYS", &v, 0, 36_500)?).filter(|days| *days > 0),
        };
        // A vault under Vault Lock takes only jobs whose lifecycle keeps points at least its minimum, and
        // no one may delete from it: the lifecycle is then what deletes them.
        let lock_days = match src.get("BACKUP_VAULT_LOCK_DAYS") {
            None => 0,
            Some(v) => parse_number("BACKUP_VAULT_LOCK_DAYS", &v, 0, 36_500)?,
        };
        if lock_days > 0 && delete_after_days.is_none_or(|days| days < lock_days) {
            return Err(invalid(
                "BACKUP_DELETE_AFTER_DAYS",
                &delete_after_days.unwrap_or(0).to_string(),
                &format!(
                    "must be at least BACKUP_VAULT_LOCK_DAYS ({lock_days}): the locked vault refuses jobs whose \
                     lifecycle is shorter, and the lifecycle is what deletes from it"
                ),
            ));
        }
        if let (Some(days), Some(retention)) = (delete_after_days, src.get("RETENTION_DAYS")) {
            let retention = parse_number("RETENTION_DAYS", &retention, 1, 36_500)?;
            if days <= retention {
                return Err(invalid(
                    "BACKUP_DELETE_AFTER_DAYS",
                    &days.to_string(),
                    &format!(
                        "is a backstop and must be more than RETENTION_DAYS ({retention}), or 0 for none: \
                         snapmgmt deletes by the rule, keeping the newest"
                    ),
                ));
            }
        }
        let non_empty = |name| src.get(name).filter(|v| !v.trim().is_empty());
        Ok(Self {
            backup_vault_name: non_empty("BACKUP_VAULT_NAME"),
            backup_role_arn: non_empty("BACKUP_ROLE_ARN"),
            delete_after_days,
        })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::*;
    use crate::error::Error;

    #[test]
    fn the_efs_lifecycle_is_a_backstop_beyond_the_retention_or_none() {
        let read = |pairs: &[(&str, &str)]| EfsBackupConfig::from_source(&source(pairs));
        assert_eq!(read(&[("BACKUP_DELETE_AFTER_DAYS", "0")]).unwrap().delete_after_days, None);
        assert_eq!(read(&[]).unwrap().delete_after_days, None);
        let far = read(&[("BACKUP_DELETE_AFTER_DAYS", "400"), ("RETENTION_DAYS", "14")]).unwrap();
        assert_eq!(far.delete_after_days, Some(400));
        let locked = |days: &str| {
            read(&[("BACKUP_DELETE_AFTER_DAYS", days), ("RETENTION_DAYS", "14"), ("BACKUP_VAULT_LOCK_DAYS", "90")])
        };
        assert_eq!(locked("90").unwrap().delete_after_days, Some(90));
        for short in ["0", "30"] {
            let err = locked(short).unwrap_err();
            assert!(err.to_string().contains("BACKUP_VAULT_LOCK_DAYS (90)"), "{err}");
        }
        for inside in ["14", "7"] {
            let err = read(&[("BACKUP_DELETE_AFTER_DAYS", inside), ("RETENTION_DAYS", "14")]).unwrap_err();
            assert!(matches!(err, Error::InvalidSetting { name: "BACKUP_DELETE_AFTER_DAYS", .. }), "{err}");
            assert!(err.to_string().contains("RETENTION_DAYS (14)"), "{err}");
        }
    }
}
