//! Unit tests of the EC2 path that need no AWS.

use super::*;

#[test]
fn an_instance_tag_chooses_its_snapshot_mode() {
    let config = SnapshotConfig {
        mode: SnapshotMode::Ssm,
        document_name: "doc".into(),
        automation_role_arn: "arn:aws:iam::123456789012:role/r".into(),
        exclude_boot_volume: false,
        pre_script: None,
        post_script: None,
    };
    let tagged = |v: &str| vec![aws_sdk_ec2::types::Tag::builder().key(SNAPSHOT_MODE_KEY).value(v).build()];
    assert_eq!(snapshot_mode(&config, "i-0123456789abcdef0", &[]).unwrap(), SnapshotMode::Ssm);
    assert_eq!(snapshot_mode(&config, "i-0123456789abcdef0", &tagged("direct")).unwrap(), SnapshotMode::Direct);
    let err = snapshot_mode(&config, "i-0123456789abcdef0", &tagged("vss")).unwrap_err();
    assert!(err.to_string().contains(SNAPSHOT_MODE_KEY) && err.to_string().contains("vss"), "{err}");
    assert_eq!(err.kind(), "InvalidTag", "a bad tag is the instance's, not a setting");
}

#[test]
fn maps_every_status() {
    use AutomationExecutionStatus as S;
    for s in [S::Pending, S::Inprogress, S::Waiting, S::Cancelling] {
        assert_eq!(automation_status(&s), CheckStatus::InProgress, "{s:?}");
    }
    for s in [S::Success, S::CompletedWithSuccess] {
        assert_eq!(automation_status(&s), CheckStatus::Ready, "{s:?}");
    }
    for s in [
        S::Failed,
        S::Timedout,
        S::Cancelled,
        S::CompletedWithFailure,
        S::ChangeCalendarOverrideRejected,
        S::Exited,
        S::Rejected,
        S::from("SomethingNew"),
    ] {
        assert_eq!(automation_status(&s), CheckStatus::Failed, "{s:?}");
    }
}
