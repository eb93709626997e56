//! The EC2 path: snapshot an instance's EBS volumes as one set (through SSM, or directly), follow the
//! run, and delete the instance's expired snapshot sets.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ec2::Client as Ec2Client;
use aws_sdk_ssm::Client as SsmClient;
use sha2::{Digest, Sha256};

use crate::aws::ec2::{self as ec2_api, Deleted};
use crate::aws::ssm as ssm_api;
use crate::concurrent::Outcome;
use crate::config::{RetentionConfig, SnapshotConfig};
use crate::error::{Error, Result};
use crate::model::{
    CheckResult, CheckStatus, CleanupReport, EbsSnapshotCheck, FailedDelete, Kept, SnapshotEbsEvent, SnapshotEbsResult,
    SnapshotMode, MANAGED_BY_KEY, MANAGED_BY_VALUE, RUN_ID_KEY, TARGET_ID_KEY,
};
use crate::retention::{self, BackupInfo, BackupState, KeepReason, Policy};

/// Tag naming which attempt of a run made a snapshot: a retry replaces the sets of earlier attempts.
pub const ATTEMPT_KEY: &str = "snapmgmt:Attempt";
/// Tag saying whether the set was taken with I/O frozen (ssm mode) or crash-consistent only (direct).
pub const APP_CONSISTENT_KEY: &str = "snapmgmt:AppConsistent";
/// Instance tag choosing the snapshot mode of that instance.
pub const SNAPSHOT_MODE_KEY: &str = "snapmgmt:SnapshotMode";
/// Deletes in flight at once for one instance: well inside EC2's API rate limits.
pub const DELETE_CONCURRENCY: usize = 4;

/// The clients of the EC2 path.
#[derive(Clone, Copy)]
pub struct Clients<'a> {
    pub ec2: &'a Ec2Client,
    pub ssm: &'a SsmClient,
}

/// Starts this attempt's snapshot run of one instance. Snapshots left by this execution's earlier, failed
/// attempts are deleted first, so that one set remains; a retried invocation of the same attempt gets
/// the same run back (the ssm mode through the automation's ClientToken, the direct mode by its tags).
pub async fn snapshot_instance(
    clients: Clients<'_>,
    config: &SnapshotConfig,
    event: &SnapshotEbsEvent,
    request_id: &str,
) -> Result<SnapshotEbsResult> {
    let instance = event.instance_id.as_str();
    let run = event.execution_id.as_deref().unwrap_or(request_id);
    let run_name = run.rsplit(':').next().unwrap_or(run);
    let mode = snapshot_mode(config, &ec2_api::instance_tags(clients.ec2, instance).await?)?;
    let mut result = SnapshotEbsResult {
        instance_id: instance.to_string(),
        mode,
        automation_execution_id: None,
        snapshot_ids: Vec::new(),
        reused: false,
        replaced: Vec::new(),
        dry_run: event.dry_run,
    };
    if event.dry_run {
        return Ok(result);
    }
    let attempt = event.attempt.to_string();
    let this_run = [(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, instance), (RUN_ID_KEY, run_name)];
    let earlier = ec2_api::list_own_snapshots(clients.ec2, &this_run, ec2_api::SNAPSHOT_PAGE_SIZE).await?;
    let (this_attempt, earlier_attempts): (Vec<_>, Vec<_>) = earlier
        .iter()
        .filter_map(|s| Some((s.snapshot_id()?.to_string(), tag(s.tags(), ATTEMPT_KEY) == Some(attempt.as_str()))))
        .partition(|(_, same)| *same);
    for (id, _) in earlier_attempts {
        if ec2_api::delete_snapshot(clients.ec2, &id).await? == Deleted::Yes {
            result.replaced.push(id);
        }
    }
    match mode {
        SnapshotMode::Ssm => {
            let exclude = config.exclude_boot_volume.to_string();
            let mut parameters = vec![
                ("InstanceId", instance),
                ("AutomationAssumeRole", config.automation_role_arn.as_str()),
                ("ExecutionId", run_name),
                ("Attempt", attempt.as_str()),
                ("ExcludeBootVolume", exclude.as_str()),
            ];
            parameters.extend(config.pre_script.as_deref().map(|s| ("PreScript", s)));
            parameters.extend(config.post_script.as_deref().map(|s| ("PostScript", s)));
            let token = client_token(run, instance, event.attempt);
            let id = ssm_api::start_automation(clients.ssm, &config.document_name, &parameters, &token).await?;
            result.automation_execution_id = Some(id);
        }
        SnapshotMode::Direct if !this_attempt.is_empty() => {
            result.snapshot_ids = this_attempt.into_iter().map(|(id, _)| id).collect();
            result.reused = true;
        }
        SnapshotMode::Direct => {
            let tags =
                [this_run.as_slice(), &[(ATTEMPT_KEY, attempt.as_str()), (APP_CONSISTENT_KEY, "false")]].concat();
            let description = format!("snapmgmt {run_name}");
            result.snapshot_ids =
                create_set_once(clients.ec2, instance, config.exclude_boot_volume, &description, &tags).await?;
        }
    }
    result.snapshot_ids.sort();
    let started = [("SnapshotRunsStarted", 1.0, crate::metrics::Unit::Count)];
    crate::metrics::emit("ebs", "backup", instance, result.reused, &started);
    Ok(result)
}

