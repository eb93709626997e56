//! An EFS file system's newest recovery point of ours, proven by a restore: AWS Backup restores it into a
//! new file system (as the stack's backup role), the job is followed until it completes (the verify state
//! machine's loop, [`super::pending`]), and the file system it made is deleted whatever happened.
//!
//! AWS Backup cannot tag the file system a restore makes. What tells it apart is the restore's creation
//! token, which names this stack and run: the file system the job names is deleted only when its creation
//! token is ours, after it is tagged as this stack's restore test (the only file systems the verify role may
//! delete). A file system a failed run left, tagged or not yet, the next run's sweep finds by the same marks.

use aws_sdk_efs::types::FileSystemDescription;
use tracing::info;

use super::pending::{self, Progress, Restorer};
use super::restore::{Swept, SWEEP_AFTER_SECONDS};
use super::target::{RestoredResource, TargetCheck};
use crate::aws::backup::{self as backup_api, EfsRestore};
use crate::aws::efs as efs_api;
use crate::config::VerifyConfig;
use crate::efs::{Clients, EfsStore};
use crate::error::{Error, Result};
use crate::model::TargetKind;
use crate::tags::{self, RESTORE_TEST_KEY};

/// How long an EFS restore may take before its check fails (AWS Backup restores EFS at hundreds of MB/s to
/// a few GB/s: a few TiB within it).
pub const RESTORE_TIMEOUT_SECONDS: i64 = 6 * 3600;

/// Verifies the file system's newest completed recovery point of ours (made by the settings' stack) by
/// restoring it into a new file system, and with copies its newest copy in the copy Region's vault
/// (COPY_BACKUP_VAULT_NAME) there too: the restores started, its check pending (see [`super::pending`]).
pub async fn check_file_system(
    clients: super::check::Clients<'_>,
    settings: &VerifyConfig,
    file_system_id: &str,
    run_id: &str,
    pick: super::Pick<'_>,
    now: i64,
) -> Result<TargetCheck> {
    let restore = settings.efs()?;
    let mut check = TargetCheck::new(TargetKind::Efs, file_system_id);
    let stack = settings.stack.as_ref();
    let here = clients.efs_clients();
    let in_vault = EfsStore { clients: here, vault: &restore.vault, lifecycle_days: None };
    let Some((points, created)) = super::pick::ours_chosen(&in_vault, file_system_id, stack, pick, now).await? else {
        return Ok(check);
    };
    // Copies follow the nightly run: none there yet is none to verify.
    let copy = match (clients.copy, settings.copy_vault.as_deref()) {
        (Some(there), Some(vault)) => {
            let copy_vault = EfsStore { clients: there.efs_clients(), vault, lifecycle_days: None };
            super::pick::ours_chosen(&copy_vault, file_system_id, stack, pick, now).await?.map(|(p, _)| (there, p))
        }
        _ => None,
    };
    // A source deleted since its backup: restored as AWS Backup's defaults have it.
    let source = match efs_api::describe_file_system(here.efs, file_system_id).await {
        Ok(source) => Some(source),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let token = creation_token(stack, run_id, file_system_id);
    let ask = EfsRestore {
        recovery_point_arn: &points[0],
        role_arn: &restore.role_arn,
        source_file_system_id: file_system_id,
        encrypted: source.as_ref().and_then(|s| s.encrypted()).unwrap_or(false),
        kms_key_id: source.as_ref().and_then(|s| s.kms_key_id()),
        performance_mode: source.as_ref().map_or("generalPurpose", |s| s.performance_mode().as_str()),
        creation_token: &token,
    };
    let mut resources = vec![start(here.backup, ask, None).await];
    if let Some((there, copies)) = &copy {
        // The source's key is its own Region's: the copy's file system takes the copy Region's EFS key.
        let ask = EfsRestore { recovery_point_arn: &copies[0], kms_key_id: None, ..ask };
        resources.push(start(there.backup, ask, Some(there.region)).await);
    }
    pending::begin(&mut check, resources, settings, run_id, RESTORE_TIMEOUT_SECONDS);
    (check.backup, check.created) = (points, Some(created));
    Ok(check)
}

/// The restore job, started (its file system named by a later look) or refused.
async fn start(backup: &aws_sdk_backup::Client, ask: EfsRestore<'_>, region: Option<&str>) -> RestoredResource {
    match backup_api::start_efs_restore(backup, ask).await {
        Ok(job_id) => RestoredResource {
            backup_id: ask.recovery_point_arn.to_string(),
            job_id: Some(job_id),
            state: "PENDING".into(),
            region: region.map(str::to_string),
            ..Default::default()
        },
        Err(e) => pending::refused(ask.recovery_point_arn, region, &e),
    }
}

/// Follows an EFS restore job; deletes the file system it made, once its creation token shows it is this
/// restore's (never the source, never another's).
pub struct EfsRestorer<'a> {
    pub clients: Clients<'a>,
    /// The copy Region's, for a copy's restore there.
    pub copy: Option<(&'a str, Clients<'a>)>,
    pub source_file_system_id: &'a str,
    pub stack: Option<&'a tags::StackId>,
}

impl EfsRestorer<'_> {
    fn clients_for(&self, resource: &RestoredResource) -> Result<Clients<'_>> {
        let copy = self.copy.as_ref().map(|(region, clients)| (*region, clients));
        super::check::in_region(resource, &self.clients, copy).copied()
    }
}

