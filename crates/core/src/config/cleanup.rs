//! The cleanup's settings: the retention rule and its guard, orphans, adoption, copies, the EC2 pace.

use super::MAX_CONCURRENCY;
use super::{copy::CopySettings, flag, invalid, optional_number, required_number, DryRunSetting, Env, Source};
use crate::error::Result;
use crate::tiers::{Tiers, Written};

/// The delete guard's default: a run may delete at most half of a target's own backups.
pub const DEFAULT_MAX_DELETE_PERCENT: u32 = 50;

/// How many days an orphan's backups are all kept, by default: a week of nights to notice and undo a
/// mistake (a tag removed by an infrastructure-as-code apply, an instance stopped at the wrong moment).
pub const DEFAULT_ORPHAN_GRACE_DAYS: u32 = 7;

/// Settings of the cleanup: how long backups are kept, and how many are always kept.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionConfig {
    pub retention_days: u32,
    pub min_keep: u32,
    /// The delete guard: a cleanup that would delete more than this share (percent) of a target's own
    /// backups deletes none and fails that target.
    pub max_delete_percent: u32,
    /// RETENTION_TIERS: daily, weekly, monthly and yearly tiers kept besides the age (none by default).
    pub tiers: Tiers,
    /// RETENTION_TIME_ZONE: the zone the tiers' calendar periods are in (UTC by default).
    pub time_zone: jiff::tz::TimeZone,
    /// STACK_ID: only this stack's backups are judged as ours (another stack's are kept as `OtherStack`).
    pub stack: Option<crate::tags::StackId>,
}

impl Default for RetentionConfig {
    /// The template's defaults: 14 days, the newest kept, the guard at 50%, no tiers, UTC.
    fn default() -> Self {
        Self {
            retention_days: 14,
            min_keep: 1,
            max_delete_percent: DEFAULT_MAX_DELETE_PERCENT,
            tiers: Tiers::default(),
            time_zone: jiff::tz::TimeZone::UTC,
            stack: None,
        }
    }
}

impl RetentionConfig {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        let retention_days = required_number(src, "RETENTION_DAYS", 1, 36_500)?;
        let min_keep = optional_number(src, "MIN_KEEP", 1, 1, 1_000)?;
        let max_delete_percent = optional_number(src, "MAX_DELETE_PERCENT", DEFAULT_MAX_DELETE_PERCENT, 1, 100)?;
        let tiers = match src.get("RETENTION_TIERS").filter(|v| !v.trim().is_empty()) {
            None => Tiers::default(),
            Some(text) => match Written::parse(&text) {
                Ok(Written { days: Some(_), .. }) => {
                    return Err(invalid("RETENTION_TIERS", &text, "takes tiers only: the age is RETENTION_DAYS"))
                }
                Ok(written) => written.tiers,
                Err(reason) => return Err(invalid("RETENTION_TIERS", &text, &reason)),
            },
        };
        let zone = src.get("RETENTION_TIME_ZONE").filter(|v| !v.trim().is_empty()).unwrap_or_else(|| "UTC".into());
        let time_zone =
            crate::tiers::time_zone(&zone).map_err(|reason| invalid("RETENTION_TIME_ZONE", &zone, &reason))?;
        let stack = super::backup::stack_id(src)?;
        Ok(Self { retention_days, min_keep, max_delete_percent, tiers, time_zone, stack })
    }

    /// The policy a resource's `snapmgmt:Retention` tag writes, in place of the stack's age and tiers: its
    /// days (none when it gives tiers only), its tiers. MIN_KEEP, the guard and the time zone stay.
    pub fn with_written(self, written: Written) -> Self {
        Self { retention_days: written.days.unwrap_or(0), tiers: written.tiers, ..self }
    }

    /// The stack's policy in the compact form.
    pub fn written(&self) -> Written {
        Written { days: (self.retention_days > 0).then_some(self.retention_days), tiers: self.tiers }
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }

    /// These settings with the delete guard's limit of one run (an event's maxDeletePercent): an event can
    /// lower the limit, never raise it above MAX_DELETE_PERCENT, so that whoever can start the workflow or
    /// invoke cleanup cannot lift the guard. Raising it is a change of the stack's setting.
    pub fn with_delete_limit(self, max_delete_percent: Option<u32>) -> Self {
        let limit = max_delete_percent.map_or(self.max_delete_percent, |asked| asked.min(self.max_delete_percent));
        Self { max_delete_percent: limit, ..self }
    }
}

