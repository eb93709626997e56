//! The copy loop's one ask, whatever the kind: find this run's copies in the copy Region, start the ones
//! that are missing (until AWS's limit on copies in flight stops it), and say how they are doing. Each kind
//! gives a [`Copier`]; a copy is found again by its `snapmgmt:SourceId` tag, so a retried or repeated ask
//! never makes a second one.

use std::collections::BTreeMap;
use std::future::Future;

use crate::error::Result;
use crate::model::CheckStatus;
use crate::retention::BackupInfo;

/// Where one kind's copies of a run's backup are made.
pub trait Copier {
    /// Our copies of this run's backup in the destination, by the id of the part each is a copy of.
    fn copies(&self) -> impl Future<Output = Result<BTreeMap<String, BackupInfo>>> + Send;
    /// Starts the copies of these parts, in order, each tagged with its source's id and Region, until AWS's
    /// limit on copies in flight to the Region refuses one.
    fn start(&self, parts: &[String]) -> impl Future<Output = Result<Started>> + Send;
}

/// What [`Copier::start`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Started {
    /// The copies started, as the answers described them; None: the destination is listed again for them.
    pub described: Option<Vec<(String, BackupInfo)>>,
    /// AWS's limit on copies in flight refused one: the rest wait for a later ask.
    pub limit_reached: bool,
}

/// How this run's copies are doing after one ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The copies found or started, in the order of their parts.
    pub copy_ids: Vec<String>,
    pub status: CheckStatus,
    /// AWS's limit on copies in flight kept some from starting.
    pub limit_reached: bool,
}

/// One ask of the copy loop for `parts` (the ids of this run's backup).
pub async fn run<C: Copier>(copier: &C, parts: &[String]) -> Result<Progress> {
    let mut copies = copier.copies().await?;
    let missing: Vec<String> = parts.iter().filter(|part| !copies.contains_key(*part)).cloned().collect();
    let mut limit_reached = false;
    if !missing.is_empty() {
        let started = copier.start(&missing).await?;
        limit_reached = started.limit_reached;
        match started.described {
            Some(described) => copies.extend(described),
            None => copies = copier.copies().await?,
        }
    }
    let (copy_ids, states): (Vec<String>, Vec<_>) =
        parts.iter().filter_map(|part| copies.remove(part)).map(|copy| (copy.id, copy.state)).unzip();
    let status = super::status_of(&states, parts.len(), limit_reached);
    Ok(Progress { copy_ids, status, limit_reached })
}
