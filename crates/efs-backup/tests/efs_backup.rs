//! efs-backup against the emulator: both actions, idempotency, failed jobs, bad input.

use efs_backup::{Copying, EfsBackup};
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use snapmgmt_core::config::CopySettings;
use snapmgmt_core::config::{BackupSettings, EfsBackupConfig};
use snapmgmt_core::model::CopyResult;
use snapmgmt_core::model::{CheckStatus, EfsBackupResult};
use snapmgmt_core::serve;
use snapmgmt_core::Error;
use snapmgmt_core::Result;
use snapmgmt_testkit as kit;

const ROLE: &str = "arn:aws:iam::123456789012:role/snapmgmt-backup";

async fn invoke(config: &Result<EfsBackupConfig>, payload: Value) -> Result<EfsBackupResult> {
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let mut context = lambda_runtime::Context::default();
    context.request_id = kit::unique("request");
    let copy_tags = snapmgmt_core::tags::CopyTags::parse(snapmgmt_core::tags::DEFAULT_COPY_TAGS).unwrap();
    let settings = config.clone().map(|config| (config, BackupSettings { copy_tags, ..Default::default() }));
    let copying =
        Ok(Copying { settings: CopySettings::default(), source_region: "us-east-1".into(), destination: None });
    let function = EfsBackup { efs, backup, copying };
    let result = serve::invoke(&function, &settings, LambdaEvent::new(payload, context)).await?;
    Ok(result.backup().expect("a backup's result"))
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

// ---------------------------------------------------------------- copies to the copy Region

async fn copy(config: &EfsBackupConfig, copy_vault: Option<&str>, payload: Value) -> Result<CopyResult> {
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let destination = kit::copy_backup_client().await;
    let settings = CopySettings {
        region: Some(kit::COPY_REGION.to_string()),
        backup_vault_name: copy_vault.map(str::to_string),
        ..Default::default()
    };
    let copying = Ok(Copying { settings, source_region: "us-east-1".into(), destination: Some(destination) });
    let mut context = lambda_runtime::Context::default();
    context.request_id = kit::unique("request");
    let config = Ok((config.clone(), BackupSettings::default()));
    let function = EfsBackup { efs, backup, copying };
    let result = serve::invoke(&function, &config, LambdaEvent::new(payload, context)).await?;
    Ok(result.copy().expect("a copy's result"))
}

/// A completed point of ours in a new vault of the stack's Region, and a new vault in the copy Region.
async fn point_to_copy(run: &str) -> (String, EfsBackupConfig, String, String) {
    let (efs, backup) = (kit::efs_client().await, kit::backup_client().await);
    let (fs, fs_arn) = kit::create_efs_with_arn(&efs, &[]).await;
    let vault = kit::create_vault(&backup).await;
    let tags = [kit::our_point_tags(&fs, run), json!({"Name": "home"})];
    let mut point_tags = tags[0].clone();
    point_tags["Name"] = tags[1]["Name"].clone();
    let point = kit::create_recovery_points(&vault, &fs_arn, &[json!({"tags": point_tags, "ageDays": 0})]).remove(0);
    let copy_vault = kit::create_vault(&kit::copy_backup_client().await).await;
    let config = EfsBackupConfig {
        backup_vault_name: Some(vault),
        backup_role_arn: Some(ROLE.to_string()),
        ..Default::default()
    };
    (fs, config, point, copy_vault)
}

/// Asks until the copy ends, handing each answer's job on, as the workflow does.
async fn copy_until_final(config: &EfsBackupConfig, copy_vault: &str, mut event: Value) -> Vec<CopyResult> {
    let mut answers = Vec::new();
    for attempt in 0..40 {
        event["attempt"] = json!(attempt);
        let answer = copy(config, Some(copy_vault), event.clone()).await.unwrap();
        event["copyJobId"] = json!(answer.copy_job_id);
        let done = answer.status != CheckStatus::InProgress;
        answers.push(answer);
        if done {
            return answers;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("the copy never ended: {answers:?}");
}

#[tokio::test]
async fn a_completed_point_is_copied_once_into_the_copy_vault_with_its_tags_and_its_source() {
    let run = kit::unique("snapmgmt-run");
    let (fs, config, point, copy_vault) = point_to_copy(&run).await;
    let event = json!({"action": "copy", "fileSystemId": fs, "recoveryPointArn": point, "runId": run});

    let answers = copy_until_final(&config, &copy_vault, event.clone()).await;
    // The workflow's step retried from the start (no job handed on) finds the same job by its token.
    let retried = copy(&config, Some(&copy_vault), event).await.unwrap();

    let last = answers.last().unwrap();
    assert_eq!(last.status, CheckStatus::Ready, "{answers:?}");
    assert_eq!(answers[0].status, CheckStatus::InProgress, "a copy job takes a while");
    assert_eq!(retried.copy_job_id, last.copy_job_id, "a retried start makes no second job");
    let destination = kit::copy_backup_client().await;
    let copies = destination.list_recovery_points_by_backup_vault().backup_vault_name(&copy_vault).send().await;
    let copies = copies.unwrap().recovery_points.unwrap_or_default();
    assert_eq!(copies.len(), 1, "one copy, however often asked");
    let copy_arn = copies[0].recovery_point_arn().unwrap();
    assert_eq!(last.copy_ids, vec![copy_arn.to_string()]);
    assert!(copy_arn.contains(&format!(":backup:{}:", kit::COPY_REGION)), "{copy_arn}");
    let tags = snapmgmt_core::aws::backup::list_tags(&destination, copy_arn).await.unwrap();
    assert_eq!(tags.get("snapmgmt:SourceId"), Some(&point));
    assert_eq!(tags.get("snapmgmt:SourceRegion").map(String::as_str), Some("us-east-1"));
    assert_eq!(tags.get("snapmgmt:RunId"), Some(&run));
    assert_eq!(tags.get("ManagedBy").map(String::as_str), Some("snapmgmt"));
    assert_eq!(tags.get("Name").map(String::as_str), Some("home"));
}

#[tokio::test]
async fn a_copy_into_a_vault_that_does_not_exist_fails_with_awss_reason() {
    let run = kit::unique("snapmgmt-run");
    let (fs, config, point, _) = point_to_copy(&run).await;
    let event = json!({"action": "copy", "fileSystemId": fs, "recoveryPointArn": point, "runId": run});

    let answers = copy_until_final(&config, "no-such-vault", event).await;

    let last = answers.last().unwrap();
    assert_eq!(last.status, CheckStatus::Failed, "{answers:?}");
    assert!(last.detail.contains("no-such-vault") && last.copy_ids.is_empty(), "{last:?}");
}

#[tokio::test]
async fn a_copy_without_its_settings_or_with_a_bad_event_names_what_is_wrong() {
    let run = kit::unique("snapmgmt-run");
    let (fs, config, point, copy_vault) = point_to_copy(&run).await;
    let event = json!({"action": "copy", "fileSystemId": fs, "recoveryPointArn": point, "runId": run});
    let err = copy(&config, None, event.clone()).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidSetting { name: "COPY_BACKUP_VAULT_NAME", .. }), "{err}");
    let no_role = EfsBackupConfig { backup_role_arn: None, ..config.clone() };
    let err = copy(&no_role, Some(&copy_vault), event).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidSetting { name: "BACKUP_ROLE_ARN", .. }), "{err}");

    let dry = copy(&config, Some(&copy_vault), json!({"action": "copy", "fileSystemId": fs, "dryRun": true}));
    let dry = dry.await.unwrap();
    assert_eq!((dry.status, dry.copy_ids.len(), dry.copy_job_id), (CheckStatus::Ready, 0, None));
    for (event, field) in [
        (json!({"action": "copy", "fileSystemId": fs}), "recoveryPointArn"),
        (json!({"action": "copy", "fileSystemId": fs, "recoveryPointArn": "arn:aws:backup:x"}), "recoveryPointArn"),
        (json!({"action": "copy", "fileSystemId": "fsx-1", "recoveryPointArn": point}), "fileSystemId"),
    ] {
        let err = copy(&config, Some(&copy_vault), event.clone()).await.unwrap_err();
        assert!(matches!(&err, Error::InvalidEvent { field: f, .. } if f == field), "{event}: {err}");
    }
}
