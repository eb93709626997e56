//! A restore test of an instance's snapshot set (VERIFY_RESTORE): a volume made from each snapshot in the
//! instance's Availability Zone, followed until it is available, then deleted whatever happened. Each volume
//! carries `snapmgmt:RestoreTest` (the run) and this stack's tag from its creation: the verify role may delete
//! no other volume, and a later run's sweep deletes any a failed run left behind.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::target::{RestoreTest, RestoredResource};
use super::validate::Hook;
use crate::aws::ec2::volumes;
use crate::error::Result;
use crate::model::TargetKind;
use crate::tags::{self, RESTORE_TEST_KEY};

/// How a restore test waits: the state of its volumes every `poll`, for at most `timeout`.
#[derive(Debug, Clone, Copy)]
pub struct Waiting {
    pub poll: Duration,
    pub timeout: Duration,
}

/// AWS makes a volume from a snapshot in seconds to minutes (its blocks load lazily after): ten minutes leave
/// the check's share of the function's 15 minutes.
pub const WAITING: Waiting = Waiting { poll: Duration::from_secs(3), timeout: Duration::from_secs(600) };

/// A sweep deletes restore-test volumes older than this: a running test's are younger.
pub const SWEEP_AFTER_SECONDS: i64 = 86_400;

/// Restores each snapshot of the set to a volume in `zone`, waits, and deletes every volume it made.
/// Never fails: what went wrong is in the answer, after the clean-up.
pub async fn restore_set(
    ec2: &aws_sdk_ec2::Client,
    set: &[String],
    zone: &str,
    run_id: &str,
    stack: Option<&tags::StackId>,
    waiting: Waiting,
    hook: Option<(Hook<'_>, &str)>,
) -> RestoreTest {
    let started = Instant::now();
    let mut test = RestoreTest { zone: zone.to_string(), run_id: Some(run_id.to_string()), ..Default::default() };
    let mut labels = vec![(RESTORE_TEST_KEY, run_id), ("Name", "snapmgmt restore test")];
    labels.extend(stack.map(tags::StackId::tag));
    for snapshot_id in set {
        match volumes::create_from_snapshot(ec2, snapshot_id, zone, &labels).await {
            Ok(volume_id) => test.resources.push(RestoredResource {
                backup_id: snapshot_id.clone(),
                resource_id: volume_id,
                state: "creating".into(),
                ..Default::default()
            }),
            Err(e) => {
                test.error = Some(format!("{snapshot_id}: {e}"));
                break;
            }
        }
    }
    if test.error.is_none() {
        if let Err(e) = wait_for(ec2, &mut test, waiting).await {
            test.error = Some(e.to_string());
        }
    }
    test.restored = test.error.is_none() && test.resources.iter().all(|v| v.state == "available");
    if test.error.is_none() && !test.restored {
        let bad: Vec<String> = test
            .resources
            .iter()
            .filter(|v| v.state != "available")
            .map(|v| format!("{} from {}: {}", v.resource_id, v.backup_id, v.state))
            .collect();
        test.error = Some(format!("not available within {} s: {}", waiting.timeout.as_secs(), bad.join(", ")));
    }
    if let Some((hook, instance_id)) = hook.filter(|_| test.restored) {
        super::validate::validate(hook, TargetKind::Ec2, instance_id, set, &mut test).await;
    }
    clean_up(ec2, &mut test, waiting).await;
    test.duration_ms = started.elapsed().as_millis() as u64;
    test
}

/// Until every volume is available, or one ends in `error`, or the time is up.
async fn wait_for(ec2: &aws_sdk_ec2::Client, test: &mut RestoreTest, waiting: Waiting) -> Result<()> {
    let deadline = Instant::now() + waiting.timeout;
    loop {
        let ids: Vec<String> = test.resources.iter().map(|v| v.resource_id.clone()).collect();
        let states = volumes::states(ec2, &ids).await?;
        for volume in &mut test.resources {
            volume.state = states
                .iter()
                .find(|(id, _)| *id == volume.resource_id)
                .map_or_else(|| "gone".to_string(), |(_, state)| state.clone());
        }
        let settled = test.resources.iter().all(|v| v.state == "available")
            || test.resources.iter().any(|v| v.state == "error" || v.state == "gone");
        if settled || Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(waiting.poll).await;
    }
}

/// Deletes every volume made; one still being made is waited for (a volume is deleted once it is available
/// or has failed), within the same time again. What is left, the sweep takes.
async fn clean_up(ec2: &aws_sdk_ec2::Client, test: &mut RestoreTest, waiting: Waiting) {
    let deadline = Instant::now() + waiting.timeout;
    loop {
        for volume in test.resources.iter_mut().filter(|v| !v.deleted) {
            match volumes::delete(ec2, &volume.resource_id).await {
                Ok(deleted) => volume.deleted = deleted,
                Err(e) => warn!(volume = %volume.resource_id, error = %e, "a restore-test volume was not deleted"),
            }
        }
        test.cleaned_up = test.resources.iter().all(|v| v.deleted);
        if test.cleaned_up || Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(waiting.poll).await;
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
