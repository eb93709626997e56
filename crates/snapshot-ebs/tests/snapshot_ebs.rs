//! snapshot-ebs against the emulator: both modes, retried invocations and retried attempts.

use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use snapmgmt_core::aws::{aws_sdk_ec2, aws_sdk_ssm};
use snapmgmt_core::config::CopySettings;
use snapmgmt_core::config::{DryRunSetting, SnapshotConfig};
use snapmgmt_core::model::SnapshotMode;
use snapmgmt_core::model::{CopyResult, SnapshotEbsResult};
use snapmgmt_core::serve::invoke;
use snapmgmt_core::Error;
use snapmgmt_core::Result;
use snapmgmt_testkit as kit;
use snapshot_ebs::{Copying, SnapshotEbs};

fn config(mode: SnapshotMode, document_name: &str) -> Result<SnapshotConfig> {
    Ok(SnapshotConfig {
        mode,
        document_name: document_name.to_string(),
        automation_role_arn: format!("arn:aws:iam::{}:role/snapmgmt-test", kit::ACCOUNT_ID),
        exclude_boot_volume: false,
        scripts: Default::default(),
        freeze_timeout_seconds: None,
        stack: Some(snapmgmt_core::tags::StackId::parse(STACK).unwrap()),
    })
}

const STACK: &str = "snapmgmt-test@us-east-1";

async fn snapshot(config: &Result<SnapshotConfig>, payload: Value) -> Result<SnapshotEbsResult> {
    let (ec2, ssm) = (kit::ec2_client().await, kit::ssm_client().await);
    let mut context = lambda_runtime::Context::default();
    context.request_id = kit::unique("request");
    let settings = config.clone().map(|config| (config, DryRunSetting::default()));
    let result = invoke(&no_copies(ec2, ssm), &settings, LambdaEvent::new(payload, context)).await?;
    Ok(result.backup().expect("a snapshot run's result"))
}

/// The function in a stack that copies nowhere.
fn no_copies(ec2: aws_sdk_ec2::Client, ssm: aws_sdk_ssm::Client) -> SnapshotEbs {
    let copying = Copying { settings: CopySettings::default(), source_region: "us-east-1".into(), destination: None };
    SnapshotEbs { ec2, ssm, copying: Ok(copying) }
}

/// The function's answer as the workflow reads it.
async fn answer(
    function: &SnapshotEbs,
    settings: &Result<(SnapshotConfig, DryRunSetting)>,
    event: LambdaEvent<Value>,
) -> Result<Value> {
    let result = invoke(function, settings, event).await?;
    Ok(serde_json::to_value(result).expect("the result serialises"))
}

fn run_id() -> String {
    kit::unique("run")
}

#[tokio::test]
async fn direct_mode_takes_one_tagged_set_and_a_retried_invocation_reuses_it() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 2).await;
    let event = json!({"instanceId": instance, "runId": run_id()});
    let direct = config(SnapshotMode::Direct, "");

    let first = snapshot(&direct, event.clone()).await.unwrap();
    let again = snapshot(&direct, event).await.unwrap();

    assert_eq!(first.snapshot_ids.len(), 2, "{first:?}");
    assert!(!first.reused && again.reused);
    assert_eq!(again.snapshot_ids, first.snapshot_ids);
    assert_eq!(kit::snapshots_of(&kit::ec2_client().await, &instance).await, first.snapshot_ids);
    let described = ec2.describe_snapshots().snapshot_ids(&first.snapshot_ids[0]).send().await.unwrap();
    let tags: Vec<(String, String)> = described.snapshots()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect();
    let expected = [
        ("ManagedBy", "snapmgmt"),
        ("snapmgmt:Stack", STACK),
        ("snapmgmt:Attempt", "0"),
        ("snapmgmt:AppConsistent", "false"),
        ("snapmgmt:Volumes", "2"),
    ];
    for expected in expected {
        assert!(tags.contains(&(expected.0.into(), expected.1.into())), "{tags:?}");
    }
}

