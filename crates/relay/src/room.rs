//! The room's export from a relay's (or any SQLite server's) data folder, read-only: every
//! record the server holds in a chain, of the exam `pack` names (or of its only exam), with
//! the central server's receipts the relay holds, as one bundle (signed with the proctor
//! passphrase) beside the results and the report — what `sqlexam bundle create
//! --relay-data` writes.

use std::collections::BTreeMap;
use std::path::Path;

use sqlexam_core::record::{Expectations, Finding, verify_records};
use sqlexam_export::machine::{
    Exported, Gathered, MachineError, Request, choose_pack, export_gathered,
};
use sqlexam_server::store::StoreError;
use sqlexam_server::store::sqlite::relay::read_room;

/// Why a room cannot be exported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoomError {
    #[error("cannot read the relay's database")]
    Read(#[source] StoreError),
    #[error("the records held here do not verify: {}", .0.join("; "))]
    Unverified(Vec<String>),
    #[error("this exam's pack allows no proctor, so no bundle can be signed")]
    NoProctor,
    #[error(
        "this server does not hold pack {id} {version} ({hash}): upload it (PUT /v1/exams/{id}/pack) so the bundle can be signed"
    )]
    PackNotHeld {
        id: String,
        version: String,
        hash: String,
    },
    #[error(transparent)]
    Export(#[from] MachineError),
}

impl sqlexam_core::ErrorCode for RoomError {
    fn code(&self) -> &'static str {
        match self {
            RoomError::Read(_) => "store",
            RoomError::Unverified(_) => "unverified",
            RoomError::NoProctor => "no_proctor",
            RoomError::PackNotHeld { .. } => "pack_not_held",
            RoomError::Export(e) => e.code(),
        }
    }
}

/// Exports the room held in `data_dir` as `req` asks.
pub fn room_export(data_dir: &Path, req: &Request<'_>) -> Result<Exported, RoomError> {
    let room = read_room(&data_dir.join("server.sqlite")).map_err(RoomError::Read)?;
    // Each pack's proctor key, from the pack as the server holds it.
    let mut proctor = BTreeMap::new();
    for (hash, bytes) in &room.packs {
        if let Ok((manifest, found)) = sqlexam_core::pack::signed_manifest(&bytes[..])
            && found == *hash
        {
            proctor.insert(hash.clone(), manifest.proctor);
        }
    }
    let expect = Expectations {
        device: None,
        proctor_keys: proctor
            .iter()
            .map(|(h, k)| (h.clone(), k.as_ref().and_then(|k| k.public())))
            .collect(),
    };
    let (records, findings) = verify_records(&room.signed, &expect);
    // A proctor action without a valid proctor signature (a candidate's forgery the relay
    // took and flagged) stays in the bundle as evidence, and is shown as unproven in the
    // results and report, never as a real extension; anything else that does not verify
    // stops the export.
    let mut unproven = Vec::new();
    let mut blocking = Vec::new();
    for f in &findings {
        match f {
            Finding::ProctorUnproven { session, seq, .. } => unproven.push((session.clone(), *seq)),
            other => blocking.push(other.to_string()),
        }
    }
    if !blocking.is_empty() {
        return Err(RoomError::Unverified(blocking));
    }
    let pack = choose_pack(&records, req.pack)?;
    let key = match proctor.get(&pack.hash) {
        Some(Some(key)) => key.clone(),
        Some(None) => return Err(RoomError::NoProctor),
        None => {
            return Err(RoomError::PackNotHeld {
                id: pack.id,
                version: pack.version,
                hash: pack.hash,
            });
        }
    };
    // Read, never made: this export changes nothing in the folder.
    let label = std::fs::read_to_string(data_dir.join("server.key"))
        .ok()
        .and_then(|pem| sqlexam_core::crypto::SigningKey::from_pem(&pem).ok())
        .map_or_else(|| "relay".into(), |k| k.public().key_id());
    Ok(export_gathered(
        Gathered {
            signed: room.signed,
            records,
            receipts: room.receipts,
            pack,
            proctor: key,
            label,
            source: "relay",
            unproven,
            log_alerts: Vec::new(),
        },
        req,
    )?)
}
