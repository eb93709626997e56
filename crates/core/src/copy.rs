//! What the copies of every kind share: the two Regions a copy joins, the copy loop's ask over a
//! [`Copier`] (EBS and FSx; EFS copies are AWS Backup jobs the workflow follows by id, efs/copy.rs), and how a
//! copy's state reads in the workflow's copy loop.

mod engine;
#[cfg(test)]
mod memory;
#[cfg(test)]
mod properties;

pub use engine::{run, Copier, Progress, Started};

use crate::config::CopySettings;
use crate::error::Result;
use crate::model::{CheckStatus, CopyResult};
use crate::retention::BackupState;

/// The two Regions a copy joins: a client of the service in each.
pub struct Regions<'a, C> {
    pub source: &'a C,
    pub source_region: &'a str,
    pub destination: &'a C,
    pub destination_region: &'a str,
}

// References only, whatever the client: a derive would ask `C: Copy`.
impl<C> Clone for Regions<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Regions<'_, C> {}

/// The clients of the copy Region that the trigger (orphans' copies) and cleanup (the copies) use.
pub struct RegionClients {
    pub ec2: aws_sdk_ec2::Client,
    pub fsx: aws_sdk_fsx::Client,
    pub backup: aws_sdk_backup::Client,
}

impl RegionClients {
    /// Clients of `config` in `region`.
    pub fn new(config: &aws_config::SdkConfig, region: &str) -> Self {
        let config = crate::aws::config_in(config, region);
        Self {
            ec2: aws_sdk_ec2::Client::new(&config),
            fsx: aws_sdk_fsx::Client::new(&config),
            backup: aws_sdk_backup::Client::new(&config),
        }
    }
}

/// What a function that copies holds from its start: the copy settings, its own Region, and its client in
/// the copy Region (made whenever COPY_REGION is set).
pub struct Copying<C> {
    pub settings: CopySettings,
    pub source_region: String,
    pub destination: Option<C>,
}

impl<C> Copying<C> {
    /// The copy settings (COPY_*), read from the environment and logged when bad, with a client of the copy
    /// Region made by `client` from the function's configuration there.
    pub fn at_start(config: &aws_config::SdkConfig, client: impl FnOnce(&aws_config::SdkConfig) -> C) -> Result<Self> {
        let settings = crate::config::logged_at_start(CopySettings::from_source(&crate::config::Env))?;
        let destination = settings.region.as_deref().map(|region| client(&crate::aws::config_in(config, region)));
        let source_region = config.region().map(|r| r.to_string()).unwrap_or_default();
        Ok(Self { settings, source_region, destination })
    }

    /// The two Regions of a copy from `source`; fails naming COPY_REGION when it is not set.
    pub fn regions<'r>(&'r self, source: &'r C) -> Result<Regions<'r, C>> {
        let destination_region = self.settings.destination()?;
        let destination = self.destination.as_ref().expect("a client is made whenever COPY_REGION is set");
        Ok(Regions { source, source_region: &self.source_region, destination, destination_region })
    }
}

/// A copy step that AWS throttled waits for the next ask (`waiting`, in progress) instead of failing: the
/// copy loop asks again after copyPollSeconds, within copyMaxPolls, and each ask finds what the throttled
/// one started. A throttled call was refused, so asking again never makes a second copy.
pub fn or_wait(result: Result<CopyResult>, waiting: CopyResult) -> Result<CopyResult> {
    match result {
        Err(e) if e.kind() == crate::error::ErrorKind::Throttled => {
            tracing::warn!(error = %e, "copy step throttled: asked again at the next poll");
            Ok(CopyResult { detail: format!("waiting: throttled ({e})"), ..waiting })
        }
        other => other,
    }
}

/// Ready once every expected copy completed; Failed when one failed; InProgress while one is copying,
/// or while AWS's limit on copies in flight keeps some from starting (`limited`).
pub fn status_of(states: &[BackupState], expected: usize, limited: bool) -> CheckStatus {
    if states.contains(&BackupState::Failed) {
        CheckStatus::Failed
    } else if !limited && states.len() == expected && states.iter().all(|s| *s == BackupState::Completed) {
        CheckStatus::Ready
    } else {
        CheckStatus::InProgress
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BackupState::{Completed, Failed, Pending};

    #[test]
    fn a_copy_is_ready_only_when_every_one_completed() {
        assert_eq!(status_of(&[Completed, Completed], 2, false), CheckStatus::Ready);
        assert_eq!(status_of(&[Completed], 2, false), CheckStatus::InProgress, "one not started");
        assert_eq!(status_of(&[Completed, Completed], 2, true), CheckStatus::InProgress, "limit reached");
        assert_eq!(status_of(&[Completed, Pending], 2, false), CheckStatus::InProgress);
        assert_eq!(status_of(&[Pending, Failed], 2, true), CheckStatus::Failed);
        assert_eq!(status_of(&[], 0, false), CheckStatus::Ready, "nothing to copy");
    }

    #[test]
    fn a_throttled_copy_step_waits_and_any_other_error_stands() {
        let aws = |code: &str| crate::Error::Aws {
            service: "ec2",
            operation: "CopySnapshot",
            code: code.into(),
            message: "m".into(),
        };
        let waiting = CopyResult { copy_job_id: Some("job".into()), ..CopyResult::to("us-west-2", 3) };
        let waited = or_wait(Err(aws("RequestLimitExceeded")), waiting.clone()).unwrap();
        assert_eq!(
            (waited.status, waited.attempt, waited.copy_job_id.as_deref()),
            (CheckStatus::InProgress, 4, Some("job"))
        );
        assert!(waited.detail.contains("throttled") && waited.copy_ids.is_empty(), "{waited:?}");
        assert!(or_wait(Err(aws("InvalidSnapshot.NotFound")), waiting.clone()).is_err());
        assert!(or_wait(Err(aws("InternalError")), waiting).is_err(), "the workflow's Retry takes AWS's failures");
    }
}
