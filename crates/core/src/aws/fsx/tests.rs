//! Error paths of the FSx functions, with the SDK's own mocks: throttling is retried, not-found and
//! access-denied are reported with their codes, pagination follows every token.

use super::*;
use aws_sdk_fsx::operation::create_backup::{CreateBackupError, CreateBackupOutput};
use aws_sdk_fsx::operation::delete_backup::{DeleteBackupError, DeleteBackupOutput};
use aws_sdk_fsx::operation::describe_backups::{DescribeBackupsError, DescribeBackupsOutput};
use aws_sdk_fsx::operation::describe_file_systems::{DescribeFileSystemsError, DescribeFileSystemsOutput};
use aws_sdk_fsx::types::error::{BackupInProgress, BackupNotFound, BackupRestoring, FileSystemNotFound};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::error::ErrorMetadata;

fn throttled() -> DescribeBackupsError {
    DescribeBackupsError::generic(ErrorMetadata::builder().code("ThrottlingException").message("Rate exceeded").build())
}

fn backup(id: &str) -> Backup {
    Backup::builder().backup_id(id).lifecycle(BackupLifecycle::Available).build()
}

#[tokio::test]
async fn throttling_is_retried_with_backoff_until_it_succeeds() {
    let rule = mock!(Client::describe_backups)
        .sequence()
        .error(throttled)
        .times(2)
        .output(|| DescribeBackupsOutput::builder().backups(backup("backup-0001")).build())
        .build();
    let client = mock_client!(aws_sdk_fsx, [&rule]);
    let backups = list_backups(&client, Source::of("fs-01234567"), None, None).await.unwrap();
    assert_eq!(backups.len(), 1);
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn persistent_throttling_gives_up_and_names_the_operation() {
    let rule = mock!(Client::describe_backups).sequence().error(throttled).repeatedly().build();
    let client = mock_client!(aws_sdk_fsx, RuleMode::Sequential, [&rule], |c| c
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3)));
    let err = list_backups(&client, Source::of("fs-01234567"), None, None).await.unwrap_err();
    assert_eq!(err.aws_code(), Some("ThrottlingException"));
    assert!(err.to_string().contains("fsx:DescribeBackups"), "{err}");
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn access_denied_is_not_retried_and_keeps_its_code() {
    let rule = mock!(Client::create_backup).then_error(|| {
        CreateBackupError::generic(ErrorMetadata::builder().code("AccessDeniedException").message("no").build())
    });
    let client = mock_client!(aws_sdk_fsx, [&rule]);
    let err = create_backup(&client, Source::of("fs-01234567"), "t", &[]).await.unwrap_err();
    assert_eq!(err.aws_code(), Some("AccessDeniedException"));
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn backup_in_progress_has_its_own_error() {
    let rule = mock!(Client::create_backup)
        .then_error(|| CreateBackupError::BackupInProgress(BackupInProgress::builder().message("busy").build()));
    let client = mock_client!(aws_sdk_fsx, [&rule]);
    let err = create_backup(&client, Source::of("fs-01234567"), "t", &[]).await.unwrap_err();
    assert_eq!(err, Error::BackupInProgress { file_system_id: "fs-01234567".into() });
    assert_eq!(err.kind(), "BackupInProgress");
}

#[tokio::test]
async fn create_backup_sends_token_and_tags() {
    let rule = mock!(Client::create_backup)
        .match_requests(|r| {
            r.client_request_token() == Some("tok")
                && r.tags().iter().any(|t| t.key() == Some("ManagedBy") && t.value() == Some("snapmgmt"))
        })
        .then_output(|| CreateBackupOutput::builder().backup(backup("backup-0002")).build());
    let client = mock_client!(aws_sdk_fsx, [&rule]);
    let b = create_backup(&client, Source::of("fs-01234567"), "tok", &[("ManagedBy", "snapmgmt")]).await.unwrap();
    assert_eq!(b.backup_id(), Some("backup-0002"));
}

#[tokio::test]
async fn unknown_file_system_is_not_found() {
    let rule = mock!(Client::describe_file_systems).then_error(|| {
        DescribeFileSystemsError::FileSystemNotFound(FileSystemNotFound::builder().message("gone").build())
    });
    let client = mock_client!(aws_sdk_fsx, [&rule]);
    let err = describe_file_system(&client, "fs-01234567").await.unwrap_err();
    assert_eq!(err, Error::NotFound { kind: "FSx file system", id: "fs-01234567".into() });
}

#[tokio::test]
async fn empty_answer_is_not_found_too() {
    let rule = mock!(Client::describe_file_systems).then_output(|| DescribeFileSystemsOutput::builder().build());
    let client = mock_client!(aws_sdk_fsx, [&rule]);
    assert!(matches!(describe_file_system(&client, "fs-01234567").await, Err(Error::NotFound { .. })));
}

#[tokio::test]
async fn deleting_a_backup_that_is_gone_counts_as_deleted() {
    let rule = mock!(Client::delete_backup)
        .then_error(|| DeleteBackupError::BackupNotFound(BackupNotFound::builder().message("gone").build()));
    let client = mock_client!(aws_sdk_fsx, [&rule]);
    assert_eq!(delete_backup(&client, "backup-0001").await, Ok(Deleted::Yes));
}

#[tokio::test]
async fn a_backup_being_restored_is_in_use_not_a_failure() {
    let rule = mock!(Client::delete_backup)
        .then_error(|| DeleteBackupError::BackupRestoring(BackupRestoring::builder().message("busy").build()));
    let client = mock_client!(aws_sdk_fsx, [&rule]);
    assert_eq!(delete_backup(&client, "backup-0001").await, Ok(Deleted::InUse));
}

#[tokio::test]
async fn delete_access_denied_is_an_error() {
    let rule = mock!(Client::delete_backup)
        .then_error(|| DeleteBackupError::generic(ErrorMetadata::builder().code("AccessDeniedException").build()));
    let ok = mock!(Client::delete_backup).then_output(|| DeleteBackupOutput::builder().build());
    let client = mock_client!(aws_sdk_fsx, RuleMode::Sequential, [&rule, &ok]);
    assert_eq!(delete_backup(&client, "backup-0001").await.unwrap_err().aws_code(), Some("AccessDeniedException"));
    assert_eq!(delete_backup(&client, "backup-0002").await, Ok(Deleted::Yes));
}

#[tokio::test]
async fn pagination_follows_every_token_past_one_thousand() {
    let page = |from: usize, to: usize, next: Option<&'static str>| {
        move || {
            let mut out = DescribeBackupsOutput::builder()
                .set_backups(Some((from..to).map(|i| backup(&format!("backup-{i:08x}"))).collect()));
            if let Some(token) = next {
                out = out.next_token(token);
            }
            out.build()
        }
    };
    let first = mock!(Client::describe_backups)
        .match_requests(|r| r.next_token().is_none() && r.max_results() == Some(1000))
        .then_output(page(0, 1000, Some("p2")));
    let second = mock!(Client::describe_backups).match_requests(|r| r.next_token() == Some("p2")).then_output(page(
        1000,
        2000,
        Some("p3"),
    ));
    let third = mock!(Client::describe_backups)
        .match_requests(|r| r.next_token() == Some("p3"))
        .then_output(page(2000, 2345, None));
    let client = mock_client!(aws_sdk_fsx, RuleMode::MatchAny, [&first, &second, &third]);
    let all =
        list_backups(&client, Source::of("fs-01234567"), Some(BackupType::UserInitiated), Some(1000)).await.unwrap();
    assert_eq!(all.len(), 2345);
    assert_eq!((first.num_calls(), second.num_calls(), third.num_calls()), (1, 1, 1));
}

