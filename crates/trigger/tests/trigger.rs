//! trigger against the emulator: which file systems it picks, the execution it starts, and bad input.

use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use snapmgmt_core::aws::aws_sdk_fsx::types::FileSystemType;
use snapmgmt_core::config::TargetTag;
use snapmgmt_core::config::TriggerConfig;
use snapmgmt_core::model::TriggerResult;
use snapmgmt_core::model::{Concurrency, Inventory, InventoryItem, SnapshotMode, TargetKind, WorkflowInput};
use snapmgmt_core::serve::invoke;
use snapmgmt_core::Error;
use snapmgmt_core::Result;
use snapmgmt_testkit as kit;
use trigger::Trigger;

/// A tag of this test's own, so that file systems other tests create are not picked up.
fn config(state_machine_arn: &str, bucket: &str) -> TriggerConfig {
    TriggerConfig {
        target_tag: TargetTag { key: "ResourceType".into(), value: kit::unique("SnapshotMgmtTarget") },
        state_machine_arn: state_machine_arn.to_string(),
        inventory_bucket: bucket.to_string(),
        concurrency: Concurrency::from_fn(|kind| match kind {
            TargetKind::Fsx => 2,
            TargetKind::Ec2 => 3,
            TargetKind::Efs => 4,
        }),
        dry_run: false,
        snapshot_mode: SnapshotMode::Ssm,
        backup_vault_name: None,
        ontap_volumes_of_tagged_file_systems: false,
        copy_region: None,
        copy_backup_vault_name: None,
        stack: None,
    }
}

/// A state machine and a bucket of this test's own, and the trigger's settings for them.
async fn setup() -> (String, TriggerConfig) {
    let arn = kit::create_state_machine(&kit::sfn_client().await, &kit::unique("snapmgmt")).await;
    let bucket = kit::create_bucket().await;
    let cfg = config(&arn, &bucket);
    (arn, cfg)
}

/// The ids one kind's inventory lists.
async fn inventory_ids(inventory: &Inventory, kind: TargetKind) -> Vec<String> {
    let items: Vec<InventoryItem> =
        serde_json::from_value(kit::read_json(&inventory.bucket, inventory.key(kind)).await).unwrap();
    assert!(items.iter().all(|i| i.kind == kind));
    items.into_iter().map(|i| i.id).collect()
}

async fn trigger(config: &Result<TriggerConfig>, payload: Value) -> Result<TriggerResult> {
    let fsx = kit::fsx_client().await;
    let sfn = kit::sfn_client().await;
    let mut context = lambda_runtime::Context::default();
    context.request_id = kit::unique("request");
    let (ec2, efs, s3) = (kit::ec2_client().await, kit::efs_client().await, kit::s3_client().await);
    let backup = kit::backup_client().await;
    let copies = Some(kit::copy_region_clients().await);
    let function = Trigger { fsx, ec2, efs, s3, sfn, backup, copies };
    invoke(&function, config, LambdaEvent::new(payload, context)).await
}

async fn execution_input(execution_arn: &str) -> WorkflowInput {
    let sfn = kit::sfn_client().await;
    let out = sfn.describe_execution().execution_arn(execution_arn).send().await.unwrap();
    serde_json::from_str(out.input().unwrap()).unwrap()
}

async fn executions(state_machine_arn: &str) -> usize {
    let sfn = kit::sfn_client().await;
    sfn.list_executions().state_machine_arn(state_machine_arn).send().await.unwrap().executions().len()
}

