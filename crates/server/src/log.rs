//! The server's side of the append-only record log (`sqlexam_core::log` is the checking
//! side). Both backends store the tree the way Go's `sumdb/tlog` does: every hash the tree
//! ever completes, at its stored-hash index (`log_hashes`), and the head (size, root),
//! locked by each append, so a leaf is never rewritten. SQLite appends a batch's records in
//! the transaction that stores them; PostgreSQL queues them there and a [`Sequencer`] run
//! appends everything queued, in queue order, before the batch is answered.
//!
//! The tree maths is `tlog_tiles`; this module only feeds it hashes. Proofs are computed in
//! two passes: the first learns which stored hashes a proof needs (the indexes depend only
//! on the sizes, never on hash values), the store reads them in one query, the second
//! computes the proof from them.

use std::cell::RefCell;
use std::collections::HashMap;

use sqlexam_core::crypto::SigningKey;
pub use sqlexam_core::log::leaf_hash;
use sqlexam_core::log::{Hash, encode_proof, sign_checkpoint};
use sqlexam_core::protocol::{Consistency, Inclusion, Receipt};
use tlog_tiles::{
    EMPTY_HASH, HashReader, prove_record, prove_tree, stored_hash_index,
    stored_hashes_for_record_hash, sub_tree_index, tree_hash,
};

use crate::db::{Store, StoreError, StoreResult};

/// Runs [`Store::sequence`] for a process's requests: one run at a time, and a request
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

/// What appending leaves wrote: stored hashes by index, and the new head.
#[derive(Debug)]
pub struct Appended {
    pub hashes: Vec<(u64, Hash)>,
    pub size: u64,
    pub root: Hash,
}

/// The stored-hash indexes that appending to a tree of `size` leaves reads: the roots of
/// its complete subtrees.
pub fn frontier(size: u64) -> Vec<u64> {
    if size == 0 {
        Vec::new()
    } else {
        sub_tree_index(0, size, Vec::new())
    }
}

struct MapReader<'a>(&'a HashMap<u64, Hash>);

impl HashReader for MapReader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|i| {
                self.0
                    .get(i)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Appends leaves (their [`leaf_hash`]es) to a tree of `size` leaves whose [`frontier`]
/// hashes are `known`.
pub fn append(
    size: u64,
    known: Vec<(u64, Hash)>,
    leaves: impl IntoIterator<Item = Hash>,
) -> StoreResult<Appended> {
    let mut map: HashMap<u64, Hash> = known.into_iter().collect();
    let mut hashes = Vec::new();
    let mut n = size;
    for leaf in leaves {
        let new = stored_hashes_for_record_hash(n, leaf, &MapReader(&map)).map_err(log_err)?;
        let first = stored_hash_index(0, n);
        for (k, h) in new.into_iter().enumerate() {
            map.insert(first + k as u64, h);
            hashes.push((first + k as u64, h));
        }
        n += 1;
    }
    let root = if n == 0 {
        EMPTY_HASH
    } else {
        tree_hash(n, &MapReader(&map)).map_err(log_err)?
    };
    Ok(Appended {
        hashes,
        size: n,
        root,
    })
}

fn log_err(e: tlog_tiles::Error) -> StoreError {
    StoreError::fatal(format!("the record log is damaged: {e}"))
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
    Answer(MapReader<'a>),
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
        .map(|item| prove(item, &Pass::Answer(MapReader(&map))).map_err(log_err))
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

/// Receipts for `covered`, all against the log's checkpoint at `head` (default: the current
/// one; a head must hold every record covered), each with the
/// inclusion proofs of its records (at most [`MAX_RECEIPT_ENTRIES`] a receipt).
pub async fn receipts(
    store: &dyn Store,
    key: &SigningKey,
    covered: &[Covered],
    head: Option<(u64, Hash)>,
) -> StoreResult<Vec<Receipt>> {
    let (size, root) = match head {
        Some(head) => head,
        None => store.log_head().await?,
    };
    let checkpoint = sign_checkpoint(key, size, root);
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

/// The log's current signed checkpoint.
pub async fn checkpoint(store: &dyn Store, key: &SigningKey) -> StoreResult<String> {
    let (size, root) = store.log_head().await?;
    Ok(sign_checkpoint(key, size, root))
}

/// The root of the log's tree of its first `size` leaves; `None` if the log is smaller.
pub async fn root_at(store: &dyn Store, size: u64) -> StoreResult<Option<Hash>> {
    let (head, root) = store.log_head().await?;
    if size > head {
        return Ok(None);
    }
    if size == head {
        return Ok(Some(root));
    }
    if size == 0 {
        return Ok(Some(EMPTY_HASH));
    }
    Ok(prove_all(store, &[size], |n, r| tree_hash(*n, r))
        .await?
        .pop())
}

/// Why a consistency proof cannot be given.
#[derive(Debug)]
pub enum ConsistencyError {
    /// `from`/`to` out of order or beyond the log.
    Range(String),
    Store(StoreError),
}

/// The proof that the tree of `to` leaves extends the tree of `from` leaves.
pub async fn consistency(
    store: &dyn Store,
    from: u64,
    to: u64,
) -> Result<Consistency, ConsistencyError> {
    let (size, _) = store.log_head().await.map_err(ConsistencyError::Store)?;
    if from > to || to > size {
        return Err(ConsistencyError::Range(format!(
            "a consistency proof needs from <= to <= {size} (the log's size); got from={from}, to={to}"
        )));
    }
    let proof = if from == 0 || from == to {
        Vec::new()
    } else {
        prove_all(store, &[(from, to)], |(from, to), r| {
            prove_tree(*to, *from, r)
        })
        .await
        .map_err(ConsistencyError::Store)?
        .pop()
        .unwrap_or_default()
    };
    Ok(Consistency {
        from,
        to,
        proof: encode_proof(&proof),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appending_in_steps_gives_the_tree_of_appending_at_once() {
        let leaves: Vec<Vec<u8>> = (0..37u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let all = append(0, Vec::new(), leaves.iter().map(|l| leaf_hash(l))).unwrap();
        let mut stored: HashMap<u64, Hash> = HashMap::new();
        let mut size = 0;
        for chunk in leaves.chunks(5) {
            let known = frontier(size)
                .into_iter()
                .map(|i| (i, stored[&i]))
                .collect();
            let step = append(size, known, chunk.iter().map(|l| leaf_hash(l))).unwrap();
            stored.extend(step.hashes);
            size = step.size;
        }
        assert_eq!(size, 37);
        assert_eq!(tree_hash(37, &MapReader(&stored)).unwrap(), all.root);
        assert_eq!(stored.len(), all.hashes.len());
    }
}
