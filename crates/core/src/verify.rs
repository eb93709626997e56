//! Verified backups: a backup proven to read back, not only made. EBS snapshots are read through the EBS
//! direct APIs, a rotating share of their blocks each run, every block checked against its checksum, without
//! a restore. Which backup is verified is the one a restore would pick. A verify run (its own state machine,
//! on its own schedule) checks every target and keeps each one's last verification.

pub mod blocks;
pub mod check;
pub mod ebs;
pub mod efs;
pub mod fsx;
pub mod ledger;
pub mod pending;
pub(crate) mod pick;
pub mod restore;
pub mod run;
pub mod target;
pub mod validate;

pub use pick::{chosen, newest_completed, Pick};
pub use target::{Outcome, RestoreTest, RestoredResource, TargetCheck};
