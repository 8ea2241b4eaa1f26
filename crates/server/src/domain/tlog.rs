//! The server's side of the append-only record log (`sqlexam_core::tlog` is the checking
//! side, and the append maths the stores run): receipts, checkpoints, consistency proofs,
//! and the [`Sequencer`] that puts a process's stored records in the log before a batch is
//! answered. Both backends store the tree the way Go's `sumdb/tlog` does: every hash the
//! tree ever completes, at its stored-hash index, and the head (size, root), locked by each
//! append, so a leaf is never rewritten.
//!
//! The tree maths is `tlog_tiles`; this module only feeds it hashes. Proofs are computed in
//! two passes: the first learns which stored hashes a proof needs (the indexes depend only
//! on the sizes, never on hash values), the store reads them in one query, the second
//! computes the proof from them.

use std::cell::RefCell;
use std::collections::HashMap;

use sqlexam_core::protocol::{Consistency, Inclusion, Receipt, SessionHeld};
use sqlexam_core::tlog::{Hash, StoredHashes, encode_proof, sign_checkpoint};
use tlog_tiles::{EMPTY_HASH, HashReader, prove_record, prove_tree, tree_hash};

use super::{Outcome, Refusal, Server};
use crate::store::{Store, StoreError, StoreResult};

/// Runs [`crate::store::Tlog::sequence`] for a process's requests: one run at a time, and a request
/// whose records a run already covered does not run again. A run covers every request
/// registered before it started (each registers after its records committed), so with many
/// batches in flight the log is written once per run, not once per batch, and at most one
/// request per process waits on the database's log lock.
#[derive(Default)]
pub struct Sequencer {
    requested: std::sync::atomic::AtomicU64,
    /// The newest run: the requests it covered and the log head it left.
    done: tokio::sync::Mutex<(u64, Option<(u64, Hash)>)>,
}

impl Sequencer {
    /// Returns once every record committed before the call is in the log, with a log head
    /// (size, root) that holds them.
    pub async fn run(&self, store: &dyn Store) -> StoreResult<(u64, Hash)> {
        use std::sync::atomic::Ordering::SeqCst;
        let mine = self.requested.fetch_add(1, SeqCst) + 1;
        let mut done = self.done.lock().await;
        if let (covered, Some(head)) = *done
            && covered >= mine
        {
            return Ok(head);
        }
        let covering = self.requested.load(SeqCst);
        let head = store.sequence().await?;
        *done = (covering, Some(head));
        Ok(head)
    }
}

/// The largest number of records one receipt proves; a device asks again from where the
/// last receipt ended.
pub const MAX_RECEIPT_ENTRIES: u64 = 10_000;

fn log_err(e: tlog_tiles::Error) -> StoreError {
    StoreError::fatal("the record log is damaged").caused_by(e)
}

/// Records the indexes a proof asks for and answers with placeholders.
#[derive(Default)]
struct Recorder(RefCell<Vec<u64>>);

impl HashReader for Recorder {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        self.0.borrow_mut().extend_from_slice(indexes);
        Ok(vec![EMPTY_HASH; indexes.len()])
    }
}

/// The reader of a proof's pass: the first records, the second answers.
enum Pass<'a> {
    Learn(&'a Recorder),
    Answer(StoredHashes<'a>),
}

impl HashReader for Pass<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        match self {
            Pass::Learn(r) => r.read_hashes(indexes),
            Pass::Answer(r) => r.read_hashes(indexes),
        }
    }
}