#[tokio::test]
async fn writes_the_inventory_and_starts_one_execution_with_its_location() {
    let fsx = kit::fsx_client().await;
    let (_arn, cfg) = setup().await;
    let tag = (cfg.target_tag.key.as_str(), cfg.target_tag.value.as_str());
    let windows = kit::create_windows_file_system(&fsx, &[tag, ("Owner", "ops")]).await;
    let _untagged = kit::create_windows_file_system(&fsx, &[("Owner", "ops")]).await;
    let ontap = kit::create_file_system(&fsx, FileSystemType::Ontap, &[tag]).await;
    let openzfs = kit::create_file_system(&fsx, FileSystemType::Openzfs, &[tag]).await;
    let creating = kit::create_windows_file_system(&fsx, &[tag]).await;
    kit::control("/moto-api/snapmgmt/fsx/file-system", &json!({"fileSystemId": creating, "lifecycle": "CREATING"}));

    let scheduled = json!({"version": "0", "id": "89d1a02d", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-25T16:00:00Z", "region": "us-east-1", "resources": [], "detail": {}});
    let result = trigger(&Ok(cfg), scheduled).await.unwrap();
    assert_eq!(result.execution_name, "snapmgmt-20261125T160000Z");
    assert!(!result.already_started);
    assert_eq!(result.fsx_targets, 2);
    let skipped: Vec<&str> = result.skipped.iter().map(|s| s.id.as_str()).collect();
    assert!(skipped.contains(&ontap.as_str()) && skipped.contains(&creating.as_str()), "{skipped:?}");

    let input = execution_input(&result.execution_arn).await;
    assert_eq!(input.run_id, result.execution_name);
    assert_eq!(input.inventory, result.inventory);
    assert_eq!(input.inventory.keys[TargetKind::Fsx], "inventory/snapmgmt-20261125T160000Z/fsx.json");
    let mut fsx_targets = inventory_ids(&input.inventory, TargetKind::Fsx).await;
    fsx_targets.sort();
    let mut expected = vec![windows, openzfs];
    expected.sort();
    assert_eq!(fsx_targets, expected, "OpenZFS is backed up by file system id");
    assert_eq!(input.targets[TargetKind::Fsx], 2);
    assert_eq!(input.concurrency.values().copied().collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(input.timing.fsx_wait_seconds, 60);
    assert!(!input.dry_run);
}

#[tokio::test]
async fn tagged_ontap_volumes_are_targets_and_a_tagged_ontap_file_system_gives_its_volumes_when_set() {
    let fsx = kit::fsx_client().await;
    let (_arn, cfg) = setup().await;
    let tag = (cfg.target_tag.key.as_str(), cfg.target_tag.value.as_str());
    let (_, tagged_volume) = kit::create_ontap_volume(&fsx, &[], &[tag]).await;
    let (tagged_fs, its_volume) = kit::create_ontap_volume(&fsx, &[tag], &[]).await;

    let result = trigger(&Ok(cfg.clone()), json!({})).await.unwrap();
    assert_eq!(inventory_ids(&result.inventory, TargetKind::Fsx).await, std::slice::from_ref(&tagged_volume));
    let skipped: Vec<&str> = result.skipped.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(skipped, [tagged_fs.as_str()], "the file system is skipped, saying how to back it up");

    let cfg = TriggerConfig { ontap_volumes_of_tagged_file_systems: true, ..cfg };
    let result = trigger(&Ok(cfg), json!({})).await.unwrap();
    let mut ids = inventory_ids(&result.inventory, TargetKind::Fsx).await;
    ids.sort();
    let mut expected = vec![tagged_volume, its_volume];
    expected.sort();
    // The SVM's root volume, which the emulator makes as FSx does, is not among them.
    assert_eq!(ids, expected);
    assert!(result.skipped.is_empty(), "{:?}", result.skipped);
}

#[tokio::test]
async fn the_dry_run_setting_makes_a_scheduled_run_a_dry_run() {
    let (_arn, cfg) = setup().await;
    let cfg = TriggerConfig { dry_run: true, ..cfg };
    let result = trigger(&Ok(cfg), json!({"time": "2026-11-25T02:00:00Z", "dryRun": false})).await.unwrap();
    assert_eq!(result.execution_name, "snapmgmt-20261125T020000Z-dryrun");
    assert!(execution_input(&result.execution_arn).await.dry_run);
}

#[tokio::test]
async fn a_retried_tick_does_not_start_a_second_execution() {
    let fsx = kit::fsx_client().await;
    let (arn, cfg) = setup().await;
    let tag = (cfg.target_tag.key.clone(), cfg.target_tag.value.clone());
    let cfg = Ok(cfg);
    let tick = json!({"time": "2026-11-25T20:00:00Z"});
    let first = trigger(&cfg, tick.clone()).await.unwrap();
    // Same name, same input: Step Functions answers with the running execution.
    let same = trigger(&cfg, tick.clone()).await.unwrap();
    assert_eq!(first.execution_arn, same.execution_arn);
    // Same name, new input (a file system was tagged meanwhile): ExecutionAlreadyExists, reported as started.
    kit::create_windows_file_system(&fsx, &[(tag.0.as_str(), tag.1.as_str())]).await;
    let changed = trigger(&cfg, tick).await.unwrap();
    assert!(changed.already_started);
    assert_eq!(first.execution_arn, changed.execution_arn);
    assert_eq!(executions(&arn).await, 1);
}

#[tokio::test]
async fn an_empty_inventory_still_starts_a_run_that_has_nothing_to_do() {
    let (_arn, cfg) = setup().await;
    let result = trigger(&Ok(cfg), json!({})).await.unwrap();
    assert_eq!(result.fsx_targets, 0);
    assert!(result.execution_name.starts_with("snapmgmt-manual-"));
    let input = execution_input(&result.execution_arn).await;
    for kind in TargetKind::ALL {
        assert_eq!(inventory_ids(&input.inventory, kind).await, Vec::<String>::new());
    }
}

#[tokio::test]
async fn the_execution_input_is_the_same_size_whatever_the_fleet() {
    let (_arn, cfg) = setup().await;
    let small = serde_json::to_string(
        &execution_input(&trigger(&Ok(cfg.clone()), json!({})).await.unwrap().execution_arn).await,
    )
    .unwrap();
    let ids: Vec<String> = (0..100_000).map(|n| format!("i-{n:017x}")).collect();
    // 100,000 instances: a 3 MB inventory object, and an input that only counts them.
    assert!(snapmgmt_core::trigger::inventory_json(TargetKind::Ec2, &ids).len() > 3_000_000);
    let input = WorkflowInput {
        targets: snapmgmt_core::model::PerKind::from_fn(|kind| if kind == TargetKind::Ec2 { 100_000 } else { 0 }),
        ..serde_json::from_str(&small).unwrap()
    };
    assert!(serde_json::to_string(&input).unwrap().len() < 1_024, "{}", small.len());
}

#[tokio::test]
async fn a_missing_setting_fails_before_any_aws_call() {
    let (arn, _cfg) = setup().await;
    let missing = TriggerConfig::from_source(&|_: &str| None);
    let err = trigger(&missing, json!({})).await.unwrap_err();
    assert!(matches!(err, Error::InvalidSetting { name: "STATE_MACHINE_ARN", .. }), "{err}");
    assert_eq!(executions(&arn).await, 0);
}

#[tokio::test]
async fn a_malformed_event_is_named_and_starts_nothing() {
    let (arn, cfg) = setup().await;
    let cfg = Ok(cfg);
    for (payload, field) in [
        (json!({"time": 5}), "time"),
        (json!({"time": "tomorrow"}), "time"),
        (json!({"dryRun": "no"}), "dryRun"),
        (json!({"timing": {"fsxWaitSeconds": -1}}), "timing.fsxWaitSeconds"),
        (json!("run"), "(event)"),
    ] {
        let err = trigger(&cfg, payload.clone()).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field: f, .. } if f == field), "{payload}: {err}");
    }
    assert_eq!(executions(&arn).await, 0);
}

