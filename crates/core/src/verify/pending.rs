//! A restore that outlasts a function's run. A volume takes seconds to minutes, a file system minutes (EFS)
//! to an hour or more (FSx) to make, longer than a function may run: the check starts the restore and
//! answers `pending`; the verify state machine waits and asks the function to follow it, one look a time, until it is made, has failed or
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

/// A file system check's restores, as they were started (the backup's, and its copy's in the copy Region):
/// pending for the state machine to follow while one was started, its deadline `timeout_seconds` away; a
/// resource whose restore was refused carries its error. None started: failed, nothing made.
pub fn begin(
    check: &mut TargetCheck,
    resources: Vec<RestoredResource>,
    settings: &VerifyConfig,
    run_id: &str,
    timeout_seconds: i64,
) {
    let now_ms = crate::now_epoch_millis();
    let started = resources.iter().any(|r| r.error.is_none());
    let mut test = RestoreTest { resources, run_id: Some(run_id.to_string()), ..Default::default() };
    if started {
        test.pending = true;
        test.deadline = Some(now_ms / 1000 + timeout_seconds);
        test.poll_seconds = Some(u64::from(settings.restore_poll_seconds));
        test.started_ms = Some(now_ms);
    } else {
        test.cleaned_up = true;
        test.error = Some(errors(&test.resources).join("; "));
        check.outcome = Outcome::Failed;
    }
    check.restore = Some(test);
}

/// A restore that could not start: its backup, and why.
pub fn refused(backup_id: &str, region: Option<&str>, error: &Error) -> RestoredResource {
    RestoredResource {
        backup_id: backup_id.to_string(),
        region: region.map(str::to_string),
        state: "NOT_STARTED".into(),
        error: Some(error.to_string()),
        ..Default::default()
    }
}

/// Each resource's error, a copy's named by its Region.
fn errors(resources: &[RestoredResource]) -> Vec<String> {
    resources
        .iter()
        .filter_map(|r| {
            let error = r.error.as_deref()?;
            Some(r.region.as_ref().map_or_else(|| error.to_string(), |region| format!("its copy in {region}: {error}")))
        })
        .collect()
}

