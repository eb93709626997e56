//! The cleanup engine: one target's expired backups deleted as the retention rule allows, whatever the
//! kind. Each kind gives a [`Store`] (list our backups of a resource, describe this run's new backup, say
//! what is in use, delete one); the rule, the delete guard, the time budget, the report and the metrics
//! live here, once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;

use crate::aws::Deleted;
use crate::concurrent::Outcome;
use crate::config::RetentionConfig;
use crate::error::{Error, Result};
use crate::model::{AppliedPolicy, CleanupReport, FailedDelete, KeepReason, Kept, PolicySource};
use crate::retention::{self, BackupInfo, BackupState, Policy};
use crate::tags::{ATTEMPT_KEY, POLICY_KEY, RETENTION_KEY, RUN_ID_KEY, VOLUMES_KEY};
use crate::tiers::Written;

/// Where one kind's backups live. A *part* is what one delete removes (an FSx backup, one EBS snapshot);
/// a *backup* is what the rule keeps or deletes whole (an FSx backup, the snapshot set of one attempt of a run).
pub trait Store {
    /// The kind, as metrics name it (`fsx`, `ec2`).
    const KIND: &'static str;
    /// Deletes in flight at once for one target: well inside the service's API rate limits.
    const DELETE_CONCURRENCY: usize = 4;
    /// Whether a backup is the parts of one attempt of a run (an EBS set), or each part is a backup of its own.
    const SETS_BY_RUN: bool = false;
    /// How the original sample tagged this kind's backups, when it made them (ADOPT_ORIGINAL_SAMPLE).
    const SAMPLE: Option<crate::adopt::SampleTags> = None;

    /// Our parts of this target, filtered on the server as far as the API allows, all pages.
    fn list_ours(&self, target_id: &str) -> impl Future<Output = Result<Vec<BackupInfo>>> + Send;
    /// The resource itself, in one call: the account it belongs to (a part owned by any other is never
    /// deleted) and its tags (its `snapmgmt:Retention`); `NotFound` when it is gone.
    fn resource(&self, target_id: &str) -> impl Future<Output = Result<Resource>> + Send;
    /// These parts, when the listing missed them (this run's new backup, just made).
    fn describe(&self, ids: &[String]) -> impl Future<Output = Result<Vec<BackupInfo>>> + Send;
    /// Which of these parts cannot be deleted because something uses them (an AMI): known before acting,
    /// so a dry run reports what a run does.
    fn in_use(&self, ids: &[String]) -> impl Future<Output = Result<HashSet<String>>> + Send;
    /// How fast its deletes may go: a share of the service's request budget (EBS), or no pace of its own.
    fn pace(&self) -> Option<&crate::pace::Pace> {
        None
    }
    /// Deletes one part; one already gone counts as deleted.
    fn delete(&self, id: &str) -> impl Future<Output = Result<Deleted>> + Send;
    /// The original sample's backups of this target that [`Store::list_ours`] does not list already.
    fn list_sample(&self, _target_id: &str) -> impl Future<Output = Result<Vec<BackupInfo>>> + Send {
        async { Ok(Vec::new()) }
    }
    /// Records on these parts (this run's new backup) the policy it is kept under, as `snapmgmt:Policy`, so
    /// that the backup is judged by it once its resource is no target.
    fn record_policy(&self, ids: &[String], policy: &str) -> impl Future<Output = Result<()>> + Send;
    /// The days after which the service itself deletes a part whatever the rule keeps (EFS: AWS Backup's
    /// lifecycle, BACKUP_DELETE_AFTER_DAYS); a policy that keeps longer fails the target before anything.
    fn lifecycle_days(&self) -> Option<u32> {
        None
    }
    /// Whether no one may delete here (a vault under Vault Lock): what the rule would delete is kept, and
    /// reported so. Asked only when something would be deleted.
    fn locked(&self) -> impl Future<Output = Result<bool>> + Send {
        async { Ok(false) }
    }
}

pub use crate::retention::Resource;

