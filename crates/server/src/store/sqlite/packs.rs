//! Packs and tokens in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::SqliteStore;
use crate::model::{ExamRow, PackFacts, Role, RosterRow, StoredPack, TokenRow};
use crate::store::{Packs, StoreResult};

fn pack_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PackFacts> {
    Ok(PackFacts {
        hash: r.get(0)?,
        exam: r.get(1)?,
        version: r.get(2)?,
        start_code: r.get(3)?,
        proctor_key: r.get(4)?,
        outline: r
            .get::<_, Option<String>>(5)?
            .and_then(|json| serde_json::from_str(&json).ok()),
    })
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<TokenRow>> {
    let (hash, role): (String, String) = (r.get(0)?, r.get(1)?);
    Ok(Role::parse(&role).map(|role| TokenRow {
        id: hash.chars().take(16).collect(),
        role,
        label: r.get(2).unwrap_or_default(),
        created_at: r.get(3).unwrap_or_default(),
        revoked_at: r.get(4).unwrap_or_default(),
    }))
}

/// A pack's columns but its bytes.
const FACT_COLUMNS: &str = "hash, exam, version, start_code, proctor_key, outline";
const PACK_COLUMNS: &str =
    "hash, exam, version, bytes, start_code, proctor_key, uploaded_at, outline";

#[async_trait]
impl Packs for SqliteStore {
    async fn add_token(&self, hash: &str, role: Role, label: &str, now: &str) -> StoreResult<()> {
        let (hash, label, now) = (hash.to_owned(), label.to_owned(), now.to_owned());
        self.with(move |c| {
            c.execute(
                "INSERT INTO tokens (hash, role, label, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![hash, role.as_str(), label, now],
            )
            .map(|_| ())
        })
        .await
    }

    async fn token(&self, hash: &str) -> StoreResult<Option<(Role, String)>> {
        let hash = hash.to_owned();
        self.with(move |c| {
            c.query_row(
                "SELECT role, label FROM tokens WHERE hash = ?1 AND revoked_at IS NULL",
                [&hash],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
        })
        .await
        .map(|row| row.and_then(|(role, label)| Some((Role::parse(&role)?, label))))
    }

    async fn tokens(&self) -> StoreResult<Vec<TokenRow>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT hash, role, label, created_at, revoked_at FROM tokens ORDER BY created_at, hash",
            )?;
            stmt.query_map([], token_row)?.collect()
        })
        .await
        .map(|rows: Vec<Option<TokenRow>>| rows.into_iter().flatten().collect())
    }

    async fn revoke_tokens(&self, id: &str, now: &str) -> StoreResult<Vec<TokenRow>> {
        let (id, now) = (id.to_owned(), now.to_owned());
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE substr(hash, 1, length(?1)) = ?1
                   AND revoked_at IS NULL",
                params![id, now],
            )?;
            let rows = tx
                .prepare(
                    "SELECT hash, role, label, created_at, revoked_at FROM tokens
                     WHERE substr(hash, 1, length(?1)) = ?1 ORDER BY created_at",
                )?
                .query_map([&id], token_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            tx.commit()?;
            Ok(rows.into_iter().flatten().collect())
        })
        .await
    }

    async fn put_pack(&self, pack: &StoredPack) -> StoreResult<Result<(), String>> {
        let pack = pack.clone();
        let outline = serde_json::to_string(&pack.outline).unwrap_or_default();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let held: Option<String> = tx
                .query_row(
                    "SELECT hash FROM packs WHERE exam = ?1 AND version = ?2",
                    [&pack.exam, &pack.version],
                    |r| r.get(0),
                )
                .optional()?;
            let outcome = match held {
                Some(hash) if hash != pack.hash => Err(hash),
                Some(_) => {
                    // The same pack again: a corrected start code is taken (and the outline
                    // of a pack stored before outlines were kept).
                    tx.execute(
                        "UPDATE packs SET start_code = ?2, outline = ?3 WHERE hash = ?1",
                        params![pack.hash, pack.start_code, outline],
                    )?;
                    Ok(())
                }
                None => {
                    tx.execute(
                        &format!(
                            "INSERT INTO packs ({PACK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                        ),
                        params![
                            pack.hash,
                            pack.exam,
                            pack.version,
                            pack.bytes,
                            pack.start_code,
                            pack.proctor_key,
                            pack.uploaded_at,
                            outline
                        ],
                    )?;
                    Ok(())
                }
            };
            if outcome.is_ok() {
                let mut insert = tx.prepare_cached(
                    "INSERT OR IGNORE INTO roster (pack_hash, candidate, name, public_key)
                     VALUES (?1, ?2, ?3, ?4)",
                )?;
                for r in &pack.roster {
                    insert.execute(params![pack.hash, r.candidate, r.name, r.public_key])?;
                }
            }
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn exam_pack(&self, exam: &str) -> StoreResult<Option<PackFacts>> {
        let exam = exam.to_owned();
        self.with(move |c| {
            c.query_row(
                &format!(
                    "SELECT {FACT_COLUMNS} FROM packs WHERE exam = ?1 ORDER BY rowid DESC LIMIT 1"
                ),
                [&exam],
                pack_row,
            )
            .optional()
        })
        .await
    }

    async fn pack_facts(&self, hash: &str) -> StoreResult<Option<PackFacts>> {
        let hash = hash.to_owned();
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {FACT_COLUMNS} FROM packs WHERE hash = ?1"),
                [&hash],
                pack_row,
            )
            .optional()
        })
        .await
    }

    async fn pack_bytes(&self, hash: &str) -> StoreResult<Option<Vec<u8>>> {
        let hash = hash.to_owned();
        self.with(move |c| {
            c.query_row("SELECT bytes FROM packs WHERE hash = ?1", [&hash], |r| {
                r.get(0)
            })
            .optional()
        })
        .await
    }

    async fn roster_entry(&self, hash: &str, candidate: &str) -> StoreResult<Option<RosterRow>> {
        let (hash, candidate) = (hash.to_owned(), candidate.to_owned());
        self.with_reads(move |c| {
            c.query_row(
                "SELECT candidate, name, public_key FROM roster
                 WHERE pack_hash = ?1 AND candidate = ?2",
                [&hash, &candidate],
                |r| {
                    Ok(RosterRow {
                        candidate: r.get(0)?,
                        name: r.get(1)?,
                        public_key: r.get(2)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    async fn exams(&self) -> StoreResult<Vec<ExamRow>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT exam, version, hash FROM packs p WHERE rowid =
                   (SELECT max(rowid) FROM packs q WHERE q.exam = p.exam) ORDER BY exam",
            )?;
            stmt.query_map([], |r| {
                Ok(ExamRow {
                    exam: r.get(0)?,
                    version: r.get(1)?,
                    pack_hash: r.get(2)?,
                })
            })?
            .collect()
        })
        .await
    }
}
