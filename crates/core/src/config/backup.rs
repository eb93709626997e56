//! The settings of the functions that take backups (backup-fsx, efs-backup) and name them (check-in-progress).

use super::{invalid, DryRunSetting, Env, Source};
use crate::error::Result;

/// Settings of the functions that take backups: DRY_RUN; COPY_TAGS, the keys of a resource's tags
/// copied onto its backups (unset: [`crate::tags::DEFAULT_COPY_TAGS`]; empty: none); STACK_ID.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BackupSettings {
    pub dry_run: DryRunSetting,
    pub copy_tags: crate::tags::CopyTags,
    pub stack: Option<crate::tags::StackId>,
}

impl BackupSettings {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        Ok(Self { dry_run: DryRunSetting::from_source(src)?, copy_tags: copy_tags(src)?, stack: stack_id(src)? })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }

    /// The tags a new backup of `target` made by `run` gets at creation: ours, the stack's, and the source's
    /// allow-listed ones.
    pub fn backup_tags<'a>(
        &'a self,
        target: &'a str,
        run: &'a str,
        source_tags: &'a std::collections::BTreeMap<String, String>,
    ) -> Vec<(&'a str, &'a str)> {
        let mut tags = crate::tags::ownership(target, run).to_vec();
        tags.extend(self.stack.as_ref().map(crate::tags::StackId::tag));
        tags.extend(self.copy_tags.pick(source_tags));
        tags
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

/// STACK_ID, the stack's identity written on each backup it makes (the template sets it; a function run
/// outside a stack, by a test, has none).
pub fn stack_id(src: &impl Source) -> Result<Option<crate::tags::StackId>> {
    match src.get("STACK_ID") {
        None => Ok(None),
        Some(text) => {
            crate::tags::StackId::parse(&text).map(Some).map_err(|reason| invalid("STACK_ID", &text, &reason))
        }
    }
}