/// What one cleanup is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub target_id: &'a str,
    /// This run's backup, as its parts; required unless `dry_run`, where a missing one is assumed to complete.
    pub new_backup: Option<&'a [String]>,
    /// The event's field naming the new backup, for errors about it.
    pub new_backup_field: &'static str,
    /// The run: the new backup must be this run's (its RunId tag).
    pub run_id: Option<&'a str>,
    pub dry_run: bool,
    /// Now, seconds since the Unix epoch.
    pub now: i64,
    /// No delete starts after this; the ones left are kept as `OutOfTime`, for the next run.
    pub budget_end: Option<std::time::Instant>,
    /// The resource is no longer a target: no backup will come, and it may be gone. Its backups are
    /// judged against their own retention and MIN_KEEP, under the guard.
    pub orphan: bool,
    /// ADOPT_ORIGINAL_SAMPLE: the original sample's backups of this target are judged as ours.
    pub adopt: bool,
    /// A policy over the resource's tag and the stack's: COPY_RETENTION, for the copies in the copy Region.
    pub policy_override: Option<Written>,
    /// An orphan's backups are all kept until it has been an orphan this many days (ORPHAN_GRACE_DAYS).
    pub orphan_grace_days: u32,
    /// When the orphan was last a target, as the freshness ledger remembers it (seconds since the epoch).
    pub orphan_since: Option<i64>,
}

