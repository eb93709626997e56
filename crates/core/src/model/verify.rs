//! verify: the event that asks for one target's backup to be read back.

use serde::Deserialize;

use super::{check_id, parse_event, Validate};
use crate::error::{Error, Result};

/// Verify one instance's newest snapshot set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyEvent {
    pub instance_id: String,
    /// The verification round: which share of each snapshot's blocks is read (blocks whose index agrees with
    /// it modulo VERIFY_READ_FRACTION). Absent: the day's number since the Unix epoch, so runs on different
    /// days read different shares.
    #[serde(default)]
    pub round: Option<u64>,
    /// The bytes this verification may read; absent: the whole of VERIFY_MAX_GIB_READ. Never more than that.
    #[serde(default)]
    pub max_bytes: Option<u64>,
}

impl VerifyEvent {
    pub fn parse(event: serde_json::Value) -> Result<Self> {
        parse_event(event)
    }
}

impl Validate for VerifyEvent {
    fn validate(&self) -> Result<()> {
        check_id("instanceId", &self.instance_id, "i-")?;
        // Less than a block would read nothing, and a verification that read nothing must not say verified.
        if self.max_bytes.is_some_and(|bytes| bytes < crate::verify::blocks::BLOCK_BYTES) {
            let reason =
                "less than one block (524,288 bytes) would read nothing: leave it out for the setting's budget";
            return Err(Error::invalid_event("maxBytes", reason));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_event_names_its_bad_field() {
        let bad = VerifyEvent::parse(json!({"instanceId": "vol-0123456789abcdef0"})).unwrap_err();
        assert!(bad.to_string().contains("`instanceId`"), "{bad}");
        let bad = VerifyEvent::parse(json!({"instanceId": "i-0123456789abcdef0", "round": "x"})).unwrap_err();
        assert!(bad.to_string().contains("`round`"), "{bad}");
        for too_few in [0, 524_287] {
            let bad =
                VerifyEvent::parse(json!({"instanceId": "i-0123456789abcdef0", "maxBytes": too_few})).unwrap_err();
            assert!(bad.to_string().contains("`maxBytes`"), "{bad}");
        }
        let bad = VerifyEvent::parse(json!({"instanceId": "i-0123456789abcdef0", "extra": 1})).unwrap_err();
        assert!(bad.to_string().contains("extra"), "{bad}");
        let good = VerifyEvent::parse(json!({"instanceId": "i-0123456789abcdef0", "round": 3})).unwrap();
        assert_eq!(good.round, Some(3));
    }
}
