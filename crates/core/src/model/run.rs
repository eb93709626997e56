//! The contract of one run of the scheduled workflow: its input (where the inventory is, the run's
//! settings), the inventory's items and what each target's child execution returns (the run's report is
//! in `report.rs`).

use serde::{Deserialize, Deserializer, Serialize};

use super::{CleanupReport, PerKind, Timing};

/// The kinds of target, as the inventory and the report name them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    Fsx,
    /// A record that names no kind predates the others in it (a verification before EFS had one): EC2.
    #[default]
    Ec2,
    Efs,
}

impl TargetKind {
    /// Every kind, in declaration order (a kind's index in a `PerKind` is its discriminant).
    pub const ALL: [TargetKind; 3] = [TargetKind::Fsx, TargetKind::Ec2, TargetKind::Efs];

    pub fn as_str(self) -> &'static str {
        self.info().name
    }
}

// A new variant fails to compile here until it is in ALL, in its declaration order.
const _: () = {
    let mut i = 0;
    while i < TargetKind::ALL.len() {
        assert!(TargetKind::ALL[i] as usize == i);
        i += 1;
    }
    match TargetKind::Fsx {
        TargetKind::Fsx | TargetKind::Ec2 | TargetKind::Efs => assert!(TargetKind::ALL.len() == 3),
    }
};

/// One target of the inventory: what a Distributed Map reads as an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryItem {
    pub kind: TargetKind,
    pub id: String,
    /// An orphan's copies in the copy Region: the Region; null otherwise (written, so that the workflow can
    /// read it on every item).
    #[serde(default)]
    pub region: Option<String>,
    /// An orphan: when it was last a target, as the freshness ledger remembers it (seconds since the
    /// epoch); left out when it does not remember.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_target_at: Option<i64>,
}

/// Where a run's inventory is: one JSON array of [`InventoryItem`] per kind, in the stack's bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    pub bucket: String,
    /// Each kind's file: `fsx`, `ec2`, `efs` in the JSON.
    #[serde(flatten)]
    pub keys: PerKind<String>,
    /// The resources that are no longer targets but have backups of ours, as [`InventoryItem`]s.
    #[serde(default)]
    pub orphans: String,
}

/// Where the trigger writes the tagged resources it skipped in run `run_id`, with the reason.
pub fn skipped_key(run_id: &str) -> String {
    format!("inventory/{run_id}/skipped.json")
}

/// Where the trigger writes the places its orphan search could not look in run `run_id`.
pub fn search_failures_key(run_id: &str) -> String {
    format!("inventory/{run_id}/orphan-search-failures.json")
}

/// A place the orphan search could not look (one kind, in the stack's Region or the copy Region), or a
/// backup of ours it could not place: named in the run report and counted (`OrphanSearchFailures`), never
/// a reason to stop the night's backups. What was not searched is neither reported nor cleaned this night.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchFailure {
    pub kind: TargetKind,
    /// The copy Region; null: the stack's own.
    #[serde(default)]
    pub region: Option<String>,
    pub error: String,
}

impl Inventory {
    /// The inventory of the run `run_id` (the execution's name): `inventory/<run>/<kind>.json`.
    pub fn of_run(bucket: &str, run_id: &str) -> Self {
        Self {
            bucket: bucket.to_string(),
            keys: PerKind::from_fn(|kind| format!("inventory/{run_id}/{}.json", kind.as_str())),
            orphans: format!("inventory/{run_id}/orphans.json"),
        }
    }

    pub fn key(&self, kind: TargetKind) -> &str {
        self.keys.get(kind)
    }
}

/// Where the full report of the run `run_id` is written.
pub fn report_key(run_id: &str) -> String {
    format!("reports/{run_id}.json")
}

/// Targets of each kind worked on at once (each Distributed Map's MaxConcurrencyPath).
pub type Concurrency = PerKind;

/// The input of one execution of the scheduled workflow: the same size whatever the fleet, since the
/// targets are in the inventory (Step Functions limits an execution's input to 256 KiB).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowInput {
    /// The execution's name: the inventory's and the report's keys derive from it.
    pub run_id: String,
    pub inventory: Inventory,
    /// How many targets of each kind the inventory holds.
    pub targets: PerKind,
    pub timing: Timing,
    pub dry_run: bool,
    pub concurrency: Concurrency,
    /// The delete guard's limit for this run; null: each cleanup's MAX_DELETE_PERCENT.
    pub max_delete_percent: Option<u32>,
    /// Where each new backup is copied (COPY_REGION); null: nowhere.
    pub copy_region: Option<String>,
}