/// Deletes the target's expired backups, as the retention rule and the delete guard allow, once this
/// run's backup completed. One failed delete does not stop the others; every part looked at is reported
/// in exactly one list.
pub async fn run<S: Store>(store: &S, retention: RetentionConfig, request: Request<'_>) -> Result<CleanupReport> {
    let target = request.target_id;
    let resource = match store.resource(target).await {
        Ok(resource) => Some(resource),
        // An orphan's resource may be gone: the stack's policy, and the account its backups were listed in.
        Err(Error::NotFound { .. }) if request.orphan => None,
        Err(e) => return Err(e),
    };
    let (retention, applied) = match request.policy_override {
        Some(written) => {
            let retention = retention.with_written(written);
            let applied = applied_policy(&retention, PolicySource::Copy);
            (retention, applied)
        }
        None => resource_policy(retention, target, resource.as_ref())?,
    };
    if let Some(days) = store.lifecycle_days() {
        check_lifecycle(&retention, &applied, days, target, resource.as_ref())?;
    }
    let mut parts = store.list_ours(target).await?;
    if let (true, Some(sample)) = (request.adopt, S::SAMPLE) {
        let more: Vec<BackupInfo> = store.list_sample(target).await?;
        parts.extend(more.into_iter().filter(|m| !parts.iter().any(|p| p.id == m.id)).collect::<Vec<_>>());
        parts = parts.into_iter().map(|p| crate::adopt::adopted(p, target, sample)).collect();
    }
    // Not found, or found terminated: either way it will not come back.
    let resource_missing = resource.as_ref().is_none_or(|r| r.gone);
    let account_id = match resource.map(|r| r.owner_id).or_else(|| common_owner(&parts)) {
        Some(owner) => owner,
        None => {
            return Ok(CleanupReport {
                target_id: target.to_string(),
                dry_run: request.dry_run,
                policy: Some(applied),
                resource_gone: resource_missing,
                ..Default::default()
            }
            .finished())
        }
    };

    // An empty list names no backup: the same as none.
    let new_backup = request.new_backup.filter(|ids| !ids.is_empty());
    let new_backup_completed = match new_backup {
        Some(ids) => {
            // Listed with the others (one call fewer), unless the listing missed some.
            let missing: Vec<String> = ids.iter().filter(|id| !parts.iter().any(|p| &p.id == *id)).cloned().collect();
            parts.extend(store.describe(&missing).await?);
            let new: Vec<&BackupInfo> = parts.iter().filter(|p| ids.contains(&p.id)).collect();
            // This run's backup must be ours, of this target, in this account, and made by this run: anything
            // else in the event is a mistake (or another's backup), and nothing is deleted on its word.
            let Some(run) = request.run_id else {
                return Err(Error::invalid_event("runId", "is required with the new backup, which must be this run's"));
            };
            let policy = rule(&retention, target, &account_id, request.now, true, request.orphan);
            let of_this_run = |p: &BackupInfo| p.tags.get(RUN_ID_KEY).map(String::as_str) == Some(run);
            if let Some(stranger) = new.iter().find(|p| !retention::is_ours(&policy, p) || !of_this_run(p)) {
                let reason =
                    format!("{} is not a backup snapmgmt took of {target} in this account in run {run}", stranger.id);
                return Err(Error::invalid_event(request.new_backup_field, reason));
            }
            // Every part completed, and as many as the instance's volumes: a set that lost one is no backup.
            let whole = new.first().is_none_or(|first| new.len() >= expected_parts(first));
            new.len() == ids.len() && whole && new.iter().all(|p| p.state == BackupState::Completed)
        }
        // An orphan gets no new backup: its own retention and MIN_KEEP decide.
        None if request.orphan => true,
        None if request.dry_run => true,
        None => return Err(Error::invalid_event(request.new_backup_field, "is required unless dryRun is true")),
    };

    if let (Some(ids), true, false) = (new_backup, new_backup_completed, request.dry_run) {
        record_policy(store, &parts, ids, &applied.policy).await;
    }

    let keys = backup_keys::<S>(&parts);
    let mut backups = backups_of(&parts, &keys);
    if new_backup.is_none() && !request.orphan {
        // Preview: the backup this run would take counts as the newest, as it will in the real run.
        backups.push(retention::this_runs_backup(target, &account_id, request.now));
    }
    let policy = rule(&retention, target, &account_id, request.now, new_backup_completed, request.orphan);
    let recorded = match request.orphan && request.policy_override.is_none() {
        true => recorded_policies(&backups),
        false => Vec::new(),
    };
    let (mut plan, judged_by) = match recorded.is_empty() {
        true => (retention::plan(&policy, &backups), BTreeMap::new()),
        false => judge_by_recorded(&retention, &policy, &backups, &recorded),
    };
    if request.orphan {
        keep_in_grace(&mut plan, &policy, &backups, &request);
    }
    plan.check_delete_limit(target, retention.max_delete_percent)?;

    let mut parts_of: HashMap<&str, Vec<String>> = HashMap::new();
    for (part, key) in parts.iter().zip(&keys) {
        parts_of.entry(key).or_default().push(part.id.clone());
    }
    let applied = match recorded.first() {
        // The newest backup's recorded policy: the last one the resource was under.
        Some(newest) => AppliedPolicy { source: PolicySource::Recorded, policy: newest.to_string(), ..applied },
        None => applied,
    };
    let mut report = CleanupReport {
        target_id: target.to_string(),
        dry_run: request.dry_run,
        ages: ages(&policy, &backups),
        policy: Some(applied),
        adopted: adopted_ids(&parts),
        resource_gone: request.orphan && resource_missing,
        judged_by: judged_by
            .into_iter()
            .map(|(policy, backups)| {
                let ids = backups.iter().flat_map(|b| parts_of.get(b.as_str()).cloned().unwrap_or_default());
                (policy, ids.collect())
            })
            .collect(),
        ..Default::default()
    };
    let mut take = |backup: &str| parts_of.remove(backup).unwrap_or_default();
    for kept in plan.keep {
        report.kept.extend(take(&kept.id).into_iter().map(|id| Kept { id, reason: kept.reason }));
    }
    let mut doomed: Vec<String> = plan.delete.iter().flat_map(|backup| take(backup)).collect();
    doomed.sort();
    if !doomed.is_empty() {
        let in_use = store.in_use(&doomed).await?;
        let (used, free): (Vec<String>, Vec<String>) = doomed.into_iter().partition(|id| in_use.contains(id));
        report.kept.extend(used.into_iter().map(|id| Kept { id, reason: KeepReason::InUse }));
        doomed = free;
    }
    if !doomed.is_empty() && store.locked().await? {
        report.kept.extend(doomed.drain(..).map(|id| Kept { id, reason: KeepReason::VaultLocked }));
    }
    if request.dry_run {
        report.deleted = doomed;
        return Ok(report.finished());
    }
    let results = crate::concurrent::for_each_id(
        doomed,
        S::DELETE_CONCURRENCY,
        request.budget_end,
        store.pace(),
        |id| async move { store.delete(&id).await },
    )
    .await;
    for (id, result) in results {
        match result {
            Outcome::Done(Ok(Deleted::Yes)) => report.deleted.push(id),
            // Put to use since the look above (an AMI made meanwhile): still kept, not a failure.
            Outcome::Done(Ok(Deleted::InUse)) => report.kept.push(Kept { id, reason: KeepReason::InUse }),
            Outcome::Done(Err(e)) => report.failed.push(FailedDelete { id, error: e.to_string() }),
            Outcome::NotStarted => report.kept.push(Kept { id, reason: KeepReason::OutOfTime }),
        }
    }
    let report = report.finished();
    crate::metrics::cleanup(S::KIND, &report);
    Ok(report)
}

