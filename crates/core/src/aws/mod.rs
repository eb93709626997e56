//! Thin functions over the SDK clients: one module per service, paginated, errors mapped to [`crate::Error`].

pub mod backup;
pub mod ec2;
pub mod efs;
pub mod fsx;
pub mod sfn;
pub mod ssm;

// The SDK crates, so that the Lambda crates name one dependency.
pub use {aws_sdk_backup, aws_sdk_ec2, aws_sdk_efs, aws_sdk_fsx, aws_sdk_sfn, aws_sdk_ssm};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Attempts per call, the first included: throttling and transient errors are retried with
/// exponential backoff and jitter by the SDK's standard retry strategy.
pub const MAX_ATTEMPTS: u32 = 5;

/// The one SDK configuration of a process: region, credentials and endpoint from the environment
/// (AWS_ENDPOINT_URL points every client at a local emulator), retries set here and nowhere else.
pub async fn load_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .load()
        .await
}

/// Seconds since the Unix epoch of an SDK timestamp.
pub(crate) fn epoch_seconds(t: Option<&aws_smithy_types::DateTime>) -> i64 {
    t.map(|t| t.secs()).unwrap_or(0)
}
