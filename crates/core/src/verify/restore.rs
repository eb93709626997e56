//! A restore test of an instance's snapshot set (VERIFY_RESTORE): a volume made from each snapshot in the
//! instance's Availability Zone, followed until it is available (the verify state machine's loop,
//! [`super::pending`]), then deleted whatever happened. Each volume carries `snapmgmt:RestoreTest` (the run)
//! and this stack's tag from its creation: the verify role may delete no other volume, and a later run's
//! sweep deletes any a failed run left behind.

use serde::{Deserialize, Serialize};
use tracing::info;

use super::pending::{self, Progress, Restorer};
use super::target::RestoredResource;
use crate::aws::ec2::volumes;
use crate::error::Result;
use crate::tags::{self, RESTORE_TEST_KEY};

/// How long an instance's restore may take before its check fails: AWS makes a volume from a snapshot in
/// seconds to minutes (its blocks load lazily after).
pub const RESTORE_TIMEOUT_SECONDS: i64 = 1800;

/// A sweep deletes restore-test volumes older than this: a running test's are younger.
pub const SWEEP_AFTER_SECONDS: i64 = 86_400;

/// Starts a volume from each snapshot of the set in `zone`, tagged as this stack's restore test at creation:
/// the volumes being made; one EC2 refused ends the list with why.
pub async fn start_set(
    ec2: &aws_sdk_ec2::Client,
    set: &[String],
    zone: &str,
    run_id: &str,
    stack: Option<&tags::StackId>,
) -> Vec<RestoredResource> {
    let mut labels = vec![(RESTORE_TEST_KEY, run_id), ("Name", "snapmgmt restore test")];
    labels.extend(stack.map(tags::StackId::tag));
    let mut made = Vec::with_capacity(set.len());
    for snapshot_id in set {
        match volumes::create_from_snapshot(ec2, snapshot_id, zone, &labels).await {
            Ok(volume_id) => made.push(RestoredResource {
                backup_id: snapshot_id.clone(),
                resource_id: volume_id,
                state: "creating".into(),
                ..Default::default()
            }),
            Err(e) => {
                made.push(pending::refused(snapshot_id, None, &e));
                break;
            }
        }
    }
    made
}

/// Follows a restore-test volume until it is `available` (or in `error`, or gone), and deletes it.
pub struct VolumeRestorer<'a> {
    pub ec2: &'a aws_sdk_ec2::Client,
}

impl Restorer for VolumeRestorer<'_> {
    async fn look(&self, resource: &mut RestoredResource) -> Result<Progress> {
        let states = volumes::states(self.ec2, std::slice::from_ref(&resource.resource_id)).await?;
        resource.state = states.into_iter().next().map_or_else(|| "gone".to_string(), |(_, state)| state);
        Ok(match resource.state.as_str() {
            "available" => Progress::Made,
            "error" | "gone" => {
                Progress::Failed(format!("{} from {}: {}", resource.resource_id, resource.backup_id, resource.state))
            }
            _ => Progress::Pending,
        })
    }

    /// False while it cannot be deleted yet (still being made): the sweep takes it.
    async fn remove(&self, resource: &RestoredResource, _run_id: &str) -> Result<bool> {
        volumes::delete(self.ec2, &resource.resource_id).await
    }
}

/// What a sweep found: the restore-test resources of this stack older than a day, deleted or not yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Swept {
    pub deleted: Vec<String>,
    pub left: Vec<String>,
}

impl Swept {
    /// One leftover the sweep tried to delete.
    pub fn record(&mut self, id: String, deleted: bool) {
        if deleted {
            self.deleted.push(id);
        } else {
            self.left.push(id);
        }
    }

    pub fn extend(&mut self, other: Swept) {
        self.deleted.extend(other.deleted);
        self.left.extend(other.left);
    }
}

/// Deletes this stack's restore-test volumes made more than a day before `now` (a failed run's leftovers).
/// Without a stack id it touches nothing: it could not tell its own from another stack's.
pub async fn sweep(ec2: &aws_sdk_ec2::Client, stack: Option<&tags::StackId>, now: i64) -> Result<Swept> {
    let Some(stack) = stack else {
        return Ok(Swept::default());
    };
    let found = volumes::list_tagged(ec2, RESTORE_TEST_KEY, &[stack.tag()]).await?;
    let mut swept = Swept::default();
    for (volume_id, _) in found.into_iter().filter(|(_, created)| now - created > SWEEP_AFTER_SECONDS) {
        let deleted = volumes::delete(ec2, &volume_id).await?;
        swept.record(volume_id, deleted);
    }
    if !swept.deleted.is_empty() || !swept.left.is_empty() {
        info!(deleted = ?swept.deleted, left = ?swept.left, "restore-test volumes left by an earlier run swept");
    }
    Ok(swept)
}

/// Which of a run's `n` targets (in their order) get a restore test: `max` of them, a different run of them
/// each round, so every target gets one within ceil(n / max) rounds.
pub fn restore_turns(n: usize, round: u64, max: usize) -> Vec<bool> {
    let k = max.min(n);
    if k == 0 {
        return vec![false; n];
    }
    let start = (round as usize).wrapping_mul(k) % n;
    (0..n).map(|i| (i + n - start) % n < k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_round_restores_at_most_max_and_every_target_has_its_turn() {
        assert_eq!(restore_turns(3, 0, 0), [false, false, false]);
        assert_eq!(restore_turns(3, 7, 5), [true, true, true], "fewer targets than the budget: all");
        let mut turns = [0; 10];
        for round in 0..4 {
            let chosen = restore_turns(10, round, 3);
            assert_eq!(chosen.iter().filter(|t| **t).count(), 3);
            for (i, t) in chosen.iter().enumerate() {
                turns[i] += usize::from(*t);
            }
        }
        assert!(turns.iter().all(|t| *t >= 1), "{turns:?}");
        assert_eq!(restore_turns(0, 3, 2), Vec::<bool>::new());
    }
}
