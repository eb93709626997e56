//! check-in-progress against the emulator.

use super::*;
use serde_json::json;
use snapmgmt_core::model::CheckStatus;
use snapmgmt_core::Error;
use snapmgmt_testkit as kit;

async fn check(fsx: &FsxClient, payload: Value) -> Result<CheckResult> {
    let (ec2, ssm) = (kit::ec2_client().await, kit::ssm_client().await);
    let clients = Clients { fsx, ebs: ebs::Clients { ec2: &ec2, ssm: &ssm } };
    handler(clients, LambdaEvent::new(payload, Default::default())).await
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