/// Runs `prove` for each item on the stored hashes it needs, read in one store call.
async fn prove_all<T, P>(
    store: &dyn Store,
    items: &[T],
    prove: impl Fn(&T, &Pass<'_>) -> Result<P, tlog_tiles::Error>,
) -> StoreResult<Vec<P>> {
    let recorder = Recorder::default();
    for item in items {
        prove(item, &Pass::Learn(&recorder)).map_err(log_err)?;
    }
    let mut indexes = recorder.0.into_inner();
    indexes.sort_unstable();
    indexes.dedup();
    let hashes = store.log_hashes(indexes.clone()).await?;
    let map: HashMap<u64, Hash> = indexes.into_iter().zip(hashes).collect();
    items
        .iter()
        .map(|item| prove(item, &Pass::Answer(StoredHashes(&map))).map_err(log_err))
        .collect()
}

/// What one receipt covers: the records of `session` from `from` to `seq` (the highest
/// contiguous seq held); `from: None` proves nothing, only states `seq`.
#[derive(Debug, Clone)]
pub struct Covered {
    pub session: String,
    pub seq: u64,
    pub from: Option<u64>,
}

impl Server {
    /// Receipts for `covered`, all against the log's checkpoint at `head` (default: the
    /// current one; a head must hold every record covered), each with the inclusion proofs
    /// of its records (at most [`MAX_RECEIPT_ENTRIES`] a receipt).
    pub async fn receipts(
        &self,
        covered: &[Covered],
        head: Option<(u64, Hash)>,
    ) -> StoreResult<Vec<Receipt>> {
        let store = &*self.store;
        let (size, root) = match head {
            Some(head) => head,
            None => store.log_head().await?,
        };
        let mut checkpoint = sign_checkpoint(&self.key, size, root);
        self.watermark.note(size, &checkpoint);
        // Witnesses' cosignatures of this very checkpoint, when a quiet log let them catch up.
        if !self.witnesses.is_empty() {
            let lines = store.cosignatures(size).await?;
            checkpoint = sqlexam_core::cosign::with_cosignatures(&checkpoint, &lines);
        }
        let mut out = Vec::with_capacity(covered.len());
        let mut wanted = Vec::new();
        for c in covered {
            let leaves = match c.from {
                Some(from) if from <= c.seq => {
                    let from = from.max(1);
                    let to = c.seq.min(from.saturating_add(MAX_RECEIPT_ENTRIES - 1));
                    store.leaves(&c.session, from, to).await?
                }
                _ => Vec::new(),
            };
            // Leaves appended after the head was read are proven by the next receipt.
            wanted.extend(
                leaves
                    .into_iter()
                    .filter(|(_, leaf)| *leaf < size)
                    .map(|(seq, leaf)| (out.len(), seq, leaf)),
            );
            out.push(Receipt {
                checkpoint: checkpoint.clone(),
                session: c.session.clone(),
                seq: c.seq,
                entries: Vec::new(),
            });
        }
        let proofs = prove_all(store, &wanted, |(_, _, leaf), r| {
            prove_record(size, *leaf, r)
        })
        .await?;
        for ((i, seq, leaf), proof) in wanted.into_iter().zip(proofs) {
            out[i].entries.push(Inclusion {
                seq,
                leaf,
                proof: encode_proof(&proof),
            });
        }
        Ok(out)
    }

    /// What the server holds of `session` (an unknown one at 0: the device sends from seq
    /// 1), with a receipt proving its records from `from`.
    pub async fn session_held(&self, session: &str, from: Option<u64>) -> Outcome<SessionHeld> {
        let (seq, held_back) = self.store.held(session).await?.unwrap_or_default();
        let covered = Covered {
            session: session.to_owned(),
            seq,
            from,
        };
        let receipt = self
            .receipts(&[covered], None)
            .await?
            .pop()
            .ok_or_else(|| Refusal::internal("a receipt was asked for and none was made"))?;
        Ok(SessionHeld {
            receipt,
            session: session.to_owned(),
            held_back,
        })
    }

    /// The log's current signed checkpoint.
    pub async fn checkpoint(&self) -> StoreResult<String> {
        let (size, root) = self.store.log_head().await?;
        let checkpoint = sign_checkpoint(&self.key, size, root);
        self.watermark.note(size, &checkpoint);
        Ok(checkpoint)
    }

    /// The root of the log's tree of its first `size` leaves; `None` if the log is smaller.
    pub async fn root_at(&self, size: u64) -> StoreResult<Option<Hash>> {
        let (head, root) = self.store.log_head().await?;
        if size > head {
            return Ok(None);
        }
        if size == head {
            return Ok(Some(root));
        }
        if size == 0 {
            return Ok(Some(EMPTY_HASH));
        }
        Ok(prove_all(&*self.store, &[size], |n, r| tree_hash(*n, r))
            .await?
            .pop())
    }

    /// The proof that the tree of `to` leaves extends the tree of `from` leaves.
    pub async fn consistency(&self, from: u64, to: u64) -> Outcome<Consistency> {
        let (size, _) = self.store.log_head().await?;
        if from > to || to > size {
            return Err(Refusal::invalid(
                "bad_range",
                format!(
                    "a consistency proof needs from <= to <= {size} (the log's size); got from={from}, to={to}"
                ),
            ));
        }
        let proof = if from == 0 || from == to {
            Vec::new()
        } else {
            prove_all(&*self.store, &[(from, to)], |(from, to), r| {
                prove_tree(*to, *from, r)
            })
            .await?
            .pop()
            .unwrap_or_default()
        };
        Ok(Consistency {
            from,
            to,
            proof: encode_proof(&proof),
        })
    }
}
