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
pub mod verify;

pub use error::{Error, Result};

/// snapmgmt's version (the workspace's, in Cargo.toml): every function says it at start and on `--version`,
/// and every run report records it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Now, in seconds since the Unix epoch.
pub fn now_epoch_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

pub fn now_epoch_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_licence_file_is_the_one_cargo_toml_names() {
        let manifest = include_str!("../../../Cargo.toml");
        assert!(manifest.contains("license = \"MIT-0\""), "Cargo.toml names MIT-0");
        let licence = include_str!("../../../LICENSE");
        assert!(licence.starts_with("MIT No Attribution\n"), "LICENSE is MIT-0's text");
        assert!(licence.contains("without restriction") && !licence.contains("above copyright notice"));
    }
}
