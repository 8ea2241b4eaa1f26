//! Asking witnesses (c2sp.org/tlog-witness: `sqlexam witness`, run where this server's
//! operator has no hand) to cosign the log's checkpoints. Every few seconds, each witness
//! that has not cosigned the log's current size is sent the checkpoint with the consistency
//! proof from the size it last cosigned (learnt from its `409` answer when unknown); its
//! cosignature is checked and kept beside the checkpoint, so receipts at that size and
//! `GET /v1/log/checkpoint` carry it. A witness holding a larger checkpoint than this log
//! has is the loudest thing this server can hear: it was restored or cut — said on
//! standard error and at `GET /v1/log/witnesses`.

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use sqlexam_core::cosign::{AddCheckpoint, cosigned_by, with_cosignatures, witness_name};
use sqlexam_core::crypto::PublicKey;
use sqlexam_core::tlog::sign_checkpoint;

use super::{Server, now};

/// How often the log's checkpoint is offered to witnesses that lack it.
pub const ROUND: Duration = Duration::from_secs(2);

/// A witness this server asks: where, and the key its cosignatures must verify with.
#[derive(Debug, Clone)]
pub struct WitnessTarget {
    pub url: String,
    pub key: PublicKey,
}

/// How a witness stands, as `GET /v1/log/witnesses` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct WitnessView {
    pub url: String,
    pub name: String,
    /// The largest checkpoint size it cosigned for this server (0: none yet).
    pub cosigned: u64,
    /// Set when the witness holds a checkpoint this log does not extend.
    pub conflict: Option<String>,
    /// The last failure to reach or use it, if the last round failed.
    pub error: Option<String>,
    pub checked_at: Option<String>,
}

/// The witnesses and what is known of each.
pub struct Witnessing {
    targets: Vec<WitnessTarget>,
    http: Option<reqwest::Client>,
    views: Mutex<Vec<(WitnessView, u64)>>,
}