#[tokio::test]
async fn listing_filters_on_the_server() {
    let rule = mock!(Client::describe_backups)
        .match_requests(|r| {
            let names: Vec<&str> = r.filters().iter().filter_map(|f| f.name()).map(|n| n.as_str()).collect();
            names == ["file-system-id", "backup-type"]
                && r.filters()[0].values() == ["fs-01234567"]
                && r.filters()[1].values() == ["USER_INITIATED"]
        })
        .then_output(|| DescribeBackupsOutput::builder().build());
    let client = mock_client!(aws_sdk_fsx, [&rule]);
    list_backups(&client, Source::of("fs-01234567"), Some(BackupType::UserInitiated), None).await.unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[test]
fn a_copy_is_placed_in_the_copy_regions_subnets_as_many_as_the_source_has_the_first_preferred() {
    use aws_sdk_fsx::types::WindowsFileSystemConfiguration;
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let multi_az = FileSystem::builder()
        .file_system_id("fs-1")
        .set_subnet_ids(Some(ids(&["subnet-a", "subnet-b"])))
        .windows_configuration(WindowsFileSystemConfiguration::builder().preferred_subnet_id("subnet-b").build())
        .build();
    let here = Placement::of_source(&multi_az, ids(&["sg-here"]));
    assert_eq!(
        (here.subnet_ids.clone(), here.preferred_subnet_id.as_deref()),
        (ids(&["subnet-a", "subnet-b"]), Some("subnet-b"))
    );
    let there =
        Placement::elsewhere(&multi_az, &ids(&["subnet-x", "subnet-y", "subnet-z"]), &ids(&["sg-there"]), "S").unwrap();
    assert_eq!(there.subnet_ids, ids(&["subnet-x", "subnet-y"]), "as many as the source has");
    assert_eq!(
        (there.preferred_subnet_id.as_deref(), there.security_group_ids),
        (Some("subnet-x"), ids(&["sg-there"]))
    );
    let too_few = Placement::elsewhere(&multi_az, &ids(&["subnet-x"]), &[], "VERIFY_COPY_SUBNET_IDS").unwrap_err();
    assert!(too_few.to_string().contains("VERIFY_COPY_SUBNET_IDS"), "{too_few}");
    let lustre = FileSystem::builder().file_system_id("fs-2").set_subnet_ids(Some(ids(&["subnet-a"]))).build();
    let there = Placement::elsewhere(&lustre, &ids(&["subnet-x", "subnet-y"]), &[], "S").unwrap();
    assert_eq!((there.subnet_ids, there.preferred_subnet_id), (ids(&["subnet-x"]), None), "no preferred subnet");
}
