//! An instance's newest snapshot set, read back through the EBS direct APIs without a restore: for each
//! snapshot, this round's share of its blocks read and checked against their checksums, within a byte budget;
//! and, against the set before it, how many bytes changed per volume.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use super::blocks::{self, BLOCK_BYTES};
use super::target::{Outcome, TargetCheck};
use crate::aws::ebs::{self as ebs_api, BlockRef, Read};
use crate::aws::ec2 as ec2_api;
use crate::error::Result;
use crate::model::TargetKind;
use crate::tags::{self, MANAGED_BY_KEY, MANAGED_BY_VALUE, TARGET_ID_KEY};

/// Blocks read at once per snapshot: each is 512 KiB in memory while it is checked.
pub const BLOCKS_AT_ONCE: usize = 8;

/// How much of each snapshot a run reads.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// One block in `fraction` per run, rotating (see [`blocks::read_in_round`]).
    pub fraction: u32,
    pub round: u64,
}

/// Bytes a run may still read, shared by every snapshot it reads.
#[derive(Debug)]
pub struct Budget(AtomicU64);

impl Budget {
    pub fn new(bytes: u64) -> Self {
        Budget(AtomicU64::new(bytes))
    }

    /// Takes one block's bytes, if there are that many left.
    fn take_block(&self) -> bool {
        self.0.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(BLOCK_BYTES)).is_ok()
    }

    pub fn left(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A block that did not read back as it should.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BadBlock {
    pub snapshot_id: String,
    pub block_index: i32,
    pub reason: String,
}

/// One snapshot's check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotCheck {
    pub snapshot_id: String,
    pub volume_id: String,
    /// Its written blocks, as listed.
    pub blocks: u64,
    pub blocks_read: u64,
    pub bytes_read: u64,
    pub list_calls: u64,
    pub bad_blocks: Vec<BadBlock>,
    /// The run's budget ran out before this round's share of it was read.
    pub budget_reached: bool,
    /// Bytes changed since the same volume's snapshot in the set before (ListChangedBlocks), if there is one.
    pub changed_bytes: Option<u64>,
}

/// Reads this round's share of one snapshot's blocks and checks each against its checksum.
pub async fn check_snapshot(
    client: &aws_sdk_ebs::Client,
    snapshot_id: &str,
    volume_id: &str,
    reading: Reading,
    budget: &Budget,
) -> Result<SnapshotCheck> {
    let (listed, list_calls) = ebs_api::list_blocks(client, snapshot_id).await?;
    let mut chosen: Vec<&BlockRef> =
        listed.iter().filter(|b| blocks::read_in_round(b.index, reading.round, reading.fraction)).collect();
    let affordable = usize::try_from(budget.left() / BLOCK_BYTES).unwrap_or(usize::MAX);
    let cycle = reading.round / u64::from(reading.fraction.max(1));
    let start = blocks::share_start(chosen.len(), affordable, cycle);
    chosen.rotate_left(start);
    let mut check = SnapshotCheck {
        snapshot_id: snapshot_id.to_string(),
        volume_id: volume_id.to_string(),
        blocks: listed.len() as u64,
        list_calls,
        ..Default::default()
    };
    let mut affordable = Vec::with_capacity(chosen.len());
    for block in chosen {
        if !budget.take_block() {
            check.budget_reached = true;
            break;
        }
        affordable.push(block);
    }
    let outcomes: Vec<(i32, Option<String>)> = stream::iter(affordable)
        .map(|block| async move {
            let problem = match ebs_api::read_block(client, snapshot_id, block).await? {
                Read::Refused(reason) => Some(format!("listed, but not served: {reason}")),
                Read::Block(read) => {
                    blocks::checksum_matches(&read.data, read.algorithm.as_deref(), read.checksum.as_deref()).err()
                }
            };
            Ok::<_, crate::Error>((block.index, problem))
        })
        .buffer_unordered(BLOCKS_AT_ONCE)
        .try_collect()
        .await?;
    for (index, problem) in outcomes {
        check.blocks_read += 1;
        check.bytes_read += BLOCK_BYTES;
        if let Some(reason) = problem {
            check.bad_blocks.push(BadBlock { snapshot_id: snapshot_id.to_string(), block_index: index, reason });
        }
    }
    check.bad_blocks.sort_by_key(|b| b.block_index);
    Ok(check)
}

#[derive(Clone, Copy)]
pub struct Clients<'a> {
    pub ec2: &'a aws_sdk_ec2::Client,
    pub ebs: &'a aws_sdk_ebs::Client,
}

