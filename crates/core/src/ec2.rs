//! The EC2 path: snapshot an instance's EBS volumes as one set (through SSM, or directly), follow the
//! run; and the store the cleanup engine deletes expired snapshot sets through.

use std::collections::HashSet;

use aws_sdk_ec2::Client as Ec2Client;
use aws_sdk_ssm::types::AutomationExecutionStatus;
use aws_sdk_ssm::Client as SsmClient;

use crate::aws::ec2 as ec2_api;
use crate::aws::ssm as ssm_api;
use crate::aws::Deleted;
use crate::cleanup::{Resource, Store};
use crate::config::SnapshotConfig;
use crate::error::{Error, Result};
use crate::model::{
    CheckResult, CheckStatus, Ec2SnapshotCheck, RunId, SnapshotEbsEvent, SnapshotEbsResult, SnapshotMode,
};
use crate::retention::{BackupInfo, BackupState};
use crate::tags::{
    self, APP_CONSISTENT_KEY, ATTEMPT_KEY, CONSISTENCY_KEY, FREEZE_TIMEOUT_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE,
    RUN_ID_KEY, SNAPSHOT_MODE_KEY, TARGET_ID_KEY,
};

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
    let run = RunId::or_request(event.run_id.as_ref(), request_id)?;
    let described = ec2_api::describe_instance(clients.ec2, instance).await?;
    let instance_tags = described.tags();
    let mode = snapshot_mode(config, instance, instance_tags)?;
    let freeze_timeout = freeze_timeout(config, instance, instance_tags)?.map(|s| s.to_string());
    if mode == SnapshotMode::Ssm && vss::is_windows(&described) {
        vss::check_prerequisites(instance, &described)?;
    }
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
    let volumes = set_size(&described, config.exclude_boot_volume).to_string();
    let this_run = tags::ownership(instance, run.as_str());
    let this_runs: Vec<BackupInfo> = ec2_api::list_own_snapshots(clients.ec2, &this_run, ec2_api::SNAPSHOT_PAGE_SIZE)
        .await?
        .iter()
        .map(ec2_api::snapshot_info)
        .collect();
    let this_attempt: Vec<String> = this_runs
        .iter()
        .filter(|s| s.tags.get(ATTEMPT_KEY).map(String::as_str) == Some(attempt.as_str()))
        .map(|s| s.id.clone())
        .collect();
    for id in failed_parts_of_earlier_attempts(&this_runs, instance, run.as_str(), event.attempt) {
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
                ("ExecutionId", run.as_str()),
                ("Attempt", attempt.as_str()),
                ("ExcludeBootVolume", exclude.as_str()),
                ("VssExcludeBootVolume", vss::exclude_boot_volume(config.exclude_boot_volume)),
            ];
            let scripts = config.scripts.document_parameters();
            parameters.extend(scripts.iter().map(|(name, value)| (*name, value.as_str())));
            parameters.extend(freeze_timeout.as_deref().map(|s| ("FreezeTimeoutSeconds", s)));
            parameters.extend(config.stack.as_ref().map(|s| ("StackId", s.as_str())));
            parameters.push(("Volumes", volumes.as_str()));
            let token = run.uuid(instance, event.attempt);
            let id = ssm_api::start_automation(clients.ssm, &config.document_name, &parameters, &token).await?;
            result.automation_execution_id = Some(id);
        }
        SnapshotMode::Direct if !this_attempt.is_empty() => {
            result.snapshot_ids = this_attempt;
            result.reused = true;
        }
        SnapshotMode::Direct => {
            let mut tags =
                [this_run.as_slice(), &[(ATTEMPT_KEY, attempt.as_str()), (APP_CONSISTENT_KEY, "false")]].concat();
            tags.push((tags::VOLUMES_KEY, volumes.as_str()));
            tags.extend(config.stack.as_ref().map(tags::StackId::tag));
            let description = tags::snapshot_description(instance, run.as_str());
            result.snapshot_ids =
                create_set_once(clients.ec2, instance, config.exclude_boot_volume, &description, &tags).await?;
        }
    }
    result.snapshot_ids.sort();
    // A reused run was counted when it started.
    if !result.reused {
        let started = [("SnapshotRunsStarted", 1.0, crate::metrics::Unit::Count)];
        crate::metrics::emit("ec2", "backup", instance, false, &started);
    }
    Ok(result)
}