/// What a target's child execution returns when it succeeded, and what its Fail state's cause holds
/// (as JSON) when it failed: the backups it made (a target that fails after its backup was made still
/// reports it), its cleanup, its error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResult {
    pub kind: TargetKind,
    pub target_id: String,
    #[serde(default)]
    pub dry_run: bool,
    /// The backups this run made: a backup id, a snapshot set, a backup job; none in a dry run. The state
    /// machine gives one id, null, or a list: all are read as a list.
    #[serde(default, deserialize_with = "one_or_many")]
    pub created: Vec<String>,
    /// Failed snapshot runs retried before this one succeeded (EC2).
    #[serde(default)]
    pub retries: u32,
    /// How consistent the new EBS set is (EC2: `app`, `crash`, `auto-thawed`, `freeze-failed`, `unknown`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<String>,
    /// No longer a target: only its old backups were looked at.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub orphan: bool,
    /// An orphan's copies in the copy Region: that Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<CleanupReport>,
    /// The copies of the new backup in the copy Region, and the cleanup there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// A target's copies in the copy Region, as its child execution reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyOutcome {
    pub region: String,
    #[serde(default)]
    pub copy_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<CleanupReport>,
}

impl CopyOutcome {
    /// This target's share of the run's copy totals. A target reports `copy` only once its copy
    /// completed: one copy made (an instance's set counts once), or in a dry run one that would be.
    fn counts(&self, dry_run: bool) -> CopyTotals {
        let cleanup = self.cleanup.as_ref().map(|c| &c.counts);
        CopyTotals {
            copied: usize::from(dry_run || !self.copy_ids.is_empty()),
            deleted: cleanup.map_or(0, |c| c.deleted),
            kept: cleanup.map_or(0, |c| c.kept),
            failed_deletes: cleanup.map_or(0, |c| c.failed),
        }
    }
}

/// Ids given as one, as null, or as a list: all read as a list.
pub(crate) fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(id)) => vec![id],
        Some(OneOrMany::Many(ids)) => ids,
    })
}

impl TargetResult {
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// This target's share of the run's totals: its own counts, never the length of a capped list.
    pub fn counts(&self) -> Totals {
        let cleanup = self.cleanup.as_ref().map(|c| &c.counts);
        // A backup (an instance's snapshot set counts once) made, or in a dry run one that would be made.
        let created = if self.dry_run { !self.failed() && !self.orphan } else { !self.created.is_empty() };
        Totals {
            targets: usize::from(!self.orphan),
            orphans: usize::from(self.orphan),
            failed_targets: self.failed() as usize,
            created: created as usize,
            deleted: cleanup.map_or(0, |c| c.deleted),
            kept: cleanup.map_or(0, |c| c.kept),
            failed_deletes: cleanup.map_or(0, |c| c.failed),
            copies: self.copy.as_ref().map(|copy| copy.counts(self.dry_run)).unwrap_or_default(),
        }
    }
}

/// A run's figures: sums of every target's own counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub targets: usize,
    pub failed_targets: usize,
    /// Backups made (an instance's snapshot set counts once); in a dry run, the ones that would be made.
    pub created: usize,
    /// Deleted; in a dry run, would be deleted.
    pub deleted: usize,
    pub kept: usize,
    pub failed_deletes: usize,
    /// Resources that are no longer targets whose backups of ours were looked at.
    #[serde(default)]
    pub orphans: usize,
    /// The copies in the copy Region (COPY_REGION); absent when the run made none.
    #[serde(default, skip_serializing_if = "CopyTotals::is_none")]
    pub copies: CopyTotals,
}

/// A run's figures in the copy Region: sums of every target's copy counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyTotals {
    /// Targets whose new backup was copied (an instance's set counts once); in a dry run, would be.
    pub copied: usize,
    /// Copies deleted there; in a dry run, would be deleted.
    pub deleted: usize,
    pub kept: usize,
    pub failed_deletes: usize,
}

impl CopyTotals {
    fn is_none(&self) -> bool {
        *self == Self::default()
    }
}

