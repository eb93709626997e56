//! The trigger: find the tagged resources and start one execution of the workflow per schedule tick.

use tracing::info;

use crate::aws;
use crate::aws::ec2::TaggedInstance;
use crate::config::TriggerConfig;
use crate::error::Result;
use crate::model::{
    report_key, search_failures_key, skipped_key, Inventory, InventoryItem, PerKind, Skipped, SnapshotMode, TargetKind,
    TriggerEvent, TriggerResult, WorkflowInput,
};

/// The freshness ledger, for when each orphan was last a target; empty when there is none yet, or when it
/// cannot be read (logged: an orphan then counts its grace from its newest backup alone).
async fn read_ledger(s3: &aws_sdk_s3::Client, bucket: &str) -> crate::freshness::Ledger {
    let read = aws::s3::get_json_or_default(s3, bucket, crate::freshness::LEDGER_KEY).await;
    read.unwrap_or_else(|error| {
        tracing::warn!(%error, "the freshness ledger could not be read: orphans' grace counts from their backups");
        Default::default()
    })
}

/// Each orphan with when the ledger last saw it a target, if it did.
fn with_last_seen(orphans: Vec<InventoryItem>, ledger: &crate::freshness::Ledger) -> Vec<InventoryItem> {
    orphans
        .into_iter()
        .map(|orphan| {
            let seen = ledger.targets.get(&crate::freshness::target_key(orphan.kind, &orphan.id));
            InventoryItem { last_target_at: seen.map(crate::freshness::Entry::last_seen), ..orphan }
        })
        .collect()
}

/// Where an operator sees an execution, its report included, in the Step Functions console.
pub fn console_url(execution_arn: &str) -> String {
    let region = execution_arn.split(':').nth(3).unwrap_or("us-east-1");
    format!(
        "https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"
    )
}

/// The clients the trigger uses.
#[derive(Clone, Copy)]
pub struct TriggerClients<'a> {
    pub fsx: &'a aws_sdk_fsx::Client,
    pub ec2: &'a aws_sdk_ec2::Client,
    pub efs: &'a aws_sdk_efs::Client,
    pub s3: &'a aws_sdk_s3::Client,
    pub sfn: &'a aws_sdk_sfn::Client,
    pub backup: &'a aws_sdk_backup::Client,
    /// EC2, FSx and AWS Backup in the copy Region (COPY_REGION), where orphans' copies are looked for.
    pub copies: Option<&'a crate::copy::RegionClients>,
}

/// What a run would find now, read-only: each kind's targets, the tagged resources it would skip (with why),
/// the orphans (with when the ledger last saw each a target) and where the orphan search could not look.
#[derive(Debug, Clone, Default)]
pub struct Survey {
    pub targets: PerKind<Vec<String>>,
    pub skipped: Vec<Skipped>,
    pub orphans: Vec<InventoryItem>,
    pub search_failures: Vec<crate::model::SearchFailure>,
}

/// Lists the targets and searches the orphans as the trigger does, changing nothing: the trigger's first
/// half, and what the command line's `plan` starts from.
pub async fn survey(clients: TriggerClients<'_>, config: &TriggerConfig) -> Result<Survey> {
    // Each kind's enumeration, at once.
    let listed = futures::future::try_join_all(TargetKind::ALL.map(|kind| list_targets(kind, clients, config))).await?;
    let mut targets = PerKind::<Vec<String>>::default();
    let mut skipped = Vec::new();
    for (kind, (ids, skipped_of_kind)) in TargetKind::ALL.into_iter().zip(listed) {
        targets[kind] = ids;
        skipped.extend(skipped_of_kind);
    }
    // Our backups of anything that is neither a target nor a skipped tagged resource: reported, and
    // cleaned when DELETE_ORPHANS allows, by their own Map.
    let current: std::collections::BTreeSet<(TargetKind, String)> = targets
        .iter()
        .flat_map(|(kind, ids)| ids.iter().map(move |id| (kind, id.clone())))
        .chain(skipped.iter().map(|s| (s.kind, s.id.clone())))
        .collect();
    let sources = crate::orphans::Sources {
        ec2: clients.ec2,
        fsx: clients.fsx,
        backup: clients.backup,
        vault: config.backup_vault_name.as_deref(),
        stack: config.stack.as_ref(),
    };
    let copies = config.copy_region.as_deref().zip(clients.copies).map(|(region, copies)| {
        let sources = crate::orphans::Sources {
            ec2: &copies.ec2,
            fsx: &copies.fsx,
            backup: &copies.backup,
            vault: config.copy_backup_vault_name.as_deref(),
            stack: config.stack.as_ref(),
        };
        (region, sources)
    });
    // Never fails the run: what could not be searched is written for the report to name.
    let search = crate::orphans::find_with_copies(sources, copies, &current).await;
    let orphans = with_last_seen(search.orphans, &read_ledger(clients.s3, &config.inventory_bucket).await);
    Ok(Survey { targets, skipped, orphans, search_failures: search.failures })
}