#[tokio::test]
async fn a_retried_attempt_replaces_only_what_failed_attempts_left_failed() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 2).await;
    let run = run_id();
    let direct = config(SnapshotMode::Direct, "");

    let earlier = snapshot(&direct, json!({"instanceId": instance, "runId": run, "attempt": 0})).await.unwrap();
    // One snapshot of the earlier attempt ended in error, the other completed.
    let (broken, completed) = (&earlier.snapshot_ids[0], &earlier.snapshot_ids[1]);
    kit::set_snapshot(broken, json!({"state": "error"}));
    kit::set_snapshot(completed, json!({"state": "completed"}));
    let retry = snapshot(&direct, json!({"instanceId": instance, "runId": run, "attempt": 1})).await.unwrap();

    assert_eq!(retry.replaced, std::slice::from_ref(broken));
    // The completed one is a backup of its own now (its attempt's set): only the retention rule deletes it.
    let mut left = [retry.snapshot_ids.clone(), vec![completed.clone()]].concat();
    left.sort();
    assert_eq!(kit::snapshots_of(&kit::ec2_client().await, &instance).await, left);
}

#[tokio::test]
async fn ssm_mode_starts_the_document_once_per_attempt() {
    let (ec2, ssm) = (kit::ec2_client().await, kit::ssm_client().await);
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let document = kit::create_snapshot_document(&ssm).await;
    let event = json!({"instanceId": instance, "runId": run_id()});
    let ssm_mode = config(SnapshotMode::Ssm, &document);

    let first = snapshot(&ssm_mode, event.clone()).await.unwrap();
    let again = snapshot(&ssm_mode, event).await.unwrap();

    let id = first.automation_execution_id.clone().expect("an automation");
    assert_eq!(again.automation_execution_id, Some(id.clone()), "the ClientToken returns the same execution");
    let execution = ssm.get_automation_execution().automation_execution_id(id).send().await.unwrap();
    let parameters = execution.automation_execution().unwrap().parameters().unwrap();
    assert_eq!(parameters["InstanceId"], vec![instance.clone()]);
    assert_eq!(parameters["Attempt"], vec!["0".to_string()]);
    // The document tags the set with the stack.
    assert_eq!(parameters["StackId"], vec![STACK.to_string()]);
    // And with the volumes the set must hold: the instance's one.
    assert_eq!(parameters["Volumes"], vec!["1".to_string()]);
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_bad_input_is_named() {
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let direct = config(SnapshotMode::Direct, "");

    let dry = snapshot(&direct, json!({"instanceId": instance, "dryRun": true})).await.unwrap();
    assert!(dry.snapshot_ids.is_empty() && dry.automation_execution_id.is_none());
    assert!(kit::snapshots_of(&kit::ec2_client().await, &instance).await.is_empty());

    let err = snapshot(&direct, json!({"instanceId": "vol-0123456789abcdef0"})).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "instanceId"), "{err}");
    let err = snapshot(&direct, json!({"instanceId": "i-0123456789abcdef0"})).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let bad_setting = Err(Error::InvalidSetting { name: "SNAPSHOT_MODE", value: "vss".into(), reason: "x".into() });
    let err = snapshot(&bad_setting, json!({"instanceId": instance})).await.unwrap_err();
    assert!(matches!(err, Error::InvalidSetting { name: "SNAPSHOT_MODE", .. }));
    assert!(kit::snapshots_of(&kit::ec2_client().await, &instance).await.is_empty());
}

