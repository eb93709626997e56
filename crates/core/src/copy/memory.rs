//! An in-memory [`Copier`]: a copy Region with a limit on copies in flight and copies that complete after
//! some time, for the copy loop's tests without the emulator. It records every copy it starts.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use super::{Copier, Started};
use crate::error::Result;
use crate::retention::{BackupInfo, BackupState};
use crate::tags::SOURCE_ID_KEY;

pub struct MemoryCopier {
    /// Copies in flight at once that the Region accepts.
    pub limit: usize,
    /// Ticks a copy takes to complete.
    pub ticks_to_complete: u32,
    /// Whether a start's answer describes the copy (FSx) or the destination is listed again (EBS).
    pub describes: bool,
    /// Sources whose copy fails.
    pub failing: HashSet<String>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Copy id -> (source, ticks left).
    copies: BTreeMap<String, (String, u32)>,
    /// Every start, by source.
    starts: Vec<String>,
}

impl MemoryCopier {
    pub fn new(limit: usize, ticks_to_complete: u32, describes: bool) -> Self {
        Self { limit, ticks_to_complete, describes, failing: HashSet::new(), state: Mutex::default() }
    }

    /// Time passes: every copy in flight is one tick nearer completion.
    pub fn tick(&self) {
        for (_, left) in self.state.lock().unwrap().copies.values_mut() {
            *left = left.saturating_sub(1);
        }
    }

    /// Every copy started, by its source, in order.
    pub fn starts(&self) -> Vec<String> {
        self.state.lock().unwrap().starts.clone()
    }

    fn info(&self, id: &str, source: &str, left: u32) -> BackupInfo {
        let state = match (self.failing.contains(source), left) {
            (true, _) => BackupState::Failed,
            (false, 0) => BackupState::Completed,
            _ => BackupState::Pending,
        };
        BackupInfo {
            id: id.to_string(),
            owner_account: Some("123456789012".into()),
            source_id: None,
            tags: [(SOURCE_ID_KEY.to_string(), source.to_string())].into_iter().collect(),
            created_at: Some(0),
            state,
            in_use: false,
            aws_backup_managed: false,
        }
    }
}

impl Copier for MemoryCopier {
    async fn copies(&self) -> Result<BTreeMap<String, BackupInfo>> {
        let state = self.state.lock().unwrap();
        Ok(state.copies.iter().map(|(id, (source, left))| (source.clone(), self.info(id, source, *left))).collect())
    }

    async fn start(&self, parts: &[String]) -> Result<Started> {
        let mut state = self.state.lock().unwrap();
        let mut described = Vec::new();
        for source in parts {
            let in_flight = state.copies.values().filter(|(_, left)| *left > 0).count();
            if in_flight >= self.limit {
                return Ok(Started { described: self.describes.then_some(described), limit_reached: true });
            }
            let id = format!("copy-{:04}", state.starts.len());
            state.copies.insert(id.clone(), (source.clone(), self.ticks_to_complete));
            state.starts.push(source.clone());
            described.push((source.clone(), self.info(&id, source, self.ticks_to_complete)));
        }
        Ok(Started { described: self.describes.then_some(described), limit_reached: false })
    }
}
