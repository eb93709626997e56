//! backup-fsx against the emulator.

use super::*;
use serde_json::json;
use snapmgmt_core::aws::aws_sdk_fsx::types::FilterName;
use snapmgmt_core::aws::fsx::{list_backups, tag_map};
use snapmgmt_core::Error;
use snapmgmt_testkit as kit;

const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:snapmgmt:snapmgmt-20261125T160000Z";

async fn backup(fsx: &FsxClient, payload: Value) -> Result<BackupFsxResult> {
    let mut context = lambda_runtime::Context::default();
    context.request_id = "7f3c0b1e-request".to_string();
    handler(fsx, LambdaEvent::new(payload, context)).await
}

async fn backups_of(fsx: &FsxClient, fs: &str) -> usize {
    list_backups(fsx, fs, None, None).await.unwrap().len()
}

#[tokio::test]
async fn takes_a_backup_tagged_as_ours_without_copying_the_file_systems_tags() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[kit::target_tag(), ("CostCenter", "42")]).await;
    let result = backup(&fsx, json!({"fileSystemId": fs, "executionId": EXECUTION})).await.unwrap();
    assert_eq!(result.lifecycle.as_deref(), Some("CREATING"));
    let id = result.backup_id.unwrap();
    let created = snapmgmt_core::aws::fsx::describe_backup(&fsx, &id).await.unwrap();
    let tags = tag_map(created.tags());
    assert_eq!(tags.get("ManagedBy").map(String::as_str), Some("snapmgmt"));
    assert_eq!(tags.get("snapmgmt:TargetId"), Some(&fs));
    assert_eq!(tags.get("snapmgmt:RunId").map(String::as_str), Some("snapmgmt-20261125T160000Z"));
    assert_eq!(tags.len(), 3, "{tags:?}");
}

#[tokio::test]
async fn a_retried_invocation_returns_the_same_backup() {
    let fsx = kit::fsx_client().await;
    let fs = kit::create_windows_file_system(&fsx, &[]).await;
    let event = json!({"fileSystemId": fs, "executionId": EXECUTION});
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
    backup(&fsx, json!({"fileSystemId": fs, "executionId": EXECUTION})).await.unwrap();
    let err = backup(&fsx, json!({"fileSystemId": fs, "executionId": format!("{EXECUTION}-2")})).await.unwrap_err();
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
        (json!({"fileSystemId": fs, "executionId": ""}), "executionId"),
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