/// Enumerates the targets, writes them to the stack's bucket as the run's inventory, and starts the
/// execution of this tick (or finds it already started) with the inventory's location as its input.
pub async fn run(
    clients: TriggerClients<'_>,
    config: &TriggerConfig,
    event: &TriggerEvent,
    request_id: &str,
) -> Result<TriggerResult> {
    // The DRY_RUN setting makes every run a dry run; an event can ask for one, never undo the setting.
    let dry_run = event.dry_run || config.dry_run;
    let Survey { targets, skipped, orphans, search_failures } = survey(clients, config).await?;
    for s in &skipped {
        info!(target_id = %s.id, reason = %s.reason, "skipped tagged resource");
    }
    let name = execution_name(event.time.as_deref(), request_id, dry_run);
    let inventory = Inventory::of_run(&config.inventory_bucket, &name);
    let input = WorkflowInput {
        run_id: name.clone(),
        inventory: inventory.clone(),
        targets: PerKind::from_fn(|kind| targets[kind].len() as u32),
        timing: event.timing.unwrap_or_default(),
        dry_run,
        concurrency: config.concurrency,
        max_delete_percent: event.max_delete_percent,
        copy_region: config.copy_region.clone(),
    };
    // The inventory first: the execution reads it. A retried trigger writes the same keys again.
    let mut writes: Vec<(String, Vec<u8>)> =
        targets.iter().map(|(kind, ids)| (inventory.key(kind).to_string(), inventory_json(kind, ids))).collect();
    // The skipped ones too: the report names them, and a target skipped night after night goes stale.
    writes.push((skipped_key(&name), serde_json::to_vec(&skipped).expect("the skipped list serialises")));
    writes.push((inventory.orphans.clone(), serde_json::to_vec(&orphans).expect("the orphans serialise")));
    let failures = serde_json::to_vec(&search_failures).expect("the search failures serialise");
    writes.push((search_failures_key(&name), failures));
    let bucket = inventory.bucket.as_str();
    futures::future::try_join_all(
        writes.into_iter().map(|(key, body)| async move { aws::s3::put_json(clients.s3, bucket, &key, body).await }),
    )
    .await?;
    let input_json = serde_json::to_string(&input).expect("the workflow input serialises");
    let started = aws::sfn::start_execution(clients.sfn, &config.state_machine_arn, &name, &input_json).await?;
    info!(
        execution_arn = %started.execution_arn,
        already_started = started.already_started,
        fsx_targets = input.targets[TargetKind::Fsx],
        ec2_targets = input.targets[TargetKind::Ec2],
        efs_targets = input.targets[TargetKind::Efs],
        orphans = orphans.len(),
        orphan_search_failures = search_failures.len(),
        inventory_bucket = %inventory.bucket,
        input_bytes = input_json.len(),
        report_console = %console_url(&started.execution_arn),
        report = %format!("s3://{}/{}", inventory.bucket, report_key(&name)),
        "workflow started; its output is the run's totals and failed targets, the full report is in the bucket"
    );
    Ok(TriggerResult {
        execution_name: name,
        execution_arn: started.execution_arn,
        already_started: started.already_started,
        fsx_targets: input.targets[TargetKind::Fsx] as usize,
        ec2_targets: input.targets[TargetKind::Ec2] as usize,
        efs_targets: input.targets[TargetKind::Efs] as usize,
        orphans: orphans.len(),
        skipped,
        inventory,
    })
}

/// One kind's targets, and the tagged resources of that kind it will not back up (with why).
async fn list_targets(
    kind: TargetKind,
    clients: TriggerClients<'_>,
    config: &TriggerConfig,
) -> Result<(Vec<String>, Vec<Skipped>)> {
    let tag = &config.target_tag;
    match kind {
        TargetKind::Fsx => {
            let (file_systems, volumes) =
                tokio::try_join!(aws::fsx::list_file_systems(clients.fsx), aws::fsx::list_volumes(clients.fsx))?;
            let ontap_volumes = config.ontap_volumes_of_tagged_file_systems;
            Ok(crate::fsx::targets::select(&file_systems, &volumes, tag, ontap_volumes))
        }
        TargetKind::Ec2 => {
            let instances = aws::ec2::list_tagged_instances(clients.ec2, &tag.key, &tag.value).await?;
            Ok(select_ec2_targets(&instances, config.snapshot_mode))
        }
        TargetKind::Efs => {
            Ok((aws::efs::list_tagged_file_systems(clients.efs, &tag.key, &tag.value).await?, Vec::new()))
        }
    }
}