/// Tries of one CreateSnapshots: it has no idempotency token, so each failed try is followed by a look
/// for the set by its tags before the next.
const CREATE_TRIES: u32 = 5;

/// Creates the set tagged `tags`, exactly once: when a call fails (a dropped connection, a timeout,
/// throttling), the set is looked for by its tags before trying again, so that a call that took effect
/// without its answer arriving is not repeated.
async fn create_set_once(
    ec2: &Ec2Client,
    instance: &str,
    exclude_boot_volume: bool,
    description: &str,
    tags: &[(&str, &str)],
) -> Result<Vec<String>> {
    let mut try_number = 1;
    loop {
        let error = match ec2_api::create_snapshots(ec2, instance, exclude_boot_volume, description, tags).await {
            Ok(ids) => return Ok(ids),
            Err(e) => e,
        };
        let made = ec2_api::list_own_snapshots(ec2, tags, ec2_api::SNAPSHOT_PAGE_SIZE).await?;
        if !made.is_empty() {
            return Ok(made.iter().filter_map(|s| s.snapshot_id().map(str::to_string)).collect());
        }
        if try_number == CREATE_TRIES || !error.is_transient() {
            return Err(error);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500 << try_number)).await;
        try_number += 1;
    }
}

/// The instance's own mode, from its `snapmgmt:SnapshotMode` tag (`ssm` or `direct`), else the setting's:
/// one deployment can snapshot instances with an SSM agent and instances without.
pub fn snapshot_mode(config: &SnapshotConfig, instance_tags: &[aws_sdk_ec2::types::Tag]) -> Result<SnapshotMode> {
    match tag(instance_tags, SNAPSHOT_MODE_KEY) {
        None => Ok(config.mode),
        Some("ssm") => Ok(SnapshotMode::Ssm),
        Some("direct") => Ok(SnapshotMode::Direct),
        Some(other) => Err(Error::InvalidSetting {
            name: SNAPSHOT_MODE_KEY,
            value: other.to_string(),
            reason: "this instance tag must be ssm or direct".to_string(),
        }),
    }
}

