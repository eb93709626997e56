//! Orphans: resources that are no longer targets (a tag removed, an instance terminated, a file system
//! deleted) whose backups of ours remain. Found from our backups, grouped by the resource they are of:
//! EBS snapshots and FSx backups by our `snapmgmt:TargetId` tag, EFS recovery points in the stack's vault
//! by their resource. Each listing folds page by page into a set of resource ids, so a fleet's 100,000
//! backups never sit in memory at once.

use std::collections::BTreeSet;

use crate::aws;
use crate::error::Result;
use crate::model::{InventoryItem, SearchFailure, TargetKind};

/// Where our backups are listed from.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub ec2: &'a aws_sdk_ec2::Client,
    pub fsx: &'a aws_sdk_fsx::Client,
    pub backup: &'a aws_sdk_backup::Client,
    /// The stack's vault; without one, EFS is not looked at.
    pub vault: Option<&'a str>,
    /// The stack looking (STACK_ID): only the backups it made are looked at, so that another stack's, in
    /// this Region or copied into it, are never its orphans. A backup made before backups
    /// named their stack is then no stack's orphan: see docs/safety.md, "Several stacks".
    pub stack: Option<&'a crate::tags::StackId>,
}

/// What the orphan search found: the orphans, and where it could not look.
#[derive(Debug, Default)]
pub struct Search {
    pub orphans: Vec<InventoryItem>,
    pub failures: Vec<SearchFailure>,
}

