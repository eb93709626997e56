//! snapmgmt-core: everything snapmgmt does that can be tested without Lambda.

pub mod adopt;
pub mod aws;
pub mod cleanup;
pub mod concurrent;
pub mod config;
pub mod copy;
pub mod ec2;
pub mod efs;
pub mod error;
pub mod freshness;
pub mod fsx;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod orphans;
pub mod pace;
pub mod report;
pub mod retention;
pub mod serve;
pub mod tags;
pub mod tiers;
pub mod trigger;

pub use error::{Error, Result};

/// Now, in seconds since the Unix epoch.
pub fn now_epoch_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