fn tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already: either will do.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Witnessing {
    pub fn new(targets: Vec<WitnessTarget>) -> Witnessing {
        let http = (!targets.is_empty()).then(|| {
            tls_provider();
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .ok()
        });
        let views = targets
            .iter()
            .map(|t| {
                (
                    WitnessView {
                        url: t.url.clone(),
                        name: witness_name(&t.key),
                        cosigned: 0,
                        conflict: None,
                        error: None,
                        checked_at: None,
                    },
                    0,
                )
            })
            .collect();
        Witnessing {
            targets,
            http: http.flatten(),
            views: Mutex::new(views),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    pub fn views(&self) -> Vec<WitnessView> {
        self.lock().iter().map(|(v, _)| v.clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(WitnessView, u64)>> {
        self.views
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What one offer to a witness came to.
enum Offered {
    Cosigned(String),
    /// The witness holds `size` (its `409`).
    Holds(u64),
    Failed(String),
}

impl Server {
    /// Offers checkpoint `note` of `size` records to `target`, with the proof from `old`.
    async fn offer(
        &self,
        http: &reqwest::Client,
        target: &WitnessTarget,
        old: u64,
        size: u64,
        note: &str,
    ) -> Offered {
        let proof = if old > 0 && old < size {
            match self.consistency(old, size).await {
                Ok(c) => c.proof,
                Err(e) => return Offered::Failed(format!("cannot prove consistency: {e}")),
            }
        } else {
            Vec::new()
        };
        let body = AddCheckpoint {
            old,
            proof,
            checkpoint: note.to_owned(),
        }
        .to_body();
        let url = format!("{}/add-checkpoint", target.url.trim_end_matches('/'));
        let reply = match http.post(&url).body(body).send().await {
            Ok(r) => r,
            Err(e) => return Offered::Failed(format!("{url}: {e}")),
        };
        let status = reply.status();
        let text = reply.text().await.unwrap_or_default();
        match status.as_u16() {
            200 => {
                let cosigned = with_cosignatures(note, std::slice::from_ref(&text));
                if cosigned_by(&cosigned, std::slice::from_ref(&target.key)).is_empty() {
                    Offered::Failed(format!(
                        "{url} answered with a cosignature that does not verify with its key"
                    ))
                } else {
                    Offered::Cosigned(text)
                }
            }
            409 => match text.trim().parse() {
                Ok(held) => Offered::Holds(held),
                Err(_) => Offered::Failed(format!("{url}: 409 without a size: {text:?}")),
            },
            code => Offered::Failed(format!("{url}: {code} {}", text.trim())),
        }
    }

    /// One round: the log's checkpoint now, offered to every witness that lacks it.
    pub async fn witness_round(&self) {
        let Some(http) = &self.witnesses.http else {
            return;
        };
        let (size, root) = match self.store.log_head().await {
            Ok(head) => head,
            Err(e) => {
                eprintln!("witnesses: cannot read the log's head: {e}");
                return;
            }
        };
        if size == 0 {
            return;
        }
        let note = sign_checkpoint(&self.key, size, root);
        for (i, target) in self.witnesses.targets.iter().enumerate() {
            let (cosigned, mut old) = {
                let views = self.witnesses.lock();
                (views[i].0.cosigned, views[i].1)
            };
            if cosigned >= size {
                continue;
            }
            // At most twice: once more from the size a 409 named.
            let mut outcome = Offered::Failed("not offered".into());
            for _ in 0..2 {
                outcome = self.offer(http, target, old, size, &note).await;
                match outcome {
                    Offered::Holds(held) if held != old && held <= size => old = held,
                    _ => break,
                }
            }
            let kept = match &outcome {
                Offered::Cosigned(line) => Some(
                    self.store
                        .add_cosignature(size, &target.key.key_id(), line)
                        .await,
                ),
                _ => None,
            };
            let mut views = self.witnesses.lock();
            let (view, known) = &mut views[i];
            view.checked_at = Some(now());
            match outcome {
                Offered::Cosigned(_) => match kept {
                    Some(Err(e)) => view.error = Some(format!("cannot keep its cosignature: {e}")),
                    _ => {
                        (view.cosigned, *known, view.error, view.conflict) =
                            (size, size, None, None)
                    }
                },
                Offered::Holds(held) if held > size => {
                    let conflict = format!(
                        "the witness cosigned a checkpoint of {held} records of this log, which now has only {size}: this server's database was restored from an older backup or its log was cut"
                    );
                    eprintln!("!!! witness {}: {conflict}", target.url);
                    (view.conflict, *known) = (Some(conflict), held);
                }
                Offered::Holds(held) => {
                    *known = held;
                    view.error = Some(format!(
                        "the witness holds {held} records; will offer again"
                    ));
                }
                Offered::Failed(why) => {
                    if why.contains("409") || why.contains("422") {
                        eprintln!("!!! witness {}: {why}", target.url);
                    }
                    view.error = Some(why);
                }
            }
        }
    }

    /// The witnesses' standing.
    pub fn witness_views(&self) -> Vec<WitnessView> {
        self.witnesses.views()
    }

    /// The newest checkpoint witnesses cosigned, with their cosignatures (`None` if none).
    pub async fn witnessed_checkpoint(&self) -> crate::store::StoreResult<Option<String>> {
        let Some(size) = self.store.newest_cosigned().await? else {
            return Ok(None);
        };
        let Some(root) = self.root_at(size).await? else {
            return Ok(None);
        };
        let lines = self.store.cosignatures(size).await?;
        Ok(Some(with_cosignatures(
            &sign_checkpoint(&self.key, size, root),
            &lines,
        )))
    }
}

/// Runs rounds until `stop` is set.
pub async fn run(server: std::sync::Arc<Server>, mut stop: tokio::sync::watch::Receiver<bool>) {
    if server.witnesses.is_empty() {
        return;
    }
    while !*stop.borrow() {
        server.witness_round().await;
        tokio::select! {
            () = tokio::time::sleep(ROUND) => {}
            _ = stop.changed() => {}
        }
    }
}