/// SSM's ClientToken is a UUID: this one derives from (run, instance, attempt).
pub fn client_token(run: &str, instance_id: &str, attempt: u32) -> String {
    let d = Sha256::digest(format!("{run}/{instance_id}/{attempt}").as_bytes());
    let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Has the snapshot run finished? Ready once the automation (if any) succeeded and every snapshot of
/// the set is completed; Failed when the automation failed or a snapshot is in error.
pub async fn check_snapshot_run(clients: Clients<'_>, check: &EbsSnapshotCheck) -> Result<CheckResult> {
    let result = snapshot_run_status(clients, check).await?;
    crate::metrics::backup_finished("ebs", &check.instance_id, result.status, None);
    Ok(result)
}

async fn snapshot_run_status(clients: Clients<'_>, check: &EbsSnapshotCheck) -> Result<CheckResult> {
    let next_attempt = check.attempt.saturating_add(1);
    let answer = |status, detail: String, ids: Vec<String>| CheckResult {
        status,
        attempt: next_attempt,
        detail,
        snapshot_ids: Some(ids),
    };
    let mut ids = check.snapshot_ids.clone().unwrap_or_default();
    if let Some(execution_id) = &check.automation_execution_id {
        let execution = ssm_api::get_automation(clients.ssm, execution_id).await?;
        let status = execution.automation_execution_status().cloned().unwrap_or_else(|| "Unknown".into());
        // Each snapshot step of the document reports `<step>.SnapshotIds`; one of them ran.
        ids = execution
            .outputs()
            .into_iter()
            .flatten()
            .filter(|(name, _)| name.ends_with(".SnapshotIds"))
            .flat_map(|(_, values)| values.iter().cloned())
            .collect();
        let detail = format!("automation {execution_id} is {}", status.as_str());
        match ssm_api::automation_status(&status) {
            CheckStatus::Ready => {}
            CheckStatus::Failed => {
                let reason = execution.failure_message().unwrap_or("no failure message");
                return Ok(answer(CheckStatus::Failed, format!("{detail}: {reason}"), ids));
            }
            CheckStatus::InProgress => return Ok(answer(CheckStatus::InProgress, detail, ids)),
        }
    }
    ids.sort();
    if ids.is_empty() {
        return Ok(answer(CheckStatus::Failed, format!("no snapshots of {} were made", check.instance_id), ids));
    }
    let snapshots = ec2_api::describe_snapshots(clients.ec2, &ids).await?;
    let states: Vec<BackupState> = snapshots.iter().map(|s| ec2_api::snapshot_info(s).state).collect();
    let status = if states.contains(&BackupState::Failed) {
        CheckStatus::Failed
    } else if states.len() == ids.len() && states.iter().all(|s| *s == BackupState::Completed) {
        CheckStatus::Ready
    } else {
        CheckStatus::InProgress
    };
    let detail = format!("{} snapshots of {}: {:?}", ids.len(), check.instance_id, status);
    Ok(answer(status, detail, ids))
}

/// What one EBS cleanup is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct CleanupRequest<'a> {
    pub instance_id: &'a str,
    /// This run's snapshots; required unless `dry_run`, where missing ones are assumed to complete.
    pub new_snapshot_ids: Option<&'a [String]>,
    pub dry_run: bool,
    /// Now, seconds since the Unix epoch.
    pub now: i64,
    /// No delete starts after this; the ones left are kept as `OutOfTime`, for the next run.
    pub budget_end: Option<std::time::Instant>,
}