/// Records the policy on this run's new backup where it is not there already (a retried cleanup tags once).
/// A tag that could not be written is logged, not failed: the backup is good without it, and once its
/// resource is an orphan it is judged as a backup that recorded none.
async fn record_policy<S: Store>(store: &S, parts: &[BackupInfo], new_backup: &[String], policy: &str) {
    let recorded = |p: &BackupInfo| p.tags.get(POLICY_KEY).map(String::as_str) == Some(policy);
    let ids: Vec<String> =
        parts.iter().filter(|p| new_backup.contains(&p.id) && !recorded(p)).map(|p| p.id.clone()).collect();
    if ids.is_empty() {
        return;
    }
    if let Err(e) = store.record_policy(&ids, policy).await {
        tracing::warn!(kind = S::KIND, ids = ?ids, error = %e, "the policy was not recorded on the new backup");
    }
}

/// The policy a backup recorded when it was made (`snapmgmt:Policy`), if it reads.
fn recorded_policy(backup: &BackupInfo) -> Option<Written> {
    backup.tags.get(POLICY_KEY).and_then(|text| Written::parse(text).ok())
}

/// The policies an orphan's backups recorded, each once, the newest backup's first; empty when none did
/// (backups made before policies were recorded): then the resource's or the stack's policy judges, as before.
fn recorded_policies(backups: &[BackupInfo]) -> Vec<Written> {
    let mut newest_first: Vec<&BackupInfo> = backups.iter().collect();
    newest_first.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    let mut found: Vec<Written> = Vec::new();
    for written in newest_first.into_iter().filter_map(recorded_policy) {
        if !found.contains(&written) {
            found.push(written);
        }
    }
    found
}

/// The name under which the report lists an orphan's backups that recorded no policy.
pub const NO_RECORDED_POLICY: &str = "(none recorded)";

/// One policy's verdict on each backup, by id: the reason it keeps it, or None for a delete.
type Verdicts = HashMap<String, Option<KeepReason>>;

/// An orphan's backups, each judged by the policy it recorded when it was made: deleted only when that
/// policy deletes it (the rule run over all of them, as a current target's would be). One that recorded
/// none (or one that does not read) is deleted only when the `base` policy and every recorded one would:
/// it is kept by the most keeping of them. Also which policy judged which backups, for the report.
fn judge_by_recorded(
    retention: &RetentionConfig,
    base: &Policy,
    backups: &[BackupInfo],
    recorded: &[Written],
) -> (retention::Plan, BTreeMap<String, Vec<String>>) {
    let verdicts = |plan: retention::Plan| -> Verdicts {
        let kept = plan.keep.into_iter().map(|k| (k.id, Some(k.reason)));
        plan.delete.into_iter().map(|id| (id, None)).chain(kept).collect()
    };
    let base_plan = retention::plan(base, backups);
    let ours = base_plan.ours;
    let mut plans: Vec<(Option<Written>, Verdicts)> = vec![(None, verdicts(base_plan))];
    for written in recorded {
        let under = retention.clone().with_written(*written);
        let policy = Policy { retention_days: under.retention_days, tiers: under.tiers, ..*base };
        plans.push((Some(*written), verdicts(retention::plan(&policy, backups))));
    }
    let mut plan = retention::Plan { ours, ..Default::default() };
    let mut judged_by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for backup in backups {
        let own = recorded_policy(backup);
        let judges = plans.iter().filter(|(written, _)| own.is_none() || *written == own);
        let reason = judges.filter_map(|(_, verdict)| verdict.get(&backup.id).copied().flatten()).next();
        match reason {
            Some(reason) => plan.keep.push(Kept { id: backup.id.clone(), reason }),
            None => plan.delete.push(backup.id.clone()),
        }
        let name = own.map_or_else(|| NO_RECORDED_POLICY.to_string(), |w| w.to_string());
        judged_by.entry(name).or_default().push(backup.id.clone());
    }
    (plan, judged_by)
}

