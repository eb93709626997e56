//! The settings of the functions that take backups (backup-fsx, efs-backup) and name them (check-in-progress).

use super::{invalid, DryRunSetting, Env, Source};
use crate::error::Result;

/// Settings of the functions that take backups: DRY_RUN, and COPY_TAGS, the keys of a resource's tags
/// copied onto its backups (unset: [`crate::tags::DEFAULT_COPY_TAGS`]; empty: none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BackupSettings {
    pub dry_run: DryRunSetting,
    pub copy_tags: crate::tags::CopyTags,
}

impl BackupSettings {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        Ok(Self { dry_run: DryRunSetting::from_source(src)?, copy_tags: copy_tags(src)? })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }
}

/// COPY_TAGS alone: check-in-progress names and tags a completed EBS set with it.
pub fn copy_tags(src: &impl Source) -> Result<crate::tags::CopyTags> {
    let text = src.get("COPY_TAGS").unwrap_or_else(|| crate::tags::DEFAULT_COPY_TAGS.to_string());
    crate::tags::CopyTags::parse(&text).map_err(|reason| invalid("COPY_TAGS", &text, &reason))
}

/// COPY_TAGS from the environment.
pub fn copy_tags_from_env() -> Result<crate::tags::CopyTags> {
    copy_tags(&Env)
}
