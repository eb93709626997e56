//! efs-backup against the emulator: both actions, idempotency, failed jobs, bad input.

use super::*;
use serde_json::json;
use snapmgmt_core::model::CheckStatus;
use snapmgmt_core::Error;
use snapmgmt_testkit as kit;

const ROLE: &str = "arn:aws:iam::123456789012:role/snapmgmt-backup";

async fn invoke(config: &Result<EfsBackupConfig>, payload: Value) -> Result<EfsBackupResult> {
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let mut context = lambda_runtime::Context::default();
    context.request_id = kit::unique("request");
    let copy_tags = snapmgmt_core::tags::CopyTags::parse(snapmgmt_core::tags::DEFAULT_COPY_TAGS).unwrap();
    let settings = config.clone().map(|config| (config, BackupSettings { copy_tags, ..Default::default() }));
    handler(efs::Clients { efs: &efs, backup: &backup }, &settings, LambdaEvent::new(payload, context)).await
}

async fn until_final(job_id: &str) -> EfsBackupResult {
    let config = Ok(EfsBackupConfig::default());
    for attempt in 0..40 {
        let result =
            invoke(&config, json!({"action": "status", "backupJobId": job_id, "attempt": attempt})).await.unwrap();
        if result.status != Some(CheckStatus::InProgress) {
            return result;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("job {job_id} never ended");
}

#[tokio::test]
async fn a_started_job_completes_with_a_recovery_point_and_a_retried_start_reuses_it() {
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let fs = kit::create_efs(&efs, &[]).await;
    let vault = kit::create_vault(&backup).await;
    let start = json!({"action": "start", "fileSystemId": fs, "backupVaultName": vault, "iamRoleArn": ROLE,
                       "runId": "sop-one"});
    let config = Ok(EfsBackupConfig::default());

    let first = invoke(&config, start.clone()).await.unwrap();
    let again = invoke(&config, start.clone()).await.unwrap();
    let mut next_run = start.clone();
    next_run["runId"] = json!("sop-two");
    let next = invoke(&config, next_run).await.unwrap();

    let job = first.backup_job_id.clone().unwrap();
    assert_eq!(again.backup_job_id.as_deref(), Some(job.as_str()), "same execution, same job");
    assert_ne!(next.backup_job_id.as_deref(), Some(job.as_str()), "next execution, new job");
    let done = until_final(&job).await;
    assert_eq!(done.status, Some(CheckStatus::Ready), "{done:?}");
    let point = done.recovery_point_arn.unwrap();
    let points = backup.list_recovery_points_by_backup_vault().backup_vault_name(&vault).send().await.unwrap();
    assert!(points.recovery_points().iter().any(|p| p.recovery_point_arn() == Some(point.as_str())), "in the vault");
}

#[tokio::test]
async fn the_recovery_point_carries_our_tags_and_the_allow_listed_tags_of_the_file_system() {
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let fs = kit::create_efs(&efs, &[("Name", "home"), ("Secret", "x")]).await;
    let vault = kit::create_vault(&backup).await;
    let start = json!({"action": "start", "fileSystemId": fs, "backupVaultName": vault, "iamRoleArn": ROLE,
                       "runId": "sop-tags"});
    let job = invoke(&Ok(EfsBackupConfig::default()), start).await.unwrap().backup_job_id.unwrap();
    let point = until_final(&job).await.recovery_point_arn.unwrap();
    let tags = backup.list_tags().resource_arn(&point).send().await.unwrap().tags.unwrap_or_default();
    assert_eq!(tags.get("Name").map(String::as_str), Some("home"));
    assert_eq!(tags.get("snapmgmt:TargetId"), Some(&fs));
    assert!(!tags.contains_key("Secret"), "{tags:?}");
}

#[tokio::test]
async fn a_failed_job_ends_at_once_with_its_message() {
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let fs = kit::create_efs(&efs, &[]).await;
    let arn = efs.describe_file_systems().file_system_id(&fs).send().await.unwrap().file_systems()[0]
        .file_system_arn()
        .unwrap()
        .to_string();
    kit::script_next_backup_jobs(&arn, json!([{"state": "ABORTED", "message": "Backup job aborted by the user"}]));
    // The vault and the role from the settings, as the scheduled workflow gives them.
    let config = Ok(EfsBackupConfig {
        backup_vault_name: Some(kit::create_vault(&backup).await),
        backup_role_arn: Some(ROLE.into()),
        delete_after_days: Some(35),
    });

    let started = invoke(&config, json!({"action": "start", "fileSystemId": fs})).await.unwrap();
    let done = until_final(started.backup_job_id.as_deref().unwrap()).await;

    assert_eq!(done.status, Some(CheckStatus::Failed));
    assert!(done.detail.contains("ABORTED") && done.detail.contains("aborted by the user"), "{}", done.detail);
}

#[tokio::test]
async fn bad_input_is_named_and_starts_nothing() {
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let fs = kit::create_efs(&efs, &[]).await;
    let vault = kit::create_vault(&backup).await;
    let config = Ok(EfsBackupConfig::default());
    for (payload, field) in [
        (json!({"fileSystemId": fs}), "action"),
        (json!({"action": "stop", "fileSystemId": fs}), "action"),
        (json!({"action": "start", "fileSystemId": "i-0123456789abcdef0"}), "fileSystemId"),
        (json!({"action": "start", "fileSystemId": fs, "iamRoleArn": ROLE}), "backupVaultName"),
        (json!({"action": "start", "fileSystemId": fs, "backupVaultName": vault}), "iamRoleArn"),
        (json!({"action": "start", "fileSystemId": fs, "backupVaultName": vault, "iamRoleArn": "admin"}), "iamRoleArn"),
        (json!({"action": "status"}), "backupJobId"),
    ] {
        let err = invoke(&config, payload.clone()).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field: f, .. } if f == field), "{payload}: {err}");
    }
    let err = invoke(
        &config,
        json!({"action": "start", "fileSystemId": "fs-0123456789abcdef0",
                                     "backupVaultName": vault, "iamRoleArn": ROLE}),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let dry = invoke(
        &config,
        json!({"action": "start", "fileSystemId": fs, "backupVaultName": vault,
                                     "iamRoleArn": ROLE, "dryRun": true}),
    )
    .await
    .unwrap();
    assert_eq!(dry.backup_job_id, None);
}