#[tokio::test]
async fn a_connection_dropped_after_create_snapshots_was_sent_makes_no_second_set() {
    use kit::fault_proxy::{Fault, Rule};
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 2).await;
    let volumes = kit::snapshots_of(&ec2, &instance).await.len(); // none yet
    assert_eq!(volumes, 0);
    let proxy = kit::fault_proxy();
    proxy.set_rules(vec![Rule::new("CreateSnapshots", Fault::DropAfterSend).count(1)], 1);
    let config_via = kit::sdk_config_at(proxy.url(), snapmgmt_core::aws::CallPattern::Steady).await;
    let (ec2_via, ssm_via) = (aws_sdk_ec2::Client::new(&config_via), aws_sdk_ssm::Client::new(&config_via));
    let mut context = lambda_runtime::Context::default();
    context.request_id = kit::unique("request");
    let event = json!({"instanceId": instance, "runId": run_id()});

    let settings = config(SnapshotMode::Direct, "").map(|config| (config, DryRunSetting::default()));
    let function = no_copies(ec2_via, ssm_via);
    let result = invoke(&function, &settings, LambdaEvent::new(event, context)).await.unwrap().backup().unwrap();

    assert_eq!(proxy.faults().injected.get("CreateSnapshots"), Some(&1));
    let mut all = kit::snapshots_of(&ec2, &instance).await;
    all.sort();
    assert_eq!(result.snapshot_ids, all, "one set, found by its tags after the dropped answer");
    assert!(!all.is_empty());
}

// ---------------------------------------------------------------- copies to the copy Region

async fn copy(payload: Value) -> Result<Value> {
    let (ec2, ssm) = (kit::ec2_client().await, kit::ssm_client().await);
    let destination = kit::copy_ec2_client().await;
    let settings = CopySettings { region: Some(kit::COPY_REGION.to_string()), ..Default::default() };
    let copying = Ok(Copying { settings, source_region: "us-east-1".into(), destination: Some(destination) });
    let mut context = lambda_runtime::Context::default();
    context.request_id = kit::unique("request");
    let config = config(SnapshotMode::Direct, "").map(|c| (c, DryRunSetting::default()));
    answer(&SnapshotEbs { ec2, ssm, copying }, &config, LambdaEvent::new(payload, context)).await
}

fn copy_result(value: Value) -> CopyResult {
    serde_json::from_value(value).unwrap()
}

#[tokio::test]
async fn a_completed_set_is_copied_once_with_its_tags_and_the_copies_are_followed_until_completed() {
    let ec2 = kit::ec2_client().await;
    let destination = kit::copy_ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let run = run_id();
    let tags = [kit::our_snapshot_tags(&instance, &run).as_slice(), &[("Name", "web-1 /dev/sdf")]].concat();
    let set = vec![kit::create_snapshot(&ec2, &instance, &tags, 0).await];
    let event = json!({"action": "copy", "instanceId": instance, "snapshotIds": set, "runId": run});

    let first = copy_result(copy(event.clone()).await.unwrap());
    let mut last = first.clone();
    for _ in 0..50 {
        last = copy_result(copy(event.clone()).await.unwrap());
        if last.status != snapmgmt_core::model::CheckStatus::InProgress {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    assert_eq!((first.region.as_str(), first.copy_ids.len()), (kit::COPY_REGION, 1));
    assert_eq!(last.status, snapmgmt_core::model::CheckStatus::Ready, "{last:?}");
    assert_eq!(last.copy_ids, first.copy_ids, "asked again, no second copy");
    let described = destination.describe_snapshots().snapshot_ids(&last.copy_ids[0]).send().await.unwrap();
    let copied = &described.snapshots()[0];
    let tag =
        |key: &str| copied.tags().iter().find(|t| t.key() == Some(key)).and_then(|t| t.value()).map(str::to_string);
    assert_eq!(tag("snapmgmt:SourceId"), Some(set[0].clone()));
    assert_eq!(tag("snapmgmt:SourceRegion").as_deref(), Some("us-east-1"));
    assert_eq!(tag("snapmgmt:RunId"), Some(run.clone()));
    assert_eq!(tag("Name").as_deref(), Some("web-1 /dev/sdf"));
    assert_eq!(copied.encrypted(), Some(true));
    assert_eq!(copied.description(), Some(snapmgmt_core::tags::snapshot_description(&instance, &run).as_str()));
}

#[tokio::test]
async fn past_awss_limit_on_copies_in_flight_the_copy_waits_instead_of_failing() {
    let ec2 = kit::ec2_client().await;
    let destination = kit::copy_ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let run = run_id();
    let set = vec![kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, &run), 0).await];
    // Twenty copies of someone else's, in flight for good.
    let other = kit::create_snapshot(&ec2, &instance, &[], 0).await;
    for _ in 0..20 {
        let id = destination
            .copy_snapshot()
            .source_region("us-east-1")
            .source_snapshot_id(&other)
            .send()
            .await
            .unwrap()
            .snapshot_id
            .unwrap();
        kit::control(
            "/moto-api/snapmgmt/ec2/snapshot",
            &json!({"snapshotId": id, "state": "pending", "region": kit::COPY_REGION}),
        );
    }
    let event = json!({"action": "copy", "instanceId": instance, "snapshotIds": set, "runId": run});

    let result = copy_result(copy(event).await.unwrap());

    assert_eq!(result.status, snapmgmt_core::model::CheckStatus::InProgress);
    assert!(result.copy_ids.is_empty() && result.detail.contains("limit"), "{result:?}");
}

