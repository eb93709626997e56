//! check-in-progress against the emulator.

use check_in_progress::CheckInProgress;
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use snapmgmt_core::aws::aws_sdk_fsx::Client as FsxClient;
use snapmgmt_core::model::CheckResult;
use snapmgmt_core::model::CheckStatus;
use snapmgmt_core::serve::invoke;
use snapmgmt_core::tags::CopyTags;
use snapmgmt_core::Error;
use snapmgmt_core::Result;
use snapmgmt_testkit as kit;

async fn check(fsx: &FsxClient, payload: Value) -> Result<CheckResult> {
    let (ec2, ssm) = (kit::ec2_client().await, kit::ssm_client().await);
    let function = CheckInProgress { fsx: fsx.clone(), ec2, ssm };
    let copy_tags = Ok(CopyTags::parse(snapmgmt_core::tags::DEFAULT_COPY_TAGS).unwrap());
    invoke(&function, &copy_tags, LambdaEvent::new(payload, Default::default())).await
}

#[tokio::test]
async fn no_backup_in_progress_is_ready() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    kit::create_backup(&fsx, &fs, &[], 3).await;
    let result = check(&fsx, json!({"kind": "fsx", "fileSystemId": fs, "attempt": 4})).await.unwrap();
    assert_eq!(result.status, CheckStatus::Ready);
    assert_eq!(result.attempt, 5);
}

#[tokio::test]
async fn creating_and_pending_backups_are_in_progress() {
    let fsx = kit::fsx_client().await;
    for lifecycle in ["CREATING", "PENDING"] {
        let fs = kit::create_windows_file_system(&fsx, &[]).await;
        let busy = kit::create_backup(&fsx, &fs, &[], 0).await;
        kit::set_backup(&busy, json!({"lifecycle": lifecycle}));
        let result = check(&fsx, json!({"kind": "fsx", "fileSystemId": fs})).await.unwrap();
        assert_eq!(result.status, CheckStatus::InProgress, "{lifecycle}");
        assert_eq!(result.attempt, 1);
        assert!(result.detail.contains(&busy) && result.detail.contains(lifecycle), "{}", result.detail);
    }
}

