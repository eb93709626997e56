//! Adopting the original sample's backups (opt-in, ADOPT_ORIGINAL_SAMPLE): users who migrate from the
//! original sample have snapshots and backups it made, which nothing would ever delete. With the setting
//! on, a backup the sample made of this very resource (its `CreatedBy=Snapshot-Automation-Sample` and its
//! resource tag) is judged as one of ours, under the same rule, MIN_KEEP and guard, and the report lists it
//! as adopted. Our tags are added in memory only: nothing is re-tagged.

use crate::retention::BackupInfo;
use crate::tags::{MANAGED_BY_KEY, MANAGED_BY_VALUE, RUN_ID_KEY, TARGET_ID_KEY};

/// The tag and value the original sample put on everything it made.
pub const CREATED_BY_KEY: &str = "CreatedBy";
pub const CREATED_BY_SAMPLE: &str = "Snapshot-Automation-Sample";
/// Marks a part adopted, in memory: the report lists these.
pub const ADOPTED_KEY: &str = "snapmgmt:Adopted";

/// Where the sample wrote the resource and the run, per kind.
#[derive(Debug, Clone, Copy)]
pub struct SampleTags {
    pub resource_key: &'static str,
    pub run_key: &'static str,
}

/// EBS: the SSM document tagged each snapshot with its instance and the request that made the set.
pub const EBS: SampleTags = SampleTags { resource_key: "Ec2InstanceId", run_key: "SnapshotRequestId" };
/// FSx: the backup named its file system and the request that made it.
pub const FSX: SampleTags = SampleTags { resource_key: "FileSystemID", run_key: "BackupRequestId" };

/// The part as ours when the original sample made it of `target`; anything else unchanged.
pub fn adopted(mut part: BackupInfo, target: &str, sample: SampleTags) -> BackupInfo {
    let tag = |key: &str| part.tags.get(key).map(String::as_str);
    let made_by_sample = tag(CREATED_BY_KEY) == Some(CREATED_BY_SAMPLE) && tag(sample.resource_key) == Some(target);
    if !made_by_sample || tag(MANAGED_BY_KEY).is_some() {
        return part;
    }
    let run = tag(sample.run_key).unwrap_or("original-sample").to_string();
    for (key, value) in [
        (MANAGED_BY_KEY, MANAGED_BY_VALUE),
        (TARGET_ID_KEY, target),
        (RUN_ID_KEY, run.as_str()),
        (ADOPTED_KEY, "original-sample"),
    ] {
        part.tags.insert(key.to_string(), value.to_string());
    }
    // The sample's snapshots record their instance only in its tag (their volume is all EC2 keeps).
    part.source_id.get_or_insert_with(|| target.to_string());
    part
}
