//! backup-fsx against the emulator.

use backup_fsx::{BackupFsx, Copying};
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use snapmgmt_core::aws::aws_sdk_fsx::types::FilterName;
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::aws::fsx::{list_backups, tag_map, Source};
use snapmgmt_core::config::BackupSettings;
use snapmgmt_core::config::CopySettings;
use snapmgmt_core::model::{BackupFsxResult, CopyResult};
use snapmgmt_core::serve::invoke;
use snapmgmt_core::tags::{CopyTags, DEFAULT_COPY_TAGS};
use snapmgmt_core::Error;
use snapmgmt_core::Result;
use snapmgmt_testkit as kit;

const RUN: &str = "snapmgmt-20261125T160000Z";
const STACK: &str = "snapmgmt-test@us-east-1";

async fn backup(fsx: &FsxClient, payload: Value) -> Result<BackupFsxResult> {
    let mut context = lambda_runtime::Context::default();
    context.request_id = "7f3c0b1e-request".to_string();
    let copy_tags = CopyTags::parse(DEFAULT_COPY_TAGS).unwrap();
    let stack = Some(snapmgmt_core::tags::StackId::parse(STACK).unwrap());
    let settings = BackupSettings { copy_tags, stack, ..Default::default() };
    let result = invoke(&no_copies(fsx), &Ok(settings), LambdaEvent::new(payload, context)).await?;
    Ok(result.backup().expect("a backup's result"))
}

/// The function in a stack that copies nowhere.
fn no_copies(fsx: &FsxClient) -> BackupFsx {
    let copying = Copying { settings: CopySettings::default(), source_region: "us-east-1".into(), destination: None };
    BackupFsx { fsx: fsx.clone(), copying: Ok(copying) }
}

async fn backups_of(fsx: &FsxClient, fs: &str) -> usize {
    list_backups(fsx, Source::of(fs), None, None).await.unwrap().len()
}

#[tokio::test]
async fn backs_up_an_ontap_volume_by_its_id_and_not_its_file_system() {
    let fsx = kit::fsx_client().await;
    let (fs, volume) = kit::create_ontap_volume(&fsx, &[], &[kit::target_tag()]).await;
    // A console user may name it volumeId; the workflow passes fileSystemId.
    let result = backup(&fsx, json!({"volumeId": volume, "runId": RUN})).await.unwrap();
    let created = snapmgmt_core::aws::fsx::describe_backup(&fsx, &result.backup_id.unwrap()).await.unwrap();
    assert_eq!(created.volume().and_then(|v| v.volume_id()), Some(volume.as_str()));
    assert_eq!(snapmgmt_core::aws::fsx::backup_info(&created).source_id.as_deref(), Some(volume.as_str()));
    assert_eq!(tag_map(created.tags()).get("snapmgmt:TargetId"), Some(&volume));
    assert_eq!(backups_of(&fsx, &volume).await, 1);
    let again = backup(&fsx, json!({"fileSystemId": volume, "runId": RUN})).await.unwrap();
    assert_eq!(again.backup_id.as_deref(), created.backup_id(), "a retried invocation makes no second backup");
    // FSx refuses a file-system backup of ONTAP, as AWS does.
    let err = backup(&fsx, json!({"fileSystemId": fs, "runId": RUN})).await.unwrap_err();
    assert!(err.to_string().contains("per volume") || err.to_string().contains("VolumeId"), "{err}");
    let err = backup(&fsx, json!({"volumeId": "fsvol-00000000000000000", "runId": RUN})).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { kind: "FSx volume", .. }), "{err}");
}

#[tokio::test]
async fn takes_a_backup_tagged_as_ours_with_the_allow_listed_tags_of_the_file_system() {
    let fsx = kit::fsx_client().await;
    let source_tags = [kit::target_tag(), ("CostCenter", "42"), ("Name", "shares"), ("Secret", "x")];
    let fs = kit::create_windows_file_system(&fsx, &source_tags).await;
    let result = backup(&fsx, json!({"fileSystemId": fs, "runId": RUN})).await.unwrap();
    assert_eq!(result.lifecycle.as_deref(), Some("CREATING"));
    let id = result.backup_id.unwrap();
    let created = snapmgmt_core::aws::fsx::describe_backup(&fsx, &id).await.unwrap();
    let tags = tag_map(created.tags());
    assert_eq!(tags.get("ManagedBy").map(String::as_str), Some("snapmgmt"));
    assert_eq!(tags.get("snapmgmt:TargetId"), Some(&fs));
    assert_eq!(tags.get("snapmgmt:RunId").map(String::as_str), Some("snapmgmt-20261125T160000Z"));
    assert_eq!(tags.get("CostCenter").map(String::as_str), Some("42"));
    assert_eq!(tags.get("Name").map(String::as_str), Some("shares"));
    assert_eq!(tags.get("snapmgmt:Stack").map(String::as_str), Some(STACK), "the stack that made it");
    assert_eq!(tags.len(), 6, "neither the target tag nor Secret is on the allow-list: {tags:?}");
}

