//! Appending signed records to a session's hash chain, and checking that the sessions
//! table agrees with the verified chain.

use super::store::{Store, Tx};
use super::{Inner, SessionError};
use crate::encoding::format_time;
use crate::record::{Event, ProctorAction, Record, SignedRecord};

/// An event made for its place in a chain: `(seq, prev) → event`.
pub(super) type ChainedEvent<'a> = dyn Fn(u64, &str) -> Event + 'a;

impl Inner {
    /// The wall time a record carries (RFC 3339; empty if the clock is out of range).
    pub(super) fn now_text(&self) -> String {
        let wall = self.clock.wall_ms();
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(wall) * 1_000_000)
            .map(format_time)
            .unwrap_or_default()
    }

    /// Appends a record to a session's chain inside `tx`; returns its seq.
    pub(super) fn append(
        &self,
        tx: &Tx<'_>,
        session: &str,
        elapsed_ms: u64,
        event: Event,
    ) -> Result<u64, SessionError> {
        self.append_with(tx, session, elapsed_ms, |_, _| event)
    }

    /// Appends the record `event(seq, prev)` makes: for events bound to their own place in
    /// the chain (a proctor's signature).
    pub(super) fn append_with(
        &self,
        tx: &Tx<'_>,
        session: &str,
        elapsed_ms: u64,
        event: impl FnOnce(u64, &str) -> Event,
    ) -> Result<u64, SessionError> {
        let (pack, candidate) = tx.pack_and_candidate(session)?;
        let last_record = tx.last_record(session)?;
        let (last, prev, prev_elapsed) = match &last_record {
            None => (0, crate::record::GENESIS.to_string(), 0),
            Some((seq, bytes)) => {
                let elapsed = serde_json::from_slice::<Record>(bytes).map_or(0, |r| r.elapsed_ms);
                (*seq, crate::crypto::sha256_hex(bytes), elapsed)
            }
        };
        // A record's exam time never goes back (a submission graded after a later record
        // carries its own submit time inside its event).
        let elapsed_ms = elapsed_ms.max(prev_elapsed);
        let event = event(last + 1, &prev);
        let record = Record {
            format: crate::record::FORMAT.into(),
            device: self.device.public().key_id(),
            session: session.into(),
            seq: last + 1,
            prev,
            pack,
            candidate,
            wall_time: self.now_text(),
            elapsed_ms,
            event,
        };
        let signed = SignedRecord::sign(&record, &self.device);
        tx.insert_record(session, last + 1, &signed)?;
        Ok(last + 1)
    }
}

/// The sessions table must agree with the verified chain: a session the chain ended must
/// not be running again, its time must be what its records allow, and its clock must not
/// have gone back. Anything else means the table was edited.
pub(super) fn check_against_chain(store: &Store, records: &[Record]) -> Result<(), SessionError> {
    let rows = store.table_sessions()?;
    let tampered =
        |id: &str, what: &str| Err(SessionError::Tampered(format!("session {id}: {what}")));
    for row in &rows {
        let id = &row.id;
        let chain: Vec<&Record> = records.iter().filter(|r| &r.session == id).collect();
        let Some(Event::SessionStarted { duration_ms, .. }) = chain.first().map(|r| &r.event)
        else {
            return tampered(id, "its records are missing");
        };
        let extended: u64 = chain
            .iter()
            .map(|r| match r.event {
                Event::Proctor {
                    action: ProctorAction::Extend { minutes },
                    ..
                } => u64::from(minutes) * 60_000,
                _ => 0,
            })
            .sum();
        let ended = chain
            .iter()
            .any(|r| matches!(r.event, Event::SessionEnded { .. }));
        let last_elapsed = chain.iter().map(|r| r.elapsed_ms).max().unwrap_or(0);
        if ended && row.state != "ended" {
            return tampered(
                id,
                "its records say it ended, but the table says it goes on",
            );
        }
        if row.duration_ms != duration_ms + extended {
            return tampered(id, "its exam time differs from what its records allow");
        }
        if row.elapsed_ms < last_elapsed {
            return tampered(id, "its exam clock was set back");
        }
    }
    if let Some(r) = records
        .iter()
        .find(|r| !rows.iter().any(|row| row.id == r.session))
    {
        return tampered(
            &r.session,
            "records exist for a session the table does not have",
        );
    }
    Ok(())
}
