//! A function's own share of an account's EC2 request budget. EC2 throttles each account per Region with a
//! token bucket per API (mutating actions such as DeleteSnapshot: 200 tokens, 5 a second; the EC2 developer
//! guide's "Request throttling for the Amazon EC2 API"), and every tool of the account draws on it. So a
//! burst of deletes is paced here to a share of it (EC2_API_SHARE), divided among the invocations that may
//! run at once (EC2_CONCURRENCY): they stay inside the budget together, and leave the rest to the others.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// EC2's bucket for a mutating action: its size, and the tokens it gets back each second.
pub const EC2_MUTATING_BUCKET: f64 = 200.0;
pub const EC2_MUTATING_REFILL_PER_SECOND: f64 = 5.0;

/// A token bucket: `burst` calls at once, then `per_second`.
#[derive(Debug)]
pub struct Pace {
    burst: f64,
    per_second: f64,
    state: Mutex<(f64, Option<Instant>)>,
}

impl Pace {
    pub fn new(burst: f64, per_second: f64) -> Self {
        Self { burst: burst.max(1.0), per_second, state: Mutex::new((burst.max(1.0), None)) }
    }

    /// This invocation's share of EC2's mutating bucket: `share_percent` of it for the stack, divided among
    /// `concurrency` invocations at once.
    pub fn ec2_mutating(share_percent: u32, concurrency: u32) -> Self {
        let part = f64::from(share_percent) / 100.0 / f64::from(concurrency.max(1));
        Self::new(EC2_MUTATING_BUCKET * part, EC2_MUTATING_REFILL_PER_SECOND * part)
    }

    /// The calls it allows in a second once its burst is spent.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// Takes a token at `now`, or says how long until one is there.
    pub fn take_at(&self, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().expect("a pace's lock is never poisoned: nothing panics holding it");
        let (tokens, last) = *state;
        let tokens = match last {
            Some(last) => {
                (tokens + now.saturating_duration_since(last).as_secs_f64() * self.per_second).min(self.burst)
            }
            None => tokens,
        };
        if tokens >= 1.0 {
            *state = (tokens - 1.0, Some(now));
            Ok(())
        } else {
            *state = (tokens, Some(now));
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }

    /// Waits for a token.
    pub async fn wait(&self) {
        while let Err(wait) = self.take_at(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_refill_rate() {
        let pace = Pace::new(3.0, 2.0);
        let start = Instant::now();
        assert!((0..3).all(|_| pace.take_at(start).is_ok()));
        let wait = pace.take_at(start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert!(pace.take_at(start + Duration::from_millis(500)).is_ok());
        assert!(pace.take_at(start + Duration::from_millis(600)).is_err());
        // Idle time refills up to the burst, no further.
        let later = start + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| pace.take_at(later).is_ok()).count(), 3);
    }

    #[test]
    fn the_stacks_share_is_divided_among_the_invocations_at_once() {
        // Half of EC2's budget over 50 invocations: 2 deletes at once each, then one every 20 s; together
        // 100 at once and 2.5 a second, half of EC2's 200 and 5.
        let pace = Pace::ec2_mutating(50, 50);
        let start = Instant::now();
        assert_eq!((0..5).filter(|_| pace.take_at(start).is_ok()).count(), 2);
        assert!((pace.per_second() * 50.0 - 2.5).abs() < 1e-9);
        // Alone, with the whole budget: EC2's own bucket.
        let alone = Pace::ec2_mutating(100, 1);
        assert_eq!((0..250).filter(|_| alone.take_at(start).is_ok()).count(), 200);
        assert!((alone.per_second() - 5.0).abs() < 1e-9);
    }
}
