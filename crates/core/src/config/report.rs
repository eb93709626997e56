//! The report function's settings.

use super::{bucket_name, optional_number, Env, Source};
use crate::error::Result;

/// Settings of the report function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportConfig {
    /// The stack's bucket, the only one the report reads results from and writes the report to.
    pub inventory_bucket: String,
    /// A target with no completed backup for longer than this is named in the report (and alarms): two
    /// schedule periods and a margin.
    pub stale_after_hours: u32,
    /// A target that disappeared stays in the ledger (named, and going stale) this many hours after
    /// STALE_AFTER_HOURS have passed since it was last seen.
    pub disappeared_grace_hours: u32,
}

/// DISAPPEARED_GRACE_HOURS when unset: a week.
pub const DEFAULT_DISAPPEARED_GRACE_HOURS: u32 = 168;

/// STALE_AFTER_HOURS when unset: two nightly periods and a margin.
pub const DEFAULT_STALE_AFTER_HOURS: u32 = 50;

impl ReportConfig {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        Ok(Self {
            inventory_bucket: bucket_name(src, "INVENTORY_BUCKET")?,
            stale_after_hours: optional_number(src, "STALE_AFTER_HOURS", DEFAULT_STALE_AFTER_HOURS, 1, 8_760)?,
            disappeared_grace_hours: optional_number(
                src,
                "DISAPPEARED_GRACE_HOURS",
                DEFAULT_DISAPPEARED_GRACE_HOURS,
                0,
                8_760,
            )?,
        })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }
}