/// An orphan's backups are all kept until it has been an orphan for ORPHAN_GRACE_DAYS, whatever
/// DELETE_ORPHANS says: a tag removed by mistake, or an instance stopped at the wrong moment, comes back
/// before anything is lost. It is an orphan since it was last a target: when the ledger last saw it one, or
/// its newest backup of ours (taken while it was one), whichever is later.
fn keep_in_grace(plan: &mut retention::Plan, policy: &Policy, backups: &[BackupInfo], request: &Request<'_>) {
    let newest = backups.iter().filter(|b| retention::is_ours(policy, b)).filter_map(|b| b.created_at).max();
    let Some(since) = newest.max(request.orphan_since) else { return };
    if request.now - since >= i64::from(request.orphan_grace_days) * retention::SECONDS_PER_DAY {
        return;
    }
    plan.keep.extend(plan.delete.drain(..).map(|id| Kept { id, reason: KeepReason::OrphanGrace }));
}

/// The parts adopted from the original sample, in order.
fn adopted_ids(parts: &[BackupInfo]) -> Vec<String> {
    let mut ids: Vec<String> =
        parts.iter().filter(|p| p.tags.contains_key(crate::adopt::ADOPTED_KEY)).map(|p| p.id.clone()).collect();
    ids.sort();
    ids
}

/// The one account every listed part names, if they agree.
fn common_owner(parts: &[BackupInfo]) -> Option<String> {
    let owner = parts.first()?.owner_account.clone()?;
    parts.iter().all(|p| p.owner_account.as_deref() == Some(owner.as_str())).then_some(owner)
}

/// The count and age range of the target's backups that are ours (the stand-in of a preview excluded).
fn ages(policy: &Policy, backups: &[BackupInfo]) -> Option<crate::model::BackupAges> {
    let created: Vec<i64> = backups
        .iter()
        .filter(|b| b.id != retention::THIS_RUNS_BACKUP && retention::is_ours(policy, b))
        .filter_map(|b| b.created_at)
        .collect();
    let days = |t: i64| (policy.now - t).max(0) / retention::SECONDS_PER_DAY;
    Some(crate::model::BackupAges {
        backups: created.len(),
        newest_days: days(*created.iter().max()?),
        oldest_days: days(*created.iter().min()?),
    })
}

fn rule<'a>(
    retention: &'a RetentionConfig,
    target: &'a str,
    account: &'a str,
    now: i64,
    completed: bool,
    orphan: bool,
) -> Policy<'a> {
    Policy {
        stack: retention.stack.as_ref(),
        claims_unstamped: !orphan,
        target_id: target,
        account_id: account,
        retention_days: retention.retention_days,
        min_keep: retention.min_keep,
        tiers: retention.tiers,
        time_zone: &retention.time_zone,
        now,
        new_backup_completed: completed,
    }
}

/// The policy this resource gets: its `snapmgmt:Retention` tag's, else the stack's, and which. A tag that
/// does not read fails the resource alone, before anything is deleted.
fn resource_policy(
    retention: RetentionConfig,
    target_id: &str,
    resource: Option<&Resource>,
) -> Result<(RetentionConfig, AppliedPolicy)> {
    let (retention, source) = match resource.and_then(|r| r.tags.get(RETENTION_KEY)).cloned() {
        None => (retention, PolicySource::Stack),
        Some(text) => match Written::parse(&text) {
            Ok(written) => (retention.with_written(written), PolicySource::Tag),
            Err(reason) => {
                return Err(Error::InvalidTag {
                    resource: target_id.to_string(),
                    key: RETENTION_KEY,
                    value: text,
                    reason,
                })
            }
        },
    };
    let applied = applied_policy(&retention, source);
    Ok((retention, applied))
}

/// A policy must not keep longer than the service's own lifecycle deletes: what it promises to keep would go
/// first. A resource's tag that does fails that resource, naming the tag and the backstop; the stack's and
/// the copies' policies are checked where they are set (efs-backup's start).
fn check_lifecycle(
    retention: &RetentionConfig,
    applied: &AppliedPolicy,
    lifecycle_days: u32,
    target_id: &str,
    resource: Option<&Resource>,
) -> Result<()> {
    let span = retention.written().span_days().max(retention.min_keep);
    if span < lifecycle_days {
        return Ok(());
    }
    let reason = format!(
        "keeps up to {span} days (with MIN_KEEP {}), and the EFS lifecycle backstop EfsLifecycleBackstopDays \
         (BACKUP_DELETE_AFTER_DAYS) deletes points after {lifecycle_days}: lengthen the backstop past {span} days \
         or shorten the policy",
        retention.min_keep
    );
    match (applied.source, resource.and_then(|r| r.tags.get(RETENTION_KEY))) {
        (PolicySource::Tag, Some(text)) => {
            Err(Error::InvalidTag { resource: target_id.to_string(), key: RETENTION_KEY, value: text.clone(), reason })
        }
        _ => Err(Error::InvalidSetting {
            name: "BACKUP_DELETE_AFTER_DAYS",
            value: lifecycle_days.to_string(),
            reason: format!("the {} policy {:?} {reason}", source_name(applied.source), applied.policy),
        }),
    }
}