#[tokio::test]
async fn a_copy_without_a_copy_region_or_with_a_bad_event_names_what_is_wrong() {
    let (ec2, ssm) = (kit::ec2_client().await, kit::ssm_client().await);
    let config = config(SnapshotMode::Direct, "").map(|c| (c, DryRunSetting::default()));
    let event =
        json!({"action": "copy", "instanceId": "i-0123456789abcdef0", "snapshotIds": ["snap-0123456789abcdef0"]});
    let function = no_copies(ec2, ssm);
    let err = answer(&function, &config, LambdaEvent::new(event, Default::default())).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidSetting { name: "COPY_REGION", .. }), "{err}");
    for (event, field) in [
        (json!({"action": "paste", "instanceId": "i-0123456789abcdef0"}), "action"),
        (json!({"action": "copy", "instanceId": "i-0123456789abcdef0", "snapshotIds": []}), "snapshotIds"),
        (json!({"action": "copy", "instanceId": "i-0123456789abcdef0", "snapshotIds": ["vol-1"]}), "snapshotIds"),
    ] {
        let err = copy(event.clone()).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field: f, .. } if f == field), "{event}: {err}");
    }
}

#[tokio::test]
async fn a_throttled_copy_waits_for_the_next_ask_and_then_copies_once() {
    use kit::fault_proxy::{Fault, Rule};
    let (ec2, ssm) = (kit::ec2_client().await, kit::ssm_client().await);
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let run = run_id();
    let set = vec![kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, &run), 0).await];
    let proxy = kit::fault_proxy();
    proxy.set_rules(vec![Rule::new("CopySnapshot", Fault::Throttle).count(1)], 1);
    let sdk = kit::sdk_config_at(proxy.url(), snapmgmt_core::aws::CallPattern::Steady).await;
    let via = aws_sdk_ec2::Client::new(&snapmgmt_core::aws::config_in(&sdk, kit::COPY_REGION));
    let settings = CopySettings { region: Some(kit::COPY_REGION.to_string()), ..Default::default() };
    let copying = Ok(Copying { settings, source_region: "us-east-1".into(), destination: Some(via) });
    let config = config(SnapshotMode::Direct, "").map(|c| (c, DryRunSetting::default()));
    let event = json!({"action": "copy", "instanceId": instance, "snapshotIds": set, "runId": run});
    let function = SnapshotEbs { ec2: ec2.clone(), ssm, copying };
    let ask = || async {
        copy_result(answer(&function, &config, LambdaEvent::new(event.clone(), Default::default())).await.unwrap())
    };

    let throttled = ask().await;
    let asked_again = ask().await;

    assert_eq!(proxy.faults().injected.get("CopySnapshot"), Some(&1));
    assert_eq!(throttled.status, snapmgmt_core::model::CheckStatus::InProgress, "{throttled:?}");
    assert!(throttled.detail.contains("throttled") && throttled.copy_ids.is_empty(), "{throttled:?}");
    assert_eq!(asked_again.copy_ids.len(), 1, "{asked_again:?}");
}
