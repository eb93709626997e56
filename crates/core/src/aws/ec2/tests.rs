//! Error paths of the EC2 functions, with the SDK's own mocks: RequestLimitExceeded is retried, a
//! snapshot in use is kept, not failed, other errors keep their codes, pagination follows every token.

use super::*;
use aws_sdk_ec2::operation::delete_snapshot::{DeleteSnapshotError, DeleteSnapshotOutput};
use aws_sdk_ec2::operation::describe_snapshots::DescribeSnapshotsOutput;
use aws_smithy_mocks::{mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;

fn error(code: &'static str) -> impl Fn() -> DeleteSnapshotError {
    move || DeleteSnapshotError::generic(ErrorMetadata::builder().code(code).message(code).build())
}

#[tokio::test]
async fn request_limit_exceeded_is_retried_with_backoff() {
    let rule = mock!(Client::delete_snapshot)
        .sequence()
        .error(error("RequestLimitExceeded"))
        .times(2)
        .output(|| DeleteSnapshotOutput::builder().build())
        .build();
    let client = mock_client!(aws_sdk_ec2, [&rule]);
    assert_eq!(delete_snapshot(&client, "snap-01234567").await.unwrap(), Deleted::Yes);
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn a_snapshot_in_use_is_kept_and_a_gone_one_counts_as_deleted() {
    let in_use = mock!(Client::delete_snapshot).then_error(error("InvalidSnapshot.InUse"));
    let client = mock_client!(aws_sdk_ec2, [&in_use]);
    assert_eq!(delete_snapshot(&client, "snap-01234567").await.unwrap(), Deleted::InUse);
    let gone = mock!(Client::delete_snapshot).then_error(error("InvalidSnapshot.NotFound"));
    let client = mock_client!(aws_sdk_ec2, [&gone]);
    assert_eq!(delete_snapshot(&client, "snap-01234567").await.unwrap(), Deleted::Yes);
}

#[tokio::test]
async fn unauthorized_is_not_retried_and_keeps_its_code() {
    let rule = mock!(Client::delete_snapshot).then_error(error("UnauthorizedOperation"));
    let client = mock_client!(aws_sdk_ec2, [&rule]);
    let err = delete_snapshot(&client, "snap-01234567").await.unwrap_err();
    assert_eq!(err.aws_code(), Some("UnauthorizedOperation"));
    assert!(err.to_string().contains("ec2:DeleteSnapshot"), "{err}");
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn own_snapshots_are_filtered_on_the_server_and_paged() {
    let page = |n: usize, next: Option<&'static str>| {
        move || {
            let snapshots = (0..n).map(|i| Snapshot::builder().snapshot_id(format!("snap-{i:08x}")).build());
            DescribeSnapshotsOutput::builder()
                .set_snapshots(Some(snapshots.collect()))
                .set_next_token(next.map(Into::into))
                .build()
        }
    };
    let rule = mock!(Client::describe_snapshots)
        .match_requests(|r| {
            r.owner_ids() == ["self"]
                && r.max_results() == Some(SNAPSHOT_PAGE_SIZE)
                && r.filters().iter().any(|f| f.name() == Some("tag:ManagedBy") && f.values() == ["snapmgmt"])
        })
        .sequence()
        .output(page(1000, Some("a")))
        .output(page(1000, Some("b")))
        .output(page(7, None))
        .build();
    let client = mock_client!(aws_sdk_ec2, [&rule]);
    let all = list_own_snapshots(&client, &[("ManagedBy", "snapmgmt")], SNAPSHOT_PAGE_SIZE).await.unwrap();
    assert_eq!(all.len(), 2_007);
    assert_eq!(rule.num_calls(), 3);
}
