//! Independent calls at once, within a bound and a time budget.

use std::future::Future;
use std::time::Instant;

use futures::stream::{self, StreamExt};

use crate::pace::Pace;

/// When to start no more calls in an invocation whose Lambda deadline is `deadline_ms` (milliseconds since
/// the Unix epoch; 0 when there is none, as in tests): `margin` before it, so that the calls in flight end
/// and the report is returned before Lambda would stop the invocation; for a short invocation, after three
/// quarters of its time.
pub fn budget_end(deadline_ms: u64, margin: std::time::Duration) -> Option<Instant> {
    // Lambda sends a time since the epoch; some local runtimes send the function's timeout instead.
    const YEAR_2001_MS: u64 = 978_307_200_000;
    let left = match deadline_ms {
        0 => return None,
        relative if relative < YEAR_2001_MS => std::time::Duration::from_millis(relative),
        absolute => (std::time::UNIX_EPOCH + std::time::Duration::from_millis(absolute))
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    };
    Some(Instant::now() + left.saturating_sub(margin).max(left * 3 / 4))
}

/// What became of one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    Done(T),
    /// The budget ran out before its turn came: nothing was sent for it.
    NotStarted,
}

/// Runs `op` on every id, at most `limit` at a time and no faster than `pace` allows, starting none after
/// `budget_end`; each id with what became of it, in the order they finished. Calls already started run to
/// their end (their own timeouts bound them).
pub async fn for_each_id<T, F, Fut>(
    ids: Vec<String>,
    limit: usize,
    budget_end: Option<Instant>,
    pace: Option<&Pace>,
    op: F,
) -> Vec<(String, Outcome<T>)>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = T>,
{
    let op = &op;
    stream::iter(ids)
        .map(|id| async move {
            if let Some(pace) = pace {
                pace.wait().await;
            }
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

    fn in_seconds(seconds: u64) -> u64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        (now + Duration::from_secs(seconds)).as_millis() as u64
    }

    #[test]
    fn the_budget_ends_a_margin_before_the_deadline_or_after_three_quarters_of_a_short_one() {
        let margin = Duration::from_secs(75);
        let long = budget_end(in_seconds(900), margin).unwrap() - Instant::now();
        assert!(long > Duration::from_secs(820) && long <= Duration::from_secs(825), "{long:?}");
        let short = budget_end(in_seconds(40), margin).unwrap() - Instant::now();
        assert!(short > Duration::from_secs(29) && short <= Duration::from_secs(30), "{short:?}");
        assert_eq!(budget_end(0, margin), None);
        let relative = budget_end(600_000, margin).unwrap() - Instant::now();
        assert!(relative > Duration::from_secs(520) && relative <= Duration::from_secs(525), "{relative:?}");
    }

    #[tokio::test]
    async fn starts_nothing_after_the_budget_and_finishes_what_started() {
        let ids: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let end = Instant::now() + Duration::from_millis(250);
        let results = for_each_id(ids, 2, Some(end), None, |id| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            id
        })
        .await;
        let done = results.iter().filter(|(_, o)| matches!(o, Outcome::Done(_))).count();
        assert!((4..=6).contains(&done), "{results:?}");
        assert_eq!(results.len(), 10);
    }
}
