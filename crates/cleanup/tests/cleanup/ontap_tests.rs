//! ONTAP volumes against the emulator: each volume is its own target, with its own backups and policy.

use serde_json::json;
use snapmgmt_core::config::RetentionConfig;
use snapmgmt_core::model::PolicySource;
use snapmgmt_core::retention::KeepReason;
use snapmgmt_testkit as kit;

use super::{invoke, settings};

#[tokio::test]
async fn a_volume_is_cleaned_by_its_own_backups_and_tag_and_its_neighbours_are_untouched() {
    let fsx = kit::fsx_client().await;
    let (_, volume) =
        kit::create_ontap_volume(&fsx, &[], &[kit::target_tag(), ("snapmgmt:Retention", "days=15")]).await;
    let ours = kit::our_tags(&volume);
    let expired = kit::create_backup(&fsx, &volume, &ours, 20).await;
    let young = kit::create_backup(&fsx, &volume, &ours, 10).await;
    let new = kit::create_backup(&fsx, &volume, &ours, 0).await;
    // Another volume's backup of ours, just as old: not this target's.
    let (_, neighbour) = kit::create_ontap_volume(&fsx, &[], &[kit::target_tag()]).await;
    let neighbours = kit::create_backup(&fsx, &neighbour, &kit::our_tags(&neighbour), 20).await;

    let retention = RetentionConfig { retention_days: 7, min_keep: 1, max_delete_percent: 100, ..Default::default() };
    let event = json!({"kind": "fsx", "fileSystemId": volume, "newBackupId": new, "runId": kit::SEEDED_RUN});
    let report = invoke(&settings(Ok(retention), false, None), event).await.unwrap();

    assert_eq!(report.deleted, vec![expired]);
    let applied = report.policy.unwrap();
    assert_eq!((applied.source, applied.policy.as_str()), (PolicySource::Tag, "days=15"));
    let young_reason = report.kept.iter().find(|k| k.id == young).map(|k| k.reason);
    assert_eq!(young_reason, Some(KeepReason::TooYoung), "10 days: within the tag's 15, past the stack's 7");
    let left = snapmgmt_core::aws::fsx::describe_backup(&fsx, &neighbours).await;
    assert!(left.is_ok(), "the neighbour's backup was deleted");
}
