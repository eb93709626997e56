//! Orphans: resources that are no longer targets (a tag removed, an instance terminated, a file system
//! deleted) whose backups of ours remain. Found from our backups, grouped by the resource they are of:
//! EBS snapshots and FSx backups by our `snapmgmt:TargetId` tag, EFS recovery points in the stack's vault
//! by their resource. Each listing folds page by page into a set of resource ids, so a fleet's 100,000
//! backups never sit in memory at once.

use std::collections::BTreeSet;

use crate::aws;
use crate::error::Result;
use crate::model::{InventoryItem, TargetKind};

/// Where our backups are listed from.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub ec2: &'a aws_sdk_ec2::Client,
    pub fsx: &'a aws_sdk_fsx::Client,
    pub backup: &'a aws_sdk_backup::Client,
    /// The stack's vault; without one, EFS is not looked at.
    pub vault: Option<&'a str>,
    /// The stack looking (STACK_ID): only the EBS snapshots and FSx backups it made are looked at, so that
    /// another stack's, in this Region or copied into it, are never its orphans. A backup made before backups
    /// named their stack is then no stack's orphan: see README, "Several stacks".
    pub stack: Option<&'a crate::tags::StackId>,
}

/// The resources with backups of ours that are not among `current` (this run's targets and the tagged
/// resources it skipped), in kind and id order; and, with `copies` (the copy Region and its sources), the
/// resources with copies of ours there that are not among `current`, named with that Region. The copy
/// Region failing to answer (down, or its vault gone) leaves its orphans for another night: it never stops
/// the night's backups, whose own copy steps then fail and reach the topic.
pub async fn find_with_copies(
    sources: Sources<'_>,
    copies: Option<(&str, Sources<'_>)>,
    current: &BTreeSet<(TargetKind, String)>,
) -> Result<Vec<InventoryItem>> {
    let in_copy_region = async {
        let Some((region, sources)) = copies else { return Vec::new() };
        match find(sources, current).await {
            Ok(found) => {
                found.into_iter().map(|item| InventoryItem { region: Some(region.to_string()), ..item }).collect()
            }
            Err(e) => {
                tracing::warn!(region, error = %e, "orphans' copies not looked for: the copy Region did not answer");
                Vec::new()
            }
        }
    };
    let (orphans, copies) = tokio::join!(find(sources, current), in_copy_region);
    let mut orphans = orphans?;
    orphans.extend(copies);
    Ok(orphans)
}

/// The resources with backups of ours that are not among `current` (this run's targets and the tagged
/// resources it skipped), in kind and id order.
pub async fn find(sources: Sources<'_>, current: &BTreeSet<(TargetKind, String)>) -> Result<Vec<InventoryItem>> {
    let listed = futures::future::try_join_all(TargetKind::ALL.map(|kind| backed_up(kind, sources))).await?;
    let backed_up: Vec<(TargetKind, BTreeSet<String>)> = TargetKind::ALL.into_iter().zip(listed).collect();
    Ok(orphans_of(&backed_up, current))
}

/// The resources of one kind with backups of ours in `sources`.
async fn backed_up(kind: TargetKind, sources: Sources<'_>) -> Result<BTreeSet<String>> {
    match kind {
        TargetKind::Fsx => aws::fsx::targets_of_our_backups(sources.fsx, sources.stack).await,
        TargetKind::Ec2 => aws::ec2::targets_of_our_snapshots(sources.ec2, sources.stack).await,
        TargetKind::Efs => match sources.vault {
            Some(vault) => aws::backup::resources_with_recovery_points(sources.backup, vault).await,
            None => Ok(BTreeSet::new()),
        },
    }
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
        .map(|(kind, id)| InventoryItem { kind, id: id.clone(), region: None })
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