#[tokio::test]
async fn a_bad_copy_tags_setting_fails_every_invocation_naming_it() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let settings =
        BackupSettings::from_source(&|name: &str| (name == "COPY_TAGS").then(|| "Name,ManagedBy".to_string()));
    let err = invoke(&no_copies(&fsx), &settings, LambdaEvent::new(json!({"fileSystemId": fs}), Default::default()))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::InvalidSetting { name, .. } if *name == "COPY_TAGS"), "{err}");
    assert_eq!(backups_of(&fsx, &fs).await, 0);
}

#[tokio::test]
async fn a_retried_invocation_returns_the_same_backup() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let event = json!({"fileSystemId": fs, "runId": RUN});
    let first = backup(&fsx, event.clone()).await.unwrap();
    let second = backup(&fsx, event).await.unwrap();
    assert_eq!(first.backup_id, second.backup_id);
    assert_eq!(backups_of(&fsx, &fs).await, 1);
}

#[tokio::test]
async fn another_run_while_a_backup_is_in_progress_gets_backup_in_progress() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    kit::script_next_backups(&fs, json!([{"lifecycle": "AVAILABLE", "seconds": 600}]));
    backup(&fsx, json!({"fileSystemId": fs, "runId": RUN})).await.unwrap();
    let err = backup(&fsx, json!({"fileSystemId": fs, "runId": format!("{RUN}-2")})).await.unwrap_err();
    assert_eq!(err, Error::BackupInProgress { file_system_id: fs.clone() });
    assert_eq!(backups_of(&fsx, &fs).await, 1);
}

#[tokio::test]
async fn without_an_execution_the_request_id_makes_the_token() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let first = backup(&fsx, json!({"fileSystemId": fs})).await.unwrap();
    let again = backup(&fsx, json!({"fileSystemId": fs})).await.unwrap();
    assert_eq!(first.backup_id, again.backup_id);
}

#[tokio::test]
async fn dry_run_creates_nothing() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let result = backup(&fsx, json!({"fileSystemId": fs, "dryRun": true})).await.unwrap();
    assert!(result.dry_run && result.backup_id.is_none());
    assert_eq!(backups_of(&fsx, &fs).await, 0);
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    for (payload, field) in [
        (json!({}), "fileSystemId"),
        (json!({"fileSystemId": 42}), "fileSystemId"),
        (json!({"fileSystemId": "vol-01234567"}), "fileSystemId"),
        (json!({"volumeId": "fsvol-XYZ"}), "fileSystemId"),
        (json!({"fileSystemId": fs, "runId": ""}), "runId"),
        (json!({"fileSystemId": fs, "runId": "x:*"}), "runId"),
        (
            json!({"fileSystemId": fs, "executionId": "arn:aws:states:us-east-1:123456789012:execution:sm:run"}),
            "executionId",
        ),
        (json!({"fileSystemId": fs, "dryRun": "yes"}), "dryRun"),
    ] {
        let err = backup(&fsx, payload.clone()).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field: f, .. } if f == field), "{payload}: {err}");
    }
    let err = backup(&fsx, json!({"fileSystemId": "fs-00000000000000000"})).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert_eq!(backups_of(&fsx, &fs).await, 0);
    // Nothing was created anywhere for the unknown id either.
    let all = fsx
        .describe_backups()
        .filters(
            snapmgmt_core::aws::aws_sdk_fsx::types::Filter::builder()
                .name(FilterName::FileSystemId)
                .values("fs-00000000000000000")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(all.backups().is_empty());
}

// ---------------------------------------------------------------- AWS faults, through the fault proxy

use kit::fault_proxy::{Fault, Rule};
use snapmgmt_core::aws::CallPattern;

#[tokio::test]
async fn a_connection_dropped_after_create_backup_was_sent_makes_no_second_backup() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let proxy = kit::fault_proxy();
    proxy.set_rules(vec![Rule::new("CreateBackup", Fault::DropAfterSend).count(1)], 1);
    let via = FsxClient::new(&kit::sdk_config_at(proxy.url(), CallPattern::Steady).await);

    let result = backup(&via, json!({"fileSystemId": fs, "runId": RUN})).await.unwrap();

    assert_eq!(proxy.faults().injected.get("CreateBackup"), Some(&1));
    assert_eq!(proxy.faults().requests.get("CreateBackup"), Some(&2), "the SDK retried the call");
    assert_eq!(backups_of(&fsx, &fs).await, 1, "the retry made a second backup");
    assert!(result.backup_id.is_some());
}