/// How many snapshots a set of the instance must hold: one per attached EBS volume, its boot (root) volume
/// left out when `exclude_boot_volume`, as CreateSnapshots and AWS's VSS document take them.
pub fn set_size(instance: &aws_sdk_ec2::types::Instance, exclude_boot_volume: bool) -> usize {
    let root = instance.root_device_name();
    instance
        .block_device_mappings()
        .iter()
        .filter(|m| m.ebs().and_then(|e| e.volume_id()).is_some())
        .filter(|m| !(exclude_boot_volume && m.device_name().is_some() && m.device_name() == root))
        .count()
}

/// What a retried snapshot run may delete: the snapshots of this run's earlier attempts that failed
/// (state `error`), each ours and of this instance by its Description and tags. Nothing else: a completed
/// snapshot of an earlier attempt stays, a backup of its own (the set of that attempt) that the retention
/// rule, MIN_KEEP and the delete guard judge like any other; a pending one completes and does the same.
pub fn failed_parts_of_earlier_attempts(
    snapshots: &[BackupInfo],
    instance: &str,
    run: &str,
    attempt: u32,
) -> Vec<String> {
    let earlier =
        |s: &BackupInfo| s.tags.get(ATTEMPT_KEY).and_then(|a| a.parse::<u32>().ok()).is_some_and(|a| a < attempt);
    snapshots
        .iter()
        .filter(|s| s.state == BackupState::Failed && earlier(s))
        .filter(|s| s.tags.get(RUN_ID_KEY).map(String::as_str) == Some(run))
        .filter(|s| s.tags.get(MANAGED_BY_KEY).map(String::as_str) == Some(MANAGED_BY_VALUE))
        .filter(|s| s.source_id.as_deref() == Some(instance))
        .map(|s| s.id.clone())
        .collect()
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
pub fn snapshot_mode(
    config: &SnapshotConfig,
    instance_id: &str,
    instance_tags: &[aws_sdk_ec2::types::Tag],
) -> Result<SnapshotMode> {
    match tag(instance_tags, SNAPSHOT_MODE_KEY) {
        None => Ok(config.mode),
        Some("ssm") => Ok(SnapshotMode::Ssm),
        Some("direct") => Ok(SnapshotMode::Direct),
        Some(other) => Err(Error::InvalidTag {
            resource: instance_id.to_string(),
            key: SNAPSHOT_MODE_KEY,
            value: other.to_string(),
            reason: "must be ssm or direct".to_string(),
        }),
    }
}

/// The instance's own auto-thaw, from its `snapmgmt:FreezeTimeoutSeconds` tag (1 to 600), else the setting's.
pub fn freeze_timeout(
    config: &SnapshotConfig,
    instance_id: &str,
    instance_tags: &[aws_sdk_ec2::types::Tag],
) -> Result<Option<u32>> {
    let max = crate::config::MAX_FREEZE_SECONDS;
    match tag(instance_tags, FREEZE_TIMEOUT_KEY) {
        None => Ok(config.freeze_timeout_seconds),
        Some(value) => match value.trim().parse::<u32>() {
            Ok(seconds) if (1..=max).contains(&seconds) => Ok(Some(seconds)),
            _ => Err(Error::InvalidTag {
                resource: instance_id.to_string(),
                key: FREEZE_TIMEOUT_KEY,
                value: value.to_string(),
                reason: format!("must be a whole number of seconds from 1 to {max}"),
            }),
        },
    }
}

/// How consistent a completed set is, from the automation's outputs: the document's thaw step ends with
/// `snapmgmt-consistency=<app|auto-thawed|crash|freeze-failed>`. No such line (a thaw that did not run) is
/// not a claim of consistency: `unknown`. A Windows set's is read from its snapshots ([`vss::consistency`]).
pub fn consistency_of(outputs: &[String]) -> &str {
    outputs
        .iter()
        .flat_map(|output| output.lines())
        .filter_map(|line| line.trim().strip_prefix("snapmgmt-consistency="))
        .find(|value| ["app", "auto-thawed", "crash", "freeze-failed"].contains(value))
        .unwrap_or("unknown")
}

/// Has the snapshot run finished? Ready once the automation (if any) succeeded and every snapshot of
/// the set is completed; Failed when the automation failed or a snapshot is in error.
/// A completed set is then labelled (see [`label_set`]).
pub async fn check_snapshot_run(
    clients: Clients<'_>,
    check: &Ec2SnapshotCheck,
    copy_tags: &tags::CopyTags,
) -> Result<CheckResult> {
    let (mut result, snapshots, consistency) = snapshot_run_status(clients, check).await?;
    crate::metrics::backup_finished("ec2", &check.instance_id, result.status, None);
    if result.status == CheckStatus::Ready {
        result.consistency = Some(consistency.clone());
        // A label is an explanation, not the backup: the set stays good without it, and the log says why.
        if let Err(e) = label_set(clients.ec2, &check.instance_id, &snapshots, copy_tags, &consistency).await {
            tracing::warn!(instance_id = %check.instance_id, error = %e, "the snapshot set was not labelled");
            result.detail.push_str(&format!("; not labelled: {e}"));
        }
    }
    Ok(result)
}

/// Names each snapshot of a completed set by its instance and device (`web-1 (i-0123...) /dev/sdf`), says
/// how consistent it is (`snapmgmt:AppConsistent` raised to `true` only for `app`, and `snapmgmt:Consistency`),
/// and copies the instance's allow-listed tags onto it, so that a restore after the instance is gone still
/// knows what each snapshot was. One CreateTags per snapshot (the names differ); tagging again is harmless.
pub async fn label_set(
    ec2: &Ec2Client,
    instance_id: &str,
    snapshots: &[aws_sdk_ec2::types::Snapshot],
    copy_tags: &tags::CopyTags,
    consistency: &str,
) -> Result<()> {
    let instance = ec2_api::describe_instance(ec2, instance_id).await?;
    let instance_tags = ec2_api::tag_map(instance.tags());
    let device_of: std::collections::HashMap<&str, &str> = instance
        .block_device_mappings()
        .iter()
        .filter_map(|m| Some((m.ebs()?.volume_id()?, m.device_name()?)))
        .collect();
    let copied: Vec<(&str, &str)> =
        copy_tags.pick(&instance_tags).into_iter().filter(|(k, _)| *k != NAME_KEY).collect();
    for snapshot in snapshots {
        let Some(id) = snapshot.snapshot_id() else { continue };
        let volume = snapshot.volume_id().unwrap_or("unknown volume");
        let name = snapshot_name(
            instance_tags.get(NAME_KEY).map(String::as_str),
            instance_id,
            device_of.get(volume).copied().unwrap_or(volume),
        );
        let app_consistent = if consistency == "app" { "true" } else { "false" };
        let ours = [(NAME_KEY, name.as_str()), (APP_CONSISTENT_KEY, app_consistent), (CONSISTENCY_KEY, consistency)];
        let tags = [copied.as_slice(), &ours].concat();
        ec2_api::tag_snapshot(ec2, id, &tags).await?;
    }
    Ok(())
}

const NAME_KEY: &str = "Name";

/// `<instance Name> (<id>) <device>`, or `<id> <device>` for an instance without a name; at most the 256
/// characters a tag value may have.
pub fn snapshot_name(instance_name: Option<&str>, instance_id: &str, device: &str) -> String {
    let name = match instance_name.filter(|n| !n.is_empty()) {
        Some(n) => format!("{n} ({instance_id}) {device}"),
        None => format!("{instance_id} {device}"),
    };
    name.chars().take(256).collect()
}

async fn snapshot_run_status(
    clients: Clients<'_>,
    check: &Ec2SnapshotCheck,
) -> Result<(CheckResult, Vec<aws_sdk_ec2::types::Snapshot>, String)> {
    let next_attempt = check.attempt.saturating_add(1);
    let answer = |status, detail: String, ids: Vec<String>| CheckResult {
        status,
        attempt: next_attempt,
        detail,
        snapshot_ids: Some(ids),
        consistency: None,
    };
    let mut ids = check.snapshot_ids.clone().unwrap_or_default();
    // The direct mode freezes nothing.
    let mut consistency = "crash".to_string();
    // A Windows run's verdicts (its pre-script's output); its consistency is read from the snapshots.
    let mut windows_verdicts = None;
    if let Some(execution_id) = &check.automation_execution_id {
        let execution = ssm_api::get_automation(clients.ssm, execution_id).await?;
        let status = execution.automation_execution_status().cloned().unwrap_or_else(|| "Unknown".into());
        // Each snapshot step of the document reports `<step>.SnapshotIds`; one of them ran. The thaw step
        // reports `<step>.Output`.
        let outputs = |suffix: &str| -> Vec<String> {
            let named = execution.outputs().into_iter().flatten().filter(|(name, _)| name.ends_with(suffix));
            named.flat_map(|(_, values)| values.iter().cloned()).collect()
        };
        ids = outputs(".SnapshotIds");
        consistency = consistency_of(&outputs(".Output")).to_string();
        windows_verdicts = outputs(".Platform").iter().any(|p| p.starts_with("Windows")).then(|| outputs(".Output"));
        let detail = format!("automation {execution_id} is {}", status.as_str());
        match automation_status(&status) {
            // AWS's VSS document reports no snapshot ids: the set is found by the tags it was given.
            CheckStatus::Ready if windows_verdicts.is_some() => {
                // As given to the document (an Attempt not given is its default, 0).
                let parameter = |name: &str, default: &'static str| {
                    let values = execution.parameters().and_then(|p| p.get(name));
                    values.and_then(|v| v.first()).map(String::as_str).unwrap_or(default)
                };
                let (run, attempt) = (parameter("ExecutionId", ""), parameter("Attempt", "0"));
                ids = vss::set_of_run(clients.ec2, &check.instance_id, run, attempt).await?;
            }
            CheckStatus::Ready => {}
            CheckStatus::Failed => {
                let reason = execution.failure_message().unwrap_or("no failure message");
                return Ok((answer(CheckStatus::Failed, format!("{detail}: {reason}"), ids), Vec::new(), consistency));
            }
            CheckStatus::InProgress => {
                return Ok((answer(CheckStatus::InProgress, detail, ids), Vec::new(), consistency))
            }
        }
    }
    ids.sort();
    if ids.is_empty() {
        let detail = format!("no snapshots of {} were made", check.instance_id);
        return Ok((answer(CheckStatus::Failed, detail, ids), Vec::new(), consistency));
    }
    let snapshots = ec2_api::describe_snapshots(clients.ec2, &ids).await?;
    if let Some(verdicts) = &windows_verdicts {
        consistency = vss::consistency(verdicts, &snapshots).to_string();
    }
    let states: Vec<BackupState> = snapshots.iter().map(|s| ec2_api::snapshot_info(s).state).collect();
    let status = if states.contains(&BackupState::Failed) {
        CheckStatus::Failed
    } else if states.len() == ids.len() && states.iter().all(|s| *s == BackupState::Completed) {
        CheckStatus::Ready
    } else {
        CheckStatus::InProgress
    };
    let detail = format!("{} snapshots of {}: {:?}", ids.len(), check.instance_id, status);
    Ok((answer(status, detail, ids), snapshots, consistency))
}

