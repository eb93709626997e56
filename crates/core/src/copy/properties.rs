//! Property tests of the copy loop over an in-memory copier: whatever the set, the Region's limit on copies
//! in flight and the time copies take, each part is copied once, found again on every later ask, the loop
//! waits (never fails) at the limit, and it is Ready exactly when every copy completed.

use proptest::prelude::*;

use super::memory::MemoryCopier;
use super::run;
use crate::model::CheckStatus;

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
}

proptest! {
    #[test]
    fn each_part_is_copied_once_found_again_and_the_loop_waits_at_the_limit(
        count in 1usize..8,
        limit in 1usize..4,
        ticks in 0u32..3,
        describes in any::<bool>(),
    ) {
        let parts: Vec<String> = (0..count).map(|n| format!("part-{n}")).collect();
        let copier = MemoryCopier::new(limit, ticks, describes);
        // Enough asks for every part to start and complete, `limit` at a time.
        let asks = (count / limit + 1) * (ticks as usize + 1) + 2;
        let mut last = None;
        for _ in 0..asks {
            let progress = block_on(run(&copier, &parts)).unwrap();
            prop_assert_ne!(progress.status, CheckStatus::Failed);
            if progress.limit_reached {
                prop_assert_eq!(progress.status, CheckStatus::InProgress, "waits at the limit");
            }
            let mut starts = copier.starts();
            let started = starts.len();
            starts.sort();
            starts.dedup();
            prop_assert_eq!(starts.len(), started, "a part copied twice");
            prop_assert_eq!(progress.copy_ids.len(), started, "every copy made is found again");
            last = Some(progress);
            copier.tick();
        }
        let last = last.unwrap();
        prop_assert_eq!(last.status, CheckStatus::Ready);
        prop_assert_eq!(last.copy_ids.len(), count);
        // Asked again once Ready: the same copies, none made.
        let again = block_on(run(&copier, &parts)).unwrap();
        prop_assert_eq!(again.copy_ids, last.copy_ids);
        prop_assert_eq!(copier.starts().len(), count);
    }
}

#[test]
fn a_failed_copy_fails_the_ask_and_is_not_made_again() {
    let parts = vec!["part-0".to_string(), "part-1".to_string()];
    let mut copier = MemoryCopier::new(10, 1, false);
    copier.failing.insert("part-1".into());
    let first = block_on(run(&copier, &parts)).unwrap();
    assert_eq!((first.status, first.copy_ids.len()), (CheckStatus::Failed, 2));
    let again = block_on(run(&copier, &parts)).unwrap();
    assert_eq!(again.status, CheckStatus::Failed);
    assert_eq!(copier.starts().len(), 2, "the failed copy is reported, not copied again");
}