/// One kind's inventory: the JSON array of items its Distributed Map reads.
pub fn inventory_json(kind: TargetKind, ids: &[String]) -> Vec<u8> {
    let items: Vec<InventoryItem> =
        ids.iter().map(|id| InventoryItem { kind, id: id.clone(), region: None, last_target_at: None }).collect();
    serde_json::to_vec(&items).expect("the inventory serialises")
}

/// The execution name of a schedule tick: the same tick always gives the same name, so a retried
/// trigger cannot start a second run. A manual invoke has no tick and is named by its request id
/// (Lambda keeps the request id across its own retries).
pub fn execution_name(tick: Option<&str>, request_id: &str, dry_run: bool) -> String {
    let stem = match tick {
        Some(time) => format!("snapmgmt-{}", time.chars().filter(char::is_ascii_alphanumeric).collect::<String>()),
        None => format!(
            "snapmgmt-manual-{}",
            request_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>()
        ),
    };
    let mut name = if dry_run { format!("{stem}-dryrun") } else { stem };
    name.truncate(80);
    name
}

/// The tagged instances to snapshot: every running one, and a stopped one in the direct mode (its own
/// `snapmgmt:SnapshotMode` tag, else the stack's), where a snapshot of volumes nothing writes is consistent.
/// The SSM document needs the instance's agent: a stopped instance in the ssm mode is skipped, with why.
/// An invalid mode tag is left to snapshot-ebs, which fails that instance alone naming the tag.
pub fn select_ec2_targets(instances: &[TaggedInstance], stack_mode: SnapshotMode) -> (Vec<String>, Vec<Skipped>) {
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for instance in instances {
        let mode = match instance.mode_tag.as_deref() {
            None => Some(stack_mode),
            Some("ssm") => Some(SnapshotMode::Ssm),
            Some("direct") => Some(SnapshotMode::Direct),
            Some(_) => None,
        };
        if instance.stopped && mode == Some(SnapshotMode::Ssm) {
            let reason = "stopped: the ssm mode runs the snapshot document through the instance's agent; \
                          tag it snapmgmt:SnapshotMode=direct to snapshot it stopped (consistent: nothing writes)";
            skipped.push(Skipped { kind: TargetKind::Ec2, id: instance.id.clone(), reason: reason.to_string() });
        } else {
            targets.push(instance.id.clone());
        }
    }
    (targets, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_name_is_deterministic_per_tick() {
        let a = execution_name(Some("2026-11-25T16:00:00Z"), "req-1", false);
        let b = execution_name(Some("2026-11-25T16:00:00Z"), "req-2", false);
        assert_eq!(a, "snapmgmt-20261125T160000Z");
        assert_eq!(a, b);
        assert_ne!(a, execution_name(Some("2026-11-25T20:00:00Z"), "req-1", false));
        assert_eq!(execution_name(None, "0f9e-11", false), "snapmgmt-manual-0f9e-11");
        assert!(execution_name(Some("2026-11-25T16:00:00Z"), "r", true).ends_with("-dryrun"));
        assert!(execution_name(None, &"x".repeat(200), false).len() <= 80);
    }

    #[test]
    fn stopped_instances_are_targets_in_the_direct_mode_and_skipped_with_why_in_the_ssm_mode() {
        let instance = |id: &str, stopped: bool, mode_tag: Option<&str>| TaggedInstance {
            id: id.into(),
            stopped,
            mode_tag: mode_tag.map(str::to_string),
        };
        let fleet = [
            instance("i-running", false, None),
            instance("i-stopped", true, None),
            instance("i-stopped-direct", true, Some("direct")),
            instance("i-stopped-ssm", true, Some("ssm")),
            instance("i-stopped-bad-tag", true, Some("fast")),
        ];

        let (targets, skipped) = select_ec2_targets(&fleet, SnapshotMode::Ssm);
        assert_eq!(targets, ["i-running", "i-stopped-direct", "i-stopped-bad-tag"]);
        let skipped_ids: Vec<&str> = skipped.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(skipped_ids, ["i-stopped", "i-stopped-ssm"]);
        assert!(skipped[0].reason.starts_with("stopped") && skipped[0].reason.contains("snapmgmt:SnapshotMode=direct"));

        let (targets, skipped) = select_ec2_targets(&fleet, SnapshotMode::Direct);
        assert_eq!(targets, ["i-running", "i-stopped", "i-stopped-direct", "i-stopped-bad-tag"]);
        assert_eq!(skipped.len(), 1);
    }
}