impl std::ops::AddAssign for CopyTotals {
    fn add_assign(&mut self, other: Self) {
        self.copied += other.copied;
        self.deleted += other.deleted;
        self.kept += other.kept;
        self.failed_deletes += other.failed_deletes;
    }
}

impl std::ops::AddAssign for Totals {
    fn add_assign(&mut self, other: Self) {
        self.targets += other.targets;
        self.orphans += other.orphans;
        self.failed_targets += other.failed_targets;
        self.created += other.created;
        self.deleted += other.deleted;
        self.kept += other.kept;
        self.failed_deletes += other.failed_deletes;
        self.copies += other.copies;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RunId;
    use serde_json::json;

    #[test]
    fn created_reads_one_id_null_or_a_list() {
        let read = |created| {
            serde_json::from_value::<TargetResult>(json!({"kind": "fsx", "targetId": "fs-1", "created": created}))
                .unwrap()
                .created
        };
        assert_eq!(read(json!("backup-1")), ["backup-1"]);
        assert!(read(json!(null)).is_empty());
        assert_eq!(read(json!(["snap-1", "snap-2"])), ["snap-1", "snap-2"]);
    }

    #[test]
    fn a_dry_run_counts_what_it_would_create_the_same_way_for_every_kind() {
        for kind in TargetKind::ALL {
            let result = TargetResult {
                kind,
                target_id: "t".into(),
                dry_run: true,
                created: vec![],
                retries: 0,
                consistency: None,
                orphan: false,
                region: None,
                cleanup: None,
                copy: None,
                error: None,
                cause: None,
            };
            assert_eq!(result.counts().created, 1, "{kind:?}");
            let failed = TargetResult { error: Some("X".into()), ..result };
            assert_eq!(failed.counts().created, 0, "{kind:?}");
        }
    }

    #[test]
    fn a_target_failed_after_its_backup_was_made_still_counts_it() {
        let result: TargetResult = serde_json::from_value(json!({"kind": "ec2", "targetId": "i-1",
            "created": ["snap-1", "snap-2"], "error": "DeleteLimitExceeded", "cause": "refused"}))
        .unwrap();
        let counts = result.counts();
        assert_eq!((counts.failed_targets, counts.created), (1, 1));
    }

    #[test]
    fn copies_are_counted_apart_from_the_sources_and_only_when_the_run_made_some() {
        let cleanup = |deleted, kept| {
            json!({"deleted": [], "kept": [], "failed": [],
            "counts": {"deleted": deleted, "kept": kept, "failed": 0, "keptByReason": {}}})
        };
        let copied: TargetResult = serde_json::from_value(json!({"kind": "fsx", "targetId": "fs-1",
            "created": "backup-1", "cleanup": cleanup(1, 2),
            "copy": {"region": "us-west-2", "copyIds": ["backup-2"], "cleanup": cleanup(3, 4)}}))
        .unwrap();
        let mut totals = copied.counts();
        assert_eq!((totals.deleted, totals.kept), (1, 2), "the source's");
        assert_eq!(totals.copies, CopyTotals { copied: 1, deleted: 3, kept: 4, failed_deletes: 0 });
        let planned = TargetResult { dry_run: true, created: Vec::new(), ..copied.clone() };
        let planned = TargetResult { copy: planned.copy.map(|c| CopyOutcome { copy_ids: Vec::new(), ..c }), ..planned };
        assert_eq!(planned.counts().copies.copied, 1, "a dry run counts the copy it would make");
        totals += planned.counts();
        assert_eq!(totals.copies.deleted, 6);
        let without: Totals = TargetResult { copy: None, ..copied }.counts();
        let shown = serde_json::to_value(without).unwrap();
        assert!(shown.get("copies").is_none(), "no copies, no copy totals: {shown}");
    }

    #[test]
    fn inventory_and_report_keys_derive_from_the_run() {
        let inventory = Inventory::of_run("b", "snapmgmt-20261125T160000Z");
        assert_eq!(inventory.keys[TargetKind::Ec2], "inventory/snapmgmt-20261125T160000Z/ec2.json");
        assert_eq!(report_key("r-1"), "reports/r-1.json");
        assert!(RunId::new("runId", "x:*").is_err());
        assert!(RunId::new("runId", "../etc").is_err());
    }
}