#[tokio::test]
async fn an_answer_later_than_the_attempt_timeout_is_abandoned_and_retried_without_a_second_backup() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let proxy = kit::fault_proxy();
    proxy.set_rules(vec![Rule::new("CreateBackup", Fault::Delay).count(1).delay_ms(2_500)], 1);
    // The functions' settings, with a short attempt timeout so the test need not wait 15 s.
    let config = kit::sdk_config_at(proxy.url(), CallPattern::Steady).await;
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(std::time::Duration::from_secs(1))
        .operation_timeout(std::time::Duration::from_secs(30))
        .build();
    let via = FsxClient::from_conf(
        snapmgmt_core::aws::aws_sdk_fsx::config::Builder::from(&config).timeout_config(timeouts).build(),
    );

    let started = std::time::Instant::now();
    let result = backup(&via, json!({"fileSystemId": fs, "runId": RUN})).await.unwrap();

    assert!(started.elapsed() < std::time::Duration::from_millis(2_500), "the slow attempt was waited for");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await; // the late request reaches the emulator too
    assert_eq!(backups_of(&fsx, &fs).await, 1);
    assert!(result.backup_id.is_some());
}

#[tokio::test]
async fn a_persistently_failing_service_is_reported_as_retryable_naming_the_operation() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let proxy = kit::fault_proxy();
    proxy.set_rules(vec![Rule::new("CreateBackup", Fault::Http503).body_contains(&fs)], 1);
    // The functions' retry strategy, with short waits so the test need not wait for eight backoffs.
    let config = kit::sdk_config_at(proxy.url(), CallPattern::Steady).await;
    let retry = CallPattern::Steady.retry_config().with_initial_backoff(std::time::Duration::from_millis(10));
    let via = FsxClient::from_conf(
        snapmgmt_core::aws::aws_sdk_fsx::config::Builder::from(&config).retry_config(retry).build(),
    );

    let err = backup(&via, json!({"fileSystemId": fs, "runId": RUN})).await.unwrap_err();

    assert_eq!(err.kind(), "AwsUnavailable", "{err}");
    assert!(err.to_string().contains("CreateBackup") && err.to_string().contains("ServiceUnavailable"), "{err}");
    let attempts = proxy.faults().requests.get("CreateBackup").copied();
    assert_eq!(attempts, Some(u64::from(CallPattern::Steady.max_attempts())));
    assert_eq!(backups_of(&fsx, &fs).await, 0);
}

// ---------------------------------------------------------------- copies to the copy Region

/// FSx's limit on copies in flight counts every copy to the Region: one copy test at a time, so the test
/// that fills it never holds up another's copy.
static ONE_COPY_TEST_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn copy(payload: Value) -> Result<CopyResult> {
    let (source, destination) = (kit::fsx_client().await, kit::copy_fsx_client().await);
    let settings = CopySettings { region: Some(kit::COPY_REGION.to_string()), ..Default::default() };
    let copying = Ok(Copying { settings, source_region: "us-east-1".into(), destination: Some(destination) });
    let mut context = lambda_runtime::Context::default();
    context.request_id = kit::unique("request");
    let backup_settings = Ok(BackupSettings::default());
    let function = BackupFsx { fsx: source, copying };
    let result = invoke(&function, &backup_settings, LambdaEvent::new(payload, context)).await?;
    Ok(result.copy().expect("a copy's result"))
}

