//! What a sync pass needs of the side that sends: a candidate's machine (the session
//! engine) or a venue relay (the records its own server holds). Both keep the servers'
//! pinned keys, their checkpoints and each record's proof; a record counts as sent only
//! once its proof is stored. Calls are local storage, and may block.

use sqlexam_core::crypto::PublicKey;
use sqlexam_core::record::SignedRecord;
use sqlexam_core::session::{Engine, StoredCheckpoint, StoredReceipt, SyncCounts};
use sqlexam_core::tlog::Checkpoint;

use crate::SyncError;

/// One record waiting to be sent.
#[derive(Debug, Clone)]
pub struct Unsent {
    pub session: String,
    pub record: SignedRecord,
}

pub trait Outbox: Send + Sync {
    /// The key pinned for the server at `url`, if this side has talked to it.
    fn pinned_server(&self, url: &str) -> Result<Option<PublicKey>, SyncError>;
    /// Pins `key` for `url` (first contact); an existing pin is kept.
    fn pin_server(&self, url: &str, key: &PublicKey) -> Result<(), SyncError>;
    /// The newest checkpoint of `server`'s log held, re-verified.
    fn newest_checkpoint(&self, server: &PublicKey) -> Result<Option<Checkpoint>, SyncError>;
    /// The bytes of records `from..=to` of `session`, by seq.
    fn record_bytes(
        &self,
        session: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, SyncError>;
    /// Stores a verified checkpoint and proofs; returns how many records became sent.
    fn store_receipts(
        &self,
        checkpoint: &StoredCheckpoint,
        proofs: &[StoredReceipt],
    ) -> Result<usize, SyncError>;
    /// For each session with records not yet proven held: its first and last such seq.
    fn unsent_ranges(&self) -> Result<Vec<(String, u64, u64)>, SyncError>;
    /// Every record not yet proven held, in the order to send (each session's by seq).
    fn outbox(&self) -> Result<Vec<Unsent>, SyncError>;
    fn sync_counts(&self) -> Result<SyncCounts, SyncError>;
    /// The sessions whose upstream receipts this side keeps when it syncs through a relay
    /// (a machine's own; none for a relay).
    fn sessions(&self) -> Result<Vec<String>, SyncError>;
    /// Keeps that `server` showed a log contradicting this side's checkpoints (`message`
    /// says how), for the proctor's export.
    fn note_log_alert(&self, server: &PublicKey, message: &str) -> Result<(), SyncError>;
}

impl Outbox for Engine {
    fn sessions(&self) -> Result<Vec<String>, SyncError> {
        Ok(Engine::sessions(self)?.into_iter().map(|v| v.id).collect())
    }

    fn note_log_alert(&self, server: &PublicKey, message: &str) -> Result<(), SyncError> {
        Ok(Engine::note_log_alert(self, server, message)?)
    }

    fn pinned_server(&self, url: &str) -> Result<Option<PublicKey>, SyncError> {
        Ok(Engine::pinned_server(self, url)?)
    }

    fn pin_server(&self, url: &str, key: &PublicKey) -> Result<(), SyncError> {
        Ok(Engine::pin_server(self, url, key)?)
    }

    fn newest_checkpoint(&self, server: &PublicKey) -> Result<Option<Checkpoint>, SyncError> {
        Ok(Engine::newest_checkpoint(self, server)?)
    }

    fn record_bytes(
        &self,
        session: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, SyncError> {
        Ok(Engine::record_bytes(self, session, from, to)?)
    }

    fn store_receipts(
        &self,
        checkpoint: &StoredCheckpoint,
        proofs: &[StoredReceipt],
    ) -> Result<usize, SyncError> {
        Ok(Engine::store_receipts(self, checkpoint, proofs)?)
    }

    fn unsent_ranges(&self) -> Result<Vec<(String, u64, u64)>, SyncError> {
        Ok(Engine::unsent_ranges(self)?)
    }

    fn outbox(&self) -> Result<Vec<Unsent>, SyncError> {
        Ok(Engine::outbox(self, usize::MAX >> 1)?
            .into_iter()
            .map(|r| Unsent {
                session: r.session,
                record: r.record,
            })
            .collect())
    }

    fn sync_counts(&self) -> Result<SyncCounts, SyncError> {
        Ok(Engine::sync_counts(self)?)
    }
}
