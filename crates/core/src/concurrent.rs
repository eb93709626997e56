//! Independent calls at once, within a bound.

use std::future::Future;

use futures::stream::{self, StreamExt};

/// Runs `op` on every id, at most `limit` at a time; each id with its result, in the order they finished.
pub async fn for_each_id<T, F, Fut>(ids: Vec<String>, limit: usize, op: F) -> Vec<(String, T)>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = T>,
{
    stream::iter(ids)
        .map(|id| {
            let result = op(id.clone());
            async move { (id, result.await) }
        })
        .buffer_unordered(limit)
        .collect()
        .await
}
