//! The EBS direct APIs: a snapshot's blocks, read without a restore.

use aws_sdk_ebs::Client;

use crate::error::{Error, Result};

const SERVICE: &str = "ebs";
/// The most a list page holds (the APIs allow 100 to 10,000).
pub const PAGE_SIZE: i32 = 10_000;

/// A written block of a snapshot, and the token that reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRef {
    pub index: i32,
    pub token: String,
}

/// Every written block of the snapshot, in index order, and the list calls it took.
pub async fn list_blocks(client: &Client, snapshot_id: &str) -> Result<(Vec<BlockRef>, u64)> {
    let mut pages =
        client.list_snapshot_blocks().snapshot_id(snapshot_id).max_results(PAGE_SIZE).into_paginator().send();
    let (mut blocks, mut calls) = (Vec::new(), 0);
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "ListSnapshotBlocks", e))?;
        calls += 1;
        blocks.extend(
            page.blocks()
                .iter()
                .filter_map(|b| Some(BlockRef { index: b.block_index()?, token: b.block_token()?.to_string() })),
        );
    }
    Ok((blocks, calls))
}

/// One block as read: its data and what the service says of it.
pub struct Block {
    pub data: Vec<u8>,
    pub checksum: Option<String>,
    pub algorithm: Option<String>,
}

/// What became of reading a block.
pub enum Read {
    Block(Block),
    /// The service refused or could not find a block it listed: the block is bad (the reason given).
    Refused(String),
}

/// One block's data. A block the service listed but will not serve is [`Read::Refused`]; throttling and
/// the service's own failures are errors (retried by the SDK first).
pub async fn read_block(client: &Client, snapshot_id: &str, block: &BlockRef) -> Result<Read> {
    let sent = client
        .get_snapshot_block()
        .snapshot_id(snapshot_id)
        .block_index(block.index)
        .block_token(&block.token)
        .send()
        .await;
    match sent {
        Ok(out) => {
            let checksum = out.checksum().map(str::to_string);
            let algorithm = out.checksum_algorithm().map(|a| a.as_str().to_string());
            let data = out
                .block_data
                .collect()
                .await
                .map_err(|e| Error::Aws {
                    service: SERVICE,
                    operation: "GetSnapshotBlock",
                    code: "ResponseError".into(),
                    message: format!("block {} of {snapshot_id} could not be read whole: {e}", block.index),
                })?
                .into_bytes()
                .to_vec();
            Ok(Read::Block(Block { data, checksum, algorithm }))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception() || s.is_validation_exception()) =>
        {
            let error = Error::aws(SERVICE, "GetSnapshotBlock", e);
            Ok(Read::Refused(error.to_string()))
        }
        Err(e) => Err(Error::aws(SERVICE, "GetSnapshotBlock", e)),
    }
}

/// How many blocks differ between an earlier snapshot of the lineage and a later one, and the calls it took.
pub async fn changed_blocks(client: &Client, first: &str, second: &str) -> Result<(u64, u64)> {
    let mut pages = client
        .list_changed_blocks()
        .first_snapshot_id(first)
        .second_snapshot_id(second)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let (mut changed, mut calls) = (0, 0);
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws(SERVICE, "ListChangedBlocks", e))?;
        calls += 1;
        changed += page.changed_blocks().len() as u64;
    }
    Ok((changed, calls))
}
