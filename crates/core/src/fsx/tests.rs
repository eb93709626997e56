//! The FSx store under the cleanup engine, with the SDK's mocks: what the emulator cannot make fail on cue.

use super::*;
use crate::cleanup;
use crate::config::RetentionConfig;
use crate::tags::{MANAGED_BY_KEY, MANAGED_BY_VALUE, RUN_ID_KEY, TARGET_ID_KEY};
use aws_sdk_fsx::operation::delete_backup::{DeleteBackupError, DeleteBackupOutput};
use aws_sdk_fsx::operation::describe_backups::DescribeBackupsOutput;
use aws_sdk_fsx::operation::describe_file_systems::DescribeFileSystemsOutput;
use aws_sdk_fsx::types::{Backup, FileSystem, Tag};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::error::ErrorMetadata;

const FS: &str = "fs-0123456789abcdef0";
const ACCOUNT: &str = "123456789012";

fn our_backup(id: &str, age_days: i64, now: i64) -> Backup {
    Backup::builder()
        .backup_id(id)
        .lifecycle(BackupLifecycle::Available)
        .r#type(BackupType::UserInitiated)
        .owner_id(ACCOUNT)
        .creation_time(aws_smithy_types::DateTime::from_secs(now - age_days * 86_400))
        .file_system(FileSystem::builder().file_system_id(FS).build())
        .tags(Tag::builder().key(MANAGED_BY_KEY).value(MANAGED_BY_VALUE).build())
        .tags(Tag::builder().key(TARGET_ID_KEY).value(FS).build())
        .tags(Tag::builder().key(RUN_ID_KEY).value(if id.contains("new") { "run-now" } else { "run-old" }).build())
        .build()
}

#[tokio::test]
async fn one_failed_delete_does_not_stop_the_others() {
    let now = 1_800_000_000;
    let fs = mock!(aws_sdk_fsx::Client::describe_file_systems).then_output(|| {
        DescribeFileSystemsOutput::builder()
            .file_systems(FileSystem::builder().file_system_id(FS).owner_id(ACCOUNT).build())
            .build()
    });
    let new = mock!(aws_sdk_fsx::Client::describe_backups)
        .match_requests(|r| !r.backup_ids().is_empty())
        .then_output(move || DescribeBackupsOutput::builder().backups(our_backup("backup-new00000", 0, now)).build());
    let list = mock!(aws_sdk_fsx::Client::describe_backups).match_requests(|r| r.backup_ids().is_empty()).then_output(
        move || {
            DescribeBackupsOutput::builder()
                .backups(our_backup("backup-new00000", 0, now))
                .backups(our_backup("backup-old00001", 10, now))
                .backups(our_backup("backup-old00002", 11, now))
                .backups(our_backup("backup-old00003", 12, now))
                .build()
        },
    );
    let denied = mock!(aws_sdk_fsx::Client::delete_backup)
        .match_requests(|r| r.backup_id() == Some("backup-old00002"))
        .then_error(|| DeleteBackupError::generic(ErrorMetadata::builder().code("AccessDeniedException").build()));
    let deleted = mock!(aws_sdk_fsx::Client::delete_backup).then_output(|| DeleteBackupOutput::builder().build());
    let client = mock_client!(aws_sdk_fsx, RuleMode::MatchAny, [&fs, &new, &list, &denied, &deleted]);

    let new = ["backup-new00000".to_string()];
    let request = crate::cleanup::memory::request(FS, "newBackupId", Some(&new), Some("run-now"), now);
    let report = cleanup::run(
        &FsxStore { client: &client, sources: &client },
        RetentionConfig { retention_days: 7, min_keep: 1, max_delete_percent: 100, ..RetentionConfig::default() },
        request,
    )
    .await
    .unwrap();
    assert_eq!(report.deleted, ["backup-old00001", "backup-old00003"]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].id, "backup-old00002");
    assert!(report.failed[0].error.contains("AccessDeniedException"), "{}", report.failed[0].error);
    assert_eq!(deleted.num_calls(), 2);
}