/// The cleanup engine's view of EBS: an instance's snapshots, found by our tags (a snapshot records its
/// volume, not its instance), deleted as sets: the snapshots of one attempt of a run.
pub struct Ec2Store<'a> {
    /// Where the snapshots are: the instance's Region, or the copy Region for its copies.
    pub client: &'a Ec2Client,
    /// The instance's own Region.
    pub instances: &'a Ec2Client,
    /// DeleteSnapshot's share of the account's EC2 budget (EC2_API_SHARE).
    pub pace: Option<&'a crate::pace::Pace>,
}

impl Store for Ec2Store<'_> {
    const KIND: &'static str = crate::model::TargetKind::Ec2.info().name;
    const SETS_BY_RUN: bool = true;
    const SAMPLE: Option<crate::adopt::SampleTags> = Some(crate::adopt::EBS);

    async fn list_sample(&self, instance_id: &str) -> Result<Vec<BackupInfo>> {
        let sample = [
            (crate::adopt::CREATED_BY_KEY, crate::adopt::CREATED_BY_SAMPLE),
            (crate::adopt::EBS.resource_key, instance_id),
        ];
        let snapshots = ec2_api::list_own_snapshots(self.client, &sample, ec2_api::SNAPSHOT_PAGE_SIZE).await?;
        Ok(snapshots.iter().map(ec2_api::snapshot_info).collect())
    }

    async fn list_ours(&self, instance_id: &str) -> Result<Vec<BackupInfo>> {
        let ours = [(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, instance_id)];
        let snapshots = ec2_api::list_own_snapshots(self.client, &ours, ec2_api::SNAPSHOT_PAGE_SIZE).await?;
        Ok(snapshots.iter().map(ec2_api::snapshot_info).collect())
    }

    async fn resource(&self, instance_id: &str) -> Result<Resource> {
        let (owner_id, instance) = ec2_api::describe_instance_and_owner(self.instances, instance_id).await?;
        let terminated = matches!(
            instance.state().and_then(|s| s.name()),
            Some(
                aws_sdk_ec2::types::InstanceStateName::Terminated | aws_sdk_ec2::types::InstanceStateName::ShuttingDown
            )
        );
        Ok(Resource { owner_id, tags: ec2_api::tag_map(instance.tags()), gone: terminated })
    }

    async fn describe(&self, ids: &[String]) -> Result<Vec<BackupInfo>> {
        Ok(ec2_api::describe_snapshots(self.client, ids).await?.iter().map(ec2_api::snapshot_info).collect())
    }

    async fn in_use(&self, _ids: &[String]) -> Result<HashSet<String>> {
        // An AMI's snapshot cannot be deleted.
        ec2_api::snapshots_of_own_images(self.client).await
    }

    fn pace(&self) -> Option<&crate::pace::Pace> {
        self.pace
    }

    async fn delete(&self, snapshot_id: &str) -> Result<Deleted> {
        ec2_api::delete_snapshot(self.client, snapshot_id).await
    }

    async fn record_policy(&self, ids: &[String], policy: &str) -> Result<()> {
        ec2_api::tag_snapshots(self.client, ids, &[(tags::POLICY_KEY, policy)]).await
    }
}

fn tag<'t>(tags: &'t [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'t str> {
    tags.iter().find(|t| t.key() == Some(key)).and_then(|t| t.value())
}

/// Every automation status, final or not, as the workflow reads it. A status this code does not know
/// (one AWS adds later) counts as failed: the original sample polled those forever.
pub fn automation_status(status: &AutomationExecutionStatus) -> CheckStatus {
    use AutomationExecutionStatus as S;
    match status {
        S::Pending | S::Inprogress | S::Waiting | S::Cancelling | S::Scheduled | S::Approved | S::RunbookInprogress => {
            CheckStatus::InProgress
        }
        S::PendingApproval | S::PendingChangeCalendarOverride | S::ChangeCalendarOverrideApproved => {
            CheckStatus::InProgress
        }
        S::Success | S::CompletedWithSuccess => CheckStatus::Ready,
        _ => CheckStatus::Failed,
    }
}

pub mod copy;
pub mod vss;

#[cfg(test)]
mod tests;