#[tokio::test]
async fn a_completed_backup_is_copied_once_with_its_tags_and_followed_until_available() {
    let _alone = ONE_COPY_TEST_AT_A_TIME.lock().await;
    let fsx = kit::fsx_client().await;
    let destination = kit::copy_fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[kit::target_tag()]).await;
    let run = kit::unique("snapmgmt-run");
    let tags = [snapmgmt_core::tags::ownership(&fs, &run).as_slice(), &[("Name", "shares")]].concat();
    let backup_id = kit::create_backup(&fsx, &fs, &tags, 0).await;
    let event = json!({"action": "copy", "fileSystemId": fs, "backupId": backup_id, "runId": run});

    let first = copy(event.clone()).await.unwrap();
    let mut last = first.clone();
    for _ in 0..50 {
        last = copy(event.clone()).await.unwrap();
        if last.status != snapmgmt_core::model::CheckStatus::InProgress {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    assert_eq!((first.region.as_str(), first.copy_ids.len()), (kit::COPY_REGION, 1), "{first:?}");
    assert_eq!(first.status, snapmgmt_core::model::CheckStatus::InProgress, "a copy takes a while");
    assert_eq!(last.status, snapmgmt_core::model::CheckStatus::Ready, "{last:?}");
    assert_eq!(last.copy_ids, first.copy_ids, "asked again, no second copy");
    assert_eq!(backups_of(&destination, &fs).await, 1);
    let copied = snapmgmt_core::aws::fsx::describe_backup(&destination, &last.copy_ids[0]).await.unwrap();
    let copied_tags = tag_map(copied.tags());
    assert_eq!(copied_tags.get("snapmgmt:SourceId"), Some(&backup_id));
    assert_eq!(copied_tags.get("snapmgmt:SourceRegion").map(String::as_str), Some("us-east-1"));
    assert_eq!(copied_tags.get("snapmgmt:RunId"), Some(&run));
    assert_eq!(copied_tags.get("snapmgmt:TargetId"), Some(&fs));
    assert_eq!(copied_tags.get("Name").map(String::as_str), Some("shares"));
}

#[tokio::test]
async fn past_awss_limit_on_copies_in_flight_the_fsx_copy_waits_instead_of_failing() {
    let _alone = ONE_COPY_TEST_AT_A_TIME.lock().await;
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[kit::target_tag()]).await;
    let run = kit::unique("snapmgmt-run");
    let backup_id = kit::create_backup(&fsx, &fs, &snapmgmt_core::tags::ownership(&fs, &run), 0).await;
    // Five copies of someone else's backup, in flight for good: FSx's limit per destination Region.
    let other_fs = kit::create_windows_file_system(&fsx, &[]).await;
    let mut others = Vec::new();
    for _ in 0..5 {
        let other = kit::create_backup(&fsx, &other_fs, &[], 0).await;
        others.push(kit::copy_fsx_backup(&other, &[]).await);
    }
    for id in &others {
        kit::control(
            "/moto-api/snapmgmt/fsx/backup",
            &json!({"backupId": id, "lifecycle": "PENDING", "region": kit::COPY_REGION}),
        );
    }
    let event = json!({"action": "copy", "fileSystemId": fs, "backupId": backup_id, "runId": run});

    let waiting = copy(event.clone()).await.unwrap();

    assert_eq!(waiting.status, snapmgmt_core::model::CheckStatus::InProgress);
    assert!(waiting.copy_ids.is_empty() && waiting.detail.contains("limit"), "{waiting:?}");
    // Once the others are done, the next ask starts the copy.
    for id in &others {
        kit::control(
            "/moto-api/snapmgmt/fsx/backup",
            &json!({"backupId": id, "lifecycle": "AVAILABLE", "region": kit::COPY_REGION}),
        );
    }
    let started = copy(event).await.unwrap();
    assert_eq!(started.copy_ids.len(), 1, "{started:?}");
}

#[tokio::test]
async fn a_failed_fsx_copy_fails_and_a_bad_copy_event_names_its_field() {
    let _alone = ONE_COPY_TEST_AT_A_TIME.lock().await;
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[kit::target_tag()]).await;
    let run = kit::unique("snapmgmt-run");
    let backup_id = kit::create_backup(&fsx, &fs, &snapmgmt_core::tags::ownership(&fs, &run), 0).await;
    let event = json!({"action": "copy", "fileSystemId": fs, "backupId": backup_id, "runId": run});
    let started = copy(event.clone()).await.unwrap();
    kit::control(
        "/moto-api/snapmgmt/fsx/backup",
        &json!({"backupId": started.copy_ids[0], "lifecycle": "FAILED", "region": kit::COPY_REGION}),
    );
    let failed = copy(event).await.unwrap();
    assert_eq!(failed.status, snapmgmt_core::model::CheckStatus::Failed, "{failed:?}");

    let dry = copy(json!({"action": "copy", "fileSystemId": fs, "backupId": null, "dryRun": true})).await.unwrap();
    assert_eq!((dry.status, dry.copy_ids.len()), (snapmgmt_core::model::CheckStatus::Ready, 0));
    for (event, field) in [
        (json!({"action": "paste", "fileSystemId": fs}), "action"),
        (json!({"action": "copy", "fileSystemId": fs}), "backupId"),
        (json!({"action": "copy", "fileSystemId": fs, "backupId": "snap-0123456789abcdef0"}), "backupId"),
        (json!({"action": "copy", "fileSystemId": "i-0123456789abcdef0", "backupId": backup_id}), "fileSystemId"),
    ] {
        let err = copy(event.clone()).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field: f, .. } if f == field), "{event}: {err}");
    }
    let event = json!({"action": "copy", "fileSystemId": fs, "backupId": backup_id});
    let err = invoke(&no_copies(&fsx), &Ok(BackupSettings::default()), LambdaEvent::new(event, Default::default()))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::InvalidSetting { name: "COPY_REGION", .. }), "{err}");
}
