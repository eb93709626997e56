//! efs-backup's settings: the stack's vault, the role AWS Backup runs as, the lifecycle backstop.

use super::{invalid, parse_number, Env, Source};
use crate::error::Result;
use crate::tiers::Written;

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
        if let (Some(days), Some((policy, span))) = (delete_after_days, longest_policy(src)?) {
            if days <= span {
                return Err(invalid(
                    "BACKUP_DELETE_AFTER_DAYS",
                    &days.to_string(),
                    &format!(
                        "is a backstop and must be more than the longest any policy in force keeps, {policy}, \
                         or 0 for none: AWS Backup would delete the points that policy keeps (snapmgmt deletes \
                         by the rule, keeping the newest)"
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

/// The longest the stack's policies can keep a point (the lifecycle applies to the copies too): the stack's
/// age and tiers (RETENTION_DAYS, RETENTION_TIERS), MIN_KEEP nightly points, the copies' COPY_RETENTION;
/// named as the settings give it, with its days. None without RETENTION_DAYS (a function that has none).
/// A resource's own `snapmgmt:Retention` tag is checked at its cleanup.
fn longest_policy(src: &impl Source) -> Result<Option<(String, u32)>> {
    if src.get("RETENTION_DAYS").is_none() {
        return Ok(None);
    }
    let stack = super::RetentionConfig::from_source(src)?;
    let written = stack.written();
    let mut policies = vec![match stack.tiers.is_empty() {
        true => (format!("RETENTION_DAYS ({})", stack.retention_days), written.span_days()),
        false => (
            format!(
                "RETENTION_DAYS ({}) with RETENTION_TIERS ({}): {} days",
                stack.retention_days,
                Written { days: None, ..written },
                written.span_days()
            ),
            written.span_days(),
        ),
    }];
    policies.push((format!("MIN_KEEP ({0}): {0} nightly points", stack.min_keep), stack.min_keep));
    if let Some(copies) = super::CopySettings::from_source(src)?.retention {
        policies.push((format!("COPY_RETENTION ({copies}): {} days", copies.span_days()), copies.span_days()));
    }
    // The first of the longest: the stack's policy when it ties.
    let longest = policies.iter().map(|(_, span)| *span).max().unwrap_or(0);
    Ok(policies.into_iter().find(|(_, span)| *span == longest))
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

    #[test]
    fn the_efs_lifecycle_must_outlast_the_tiers_min_keep_and_the_copies_policy() {
        let read = |pairs: &[(&str, &str)]| {
            EfsBackupConfig::from_source(&source(
                &[&[("BACKUP_DELETE_AFTER_DAYS", "30"), ("RETENTION_DAYS", "14")], pairs].concat(),
            ))
        };
        assert!(read(&[]).is_ok());
        for (pairs, names) in [
            (&[("RETENTION_TIERS", "monthly=12")][..], "RETENTION_TIERS (monthly=12): 372 days"),
            (&[("MIN_KEEP", "45")][..], "MIN_KEEP (45)"),
            (&[("COPY_REGION", "us-west-2"), ("COPY_RETENTION", "weekly=8")][..], "COPY_RETENTION (weekly=8): 56 days"),
        ] {
            let err = read(pairs).unwrap_err();
            assert!(matches!(err, Error::InvalidSetting { name: "BACKUP_DELETE_AFTER_DAYS", .. }), "{err}");
            assert!(err.to_string().contains(names), "{err}");
        }
    }
}
