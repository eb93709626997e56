//! Thin functions over the SDK clients: one module per service, paginated, errors mapped to [`crate::Error`].

pub mod backup;
pub mod ebs;
pub mod ec2;
pub mod efs;
pub mod fsx;
pub mod s3;
pub mod sfn;
pub mod ssm;

// The SDK crates, so that the Lambda crates name one dependency.
pub use {
    aws_sdk_backup, aws_sdk_ebs, aws_sdk_ec2, aws_sdk_efs, aws_sdk_fsx, aws_sdk_lambda, aws_sdk_s3, aws_sdk_sfn,
    aws_sdk_ssm,
};

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;

/// The same configuration (credentials, retries, timeouts, endpoint) in another Region: the copy Region.
pub fn config_in(config: &SdkConfig, region: &str) -> SdkConfig {
    config.to_builder().region(aws_config::Region::new(region.to_string())).build()
}

/// How a function's AWS calls are retried and bounded in time: chosen per function, set here and nowhere
/// else. Throttling, 5xx answers, timeouts and dropped connections are retried with exponential backoff
/// and full jitter; an error that persists past the attempts reaches the workflow, which retries the
/// Task (`Throttled`, `AwsUnavailable`) or fails that target alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallPattern {
    /// A few calls per invocation (describe, create, start, poll): the standard retry strategy.
    Steady,
    /// Bursts of calls (cleanup's concurrent deletes): the adaptive strategy, whose client-side rate limiter
    /// slows the burst down when AWS throttles instead of spending attempts against the limit.
    Bursty,
}

/// One attempt of a call gives up after this long and is retried (a slow page of 1,000 snapshots takes
/// a few seconds).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl CallPattern {
    /// Attempts per call, the first included: at 30% throttling, 8 fail together once in 15,000 calls.
    pub const fn max_attempts(self) -> u32 {
        match self {
            CallPattern::Steady => 8,
            CallPattern::Bursty => 10,
        }
    }

    /// A call, all attempts and waits included, ends within this: inside the functions' 60 s timeout
    /// (cleanup's: 900 s).
    pub const fn operation_timeout(self) -> Duration {
        match self {
            CallPattern::Steady => Duration::from_secs(40),
            CallPattern::Bursty => Duration::from_secs(60),
        }
    }

    pub fn retry_config(self) -> RetryConfig {
        let base = match self {
            CallPattern::Steady => RetryConfig::standard(),
            CallPattern::Bursty => RetryConfig::adaptive(),
        };
        base.with_max_attempts(self.max_attempts()).with_max_backoff(MAX_BACKOFF)
    }

    pub fn timeout_config(self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(self.operation_timeout())
            .build()
    }
}

/// The one SDK configuration of a process: region, credentials and endpoint from the environment
/// (AWS_ENDPOINT_URL points every client at a local emulator), retries and timeouts of its call pattern.
/// Every request names the function in its user agent (`app/<function>`): CloudTrail shows it. (Which
/// role acts is told by the credentials, on AWS and on the local stack alike.)
pub async fn load_config(function: &'static str, pattern: CallPattern) -> SdkConfig {
    let app = aws_config::AppName::new(function).expect("a function name is a valid app name");
    aws_config::defaults(BehaviorVersion::latest())
        .app_name(app)
        .retry_config(pattern.retry_config())
        .timeout_config(pattern.timeout_config())
        .load()
        .await
}

/// What became of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// Deleted, or already gone.
    Yes,
    /// Something uses it (an AMI, a restore or copy in progress): kept, and reported, not a failure.
    InUse,
}

/// Seconds since the Unix epoch of an SDK timestamp.
/// None when AWS gave none: such a backup is kept, never taken for one made in 1970.
pub(crate) fn epoch_seconds(t: Option<&aws_smithy_types::DateTime>) -> Option<i64> {
    t.map(|t| t.secs())
}