#[tokio::test]
async fn an_ontap_volume_is_checked_by_its_own_backups() {
    let fsx = kit::fsx_client().await;
    let (_, busy_volume) = kit::create_ontap_volume(&fsx, &[], &[]).await;
    let (_, idle_volume) = kit::create_ontap_volume(&fsx, &[], &[]).await;
    let busy = kit::create_backup(&fsx, &busy_volume, &[], 0).await;
    kit::set_backup(&busy, json!({"lifecycle": "CREATING"}));
    kit::create_backup(&fsx, &idle_volume, &[], 2).await;
    let result = check(&fsx, json!({"kind": "fsx", "fileSystemId": busy_volume})).await.unwrap();
    assert_eq!(result.status, CheckStatus::InProgress);
    assert!(result.detail.contains(&busy), "{}", result.detail);
    let result = check(&fsx, json!({"kind": "fsx", "volumeId": idle_volume})).await.unwrap();
    assert_eq!(result.status, CheckStatus::Ready, "{}", result.detail);
    let err = check(&fsx, json!({"kind": "fsx", "fileSystemId": "fsvol-00000000000000000"})).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn a_new_backup_is_followed_until_available_or_failed() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    kit::script_next_backups(&fs, json!([{"lifecycle": "AVAILABLE", "seconds": 600}]));
    let backup = fsx.create_backup().file_system_id(&fs).send().await.unwrap().backup.unwrap().backup_id.unwrap();
    let ask = json!({"kind": "fsxBackup", "backupId": backup, "attempt": 0});
    assert_eq!(check(&fsx, ask.clone()).await.unwrap().status, CheckStatus::InProgress);
    kit::set_backup(&backup, json!({"lifecycle": "AVAILABLE"}));
    assert_eq!(check(&fsx, ask.clone()).await.unwrap().status, CheckStatus::Ready);
    kit::set_backup(&backup, json!({"lifecycle": "FAILED"}));
    let failed = check(&fsx, ask).await.unwrap();
    assert_eq!(failed.status, CheckStatus::Failed);
    assert!(failed.detail.contains("FAILED"), "{}", failed.detail);
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let fsx = kit::fsx_client().await;
    let err = check(&fsx, json!({"kind": "fsx", "fileSystemId": "fs-00000000000000000"})).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let err = check(&fsx, json!({"kind": "fsxBackup", "backupId": "backup-00000000000000000"})).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn malformed_events_name_the_field() {
    let fsx = kit::fsx_client().await;
    for (payload, field) in [
        (json!({}), "kind"),
        (json!({"kind": "fsx"}), "fileSystemId"),
        (json!({"kind": "fsx", "fileSystemId": "fs-01234567", "attempt": "two"}), "attempt"),
        (json!({"kind": "fsxBackup", "backupId": "fs-01234567"}), "backupId"),
    ] {
        let err = check(&fsx, payload.clone()).await.unwrap_err();
        assert_eq!(err.kind(), "InvalidEvent", "{payload}");
        assert!(err.to_string().contains(field), "{payload}: {err}");
    }
}

// ---------------------------------------------------------------- EBS snapshot runs

async fn wait_for_final(fsx: &FsxClient, payload: Value) -> CheckResult {
    for _ in 0..50 {
        let result = check(fsx, payload.clone()).await.unwrap();
        if result.status != CheckStatus::InProgress {
            return result;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("still in progress: {payload}");
}

#[tokio::test]
async fn an_automation_run_is_ready_once_it_succeeded_and_its_snapshots_completed() {
    let fsx = kit::fsx_client().await;
    let (ec2, ssm) = (kit::ec2_client().await, kit::ssm_client().await);
    let instance = kit::create_instance(&ec2, &[("Name", "web-1"), ("CostCenter", "42"), ("Secret", "x")], 2).await;
    let document = kit::create_snapshot_document(&ssm).await;
    let started = ssm
        .start_automation_execution()
        .document_name(document)
        .parameters("InstanceId", vec![instance.clone()])
        .parameters("ExecutionId", vec!["run".into()])
        .parameters("Attempt", vec!["0".into()])
        .send()
        .await
        .unwrap();
    let payload = json!({"kind": "ec2Snapshot", "instanceId": &instance,
                         "automationExecutionId": started.automation_execution_id, "snapshotIds": []});

    let first = check(&fsx, payload.clone()).await.unwrap();
    let last = wait_for_final(&fsx, payload).await;

    assert_eq!(first.status, CheckStatus::InProgress, "{first:?}");
    assert_eq!(last.status, CheckStatus::Ready, "{last:?}");
    let described = ec2.describe_instances().instance_ids(&instance).send().await.unwrap();
    let volumes = described.reservations()[0].instances()[0].block_device_mappings().len();
    let ids = last.snapshot_ids.unwrap();
    assert_eq!(ids.len(), volumes, "one snapshot per volume, in one set");
    // The completed set is labelled: named by instance and device, with the instance's allow-listed tags.
    let devices: std::collections::HashMap<String, String> = described.reservations()[0].instances()[0]
        .block_device_mappings()
        .iter()
        .map(|m| (m.ebs().unwrap().volume_id().unwrap().to_string(), m.device_name().unwrap().to_string()))
        .collect();
    for snapshot in ec2.describe_snapshots().set_snapshot_ids(Some(ids)).send().await.unwrap().snapshots() {
        let tags: std::collections::HashMap<&str, &str> =
            snapshot.tags().iter().map(|t| (t.key().unwrap(), t.value().unwrap())).collect();
        let device = &devices[snapshot.volume_id().unwrap()];
        assert_eq!(tags.get("Name").copied(), Some(format!("web-1 ({instance}) {device}").as_str()));
        assert_eq!(tags.get("CostCenter").copied(), Some("42"));
        assert_eq!(tags.get("ManagedBy").copied(), Some("snapmgmt"));
        assert!(!tags.contains_key("Secret"), "{tags:?}");
    }
}

#[tokio::test]
async fn a_failed_automation_fails_with_its_message() {
    let fsx = kit::fsx_client().await;
    let (ec2, ssm) = (kit::ec2_client().await, kit::ssm_client().await);
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let document = kit::create_snapshot_document(&ssm).await;
    kit::script_next_automations(&instance, json!([{"status": "TimedOut", "message": "Step FreezeLinux timed out"}]));
    let started = ssm
        .start_automation_execution()
        .document_name(document)
        .parameters("InstanceId", vec![instance.clone()])
        .send()
        .await
        .unwrap();

    let last = wait_for_final(
        &fsx,
        json!({"kind": "ec2Snapshot", "instanceId": instance, "automationExecutionId": started.automation_execution_id}),
    )
    .await;

    assert_eq!(last.status, CheckStatus::Failed);
    assert!(last.detail.contains("TimedOut") && last.detail.contains("FreezeLinux"), "{}", last.detail);
}

#[tokio::test]
async fn a_direct_run_waits_for_its_pending_snapshots() {
    let fsx = kit::fsx_client().await;
    let ec2 = kit::ec2_client().await;
    let instance = kit::create_instance(&ec2, &[], 1).await;
    let snapshot = kit::create_snapshot(&ec2, &instance, &kit::our_snapshot_tags(&instance, "run"), 0).await;
    kit::set_snapshot(&snapshot, json!({"state": "pending"}));
    let payload = json!({"kind": "ec2Snapshot", "instanceId": instance, "snapshotIds": [snapshot]});

    assert_eq!(check(&fsx, payload.clone()).await.unwrap().status, CheckStatus::InProgress);
    kit::set_snapshot(&snapshot, json!({"state": "error"}));
    assert_eq!(check(&fsx, payload.clone()).await.unwrap().status, CheckStatus::Failed);
    kit::set_snapshot(&snapshot, json!({"state": "completed"}));
    assert_eq!(check(&fsx, payload).await.unwrap().status, CheckStatus::Ready);
    let err = check(&fsx, json!({"kind": "ec2Snapshot", "instanceId": instance})).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidEvent { field, .. } if field == "automationExecutionId"), "{err}");
}
