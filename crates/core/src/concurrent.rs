//! Independent calls at once, within a bound and a time budget.

use std::future::Future;
use std::time::Instant;

use futures::stream::{self, StreamExt};

/// When to start no more calls in an invocation whose Lambda deadline is `deadline_ms` (milliseconds since
/// the Unix epoch; 0 when there is none, as in tests): `margin` before it, so that the calls in flight end
/// and the report is returned before Lambda would stop the invocation.
pub fn budget_end(deadline_ms: u64, margin: std::time::Duration) -> Option<Instant> {
    if deadline_ms == 0 {
        return None;
    }
    let deadline = std::time::UNIX_EPOCH + std::time::Duration::from_millis(deadline_ms);
    let left = deadline.duration_since(std::time::SystemTime::now()).unwrap_or_default();
    Some(Instant::now() + left.saturating_sub(margin))
}

/// What became of one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    Done(T),
    /// The budget ran out before its turn came: nothing was sent for it.
    NotStarted,
}

/// Runs `op` on every id, at most `limit` at a time, starting none after `budget_end`; each id with what
/// became of it, in the order they finished. Calls already started run to their end (their own timeouts
/// bound them).
pub async fn for_each_id<T, F, Fut>(
    ids: Vec<String>,
    limit: usize,
    budget_end: Option<Instant>,
    op: F,
) -> Vec<(String, Outcome<T>)>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = T>,
{
    let op = &op;
    stream::iter(ids)
        .map(|id| async move {
            // Checked when the call would start, not when it was queued.
            if budget_end.is_some_and(|end| Instant::now() >= end) {
                return (id, Outcome::NotStarted);
            }
            let result = op(id.clone()).await;
            (id, Outcome::Done(result))
        })
        .buffer_unordered(limit)
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn starts_nothing_after_the_budget_and_finishes_what_started() {
        let ids: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let end = Instant::now() + Duration::from_millis(250);
        let results = for_each_id(ids, 2, Some(end), |id| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            id
        })
        .await;
        let done = results.iter().filter(|(_, o)| matches!(o, Outcome::Done(_))).count();
        assert!((4..=6).contains(&done), "{results:?}");
        assert_eq!(results.len(), 10);
    }
}
