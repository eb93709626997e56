//! Unit tests of the EC2 path that need no AWS.

use super::*;
use crate::retention::BackupInfo;

fn config(freeze_timeout_seconds: Option<u32>) -> SnapshotConfig {
    SnapshotConfig {
        mode: SnapshotMode::Ssm,
        document_name: "doc".into(),
        automation_role_arn: "arn:aws:iam::123456789012:role/r".into(),
        exclude_boot_volume: false,
        scripts: Default::default(),
        freeze_timeout_seconds,
        stack: None,
    }
}

#[test]
fn an_instance_tag_chooses_its_snapshot_mode() {
    let config = config(None);
    let tagged = |v: &str| vec![aws_sdk_ec2::types::Tag::builder().key(SNAPSHOT_MODE_KEY).value(v).build()];
    assert_eq!(snapshot_mode(&config, "i-0123456789abcdef0", &[]).unwrap(), SnapshotMode::Ssm);
    assert_eq!(snapshot_mode(&config, "i-0123456789abcdef0", &tagged("direct")).unwrap(), SnapshotMode::Direct);
    let err = snapshot_mode(&config, "i-0123456789abcdef0", &tagged("vss")).unwrap_err();
    assert!(err.to_string().contains(SNAPSHOT_MODE_KEY) && err.to_string().contains("vss"), "{err}");
    assert_eq!(err.kind(), "InvalidTag", "a bad tag is the instance's, not a setting");
}

#[test]
fn an_instance_tag_sets_its_own_auto_thaw_within_ten_minutes() {
    let config = config(Some(30));
    let tagged = |v: &str| vec![aws_sdk_ec2::types::Tag::builder().key(FREEZE_TIMEOUT_KEY).value(v).build()];
    let instance = "i-0123456789abcdef0";
    assert_eq!(freeze_timeout(&config, instance, &[]).unwrap(), Some(30));
    assert_eq!(freeze_timeout(&config, instance, &tagged("5")).unwrap(), Some(5));
    for bad in ["0", "601", "ten", "-1"] {
        let err = freeze_timeout(&config, instance, &tagged(bad)).unwrap_err();
        assert_eq!(err.kind(), "InvalidTag", "{bad}");
        assert!(err.to_string().contains(FREEZE_TIMEOUT_KEY), "{err}");
    }
}

#[test]
fn a_set_is_app_consistent_only_when_the_thaw_says_the_freeze_held() {
    let out = |text: &str| vec![text.to_string()];
    assert_eq!(consistency_of(&out("frozen: /data\nsnapmgmt-consistency=app\n")), "app");
    assert_eq!(consistency_of(&out("snapmgmt-consistency=auto-thawed")), "auto-thawed");
    assert_eq!(consistency_of(&out("snapmgmt-consistency=crash")), "crash");
    assert_eq!(consistency_of(&out("snapmgmt-consistency=freeze-failed")), "freeze-failed");
    // No report, or one it does not know, claims nothing.
    assert_eq!(consistency_of(&[]), "unknown");
    assert_eq!(consistency_of(&out("")), "unknown");
    assert_eq!(consistency_of(&out("snapmgmt-consistency=great")), "unknown");
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

fn snapshot(id: &str, run: &str, attempt: &str, state: BackupState, instance: Option<&str>) -> BackupInfo {
    let tags = [
        (MANAGED_BY_KEY, MANAGED_BY_VALUE),
        (TARGET_ID_KEY, "i-0123456789abcdef0"),
        (RUN_ID_KEY, run),
        (ATTEMPT_KEY, attempt),
    ];
    BackupInfo {
        id: id.to_string(),
        owner_account: Some("123456789012".into()),
        source_id: instance.map(str::to_string),
        tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        created_at: Some(1_800_000_000),
        state,
        in_use: false,
        aws_backup_managed: false,
    }
}

#[test]
fn a_retry_replaces_only_the_failed_snapshots_of_this_runs_earlier_attempts() {
    let me = Some("i-0123456789abcdef0");
    let snapshots = [
        snapshot("snap-failed", "run-1", "0", BackupState::Failed, me),
        snapshot("snap-completed", "run-1", "0", BackupState::Completed, me),
        snapshot("snap-pending", "run-1", "1", BackupState::Pending, me),
        snapshot("snap-this-attempt", "run-1", "2", BackupState::Failed, me),
        snapshot("snap-other-run", "run-0", "0", BackupState::Failed, me),
        // Tagged for this instance, but its Description names another: not ours to delete.
        snapshot("snap-retagged", "run-1", "0", BackupState::Failed, None),
    ];
    assert_eq!(failed_parts_of_earlier_attempts(&snapshots, "i-0123456789abcdef0", "run-1", 2), ["snap-failed"]);
}

#[test]
fn a_snapshot_is_named_by_its_instance_and_device_within_a_tag_values_length() {
    assert_eq!(snapshot_name(Some("web-1"), "i-0abc", "/dev/sdf"), "web-1 (i-0abc) /dev/sdf");
    assert_eq!(snapshot_name(None, "i-0abc", "/dev/xvda"), "i-0abc /dev/xvda");
    assert_eq!(snapshot_name(Some(""), "i-0abc", "/dev/xvda"), "i-0abc /dev/xvda");
    assert_eq!(snapshot_name(Some(&"é".repeat(300)), "i-0abc", "/dev/sdf").chars().count(), 256);
}

#[test]
fn a_set_holds_one_snapshot_per_ebs_volume_the_boot_volume_left_out_when_excluded() {
    use aws_sdk_ec2::types::{EbsInstanceBlockDevice, Instance, InstanceBlockDeviceMapping};
    let volume = |device: &str, id: Option<&str>| {
        let mapping = InstanceBlockDeviceMapping::builder().device_name(device);
        match id {
            Some(id) => mapping.ebs(EbsInstanceBlockDevice::builder().volume_id(id).build()).build(),
            None => mapping.build(),
        }
    };
    let instance = Instance::builder()
        .root_device_name("/dev/xvda")
        .block_device_mappings(volume("/dev/xvda", Some("vol-0root")))
        .block_device_mappings(volume("/dev/sdf", Some("vol-0data")))
        .block_device_mappings(volume("/dev/sdg", Some("vol-0logs")))
        // An instance store: no EBS volume, no snapshot.
        .block_device_mappings(volume("/dev/sdb", None))
        .build();
    assert_eq!((set_size(&instance, false), set_size(&instance, true)), (3, 2));
}
