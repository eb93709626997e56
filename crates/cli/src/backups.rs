//! `backups RESOURCE`: a resource's backups in the stack's Region and in the copy Region, newest first, each
//! with its age and what tonight's cleanup would do with it: the reason it is kept, or that it goes. Judged
//! by the cleanup's own settings (its function's environment) and code: a dry run of `cleanup::run`, which
//! lists and decides and changes nothing, assuming tonight's backup completes.

use serde::Serialize;
use snapmgmt_core::cleanup::{self, invocation, Store};
use snapmgmt_core::config::CleanupConfig;
use snapmgmt_core::copy::RegionClients;
use snapmgmt_core::ec2::Ec2Store;
use snapmgmt_core::efs::{self, EfsStore};
use snapmgmt_core::freshness::{self, Ledger};
use snapmgmt_core::fsx::FsxStore;
use snapmgmt_core::model::{AppliedPolicy, CleanupEvent, CleanupReport, TargetKind};
use snapmgmt_core::retention::BackupInfo;

use crate::Failure;

/// The clients `backups` reads with, in the stack's Region and (when copies are on) the copy Region.
pub struct Readers {
    pub here: RegionClients,
    pub efs: snapmgmt_core::aws::aws_sdk_efs::Client,
    pub copies: Option<RegionClients>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backups {
    pub kind: TargetKind,
    pub resource: String,
    /// No longer a target (the last run did not have it): judged as an orphan.
    pub orphan: bool,
    pub regions: Vec<InRegion>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InRegion {
    pub region: String,
    /// The copy Region: its copies, kept under the copy policy.
    pub copies: bool,
    pub policy: Option<AppliedPolicy>,
    pub backups: Vec<Judged>,
    /// Why it could not be judged here (a bad tag, a refused call).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Judged {
    pub id: String,
    pub created: Option<i64>,
    pub age_days: Option<i64>,
    /// The rule would delete it tonight.
    pub expired: bool,
    /// And tonight's cleanup will: false for an orphan's while DeleteOrphans is off (only reported).
    pub goes_tonight: bool,
    /// Why it is kept, as the run report names it.
    pub kept_because: Option<String>,
}

impl Backups {
    pub fn needs_attention(&self) -> bool {
        self.regions.iter().any(|r| r.error.is_some())
    }
}

/// A function's environment, as Lambda holds it: the settings it runs with.
pub async fn function_settings(
    client: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<std::collections::HashMap<String, String>, Failure> {
    let out = client
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(|e| Failure::aws("lambda", "GetFunctionConfiguration", e))?;
    Ok(out.environment().and_then(|e| e.variables()).cloned().unwrap_or_default())
}

/// The cleanup function's settings.
pub async fn settings(client: &aws_sdk_lambda::Client, function: &str) -> Result<CleanupConfig, Failure> {
    let variables = function_settings(client, function).await?;
    let source = move |name: &str| variables.get(name).cloned();
    CleanupConfig::from_source(&source)
        .map_err(|e| Failure::NoAnswer(format!("the cleanup function's settings do not read: {e}")))
}

/// Which kind a resource is: as the ledger knows it, else by its id (`i-`: EC2, `fsvol-`: an ONTAP volume),
/// else an FSx file system if FSx knows it, else EFS.
pub async fn kind_of(ledger: &Ledger, readers: &Readers, id: &str) -> TargetKind {
    if let Some(kind) =
        ledger.targets.keys().filter_map(|k| freshness::parse_key(k)).find(|(_, i)| *i == id).map(|(k, _)| k)
    {
        return kind;
    }
    if id.starts_with("i-") {
        return TargetKind::Ec2;
    }
    if id.starts_with("fsvol-") {
        return TargetKind::Fsx;
    }
    let fsx = FsxStore { client: &readers.here.fsx, sources: &readers.here.fsx };
    if fsx.resource(id).await.is_ok() {
        TargetKind::Fsx
    } else {
        TargetKind::Efs
    }
}

/// The resource's backups here and in the copy Region, judged as tonight's cleanup would judge them.
pub async fn judge(
    readers: &Readers,
    settings: &CleanupConfig,
    ledger: &Ledger,
    kind: TargetKind,
    id: &str,
    region: &str,
    now: i64,
) -> Backups {
    // A target of the last run is one tonight; any other is an orphan, since it was last seen.
    let newest_run = ledger.targets.values().filter_map(|e| e.last_seen).max();
    let entry = ledger.targets.get(&freshness::target_key(kind, id));
    let orphan = match entry {
        // Not in the ledger: no target of the last run (before any run, nothing says so).
        None => !ledger.targets.is_empty(),
        Some(e) => e.last_seen.is_some() && e.last_seen != newest_run,
    };
    let since = if orphan { entry.and_then(|e| e.last_seen) } else { None };
    judge_target(readers, settings, Where { kind, id, copy_region: None, orphan, since, now, region }).await
}

/// A resource's backups judged in the stack's Region (`here`) and, when copies are on, its copies in the copy
/// Region by the copy rule.
pub async fn judge_target(readers: &Readers, settings: &CleanupConfig, here: Where<'_>) -> Backups {
    let mut regions = vec![judge_in(readers, settings, here).await];
    if let Some(copy_region) = settings.copy.region.as_deref() {
        let there = Where { copy_region: Some(copy_region), region: copy_region, ..here };
        regions.push(judge_in(readers, settings, there).await);
    }
    Backups { kind: here.kind, resource: here.id.to_string(), orphan: here.orphan, regions }
}

/// One resource's backups in one Region, and how they are judged there.
#[derive(Debug, Clone, Copy)]
pub struct Where<'a> {
    pub kind: TargetKind,
    pub id: &'a str,
    /// The copy Region, for the copies there; None: the stack's Region.
    pub copy_region: Option<&'a str>,
    /// No target tonight: judged as an orphan, last a target at `since` if the ledger remembers.
    pub orphan: bool,
    pub since: Option<i64>,
    pub now: i64,
    /// The Region's name, for the answer.
    pub region: &'a str,
}

/// The backups of one resource in one Region, judged by a dry run of the cleanup.
pub async fn judge_in(readers: &Readers, settings: &CleanupConfig, at: Where<'_>) -> InRegion {
    let copies = at.copy_region.is_some();
    let event = CleanupEvent {
        kind: at.kind,
        target_id: at.id.to_string(),
        new_backup: None,
        dry_run: true,
        max_delete_percent: None,
        run_id: None,
        orphan: at.orphan,
        region: at.copy_region.map(str::to_string),
        orphan_since: at.since,
    };
    let judged = async {
        let plan = invocation::plan(settings, &event, at.now, None)?;
        let clients = match (copies, &readers.copies) {
            (true, Some(c)) => c,
            _ => &readers.here,
        };
        match at.kind {
            TargetKind::Fsx => {
                let store = FsxStore { client: &clients.fsx, sources: &readers.here.fsx };
                with_listing(&store, plan.retention, plan.request).await
            }
            TargetKind::Ec2 => {
                let store = Ec2Store { client: &clients.ec2, instances: &readers.here.ec2, pace: None };
                with_listing(&store, plan.retention, plan.request).await
            }
            TargetKind::Efs => {
                let vault = invocation::efs_vault(settings, copies)?;
                let efs_clients = efs::Clients { efs: &readers.efs, backup: &clients.backup };
                let store = EfsStore { clients: efs_clients, vault, lifecycle_days: settings.efs_lifecycle_days };
                with_listing(&store, plan.retention, plan.request).await
            }
        }
    }
    .await;
    let region = at.region.to_string();
    match judged {
        Ok((listed, report)) => InRegion {
            region,
            copies,
            policy: report.policy.clone(),
            backups: verdicts(&listed, &report, at.now, !at.orphan || settings.delete_orphans),
            error: None,
        },
        Err(e) => InRegion { region, copies, policy: None, backups: Vec::new(), error: Some(e.to_string()) },
    }
}

/// The store's listing (for the times) and the cleanup's dry-run report (for the verdicts).
async fn with_listing<S: Store>(
    store: &S,
    retention: snapmgmt_core::config::RetentionConfig,
    request: cleanup::Request<'_>,
) -> snapmgmt_core::Result<(Vec<BackupInfo>, CleanupReport)> {
    let listed = store.list_ours(request.target_id).await?;
    let report = cleanup::run(store, retention, request).await?;
    Ok((listed, report))
}

/// Each backup the cleanup looked at, newest first, with its verdict.
pub fn verdicts(listed: &[BackupInfo], report: &CleanupReport, now: i64, deletes: bool) -> Vec<Judged> {
    let created = |id: &str| listed.iter().find(|b| b.id == id).and_then(|b| b.created_at);
    let mut judged: Vec<Judged> = report
        .deleted
        .iter()
        .map(|id| (id, true, None))
        .chain(report.kept.iter().map(|k| (&k.id, false, Some(reason_name(k.reason)))))
        .map(|(id, expired, kept_because)| {
            let created = created(id);
            let age_days = created.map(|c| (now - c) / 86_400);
            Judged { id: id.clone(), created, age_days, expired, goes_tonight: expired && deletes, kept_because }
        })
        .collect();
    judged.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    judged
}

/// A keep reason as the run report writes it.
fn reason_name(reason: snapmgmt_core::model::KeepReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_else(|| format!("{reason:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapmgmt_core::model::{KeepReason, Kept};
    use snapmgmt_core::retention::BackupState;

    fn listed(id: &str, created: i64) -> BackupInfo {
        BackupInfo {
            id: id.into(),
            owner_account: None,
            source_id: None,
            tags: Default::default(),
            created_at: Some(created),
            state: BackupState::Completed,
            in_use: false,
            aws_backup_managed: false,
        }
    }

    #[test]
    fn newest_first_each_with_its_age_and_verdict_and_an_orphans_only_reported() {
        let now = 100 * 86_400;
        let listed = [listed("old", now - 40 * 86_400), listed("new", now - 86_400)];
        let report = CleanupReport {
            deleted: vec!["old".into()],
            kept: vec![Kept { id: "new".into(), reason: KeepReason::TooYoung }],
            ..Default::default()
        };
        let judged = verdicts(&listed, &report, now, true);
        let rows: Vec<_> =
            judged.iter().map(|j| (j.id.as_str(), j.age_days, j.goes_tonight, j.kept_because.as_deref())).collect();
        assert_eq!(rows, [("new", Some(1), false, Some("TooYoung")), ("old", Some(40), true, None)]);
        let reported = verdicts(&listed, &report, now, false);
        assert!(reported[1].expired && !reported[1].goes_tonight, "DeleteOrphans off: expired, not deleted");
    }
}