/// Settings of the cleanup: the rule, dry run, and the vault whose EFS recovery points it may delete.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanupConfig {
    pub retention: RetentionConfig,
    pub dry_run: DryRunSetting,
    /// BACKUP_VAULT_NAME: needed only for EFS targets, whose cleanup fails alone without it.
    pub backup_vault_name: Option<String>,
    /// DELETE_ORPHANS: whether the backups of resources that are no longer targets are deleted (after
    /// their own retention, keeping the newest, under the guard) or only reported. Off by default.
    pub delete_orphans: bool,
    /// ADOPT_ORIGINAL_SAMPLE: the original sample's backups of a target are judged as ours. Off by default.
    pub adopt_original_sample: bool,
    /// Where copies are, and the policy they are kept under there.
    pub copy: CopySettings,
    /// EC2_API_SHARE (percent, default 50) of the account's EC2 request budget the stack's deletes may use,
    /// divided among EC2_CONCURRENCY (default 50) cleanups at once (crate::pace); 0: no pace of its own (an
    /// account whose limits AWS raised), the deletes only back off when EC2 throttles them.
    pub ec2_api_share: u32,
    pub ec2_concurrency: u32,
    /// BACKUP_DELETE_AFTER_DAYS (0: none): AWS Backup's lifecycle deletes EFS points after these days,
    /// whatever a policy keeps; an EFS resource whose own policy keeps longer fails its cleanup.
    pub efs_lifecycle_days: Option<u32>,
    /// ORPHAN_GRACE_DAYS: an orphan's backups are all kept until it has been an orphan this many days,
    /// whatever DELETE_ORPHANS says.
    pub orphan_grace_days: u32,
}