#[tokio::test]
async fn stopped_instances_are_snapshotted_in_the_direct_mode_and_skipped_with_why_in_the_ssm_mode() {
    let (_, mut cfg) = setup().await;
    let ec2 = kit::ec2_client().await;
    let tag = (cfg.target_tag.key.as_str(), cfg.target_tag.value.as_str());
    let running = kit::create_instance(&ec2, &[tag], 0).await;
    let stopped = kit::create_instance(&ec2, &[tag], 0).await;
    ec2.stop_instances().instance_ids(&stopped).send().await.unwrap();
    let terminated = kit::create_instance(&ec2, &[tag], 0).await;
    ec2.terminate_instances().instance_ids(&terminated).send().await.unwrap();

    let ssm = trigger(&Ok(cfg.clone()), json!({})).await.unwrap();
    assert_eq!(inventory_ids(&ssm.inventory, TargetKind::Ec2).await, vec![running.clone()]);
    let skipped: Vec<&str> = ssm.skipped.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(skipped, [stopped.as_str()]);
    assert!(ssm.skipped[0].reason.starts_with("stopped"), "{:?}", ssm.skipped);

    cfg.snapshot_mode = SnapshotMode::Direct;
    let direct = trigger(&Ok(cfg), json!({})).await.unwrap();
    let mut targets = inventory_ids(&direct.inventory, TargetKind::Ec2).await;
    targets.sort();
    let mut expected = vec![running, stopped];
    expected.sort();
    assert_eq!(targets, expected, "a terminated instance is never a target");
    assert!(direct.skipped.is_empty());
}

