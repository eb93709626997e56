//! Which blocks of a snapshot a run reads, how a block is checked, and what reading costs.

use sha2::{Digest, Sha256};

/// The EBS direct APIs' block: 512 KiB.
pub const BLOCK_BYTES: u64 = 512 * 1024;

/// The EBS direct APIs' list prices (US East, N. Virginia): GetSnapshotBlock, per 1,000 blocks read;
/// ListSnapshotBlocks and ListChangedBlocks, per 1,000 requests.
pub const USD_PER_1000_BLOCKS_READ: f64 = 0.003;
pub const USD_PER_1000_LIST_CALLS: f64 = 0.0006;

/// Whether round `round` of a lineage's verification reads the block at `index`, when each run reads one
/// `fraction`-th of the blocks: a block is read in the rounds that agree with its index modulo `fraction`,
/// so over any `fraction` consecutive rounds every block of the lineage (its unchanged blocks keep their
/// indexes from snapshot to snapshot) is read exactly once. A fraction of 1 reads every block every round.
pub fn read_in_round(index: i32, round: u64, fraction: u32) -> bool {
    let fraction = u64::from(fraction.max(1));
    u64::from(index.unsigned_abs()) % fraction == round % fraction
}

/// Where in a round's share of a snapshot's blocks this run starts reading, when its budget affords only
/// `affordable` of the `chosen`: a different part each time the round comes back (every `fraction` runs, its
/// `cycle`), so that a budget too small for a round still reads every block over the cycles, not the first
/// ones each time.
pub fn share_start(chosen: usize, affordable: usize, cycle: u64) -> usize {
    if affordable == 0 || affordable >= chosen {
        return 0;
    }
    ((cycle % chosen as u64) as usize * affordable) % chosen
}

/// Whether the data read is what its checksum says: the EBS direct APIs' SHA256, base64-encoded.
pub fn checksum_matches(data: &[u8], algorithm: Option<&str>, checksum: Option<&str>) -> Result<(), String> {
    match (algorithm, checksum) {
        (Some("SHA256"), Some(expected)) => {
            let actual = aws_smithy_types::base64::encode(Sha256::digest(data));
            if actual == expected {
                Ok(())
            } else {
                Err(format!("its data's SHA256 is {actual}, its checksum says {expected}"))
            }
        }
        (algorithm, None) => Err(format!("no checksum came with it (algorithm {algorithm:?})")),
        (algorithm, Some(_)) => Err(format!("its checksum algorithm is {algorithm:?}, not SHA256")),
    }
}

/// What reading `blocks` blocks with `list_calls` list requests costs at the list prices, in US dollars.
pub fn cost_usd(blocks: u64, list_calls: u64) -> f64 {
    blocks as f64 / 1000.0 * USD_PER_1000_BLOCKS_READ + list_calls as f64 / 1000.0 * USD_PER_1000_LIST_CALLS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_budget_reads_the_whole_share_over_the_cycles() {
        for (chosen, affordable) in [(10_usize, 3_usize), (7, 7), (12, 4), (5, 1)] {
            let mut seen = std::collections::BTreeSet::new();
            for cycle in 0..chosen.div_ceil(affordable) as u64 {
                let start = share_start(chosen, affordable, cycle);
                seen.extend((0..affordable).map(|i| (start + i) % chosen));
            }
            assert_eq!(seen.len(), chosen, "{chosen} blocks, {affordable} a run");
        }
        assert_eq!(share_start(5, 0, 3), 0);
    }
    use proptest::prelude::*;

    #[test]
    fn a_block_reads_back_only_as_its_checksum_says() {
        let data = vec![7u8; 1024];
        let good = aws_smithy_types::base64::encode(Sha256::digest(&data));
        assert_eq!(checksum_matches(&data, Some("SHA256"), Some(&good)), Ok(()));
        let mut flipped = data.clone();
        flipped[0] ^= 0xFF;
        assert!(checksum_matches(&flipped, Some("SHA256"), Some(&good)).unwrap_err().contains("checksum says"));
        assert!(checksum_matches(&data, Some("SHA256"), None).is_err());
        assert!(checksum_matches(&data, Some("CRC32"), Some(&good)).is_err());
    }

    #[test]
    fn reading_costs_its_list_price() {
        // A TiB is 2,097,152 blocks: $6.29 to read whole, plus a list call per 10,000 blocks.
        let blocks = 1024 * 1024 * 1024 * 1024 / BLOCK_BYTES;
        let cost = cost_usd(blocks, blocks / 10_000 + 1);
        assert!((cost - 6.2916).abs() < 0.001, "{cost}");
    }

    proptest! {
        /// Over any `fraction` consecutive rounds, starting anywhere, every block is read exactly once.
        #[test]
        fn every_block_is_read_once_in_any_fraction_rounds(
            indexes in proptest::collection::btree_set(0i32..2_000_000, 1..200),
            fraction in 1u32..32,
            first_round in 0u64..10_000,
        ) {
            for index in indexes {
                let reads = (first_round..first_round + u64::from(fraction))
                    .filter(|round| read_in_round(index, *round, fraction))
                    .count();
                prop_assert_eq!(reads, 1, "block {} over {} rounds from {}", index, fraction, first_round);
            }
        }

        /// Each round reads about one `fraction`-th of a snapshot's blocks.
        #[test]
        fn a_round_reads_its_share(fraction in 2u32..16, round in 0u64..1000) {
            let read = (0..16_000).filter(|i| read_in_round(*i, round, fraction)).count();
            let share = 16_000 / fraction as usize;
            prop_assert!(read.abs_diff(share) <= 1, "{} of 16,000 read, {} expected", read, share);
        }
    }
}