impl CleanupConfig {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        Ok(Self {
            retention: RetentionConfig::from_source(src)?,
            dry_run: DryRunSetting::from_source(src)?,
            backup_vault_name: src.get("BACKUP_VAULT_NAME").filter(|v| !v.trim().is_empty()),
            delete_orphans: flag(src, "DELETE_ORPHANS")?,
            adopt_original_sample: flag(src, "ADOPT_ORIGINAL_SAMPLE")?,
            copy: CopySettings::from_source(src)?,
            ec2_api_share: optional_number(src, "EC2_API_SHARE", 50, 0, 100)?,
            ec2_concurrency: optional_number(src, "EC2_CONCURRENCY", 50, 1, MAX_CONCURRENCY)?,
            efs_lifecycle_days: Some(optional_number(src, "BACKUP_DELETE_AFTER_DAYS", 0, 0, 36_500)?)
                .filter(|days| *days > 0),
            orphan_grace_days: optional_number(src, "ORPHAN_GRACE_DAYS", DEFAULT_ORPHAN_GRACE_DAYS, 1, 3_650)?,
        })
    }

    /// This invocation's pace of EC2 deletes, if it has one.
    pub fn ec2_pace(&self) -> Option<crate::pace::Pace> {
        (self.ec2_api_share > 0).then(|| crate::pace::Pace::ec2_mutating(self.ec2_api_share, self.ec2_concurrency))
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
    fn the_cleanups_share_of_ec2s_budget_defaults_to_half_over_the_ec2_concurrency() {
        let cfg = CleanupConfig::from_source(&source(&[("RETENTION_DAYS", "7")])).unwrap();
        assert_eq!((cfg.ec2_api_share, cfg.ec2_concurrency), (50, 50));
        assert!((cfg.ec2_pace().unwrap().per_second() - 0.05).abs() < 1e-9, "5 a second, halved, over 50 cleanups");
        let unpaced = CleanupConfig::from_source(&source(&[("RETENTION_DAYS", "7"), ("EC2_API_SHARE", "0")]));
        assert!(unpaced.unwrap().ec2_pace().is_none());
        for (name, bad) in [("EC2_API_SHARE", "101"), ("EC2_API_SHARE", "half"), ("EC2_CONCURRENCY", "0")] {
            let err = CleanupConfig::from_source(&source(&[("RETENTION_DAYS", "7"), (name, bad)]));
            assert!(matches!(err, Err(Error::InvalidSetting { name: n, .. }) if n == name), "{name}={bad}");
        }
    }

    #[test]
    fn retention_is_required() {
        let err = RetentionConfig::from_source(&source(&[])).unwrap_err();
        assert!(matches!(err, Error::InvalidSetting { name: "RETENTION_DAYS", .. }), "{err}");
    }

    #[test]
    fn retention_rejects_zero_negative_fractions_and_units() {
        for bad in ["0", "-1", "1.5", "7d", "", "microseconds"] {
            let err = RetentionConfig::from_source(&source(&[("RETENTION_DAYS", bad)])).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("RETENTION_DAYS") && text.contains(&format!("{bad:?}")), "{text}");
        }
    }

    #[test]
    fn min_keep_defaults_to_one_and_rejects_zero() {
        let cfg = RetentionConfig::from_source(&source(&[("RETENTION_DAYS", "7")])).unwrap();
        assert_eq!(
            cfg,
            RetentionConfig { retention_days: 7, min_keep: 1, max_delete_percent: 50, ..RetentionConfig::default() }
        );
        let err = RetentionConfig::from_source(&source(&[("RETENTION_DAYS", "7"), ("MIN_KEEP", "0")]));
        assert!(matches!(err, Err(Error::InvalidSetting { name: "MIN_KEEP", .. })));
    }

    #[test]
    fn max_delete_percent_defaults_to_half_and_is_a_percentage() {
        for bad in ["0", "101", "50%", "half"] {
            let err = RetentionConfig::from_source(&source(&[("RETENTION_DAYS", "7"), ("MAX_DELETE_PERCENT", bad)]));
            assert!(matches!(err, Err(Error::InvalidSetting { name: "MAX_DELETE_PERCENT", .. })), "{bad}");
        }
        let cfg = RetentionConfig::from_source(&source(&[("RETENTION_DAYS", "7"), ("MAX_DELETE_PERCENT", "100")]));
        assert_eq!(cfg.unwrap().max_delete_percent, 100);
    }

    #[test]
    fn an_event_can_lower_the_delete_limit_never_raise_it() {
        let cfg =
            RetentionConfig { retention_days: 7, min_keep: 1, max_delete_percent: 50, ..RetentionConfig::default() };
        assert_eq!(cfg.clone().with_delete_limit(None).max_delete_percent, 50);
        assert_eq!(cfg.clone().with_delete_limit(Some(20)).max_delete_percent, 20);
        assert_eq!(cfg.with_delete_limit(Some(100)).max_delete_percent, 50);
    }

    #[test]
    fn tiers_and_their_time_zone_are_read_checked_and_named() {
        let read = |pairs: &[(&str, &str)]| {
            RetentionConfig::from_source(&source(&[&[("RETENTION_DAYS", "7")], pairs].concat()))
        };
        let none = read(&[]).unwrap();
        assert!(none.tiers.is_empty() && none.time_zone.iana_name() == Some("UTC"));
        let tiered =
            read(&[("RETENTION_TIERS", "daily=7,weekly=4"), ("RETENTION_TIME_ZONE", "Europe/Berlin")]).unwrap();
        assert_eq!((tiered.tiers.daily, tiered.tiers.weekly), (7, 4));
        assert_eq!(tiered.written().to_string(), "days=7 daily=7 weekly=4");
        for (name, value) in [
            ("RETENTION_TIERS", "daily=seven"),
            ("RETENTION_TIERS", "days=30"),
            ("RETENTION_TIME_ZONE", "Mars/Olympus"),
        ] {
            let err = read(&[(name, value)]).unwrap_err();
            assert!(matches!(&err, Error::InvalidSetting { name: n, .. } if *n == name), "{err}");
            assert!(err.to_string().contains(value), "{err}");
        }
    }
}
