//! Unit tests of the EC2 path that need no AWS.

use super::*;

#[test]
fn client_token_is_a_uuid_stable_per_attempt() {
    let token = client_token("run", "i-0123456789abcdef0", 0);
    let groups: Vec<usize> = token.split('-').map(str::len).collect();
    assert_eq!(groups, vec![8, 4, 4, 4, 12], "{token}");
    assert_eq!(token, client_token("run", "i-0123456789abcdef0", 0));
    assert_ne!(token, client_token("run", "i-0123456789abcdef0", 1));
}

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
    assert_eq!(snapshot_mode(&config, &[]).unwrap(), SnapshotMode::Ssm);
    assert_eq!(snapshot_mode(&config, &tagged("direct")).unwrap(), SnapshotMode::Direct);
    let err = snapshot_mode(&config, &tagged("vss")).unwrap_err();
    assert!(err.to_string().contains(SNAPSHOT_MODE_KEY) && err.to_string().contains("vss"), "{err}");
}