#[tokio::test]
async fn our_backups_of_resources_that_are_no_longer_targets_are_listed_as_orphans() {
    let (_, mut cfg) = setup().await;
    let (ec2, fsx, backup) = (kit::ec2_client().await, kit::fsx_client().await, kit::backup_client().await);
    let tag = (cfg.target_tag.key.as_str(), cfg.target_tag.value.as_str());
    let target = kit::create_instance(&ec2, &[tag], 0).await;
    kit::create_snapshot(&ec2, &target, &kit::our_snapshot_tags(&target, "run-1"), 3).await;
    let terminated = kit::create_instance(&ec2, &[tag], 0).await;
    kit::create_snapshot(&ec2, &terminated, &kit::our_snapshot_tags(&terminated, "run-1"), 3).await;
    ec2.terminate_instances().instance_ids(&terminated).send().await.unwrap();
    let untagged = kit::create_windows_file_system(&fsx, &[]).await;
    kit::create_backup(&fsx, &untagged, &kit::our_tags(&untagged), 3).await;
    let someone_elses = kit::create_windows_file_system(&fsx, &[]).await;
    kit::create_backup(&fsx, &someone_elses, &[("Name", "by hand")], 3).await;
    cfg.backup_vault_name = Some(kit::create_vault(&backup).await);
    // The ledger saw the terminated instance a target last night; the untagged file system it never knew.
    let ledger = json!({"targets": {format!("ec2:{terminated}"): {"firstSeen": 1_000, "lastSeen": 1_700_000_000}}});
    let s3 = kit::s3_client().await;
    let body = serde_json::to_vec(&ledger).unwrap();
    let put = s3.put_object().bucket(&cfg.inventory_bucket).key(snapmgmt_core::freshness::LEDGER_KEY);
    put.body(body.into()).send().await.unwrap();

    let result = trigger(&Ok(cfg), json!({})).await.unwrap();

    let orphans: Vec<InventoryItem> =
        serde_json::from_value(kit::read_json(&result.inventory.bucket, &result.inventory.orphans).await).unwrap();
    let has = |kind: TargetKind, id: &str| orphans.iter().any(|o| o.kind == kind && o.id == id);
    assert!(has(TargetKind::Ec2, &terminated) && has(TargetKind::Fsx, &untagged), "{orphans:?}");
    assert!(!has(TargetKind::Ec2, &target), "a target is no orphan");
    assert!(!has(TargetKind::Fsx, &someone_elses), "only our backups make an orphan");
    assert_eq!(result.orphans, orphans.len());
    // Each orphan says when it was last a target, where the ledger remembers: its grace counts from then.
    let last_target_at = |id: &str| orphans.iter().find(|o| o.id == id).unwrap().last_target_at;
    assert_eq!((last_target_at(&terminated), last_target_at(&untagged)), (Some(1_700_000_000), None));
}

