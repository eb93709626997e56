//! An in-memory [`Store`]: the engine's tests run without the emulator, with any history, failures and
//! in-use parts they choose. It lists what the real stores list (our tag and the target's, this account's
//! when `owner_filtered`) and records every delete it is asked for.

use std::collections::HashSet;
use std::sync::Mutex;

use super::Store;
use crate::aws::Deleted;
use crate::error::{Error, Result};
use crate::retention::BackupInfo;
use crate::tags::{MANAGED_BY_KEY, MANAGED_BY_VALUE, TARGET_ID_KEY};

pub struct MemoryStore<const SETS: bool> {
    pub account: String,
    pub parts: Vec<BackupInfo>,
    /// Parts something uses, known before acting (an AMI's snapshot).
    pub in_use: HashSet<String>,
    /// Parts whose delete answers that something uses them (an AMI made since the look).
    pub in_use_on_delete: HashSet<String>,
    /// Parts whose delete fails.
    pub failing: HashSet<String>,
    /// Every delete asked for, in order.
    pub deletes: Mutex<Vec<String>>,
    /// The resource's `snapmgmt:Retention` tag.
    pub retention_tag: Option<String>,
    /// The service's own lifecycle (EFS's BACKUP_DELETE_AFTER_DAYS).
    pub lifecycle_days: Option<u32>,
    /// The policies recorded on parts: (id, policy).
    pub recorded: Mutex<Vec<(String, String)>>,
}

impl<const SETS: bool> MemoryStore<SETS> {
    pub fn new(account: &str, parts: Vec<BackupInfo>) -> Self {
        Self {
            account: account.to_string(),
            parts,
            in_use: HashSet::new(),
            in_use_on_delete: HashSet::new(),
            failing: HashSet::new(),
            deletes: Mutex::new(Vec::new()),
            retention_tag: None,
            lifecycle_days: None,
            recorded: Mutex::new(Vec::new()),
        }
    }

    pub fn deleted(&self) -> Vec<String> {
        self.deletes.lock().unwrap().clone()
    }
}

impl<const SETS: bool> Store for MemoryStore<SETS> {
    const KIND: &'static str = "memory";
    const SETS_BY_RUN: bool = SETS;

    async fn list_ours(&self, target_id: &str) -> Result<Vec<BackupInfo>> {
        let tagged = |p: &&BackupInfo, key: &str, value: &str| p.tags.get(key).map(String::as_str) == Some(value);
        Ok(self
            .parts
            .iter()
            .filter(|p| tagged(p, MANAGED_BY_KEY, MANAGED_BY_VALUE) && tagged(p, TARGET_ID_KEY, target_id))
            .cloned()
            .collect())
    }

    async fn resource(&self, _target_id: &str) -> Result<super::Resource> {
        let tags = self.retention_tag.iter().map(|t| (crate::tags::RETENTION_KEY.to_string(), t.clone())).collect();
        Ok(super::Resource { owner_id: self.account.clone(), tags, gone: false })
    }

    async fn describe(&self, ids: &[String]) -> Result<Vec<BackupInfo>> {
        ids.iter()
            .map(|id| {
                let found = self.parts.iter().find(|p| &p.id == id).cloned();
                found.ok_or_else(|| Error::NotFound { kind: "backup", id: id.clone() })
            })
            .collect()
    }

    fn lifecycle_days(&self) -> Option<u32> {
        self.lifecycle_days
    }

    async fn record_policy(&self, ids: &[String], policy: &str) -> Result<()> {
        self.recorded.lock().unwrap().extend(ids.iter().map(|id| (id.clone(), policy.to_string())));
        Ok(())
    }

    async fn in_use(&self, ids: &[String]) -> Result<HashSet<String>> {
        Ok(ids.iter().filter(|id| self.in_use.contains(*id)).cloned().collect())
    }

    async fn delete(&self, id: &str) -> Result<Deleted> {
        self.deletes.lock().unwrap().push(id.to_string());
        if self.failing.contains(id) {
            return Err(Error::Aws {
                service: "memory",
                operation: "Delete",
                code: "AccessDenied".into(),
                message: "refused".into(),
            });
        }
        Ok(if self.in_use_on_delete.contains(id) { Deleted::InUse } else { Deleted::Yes })
    }
}

/// A plain request of the tests: a real run (not a dry run, no time budget), of a current target (no orphan
/// grace), with this run's `new_backup` under `new_backup_field`; a test changes what it is about.
pub fn request<'a>(
    target_id: &'a str,
    new_backup_field: &'static str,
    new_backup: Option<&'a [String]>,
    run_id: Option<&'a str>,
    now: i64,
) -> super::Request<'a> {
    super::Request {
        target_id,
        new_backup,
        new_backup_field,
        run_id,
        dry_run: false,
        now,
        budget_end: None,
        orphan: false,
        adopt: false,
        policy_override: None,
        orphan_grace_days: 0,
        orphan_since: None,
    }
}
