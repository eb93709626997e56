//! The verify function's settings.

use super::{optional_number, Env, Source};
use crate::error::Result;

/// Settings of the verify function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyConfig {
    /// Each run reads one block in this many of every snapshot, rotating, so every block of a lineage is read
    /// once over this many runs (1: every block, every run).
    pub read_fraction: u32,
    /// The most a verification reads, in GiB.
    pub max_gib_read: u32,
    /// The stack whose backups it verifies (STACK_ID): only those it made.
    pub stack: Option<crate::tags::StackId>,
}

pub const DEFAULT_READ_FRACTION: u32 = 8;
pub const DEFAULT_MAX_GIB_READ: u32 = 100;

impl VerifyConfig {
    pub fn from_source(src: &impl Source) -> Result<Self> {
        Ok(Self {
            read_fraction: optional_number(src, "VERIFY_READ_FRACTION", DEFAULT_READ_FRACTION, 1, 1024)?,
            max_gib_read: optional_number(src, "VERIFY_MAX_GIB_READ", DEFAULT_MAX_GIB_READ, 1, 1_000_000)?,
            stack: super::backup::stack_id(src)?,
        })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_source(&Env)
    }

    pub fn max_bytes(&self) -> u64 {
        u64::from(self.max_gib_read) * 1024 * 1024 * 1024
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::source;

    #[test]
    fn defaults_and_bad_values_named() {
        let config = VerifyConfig::from_source(&source(&[])).unwrap();
        assert_eq!((config.read_fraction, config.max_gib_read, config.stack), (8, 100, None));
        let bad = VerifyConfig::from_source(&source(&[("VERIFY_READ_FRACTION", "0")])).unwrap_err();
        assert!(bad.to_string().contains("VERIFY_READ_FRACTION"), "{bad}");
        let bad = VerifyConfig::from_source(&source(&[("VERIFY_MAX_GIB_READ", "lots")])).unwrap_err();
        assert!(bad.to_string().contains("VERIFY_MAX_GIB_READ"), "{bad}");
    }
}