/// Deletes the instance's expired snapshot sets (a set: the snapshots of one run), as the retention rule
/// allows, once this run's snapshots completed. A snapshot an AMI uses is kept and reported.
pub async fn cleanup_instance(
    ec2: &Ec2Client,
    retention: RetentionConfig,
    request: CleanupRequest<'_>,
) -> Result<CleanupReport> {
    let instance = request.instance_id;
    let ours = [(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, instance)];
    let snapshots: Vec<BackupInfo> = ec2_api::list_own_snapshots(ec2, &ours, ec2_api::SNAPSHOT_PAGE_SIZE)
        .await?
        .iter()
        .map(ec2_api::snapshot_info)
        .collect();
    let account_id = snapshots.first().and_then(|s| s.owner_account.clone()).unwrap_or_default();
    let mut sets = snapshot_sets(&snapshots);

    let new_completed = match request.new_snapshot_ids.filter(|ids| !ids.is_empty()) {
        Some(ids) => {
            // Listed with the others (one call fewer), unless the listing missed some.
            let listed: Vec<BackupInfo> = snapshots.iter().filter(|s| ids.contains(&s.id)).cloned().collect();
            let new = if listed.len() == ids.len() {
                listed
            } else {
                ec2_api::describe_snapshots(ec2, ids).await?.iter().map(ec2_api::snapshot_info).collect()
            };
            // This run's snapshots must be ours, of this instance, in this account: anything else in the
            // event is a mistake (or another account's ids), and nothing is deleted on its word.
            if let Some(stranger) = new.iter().find(|s| !is_ours_of(s, instance, &account_id)) {
                let reason = format!("{} is not a snapshot snapmgmt took of {instance} in this account", stranger.id);
                return Err(Error::invalid_event("newSnapshotIds", reason));
            }
            new.len() == ids.len() && new.iter().all(|s| s.state == BackupState::Completed)
        }
        None if request.dry_run => {
            // Preview: the set this run would take counts as the newest, as it will in the real run.
            let mut this_run = retention::this_runs_backup(instance, &account_id, request.now);
            this_run.tags.insert(RUN_ID_KEY.to_string(), this_run.id.clone());
            sets.push(this_run);
            true
        }
        _ => return Err(Error::invalid_event("newSnapshotIds", "is required unless dryRun is true")),
    };
    let policy = Policy {
        target_id: instance,
        account_id: &account_id,
        retention_days: retention.retention_days,
        min_keep: retention.min_keep,
        now: request.now,
        new_backup_completed: new_completed,
    };
    let plan = retention::plan(&policy, &sets);
    plan.check_delete_limit(instance, retention.max_delete_percent)?;
    let mut members: HashMap<&str, Vec<String>> = HashMap::new();
    for snapshot in &snapshots {
        members.entry(set_of(snapshot)).or_default().push(snapshot.id.clone());
    }
    let mut members_of = |set: &str| members.remove(set).unwrap_or_default();

    let mut report = CleanupReport { target_id: instance.to_string(), dry_run: request.dry_run, ..Default::default() };
    for kept in plan.keep {
        report.kept.extend(members_of(&kept.id).into_iter().map(|id| Kept { id, reason: kept.reason }));
    }
    let mut doomed: Vec<String> = plan.delete.iter().flat_map(|set| members_of(set)).collect();
    if !doomed.is_empty() {
        // An AMI's snapshot cannot be deleted: known before acting, so a dry run reports what a run does.
        let in_use = ec2_api::snapshots_of_own_images(ec2).await?;
        let (used, free): (Vec<String>, Vec<String>) = doomed.into_iter().partition(|id| in_use.contains(id));
        report.kept.extend(used.into_iter().map(|id| Kept { id, reason: KeepReason::InUse }));
        doomed = free;
    }
    if request.dry_run {
        report.deleted = doomed;
    } else {
        let results = crate::concurrent::for_each_id(doomed, DELETE_CONCURRENCY, request.budget_end, |id| async move {
            ec2_api::delete_snapshot(ec2, &id).await
        })
        .await;
        for (id, result) in results {
            match result {
                // An AMI made since the look above, or another account's AMI: still kept, not a failure.
                Outcome::Done(Ok(Deleted::Yes)) => report.deleted.push(id),
                Outcome::Done(Ok(Deleted::InUse)) => report.kept.push(Kept { id, reason: KeepReason::InUse }),
                Outcome::Done(Err(e)) => report.failed.push(FailedDelete { id, error: e.to_string() }),
                Outcome::NotStarted => report.kept.push(Kept { id, reason: KeepReason::OutOfTime }),
            }
        }
    }
    let report = report.finished();
    crate::metrics::cleanup("ebs", &report);
    Ok(report)
}

/// Ours (our tag), of this instance (its TargetId tag), and owned by this account (when it is known).
fn is_ours_of(snapshot: &BackupInfo, instance: &str, account_id: &str) -> bool {
    snapshot.tags.get(MANAGED_BY_KEY).map(String::as_str) == Some(MANAGED_BY_VALUE)
        && snapshot.source_id.as_deref() == Some(instance)
        && (account_id.is_empty() || snapshot.owner_account.as_deref() == Some(account_id))
}

/// The set a snapshot belongs to: its run, or itself when it names none.
fn set_of(snapshot: &BackupInfo) -> &str {
    snapshot.tags.get(RUN_ID_KEY).map(String::as_str).unwrap_or(&snapshot.id)
}

/// One entry per set, for the retention rule: created when its first snapshot was, completed only when
/// all its snapshots are, failed when one is.
fn snapshot_sets(snapshots: &[BackupInfo]) -> Vec<BackupInfo> {
    let mut sets: BTreeMap<&str, BackupInfo> = BTreeMap::new();
    for snapshot in snapshots {
        let set = sets
            .entry(set_of(snapshot))
            .or_insert_with(|| BackupInfo { id: set_of(snapshot).to_string(), ..snapshot.clone() });
        set.created_at = set.created_at.min(snapshot.created_at);
        set.state = match (set.state, snapshot.state) {
            (BackupState::Failed, _) | (_, BackupState::Failed) => BackupState::Failed,
            (BackupState::Pending, _) | (_, BackupState::Pending) => BackupState::Pending,
            _ => BackupState::Completed,
        };
    }
    sets.into_values().collect()
}

fn tag<'t>(tags: &'t [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'t str> {
    tags.iter().find(|t| t.key() == Some(key)).and_then(|t| t.value())
}

#[cfg(test)]
mod tests;