#[tokio::test]
async fn copies_of_resources_that_are_no_longer_targets_are_orphans_in_the_copy_region() {
    let (_, mut cfg) = setup().await;
    let fsx = kit::fsx_client().await;
    let tag = (cfg.target_tag.key.as_str(), cfg.target_tag.value.as_str());
    let target = kit::create_windows_file_system(&fsx, &[tag]).await;
    let untagged = kit::create_windows_file_system(&fsx, &[]).await;
    for fs in [&target, &untagged] {
        let source = kit::create_backup(&fsx, fs, &kit::our_tags(fs), 3).await;
        let mut tags = kit::our_tags(fs).to_vec();
        tags.push(("snapmgmt:SourceId", source.as_str()));
        kit::copy_fsx_backup(&source, &tags).await;
    }
    cfg.copy_region = Some(kit::COPY_REGION.to_string());

    let result = trigger(&Ok(cfg), json!({})).await.unwrap();

    let orphans: Vec<InventoryItem> =
        serde_json::from_value(kit::read_json(&result.inventory.bucket, &result.inventory.orphans).await).unwrap();
    let in_region = |id: &str, region: Option<&str>| {
        orphans.iter().any(|o| o.kind == TargetKind::Fsx && o.id == id && o.region.as_deref() == region)
    };
    assert!(in_region(&untagged, None) && in_region(&untagged, Some(kit::COPY_REGION)), "{orphans:?}");
    assert!(!in_region(&target, None) && !in_region(&target, Some(kit::COPY_REGION)), "a target is no orphan");
}

#[tokio::test]
async fn a_copy_region_that_does_not_answer_never_stops_the_nights_backups() {
    let (_, mut cfg) = setup().await;
    let fsx = kit::fsx_client().await;
    let tag = (cfg.target_tag.key.as_str(), cfg.target_tag.value.as_str());
    let target = kit::create_windows_file_system(&fsx, &[tag]).await;
    let untagged = kit::create_windows_file_system(&fsx, &[]).await;
    kit::create_backup(&fsx, &untagged, &kit::our_tags(&untagged), 3).await;
    cfg.copy_region = Some(kit::COPY_REGION.to_string());
    // Its vault gone: listing the copy Region's EFS copies fails.
    cfg.copy_backup_vault_name = Some(kit::unique("deleted-vault"));

    let result = trigger(&Ok(cfg), json!({})).await.unwrap();

    assert_eq!(inventory_ids(&result.inventory, TargetKind::Fsx).await, vec![target]);
    let orphans: Vec<InventoryItem> =
        serde_json::from_value(kit::read_json(&result.inventory.bucket, &result.inventory.orphans).await).unwrap();
    assert!(orphans.iter().any(|o| o.id == untagged && o.region.is_none()), "the source's orphans still: {orphans:?}");
    assert!(orphans.iter().all(|o| o.region.is_none()), "none from the copy Region: {orphans:?}");
}

/// An FSx backup in `fsx`'s Region of `file_system`, tagged ours and `stack`'s, made AVAILABLE; its id.
async fn stack_backup(fsx: &snapmgmt_core::aws::aws_sdk_fsx::Client, region: &str, fs: &str, stack: &str) -> String {
    use snapmgmt_core::aws::aws_sdk_fsx::types::Tag;
    let tags = [kit::our_tags(fs).as_slice(), &[("snapmgmt:Stack", stack)]].concat();
    let out = fsx.create_backup().file_system_id(fs);
    let out = out.set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect()));
    let id = out.send().await.unwrap().backup.unwrap().backup_id.unwrap();
    kit::set_backup(&id, json!({"region": region, "lifecycle": "AVAILABLE"}));
    id
}

/// Copies a backup of `from` into `to`'s Region with its tags, as a stack's copy step does; the copy's id.
async fn stack_copy(to: &snapmgmt_core::aws::aws_sdk_fsx::Client, from: &str, backup: &str, stack: &str, fs: &str) {
    use snapmgmt_core::aws::aws_sdk_fsx::types::Tag;
    let tags = [kit::our_tags(fs).as_slice(), &[("snapmgmt:Stack", stack), ("snapmgmt:SourceId", backup)]].concat();
    let copy = to.copy_backup().source_region(from).source_backup_id(backup);
    copy.set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect()))
        .send()
        .await
        .unwrap();
}