/// One look at each of the check's pending restores; when every one is settled (or the time is up), what
/// they made is deleted and the check has its outcome: verified only when every one restored. A check whose
/// restore is not pending comes back as it was.
pub async fn follow(restorer: &impl Restorer, mut check: TargetCheck, hook: Option<Hook<'_>>) -> Result<TargetCheck> {
    let (kind, target_id, backup) = (check.kind, check.target_id.clone(), check.backup.clone());
    let Some(test) = check.restore.as_mut().filter(|t| t.pending && !t.resources.is_empty()) else {
        return Ok(check);
    };
    let now_ms = crate::now_epoch_millis();
    let mut looks = Vec::with_capacity(test.resources.len());
    for resource in &mut test.resources {
        looks.push(match &resource.error {
            Some(why) => Progress::Failed(why.clone()),
            None => restorer.look(resource).await?,
        });
    }
    let late = now_ms / 1000 >= test.deadline.unwrap_or(i64::MAX);
    if looks.contains(&Progress::Pending) && !late {
        return Ok(check);
    }
    let waited = (now_ms - test.started_ms.unwrap_or(now_ms)) / 1000;
    for (resource, progress) in test.resources.iter_mut().zip(&looks) {
        resource.error = match progress {
            Progress::Made => None,
            Progress::Failed(why) => Some(why.clone()),
            Progress::Pending => {
                let what = if resource.resource_id.is_empty() {
                    resource.job_id.clone().unwrap_or_else(|| "the restore".into())
                } else {
                    resource.resource_id.clone()
                };
                Some(format!("{what} still {} after {waited} s", resource.state))
            }
        };
    }
    let failures = errors(&test.resources);
    test.pending = false;
    test.restored = failures.is_empty();
    test.error = (!failures.is_empty()).then(|| failures.join("; "));
    if let Some(hook) = hook.filter(|_| test.restored) {
        super::validate::validate(hook, kind, &target_id, &backup, test).await;
    }
    let run_id = test.run_id.clone().unwrap_or_default();
    for resource in test.resources.iter_mut().filter(|r| !r.resource_id.is_empty()) {
        match restorer.remove(resource, &run_id).await {
            Ok(deleted) => resource.deleted = deleted,
            Err(e) => {
                warn!(resource = %resource.resource_id, error = %e, "a restore test's resource was not deleted");
                test.error.get_or_insert_with(|| format!("{} not deleted: {e}", resource.resource_id));
            }
        }
    }
    // One still being made and not yet named (an EFS job): it may yet make its file system, which the sweep
    // takes.
    test.cleaned_up = test
        .resources
        .iter()
        .zip(&looks)
        .all(|(r, progress)| r.deleted || (r.resource_id.is_empty() && *progress != Progress::Pending));
    test.duration_ms = (now_ms - test.started_ms.unwrap_or(now_ms)).max(0) as u64;
    // An instance's blocks were read before its restore: a bad one still fails it.
    check.outcome = if test.restored && check.outcome != Outcome::Failed { Outcome::Verified } else { Outcome::Failed };
    check.duration_ms += test.duration_ms;
    Ok(check)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;
    use crate::model::TargetKind;

    /// Restores that answer each look as scripted per resource, and keep what was removed.
    struct Scripted {
        progress: BTreeMap<&'static str, Progress>,
        removed: Mutex<Vec<String>>,
    }

    impl Restorer for Scripted {
        async fn look(&self, resource: &mut RestoredResource) -> Result<Progress> {
            resource.state = "CREATING".into();
            Ok(self.progress[resource.resource_id.as_str()].clone())
        }

        async fn remove(&self, resource: &RestoredResource, _: &str) -> Result<bool> {
            self.removed.lock().unwrap().push(resource.resource_id.clone());
            Ok(true)
        }
    }

    fn made(resource_id: &str, region: Option<&str>) -> RestoredResource {
        let region = region.map(str::to_string);
        RestoredResource { backup_id: "backup-1".into(), resource_id: resource_id.into(), region, ..Default::default() }
    }

    fn pending_check(resources: Vec<RestoredResource>, deadline_from_now: i64) -> TargetCheck {
        let settings = VerifyConfig::from_source(&crate::config::test_support::source(&[])).unwrap();
        let mut check = TargetCheck::new(TargetKind::Fsx, "fs-source");
        begin(&mut check, resources, &settings, "run-1", 0);
        check.restore.as_mut().unwrap().deadline = Some(crate::now_epoch_seconds() + deadline_from_now);
        check
    }

    async fn follow_with(progress: &[(&'static str, Progress)], check: TargetCheck) -> (TargetCheck, Vec<String>) {
        let restorer = Scripted { progress: progress.iter().cloned().collect(), removed: Mutex::new(Vec::new()) };
        let check = follow(&restorer, check, None).await.unwrap();
        (check, restorer.removed.into_inner().unwrap())
    }

    #[tokio::test]
    async fn a_restore_is_followed_until_made_failed_or_late_then_always_removed() {
        let one = || pending_check(vec![made("fs-1", None)], 3600);
        let (still, removed) = follow_with(&[("fs-1", Progress::Pending)], one()).await;
        assert!(still.restore.as_ref().unwrap().pending && removed.is_empty(), "still being made, in time: again");

        let late = pending_check(vec![made("fs-1", None)], -1);
        let (late, removed) = follow_with(&[("fs-1", Progress::Pending)], late).await;
        let test = late.restore.unwrap();
        assert_eq!((late.outcome, test.pending, test.restored, removed.len()), (Outcome::Failed, false, false, 1));
        assert!(test.error.unwrap().contains("fs-1 still CREATING"), "late: failed, and what it made removed");
        assert!(test.cleaned_up);

        let (failed, removed) = follow_with(&[("fs-1", Progress::Failed("out of capacity".into()))], one()).await;
        assert_eq!((failed.outcome, removed.len()), (Outcome::Failed, 1));
        assert_eq!(failed.restore.unwrap().error.as_deref(), Some("out of capacity"));

        let (made_one, removed) = follow_with(&[("fs-1", Progress::Made)], one()).await;
        let test = made_one.restore.unwrap();
        assert_eq!(
            (made_one.outcome, test.restored, test.cleaned_up, removed.len()),
            (Outcome::Verified, true, true, 1)
        );
    }

    #[tokio::test]
    async fn a_backup_and_its_copy_are_followed_together_and_both_removed_whichever_fails() {
        let both = || pending_check(vec![made("fs-here", None), made("fs-there", Some("us-west-2"))], 3600);
        let (waiting, removed) =
            follow_with(&[("fs-here", Progress::Made), ("fs-there", Progress::Pending)], both()).await;
        assert!(waiting.restore.unwrap().pending && removed.is_empty(), "one still being made: both wait");

        let scripted = [("fs-here", Progress::Made), ("fs-there", Progress::Failed("fs-there FAILED: no AD".into()))];
        let (failed, removed) = follow_with(&scripted, both()).await;
        let test = failed.restore.unwrap();
        assert_eq!((failed.outcome, test.restored, test.cleaned_up), (Outcome::Failed, false, true));
        assert_eq!(test.error.as_deref(), Some("its copy in us-west-2: fs-there FAILED: no AD"), "named by its Region");
        assert_eq!(removed, ["fs-here", "fs-there"], "what each made is removed");
        assert_eq!(test.resources[0].error, None);

        let (verified, _) = follow_with(&[("fs-here", Progress::Made), ("fs-there", Progress::Made)], both()).await;
        assert_eq!(verified.outcome, Outcome::Verified);
    }

    #[tokio::test]
    async fn an_instance_whose_blocks_failed_stays_failed_after_its_restore_and_its_reading_time_counts() {
        let mut check = pending_check(vec![made("vol-1", None)], 3600);
        (check.kind, check.outcome, check.duration_ms) = (TargetKind::Ec2, Outcome::Failed, 5_000);
        let (after, removed) = follow_with(&[("vol-1", Progress::Made)], check).await;
        assert_eq!((after.outcome, after.restore.unwrap().restored, removed.len()), (Outcome::Failed, true, 1));
        assert!(after.duration_ms >= 5_000, "the read's time and the restore's");
    }

    #[tokio::test]
    async fn a_refused_restore_is_never_looked_at_and_fails_the_check_once_the_other_is_settled() {
        let refused_copy = refused("backup-copy", Some("us-west-2"), &Error::invalid_event("x", "refused"));
        let check = pending_check(vec![made("fs-here", None), refused_copy.clone()], 3600);
        let (failed, removed) = follow_with(&[("fs-here", Progress::Made)], check).await;
        let test = failed.restore.unwrap();
        assert_eq!((failed.outcome, test.cleaned_up, removed), (Outcome::Failed, true, vec!["fs-here".to_string()]));
        assert!(test.error.unwrap().starts_with("its copy in us-west-2: "));

        let settings = VerifyConfig::from_source(&crate::config::test_support::source(&[])).unwrap();
        let mut none = TargetCheck::new(TargetKind::Efs, "fs-source");
        begin(
            &mut none,
            vec![refused("backup-1", None, &Error::invalid_event("x", "no")), refused_copy],
            &settings,
            "r",
            0,
        );
        let test = none.restore.unwrap();
        assert_eq!((none.outcome, test.pending, test.cleaned_up), (Outcome::Failed, false, true), "none started");
        assert!(test.error.unwrap().contains("; its copy in us-west-2: "));
    }
}
