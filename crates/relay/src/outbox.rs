//! The records the relay's server holds in its chains, as a sync outbox toward the central
//! server: `sqlexam_sync::Outbox` over the server store's relay queue.

use sqlexam_core::crypto::PublicKey;
use sqlexam_core::session::{StoredCheckpoint, StoredReceipt, SyncCounts};
use sqlexam_core::tlog::{Checkpoint, open_checkpoint};
use sqlexam_server::store::StoreError;
use sqlexam_server::store::sqlite::relay::RelayQueue;
use sqlexam_sync::{Outbox, SyncError, Unsent};

pub struct RelayOutbox {
    queue: RelayQueue,
}

fn store(e: StoreError) -> SyncError {
    SyncError::Store(std::sync::Arc::new(e))
}

impl RelayOutbox {
    pub fn new(queue: RelayQueue) -> Self {
        RelayOutbox { queue }
    }

    /// The backlog now.
    pub fn counts(&self) -> Result<SyncCounts, SyncError> {
        self.queue.sync_counts().map_err(store)
    }

    /// What the central server proved of `session`.
    pub fn upstream(
        &self,
        session: &str,
    ) -> Result<Option<sqlexam_core::protocol::Upstream>, StoreError> {
        self.queue.upstream(session)
    }
}

impl Outbox for RelayOutbox {
    fn sessions(&self) -> Result<Vec<String>, SyncError> {
        Ok(Vec::new())
    }

    fn note_log_alert(&self, server: &PublicKey, message: &str) -> Result<(), SyncError> {
        // The relay's status shows it (refused, with the message); its log says it too.
        eprintln!(
            "!!! relay: the central server {}: {message}",
            server.key_id()
        );
        Ok(())
    }

    fn pinned_server(&self, url: &str) -> Result<Option<PublicKey>, SyncError> {
        self.queue.pinned_server(url).map_err(store)
    }

    fn pin_server(&self, url: &str, key: &PublicKey) -> Result<(), SyncError> {
        self.queue.pin_server(url, key).map_err(store)
    }

    fn newest_checkpoint(&self, server: &PublicKey) -> Result<Option<Checkpoint>, SyncError> {
        let Some((size, note)) = self.queue.newest_checkpoint(server).map_err(store)? else {
            return Ok(None);
        };
        open_checkpoint(&note, server).map(Some).map_err(|e| {
            SyncError::Store(std::sync::Arc::new(
                StoreError::fatal(format!(
                    "the stored checkpoint of size {size} no longer verifies"
                ))
                .caused_by(e),
            ))
        })
    }

    fn record_bytes(
        &self,
        session: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, SyncError> {
        self.queue.record_bytes(session, from, to).map_err(store)
    }

    fn store_receipts(
        &self,
        checkpoint: &StoredCheckpoint,
        proofs: &[StoredReceipt],
    ) -> Result<usize, SyncError> {
        self.queue.store_receipts(checkpoint, proofs).map_err(store)
    }

    fn unsent_ranges(&self) -> Result<Vec<(String, u64, u64)>, SyncError> {
        self.queue.unsent_ranges().map_err(store)
    }

    fn outbox(&self) -> Result<Vec<Unsent>, SyncError> {
        Ok(self
            .queue
            .unsent()
            .map_err(store)?
            .into_iter()
            .map(|(session, record)| Unsent { session, record })
            .collect())
    }

    fn sync_counts(&self) -> Result<SyncCounts, SyncError> {
        self.counts()
    }
}