/// Verifies the instance's newest completed snapshot set of ours (made by `stack`, when given).
pub async fn check_instance(
    clients: Clients<'_>,
    instance_id: &str,
    stack: Option<&tags::StackId>,
    reading: Reading,
    budget: &Budget,
    pick: super::Pick<'_>,
    now: i64,
) -> Result<TargetCheck> {
    let started = std::time::Instant::now();
    let mut ours = vec![(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, instance_id)];
    ours.extend(stack.map(tags::StackId::tag));
    let snapshots = ec2_api::list_own_snapshots(clients.ec2, &ours, ec2_api::SNAPSHOT_PAGE_SIZE).await?;
    let listed: Vec<_> = snapshots.iter().map(ec2_api::snapshot_info).collect();
    let volume_of: BTreeMap<&str, &str> =
        snapshots.iter().filter_map(|s| Some((s.snapshot_id()?, s.volume_id().unwrap_or_default()))).collect();
    let no_backup = TargetCheck::new(TargetKind::Ec2, instance_id);
    let Some((set, created)) = super::chosen(&listed, now, true, pick) else {
        return Ok(no_backup);
    };
    let previous = super::newest_completed(&listed, created - 1, true).map(|(ids, _)| ids).unwrap_or_default();
    let previous_of_volume: BTreeMap<&str, &str> =
        previous.iter().filter_map(|id| Some((*volume_of.get(id.as_str())?, id.as_str()))).collect();
    let mut checked = Vec::with_capacity(set.len());
    for snapshot_id in &set {
        let volume_id = volume_of.get(snapshot_id.as_str()).copied().unwrap_or_default();
        let mut one = check_snapshot(clients.ebs, snapshot_id, volume_id, reading, budget).await?;
        if let Some(before) = previous_of_volume.get(volume_id) {
            let (changed, calls) = ebs_api::changed_blocks(clients.ebs, before, snapshot_id).await?;
            one.changed_bytes = Some(changed * BLOCK_BYTES);
            one.list_calls += calls;
        }
        checked.push(one);
    }
    // The totals, from the snapshots' own figures.
    let blocks_read = checked.iter().map(|s| s.blocks_read).sum();
    let list_calls = checked.iter().map(|s| s.list_calls).sum();
    let bad_blocks: Vec<BadBlock> = checked.iter().flat_map(|s| s.bad_blocks.iter().cloned()).collect();
    let check = TargetCheck {
        outcome: if bad_blocks.is_empty() { Outcome::Verified } else { Outcome::Failed },
        backup: set,
        created: Some(created),
        blocks_read,
        bytes_read: checked.iter().map(|s| s.bytes_read).sum(),
        changed_bytes: (!previous.is_empty()).then(|| checked.iter().filter_map(|s| s.changed_bytes).sum()),
        budget_reached: checked.iter().any(|s| s.budget_reached),
        cost_usd: blocks::cost_usd(blocks_read, list_calls),
        duration_ms: started.elapsed().as_millis() as u64,
        bad_blocks,
        previous,
        snapshots: checked,
        ..no_backup
    };
    Ok(check)
}

/// The newest completed copy of the instance's sets in the copy Region (made by `stack`, when given), read
/// back as a set of this Region is: this round's share of each snapshot's blocks within the same budget. None
/// when there is no copy yet (copies follow the nightly run: a missing one is that run's to report).
pub async fn check_copy(
    clients: Clients<'_>,
    region: &str,
    instance_id: &str,
    stack: Option<&tags::StackId>,
    reading: Reading,
    budget: &Budget,
    now: i64,
) -> Result<CopyCheck> {
    let mut ours = vec![(MANAGED_BY_KEY, MANAGED_BY_VALUE), (TARGET_ID_KEY, instance_id)];
    ours.extend(stack.map(tags::StackId::tag));
    let snapshots = ec2_api::list_own_snapshots(clients.ec2, &ours, ec2_api::SNAPSHOT_PAGE_SIZE).await?;
    let listed: Vec<_> = snapshots.iter().map(ec2_api::snapshot_info).collect();
    let mut copy = CopyCheck { region: region.to_string(), ..Default::default() };
    let Some((set, created)) = super::newest_completed(&listed, now, true) else {
        return Ok(copy);
    };
    for snapshot_id in &set {
        let volume_id = snapshots
            .iter()
            .find(|s| s.snapshot_id() == Some(snapshot_id.as_str()))
            .and_then(|s| s.volume_id())
            .unwrap_or_default();
        copy.snapshots.push(check_snapshot(clients.ebs, snapshot_id, volume_id, reading, budget).await?);
    }
    copy.blocks_read = copy.snapshots.iter().map(|s| s.blocks_read).sum();
    copy.bytes_read = copy.snapshots.iter().map(|s| s.bytes_read).sum();
    copy.bad_blocks = copy.snapshots.iter().flat_map(|s| s.bad_blocks.iter().cloned()).collect();
    let list_calls = copy.snapshots.iter().map(|s| s.list_calls).sum();
    copy.cost_usd = blocks::cost_usd(copy.blocks_read, list_calls);
    (copy.backup, copy.created) = (set, Some(created));
    Ok(copy)
}

/// The copy Region's newest copy of a set, read back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CopyCheck {
    pub region: String,
    /// The copies read (empty: none yet) and when their source set was made.
    pub backup: Vec<String>,
    pub created: Option<i64>,
    pub snapshots: Vec<SnapshotCheck>,
    pub blocks_read: u64,
    pub bytes_read: u64,
    pub bad_blocks: Vec<BadBlock>,
    pub cost_usd: f64,
}
