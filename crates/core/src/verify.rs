//! Verified backups: a backup proven to read back, not only made. EBS snapshots are read through the EBS
//! direct APIs, a rotating share of their blocks each run, every block checked against its checksum, without
//! a restore. Which backup is verified is the one a restore would pick.

pub mod blocks;
pub mod ebs;
mod pick;

pub use pick::newest_completed;