fn source_name(source: PolicySource) -> &'static str {
    match source {
        PolicySource::Stack => "stack's (RETENTION_DAYS, RETENTION_TIERS)",
        PolicySource::Tag => "resource's tag",
        PolicySource::Copy => "copies' (COPY_RETENTION)",
        PolicySource::Recorded => "recorded (snapmgmt:Policy)",
    }
}

fn applied_policy(retention: &RetentionConfig, source: PolicySource) -> AppliedPolicy {
    AppliedPolicy {
        source,
        policy: retention.written().to_string(),
        time_zone: retention.time_zone.iana_name().unwrap_or("UTC").to_string(),
    }
}

/// The backup each part belongs to, index for index: with sets, the set of its run, which it joins only if
/// it is owned, tagged and taken as the set's first part (a part that differs is a backup of its own, and
/// the rule judges it alone); else itself. A set's key has a space, which no id or run name has.
fn backup_keys<S: Store>(parts: &[BackupInfo]) -> Vec<String> {
    let mut first_of_set: HashMap<String, &BackupInfo> = HashMap::new();
    parts
        .iter()
        .map(|part| match part.tags.get(RUN_ID_KEY) {
            Some(run) if S::SETS_BY_RUN => {
                // One set per attempt of a run: a retried run's earlier, completed set is a backup of its own.
                let attempt = part.tags.get(ATTEMPT_KEY).map(String::as_str).unwrap_or("");
                let key = format!("set {run} {attempt}");
                let first = *first_of_set.entry(key.clone()).or_insert(part);
                if retention::same_owner(first, part) {
                    key
                } else {
                    part.id.clone()
                }
            }
            _ => part.id.clone(),
        })
        .collect()
}

/// One entry per backup, for the rule: created when its first part was, completed only when all its parts
/// are, failed when one is, in use when one is; a set of fewer parts than the volumes its first part says it
/// was taken of (`snapmgmt:Volumes`) is incomplete.
fn backups_of(parts: &[BackupInfo], keys: &[String]) -> Vec<BackupInfo> {
    let mut backups: BTreeMap<&str, (BackupInfo, usize)> = BTreeMap::new();
    for (part, key) in parts.iter().zip(keys) {
        let Some((backup, count)) = backups.get_mut(key.as_str()) else {
            backups.insert(key, (BackupInfo { id: key.clone(), ..part.clone() }, 1));
            continue;
        };
        *count += 1;
        backup.created_at = backup.created_at.min(part.created_at);
        backup.in_use |= part.in_use;
        backup.state = match (backup.state, part.state) {
            (BackupState::Failed, _) | (_, BackupState::Failed) => BackupState::Failed,
            (BackupState::Pending, _) | (_, BackupState::Pending) => BackupState::Pending,
            _ => BackupState::Completed,
        };
    }
    backups
        .into_values()
        .map(|(backup, count)| match backup.state {
            BackupState::Completed if count < expected_parts(&backup) => {
                BackupInfo { state: BackupState::Incomplete, ..backup }
            }
            _ => backup,
        })
        .collect()
}

/// How many parts a backup must have: an EBS set, the volumes it was taken of (`snapmgmt:Volumes`, written
/// at creation); 1 for any other backup, and for a set made before the count was written.
fn expected_parts(backup: &BackupInfo) -> usize {
    backup.tags.get(VOLUMES_KEY).and_then(|n| n.parse().ok()).unwrap_or(1)
}

pub mod invocation;
#[cfg(test)]
pub(crate) mod memory;
#[cfg(test)]
mod orphan_tests;
#[cfg(test)]
mod set_tests;
#[cfg(test)]
mod tests;