impl Restorer for EfsRestorer<'_> {
    async fn look(&self, resource: &mut RestoredResource) -> Result<Progress> {
        let job_id = resource.job_id.clone().unwrap_or_default();
        let job = backup_api::describe_restore_job(self.clients_for(resource)?.backup, &job_id).await?;
        resource.state = job.status.clone();
        if let Some(arn) = &job.created_resource_arn {
            resource.resource_id = file_system_of(arn).to_string();
        }
        let why = job.message.as_deref().unwrap_or("no message");
        Ok(match job.status.as_str() {
            "COMPLETED" => Progress::Made,
            "FAILED" | "ABORTED" => Progress::Failed(format!("restore job {job_id} {}: {why}", job.status)),
            _ => Progress::Pending,
        })
    }

    async fn remove(&self, resource: &RestoredResource, run_id: &str) -> Result<bool> {
        let token = creation_token(self.stack, run_id, self.source_file_system_id);
        let efs = self.clients_for(resource)?.efs;
        let made = match efs_api::describe_file_system(efs, &resource.resource_id).await {
            Err(Error::NotFound { .. }) => return Ok(true),
            other => other?,
        };
        if resource.resource_id == self.source_file_system_id || made.creation_token() != token {
            let reason = format!(
                "the restore job names {}, whose creation token {:?} is not this restore's: left alone",
                resource.resource_id,
                made.creation_token()
            );
            return Err(Error::invalid_event("createdResourceArn", reason));
        }
        mark_and_delete(efs, &made, run_id, self.stack).await
    }
}

/// A restore's creation token: this stack's mark (the sweep's prefix), the run's, and the source file system
/// (at most 64 characters, as EFS allows).
pub fn creation_token(stack: Option<&tags::StackId>, run_id: &str, file_system_id: &str) -> String {
    format!("{}{:08x}-{file_system_id}", token_prefix(stack), fnv1a(run_id))
}

fn token_prefix(stack: Option<&tags::StackId>) -> String {
    format!("snapmgmt-rt-{:08x}-", fnv1a(stack.map_or("", tags::StackId::as_str)))
}

/// FNV-1a: a short mark that is the same in every build (the standard library's hasher promises no such
/// thing), for tokens a later run must recognise.
pub(super) fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193))
}

/// The id at the end of a file system's ARN.
fn file_system_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Tags a restore-test file system as this stack's (unless it is already) and deletes it.
async fn mark_and_delete(
    efs: &aws_sdk_efs::Client,
    file_system: &FileSystemDescription,
    run_id: &str,
    stack: Option<&tags::StackId>,
) -> Result<bool> {
    let id = file_system.file_system_id();
    let tagged = efs_api::tag_map(file_system.tags()).contains_key(RESTORE_TEST_KEY);
    if !tagged {
        let mut marks = vec![(RESTORE_TEST_KEY, run_id)];
        marks.extend(stack.map(tags::StackId::tag));
        efs_api::tag_file_system(efs, id, &marks).await?;
    }
    efs_api::delete_file_system(efs, id).await
}

/// Deletes this stack's restore-test file systems made more than a day before `now`: tagged as its restore
/// tests, or (a run that stopped before tagging) bearing its creation-token mark. Without a stack id it
/// touches nothing: it could not tell its own from another stack's.
pub async fn sweep(efs: &aws_sdk_efs::Client, stack: Option<&tags::StackId>, now: i64) -> Result<Swept> {
    let Some(stack) = stack else {
        return Ok(Swept::default());
    };
    let prefix = token_prefix(Some(stack));
    let (stack_key, stack_value) = stack.tag();
    let mut swept = Swept::default();
    for file_system in efs_api::list_file_systems(efs).await? {
        let tags = efs_api::tag_map(file_system.tags());
        let tagged_ours =
            tags.contains_key(RESTORE_TEST_KEY) && tags.get(stack_key).map(String::as_str) == Some(stack_value);
        let marked_ours = file_system.creation_token().starts_with(&prefix);
        let age = now - file_system.creation_time().secs();
        if !(tagged_ours || marked_ours) || age <= SWEEP_AFTER_SECONDS {
            continue;
        }
        let deleted = mark_and_delete(efs, &file_system, "sweep", Some(stack)).await?;
        swept.record(file_system.file_system_id().to_string(), deleted);
    }
    if !swept.deleted.is_empty() {
        info!(deleted = ?swept.deleted, "restore-test file systems left by an earlier run swept");
    }
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_creation_token_marks_the_stack_and_fits_efs() {
        let stack =
            tags::StackId::parse("a-very-long-stack-name-of-one-hundred-and-more-characters@eu-west-1").unwrap();
        let token = creation_token(Some(&stack), "verify-20261207T040000Z", "fs-0123456789abcdef0");
        assert!(token.len() <= 64, "{token}");
        assert!(token.starts_with(&token_prefix(Some(&stack))) && token.ends_with("-fs-0123456789abcdef0"));
        let other = tags::StackId::parse("other@eu-west-1").unwrap();
        assert!(!token.starts_with(&token_prefix(Some(&other))), "another stack's sweep does not take it");
        assert_ne!(token, creation_token(Some(&stack), "verify-2", "fs-0123456789abcdef0"), "a run of its own");
        assert_eq!(fnv1a("a"), 0xe40c_292c, "the same mark in every build");
    }
}