/// Issue 29's setups side by side in one account: stack A in us-east-1 copying into us-west-2, stack B in
/// us-west-2 copying into us-east-1, and stack C in us-east-1 with a target tag of its own. Each finds as its
/// orphans only the resources whose backups and copies it made: never the other stacks' backups, nor their
/// copies in its own Region, nor the other same-Region stack's targets.
#[tokio::test]
async fn stacks_copying_into_each_others_regions_and_sharing_one_see_only_their_own_orphans() {
    let (east, west) = (kit::fsx_client().await, kit::copy_fsx_client().await);
    let (a, b, c) = (kit::unique("a") + "@us-east-1", kit::unique("b") + "@us-west-2", kit::unique("c") + "@us-east-1");
    // A's file system, untagged since: its backup in us-east-1 and its copy in us-west-2 are A's orphans.
    let a_gone = kit::create_windows_file_system(&east, &[]).await;
    let a_backup = stack_backup(&east, "us-east-1", &a_gone, &a).await;
    stack_copy(&west, "us-east-1", &a_backup, &a, &a_gone).await;
    // B's file system in us-west-2, untagged since: its backup there and its copy in us-east-1 are B's.
    let b_gone = kit::create_windows_file_system(&west, &[]).await;
    let b_backup = stack_backup(&west, "us-west-2", &b_gone, &b).await;
    stack_copy(&east, "us-west-2", &b_backup, &b, &b_gone).await;
    // C's current target in us-east-1 (its own tag, which A does not look for), and its backup.
    let c_tag = ("Team", "c");
    let c_target = kit::create_windows_file_system(&east, &[c_tag]).await;
    stack_backup(&east, "us-east-1", &c_target, &c).await;

    // A, through its trigger (DeleteOrphans decides only what cleanup does with them).
    let (_, mut cfg) = setup().await;
    cfg.copy_region = Some(kit::COPY_REGION.to_string());
    cfg.stack = Some(snapmgmt_core::tags::StackId::parse(&a).unwrap());
    let result = trigger(&Ok(cfg), json!({})).await.unwrap();
    let orphans: Vec<InventoryItem> =
        serde_json::from_value(kit::read_json(&result.inventory.bucket, &result.inventory.orphans).await).unwrap();
    let found: Vec<(&str, Option<&str>)> = orphans.iter().map(|o| (o.id.as_str(), o.region.as_deref())).collect();
    assert_eq!(found, [(a_gone.as_str(), None), (a_gone.as_str(), Some(kit::COPY_REGION))]);

    // B and C, through the trigger's search (B's own Region is us-west-2, its copy Region us-east-1).
    use snapmgmt_core::copy::RegionClients;
    use snapmgmt_core::orphans::{find_with_copies, Sources};
    use snapmgmt_core::tags::StackId;
    fn sources<'a>(clients: &'a RegionClients, stack: &'a StackId) -> Sources<'a> {
        Sources { ec2: &clients.ec2, fsx: &clients.fsx, backup: &clients.backup, vault: None, stack: Some(stack) }
    }
    let config = kit::sdk_config().await;
    let (east_all, west_all) = (RegionClients::new(&config, "us-east-1"), RegionClients::new(&config, "us-west-2"));
    let (b_id, c_id) = (StackId::parse(&b).unwrap(), StackId::parse(&c).unwrap());
    let none = std::collections::BTreeSet::new();
    let copies = Some(("us-east-1", sources(&east_all, &b_id)));
    let of_b = find_with_copies(sources(&west_all, &b_id), copies, &none).await;
    let found: Vec<(&str, Option<&str>)> = of_b.orphans.iter().map(|o| (o.id.as_str(), o.region.as_deref())).collect();
    assert_eq!(found, [(b_gone.as_str(), None), (b_gone.as_str(), Some("us-east-1"))], "{:?}", of_b.failures);
    let current = [(TargetKind::Fsx, c_target.clone())].into_iter().collect();
    let of_c = find_with_copies(sources(&east_all, &c_id), None, &current).await;
    assert!(of_c.orphans.is_empty() && of_c.failures.is_empty(), "{of_c:?}");
}
