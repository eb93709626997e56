//! `plan`: what a run would create, delete and keep, with each reason, in both Regions, computed read-only:
//! the trigger's own survey (its listing of targets and search for orphans, by its function's settings), then
//! each target's and each orphan's cleanup as a dry run (by the cleanup's settings), assuming each target's
//! new backup completes. No execution is started, nothing is written, no alarm can fire.

use futures::stream::{self, StreamExt};
use serde::Serialize;
use snapmgmt_core::config::{CleanupConfig, TriggerConfig};
use snapmgmt_core::model::{SearchFailure, Skipped, TargetKind};
use snapmgmt_core::trigger::{self, Survey, TriggerClients};

use crate::backups::{self, Backups, Readers, Where};
use crate::Failure;

/// Resources judged at once: each is a few list calls, well inside the services' rate limits.
const AT_ONCE: usize = 8;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The time the plan is for (Unix seconds): ages and tiers are counted to it.
    pub at: i64,
    /// Where that time comes from: given, the schedule's next run, or now.
    pub at_from: String,
    pub totals: PlanTotals,
    pub targets: Vec<Backups>,
    pub orphans: Vec<Backups>,
    pub skipped: Vec<Skipped>,
    pub orphan_search_failures: Vec<SearchFailure>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanTotals {
    pub targets: usize,
    /// One new backup per target (an instance's snapshot set counts once).
    pub to_create: usize,
    pub to_delete: usize,
    pub to_keep: usize,
    pub orphans: usize,
    /// Resources whose backups could not be judged (a bad tag, a refused call).
    pub not_judged: usize,
}

impl Plan {
    pub fn needs_attention(&self) -> bool {
        self.totals.not_judged > 0 || !self.orphan_search_failures.is_empty()
    }
}

/// The trigger's settings, from its function's environment.
pub fn trigger_settings(variables: std::collections::HashMap<String, String>) -> Result<TriggerConfig, Failure> {
    let source = move |name: &str| variables.get(name).cloned();
    TriggerConfig::from_source(&source)
        .map_err(|e| Failure::NoAnswer(format!("the trigger function's settings do not read: {e}")))
}

pub struct Inputs<'a> {
    pub trigger: TriggerClients<'a>,
    pub readers: &'a Readers,
    pub trigger_settings: &'a TriggerConfig,
    pub cleanup_settings: &'a CleanupConfig,
    pub region: &'a str,
    pub at: i64,
    pub at_from: &'a str,
    /// Only this resource (a target or an orphan).
    pub only: Option<&'a str>,
}

pub async fn plan(inputs: Inputs<'_>) -> Result<Plan, Failure> {
    let Survey { targets, skipped, orphans, search_failures } =
        trigger::survey(inputs.trigger, inputs.trigger_settings)
            .await
            .map_err(|e| Failure::NoAnswer(format!("the targets could not be listed: {e}")))?;
    let wanted = |id: &str| inputs.only.is_none_or(|only| only == id);
    let settings = inputs.cleanup_settings;
    let targets: Vec<(TargetKind, String)> = targets
        .iter()
        .flat_map(|(kind, ids)| ids.iter().filter(|id| wanted(id)).map(move |id| (kind, id.clone())))
        .collect();
    let judged_targets: Vec<Backups> = stream::iter(targets.iter())
        .map(|(kind, id)| async move {
            let here = Where {
                kind: *kind,
                id,
                copy_region: None,
                orphan: false,
                since: None,
                now: inputs.at,
                region: inputs.region,
            };
            backups::judge_target(inputs.readers, settings, here).await
        })
        .buffered(AT_ONCE)
        .collect()
        .await;
    let orphans: Vec<_> = orphans.into_iter().filter(|o| wanted(&o.id)).collect();
    let judged_orphans: Vec<Backups> = stream::iter(orphans.iter())
        .map(|item| async move {
            let region = item.region.as_deref().unwrap_or(inputs.region);
            let at = Where {
                kind: item.kind,
                id: &item.id,
                copy_region: item.region.as_deref(),
                orphan: true,
                since: item.last_target_at,
                now: inputs.at,
                region,
            };
            let regions = vec![backups::judge_in(inputs.readers, settings, at).await];
            Backups { kind: item.kind, resource: item.id.clone(), orphan: true, regions }
        })
        .buffered(AT_ONCE)
        .collect()
        .await;
    let mut totals = PlanTotals {
        targets: judged_targets.len(),
        to_create: judged_targets.len(),
        orphans: judged_orphans.len(),
        ..Default::default()
    };
    for judged in judged_targets.iter().chain(&judged_orphans) {
        totals.not_judged += usize::from(judged.regions.iter().any(|r| r.error.is_some()));
        for backup in judged.regions.iter().flat_map(|r| &r.backups) {
            if backup.goes_tonight {
                totals.to_delete += 1;
            } else {
                totals.to_keep += 1;
            }
        }
    }
    let skipped = skipped.into_iter().filter(|s| wanted(&s.id)).collect();
    Ok(Plan {
        at: inputs.at,
        at_from: inputs.at_from.to_string(),
        totals,
        targets: judged_targets,
        orphans: judged_orphans,
        skipped,
        orphan_search_failures: search_failures,
    })
}
