//! Packs and tokens in PostgreSQL.

use async_trait::async_trait;

use super::{PgStore, err};
use crate::model::{ExamRow, PackFacts, Role, RosterRow, StoredPack, TokenRow};
use crate::store::{Packs, StoreResult};

const PACK_COLUMNS: &str =
    "hash, exam, version, bytes, start_code, proctor_key, uploaded_at, outline";

fn token_row(r: &tokio_postgres::Row) -> Option<TokenRow> {
    let hash: String = r.get(0);
    Some(TokenRow {
        id: hash.chars().take(16).collect(),
        role: Role::parse(r.get(1))?,
        label: r.get(2),
        created_at: r.get(3),
        revoked_at: r.get(4),
    })
}

/// A pack's columns but its bytes.
const FACT_COLUMNS: &str = "hash, exam, version, start_code, proctor_key, outline";

fn pack_row(r: &tokio_postgres::Row) -> PackFacts {
    PackFacts {
        hash: r.get(0),
        exam: r.get(1),
        version: r.get(2),
        start_code: r.get(3),
        proctor_key: r.get(4),
        outline: r
            .get::<_, Option<String>>(5)
            .and_then(|json| serde_json::from_str(&json).ok()),
    }
}

#[async_trait]
impl Packs for PgStore {
    async fn add_token(&self, hash: &str, role: Role, label: &str, now: &str) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO tokens (hash, role, label, created_at) VALUES ($1, $2, $3, $4)",
                &[&hash, &role.as_str(), &label, &now],
            )
            .await
            .map_err(err)
            .map(|_| ())
    }

    async fn token(&self, hash: &str) -> StoreResult<Option<(Role, String)>> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT role, label FROM tokens WHERE hash = $1 AND revoked_at IS NULL",
                &[&hash],
            )
            .await
            .map_err(err)?;
        Ok(row.and_then(|r| Some((Role::parse(r.get(0))?, r.get(1)))))
    }

    async fn tokens(&self) -> StoreResult<Vec<TokenRow>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT hash, role, label, created_at, revoked_at FROM tokens ORDER BY created_at, hash",
                &[],
            )
            .await
            .map_err(err)?;
        Ok(rows.iter().filter_map(token_row).collect())
    }

    async fn revoke_tokens(&self, id: &str, now: &str) -> StoreResult<Vec<TokenRow>> {
        let pattern = format!("{id}%");
        let rows = self
            .client()
            .await?
            .query(
                "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE hash LIKE $1
                 RETURNING hash, role, label, created_at, revoked_at",
                &[&pattern, &now],
            )
            .await
            .map_err(err)?;
        Ok(rows.iter().filter_map(token_row).collect())
    }

    async fn put_pack(&self, pack: &StoredPack) -> StoreResult<Result<(), String>> {
        let outline = serde_json::to_string(&pack.outline).unwrap_or_default();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(err)?;
        // Serializes uploads of one exam across processes.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&pack.exam])
            .await
            .map_err(err)?;
        let held: Option<String> = tx
            .query_opt(
                "SELECT hash FROM packs WHERE exam = $1 AND version = $2",
                &[&pack.exam, &pack.version],
            )
            .await
            .map_err(err)?
            .map(|r| r.get(0));
        let outcome = match held {
            Some(hash) if hash != pack.hash => Err(hash),
            Some(_) => {
                tx.execute(
                    "UPDATE packs SET start_code = $2, outline = $3 WHERE hash = $1",
                    &[&pack.hash, &pack.start_code, &outline],
                )
                .await
                .map_err(err)?;
                Ok(())
            }
            None => {
                tx.execute(
                    &format!(
                        "INSERT INTO packs ({PACK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                    ),
                    &[
                        &pack.hash,
                        &pack.exam,
                        &pack.version,
                        &pack.bytes,
                        &pack.start_code,
                        &pack.proctor_key,
                        &pack.uploaded_at,
                        &outline,
                    ],
                )
                .await
                .map_err(err)?;
                Ok(())
            }
        };
        if outcome.is_ok() && !pack.roster.is_empty() {
            let candidates: Vec<&str> = pack.roster.iter().map(|r| r.candidate.as_str()).collect();
            let names: Vec<&str> = pack.roster.iter().map(|r| r.name.as_str()).collect();
            let keys: Vec<&str> = pack.roster.iter().map(|r| r.public_key.as_str()).collect();
            tx.execute(
                "INSERT INTO roster (pack_hash, candidate, name, public_key)
                 SELECT $1, * FROM UNNEST($2::TEXT[], $3::TEXT[], $4::TEXT[])
                 ON CONFLICT DO NOTHING",
                &[&pack.hash, &candidates, &names, &keys],
            )
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(outcome)
    }

    async fn roster_entry(&self, hash: &str, candidate: &str) -> StoreResult<Option<RosterRow>> {
        Ok(self
            .client()
            .await?
            .query_opt(
                "SELECT candidate, name, public_key FROM roster
                 WHERE pack_hash = $1 AND candidate = $2",
                &[&hash, &candidate],
            )
            .await
            .map_err(err)?
            .map(|r| RosterRow {
                candidate: r.get(0),
                name: r.get(1),
                public_key: r.get(2),
            }))
    }

    async fn exam_pack(&self, exam: &str) -> StoreResult<Option<PackFacts>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "SELECT {FACT_COLUMNS} FROM packs WHERE exam = $1 ORDER BY seq DESC LIMIT 1"
                ),
                &[&exam],
            )
            .await
            .map_err(err)?;
        Ok(row.as_ref().map(pack_row))
    }

    async fn pack_facts(&self, hash: &str) -> StoreResult<Option<PackFacts>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {FACT_COLUMNS} FROM packs WHERE hash = $1"),
                &[&hash],
            )
            .await
            .map_err(err)?;
        Ok(row.as_ref().map(pack_row))
    }

    async fn pack_bytes(&self, hash: &str) -> StoreResult<Option<Vec<u8>>> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT bytes FROM packs WHERE hash = $1", &[&hash])
            .await
            .map_err(err)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn exams(&self) -> StoreResult<Vec<ExamRow>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT DISTINCT ON (exam) exam, version, hash FROM packs ORDER BY exam, seq DESC",
                &[],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| ExamRow {
                exam: r.get(0),
                version: r.get(1),
                pack_hash: r.get(2),
            })
            .collect())
    }
}