/// The resources with backups of ours that are not among `current` (this run's targets and the tagged
/// resources it skipped), in kind and id order; and, with `copies` (the copy Region and its sources), the
/// resources with copies of ours there that are not among `current`, named with that Region. Each kind in
/// each Region is searched on its own: one that fails (throttled, a vault gone, a Region down) is a
/// [`SearchFailure`] and hides none of the others, and none of them stops the night's backups.
pub async fn find_with_copies(
    sources: Sources<'_>,
    copies: Option<(&str, Sources<'_>)>,
    current: &BTreeSet<(TargetKind, String)>,
) -> Search {
    let in_copy_region = async {
        match copies {
            Some((region, sources)) => find(sources, current, Some(region)).await,
            None => Search::default(),
        }
    };
    let (mut search, copies) = tokio::join!(find(sources, current, None), in_copy_region);
    search.orphans.extend(copies.orphans);
    search.failures.extend(copies.failures);
    search
}

/// The resources with backups of ours in `sources` (the copy Region when `region` names it) that are not
/// among `current`, in kind and id order, and the kinds that could not be searched there.
pub async fn find(sources: Sources<'_>, current: &BTreeSet<(TargetKind, String)>, region: Option<&str>) -> Search {
    let listed = futures::future::join_all(TargetKind::ALL.map(|kind| backed_up(kind, sources, current))).await;
    let mut failures = Vec::new();
    let mut found = Vec::new();
    for (kind, outcome) in TargetKind::ALL.into_iter().zip(listed) {
        let failure = |error: String| SearchFailure { kind, region: region.map(str::to_string), error };
        match outcome {
            Ok(ids) => {
                // A tag that names no resource of the kind (written by hand, or by a tool of one's own) is
                // reported: an orphan's cleanup could only fail on it.
                let (good, bad): (BTreeSet<String>, BTreeSet<String>) =
                    ids.into_iter().partition(|id| (kind.info().check_id)(crate::tags::TARGET_ID_KEY, id).is_ok());
                failures.extend(bad.into_iter().map(|id| {
                    failure(format!(
                        "a {} backup of ours is tagged {}={id:?}, which names no such resource: left alone",
                        kind.as_str(),
                        crate::tags::TARGET_ID_KEY
                    ))
                }));
                found.push((kind, good));
            }
            Err(e) => {
                tracing::warn!(kind = kind.as_str(), region, error = %e, "orphan search failed: reported, not cleaned");
                failures.push(failure(e.to_string()));
            }
        }
    }
    let orphans = orphans_of(&found, current)
        .into_iter()
        .map(|item| InventoryItem { region: region.map(str::to_string), ..item })
        .collect();
    Search { orphans, failures }
}

/// The resources of one kind with backups of ours in `sources` (for EFS, of the resources not among
/// `current`: the only ones whose points' tags are read).
async fn backed_up(
    kind: TargetKind,
    sources: Sources<'_>,
    current: &BTreeSet<(TargetKind, String)>,
) -> Result<BTreeSet<String>> {
    match kind {
        TargetKind::Fsx => aws::fsx::targets_of_our_backups(sources.fsx, sources.stack).await,
        TargetKind::Ec2 => aws::ec2::targets_of_our_snapshots(sources.ec2, sources.stack).await,
        TargetKind::Efs => match sources.vault {
            Some(vault) => {
                let not_current = |id: &str| !current.contains(&(TargetKind::Efs, id.to_string()));
                let newest = aws::backup::newest_point_per_resource(sources.backup, vault, not_current).await?;
                efs_of_stack(sources.backup, newest, sources.stack).await
            }
            None => Ok(BTreeSet::new()),
        },
    }
}

/// ListTags calls in flight at once (AWS Backup lists points without their tags).
const TAG_READS_AT_ONCE: usize = 4;

/// The file systems whose newest point in the vault is this stack's (its `snapmgmt:Stack` tag): a vault
/// may hold another stack's points (a copy vault two stacks share). AWS Backup lists points without tags,
/// so one point per candidate is read; a file system whose newest point is another stack's, or predates the
/// stack tag, is no orphan of this stack (kept, never deleted: the safe side).
async fn efs_of_stack(
    client: &aws_sdk_backup::Client,
    newest: std::collections::BTreeMap<String, String>,
    stack: Option<&crate::tags::StackId>,
) -> Result<BTreeSet<String>> {
    let Some(stack) = stack else { return Ok(newest.into_keys().collect()) };
    let by_arn: std::collections::HashMap<String, String> = newest.into_iter().map(|(id, arn)| (arn, id)).collect();
    let arns: Vec<String> = by_arn.keys().cloned().collect();
    let read = crate::concurrent::for_each_id(arns, TAG_READS_AT_ONCE, None, None, |arn| async move {
        aws::backup::list_tags(client, &arn).await
    })
    .await;
    let mut ours = BTreeSet::new();
    for (arn, outcome) in read {
        let crate::concurrent::Outcome::Done(tags) = outcome else { unreachable!("no budget: every read starts") };
        if tags?.get(crate::tags::STACK_KEY).map(String::as_str) == Some(stack.as_str()) {
            ours.insert(by_arn[&arn].clone());
        }
    }
    Ok(ours)
}

/// The resources of `backed_up` not among `current`.
pub fn orphans_of(
    backed_up: &[(TargetKind, BTreeSet<String>)],
    current: &BTreeSet<(TargetKind, String)>,
) -> Vec<InventoryItem> {
    let mut orphans: Vec<InventoryItem> = backed_up
        .iter()
        .flat_map(|(kind, ids)| ids.iter().map(move |id| (*kind, id)))
        .filter(|(kind, id)| !current.contains(&(*kind, (*id).clone())))
        .map(|(kind, id)| InventoryItem { kind, id: id.clone(), region: None, last_target_at: None })
        .collect();
    orphans.sort_by(|a, b| (a.kind.as_str(), &a.id).cmp(&(b.kind.as_str(), &b.id)));
    orphans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_resource_with_our_backups_that_is_no_target_is_an_orphan() {
        let backed_up = [
            (TargetKind::Ec2, set(&["i-target", "i-terminated"])),
            (TargetKind::Fsx, set(&["fs-untagged", "fs-target"])),
            (TargetKind::Efs, set(&["fs-deleted"])),
        ];
        let current: BTreeSet<(TargetKind, String)> = [
            (TargetKind::Ec2, "i-target".to_string()),
            (TargetKind::Fsx, "fs-target".to_string()),
            // The same id under another kind is another resource.
            (TargetKind::Fsx, "fs-deleted".to_string()),
        ]
        .into_iter()
        .collect();

        let found = orphans_of(&backed_up, &current);

        let ids: Vec<(&str, &str)> = found.iter().map(|o| (o.kind.as_str(), o.id.as_str())).collect();
        assert_eq!(ids, [("ec2", "i-terminated"), ("efs", "fs-deleted"), ("fsx", "fs-untagged")]);
    }
}
