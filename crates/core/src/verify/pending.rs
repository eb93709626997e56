//! A restore that outlasts a function's run. A file system takes minutes (EFS) to an hour or more (FSx) to
//! make, longer than a function may run: the check starts the restore and answers `pending`; the verify
//! state machine waits and asks the function to follow it, one look a time, until it is made, has failed or
//! its time is up; then what it made is deleted, whatever happened, and the check has its outcome.

use std::future::Future;

use tracing::warn;

use super::target::{Outcome, RestoreTest, RestoredResource, TargetCheck};
use super::validate::Hook;
use crate::config::VerifyConfig;
use crate::error::{Error, Result};

/// What one look at a restore found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still being made.
    Pending,
    /// Made, usable: it restored.
    Made,
    /// It will not be made: why.
    Failed(String),
}

/// How a kind's restore is looked at and its resource deleted.
pub trait Restorer {
    /// One look: updates the resource's state (and its id, once the restore names it).
    fn look(&self, resource: &mut RestoredResource) -> impl Future<Output = Result<Progress>> + Send;
    /// Deletes what the restore made; true when it is gone.
    fn remove(&self, resource: &RestoredResource, run_id: &str) -> impl Future<Output = Result<bool>> + Send;
}

/// A restore just started, for the state machine to follow: one resource, its deadline `timeout_seconds` away.
pub fn started(resource: RestoredResource, settings: &VerifyConfig, run_id: &str, timeout_seconds: i64) -> RestoreTest {
    let now_ms = crate::now_epoch_millis();
    RestoreTest {
        resources: vec![resource],
        pending: true,
        deadline: Some(now_ms / 1000 + timeout_seconds),
        poll_seconds: Some(u64::from(settings.restore_poll_seconds)),
        started_ms: Some(now_ms),
        run_id: Some(run_id.to_string()),
        ..Default::default()
    }
}

/// A restore that could not start: failed, nothing made.
pub fn not_started(resource: RestoredResource, error: Error) -> RestoreTest {
    RestoreTest { resources: vec![resource], cleaned_up: true, error: Some(error.to_string()), ..Default::default() }
}

/// One look at the check's pending restore; when it is settled (or late), its resource deleted and the
/// check's outcome given. A check whose restore is not pending comes back as it was.
pub async fn follow(restorer: &impl Restorer, mut check: TargetCheck, hook: Option<Hook<'_>>) -> Result<TargetCheck> {
    let (kind, target_id, backup) = (check.kind, check.target_id.clone(), check.backup.clone());
    let Some(test) = check.restore.as_mut().filter(|t| t.pending && !t.resources.is_empty()) else {
        return Ok(check);
    };
    let now_ms = crate::now_epoch_millis();
    let resource = &mut test.resources[0];
    let progress = restorer.look(resource).await?;
    let late = now_ms / 1000 >= test.deadline.unwrap_or(i64::MAX);
    let error = match &progress {
        Progress::Pending if !late => return Ok(check),
        Progress::Pending => {
            let what =
                if resource.resource_id.is_empty() { resource.job_id.as_deref() } else { Some(&*resource.resource_id) };
            let waited = (now_ms - test.started_ms.unwrap_or(now_ms)) / 1000;
            Some(format!("{} still {} after {waited} s", what.unwrap_or("the restore"), resource.state))
        }
        Progress::Made => None,
        Progress::Failed(why) => Some(why.clone()),
    };
    test.pending = false;
    test.restored = error.is_none();
    test.error = error;
    if let Some(hook) = hook.filter(|_| test.restored) {
        super::validate::validate(hook, kind, &target_id, &backup, test).await;
    }
    let resource = &mut test.resources[0];
    if !resource.resource_id.is_empty() {
        match restorer.remove(resource, test.run_id.as_deref().unwrap_or_default()).await {
            Ok(deleted) => resource.deleted = deleted,
            Err(e) => {
                warn!(resource = %resource.resource_id, error = %e, "a restore test's resource was not deleted");
                test.error.get_or_insert_with(|| format!("{} not deleted: {e}", resource.resource_id));
            }
        }
    }
    // Still being made and not yet named (an EFS job): it may yet make its file system, which the sweep takes.
    test.cleaned_up = resource.deleted || (resource.resource_id.is_empty() && progress != Progress::Pending);
    test.duration_ms = (now_ms - test.started_ms.unwrap_or(now_ms)).max(0) as u64;
    check.outcome = if test.restored { Outcome::Verified } else { Outcome::Failed };
    check.duration_ms = test.duration_ms;
    Ok(check)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::model::TargetKind;

    /// A restore that answers one look as scripted, and counts its removals.
    struct Scripted {
        progress: Progress,
        removed: AtomicUsize,
    }

    impl Restorer for Scripted {
        async fn look(&self, resource: &mut RestoredResource) -> Result<Progress> {
            resource.state = "CREATING".into();
            Ok(self.progress.clone())
        }

        async fn remove(&self, _: &RestoredResource, _: &str) -> Result<bool> {
            self.removed.fetch_add(1, Ordering::SeqCst);
            Ok(true)
        }
    }

    fn pending_check(deadline_from_now: i64) -> TargetCheck {
        let resource =
            RestoredResource { backup_id: "backup-1".into(), resource_id: "fs-1".into(), ..Default::default() };
        let settings = VerifyConfig::from_source(&crate::config::test_support::source(&[])).unwrap();
        let mut test = started(resource, &settings, "run-1", 0);
        test.deadline = Some(crate::now_epoch_seconds() + deadline_from_now);
        TargetCheck { restore: Some(test), ..TargetCheck::new(TargetKind::Fsx, "fs-source") }
    }

    async fn follow_with(progress: Progress, deadline_from_now: i64) -> (TargetCheck, usize) {
        let restorer = Scripted { progress, removed: AtomicUsize::new(0) };
        let check = follow(&restorer, pending_check(deadline_from_now), None).await.unwrap();
        (check, restorer.removed.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_restore_is_followed_until_made_failed_or_late_then_always_removed() {
        let (still, removed) = follow_with(Progress::Pending, 3600).await;
        assert!(still.restore.as_ref().unwrap().pending && removed == 0, "still being made, in time: look again");

        let (late, removed) = follow_with(Progress::Pending, -1).await;
        let test = late.restore.unwrap();
        assert_eq!((late.outcome, test.pending, test.restored, removed), (Outcome::Failed, false, false, 1));
        assert!(test.error.unwrap().contains("fs-1 still CREATING"), "late: failed, and what it made removed");
        assert!(test.cleaned_up);

        let (failed, removed) = follow_with(Progress::Failed("out of capacity".into()), 3600).await;
        assert_eq!((failed.outcome, removed), (Outcome::Failed, 1));
        assert_eq!(failed.restore.unwrap().error.as_deref(), Some("out of capacity"));

        let (made, removed) = follow_with(Progress::Made, 3600).await;
        let test = made.restore.unwrap();
        assert_eq!((made.outcome, test.restored, test.cleaned_up, removed), (Outcome::Verified, true, true, 1));
    }
}
