//! What candidates and proctors do to a session: check in (verify and open the pack,
//! start the chain), submit, and proctor actions signed with the pack's proctor key.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::packs::LoadedPack;
use super::running::RunningClock;
use super::store::NewSession;
use super::{Inner, SessionError, SessionState, lock, random_hex};
use crate::encoding::hex;
use crate::pack::{Admission, VerifyOptions, admission_statement, verify};
use crate::record::{Event, ProctorAction, ProctorProof, proctor_statement};

/// How a candidate is admitted at check-in, when the pack has a roster.
#[derive(Debug, Clone, Copy)]
pub enum Admit<'a> {
    /// No admission (a pack without a roster needs none).
    Nobody,
    /// The admission code on the candidate's slip.
    Code(&'a str),
    /// A proctor admits them with the proctor passphrase (a walk-in, a lost slip).
    Proctor(&'a str),
}

impl Inner {
    pub(super) fn start_session(
        &self,
        bytes: &[u8],
        code: Option<&str>,
        candidate_id: &str,
        name: &str,
        admit: Admit<'_>,
    ) -> Result<String, SessionError> {
        if candidate_id.trim().is_empty() {
            return Err(SessionError::Invalid("a candidate id is required".into()));
        }
        let mut ledger = self.ledger()?;
        let now = self.now()?;
        let options = VerifyOptions {
            trust: &self.trust,
            now,
            ledger: Some(&ledger),
            start_code: code,
        };
        let verified = verify(bytes, &options).map_err(SessionError::PackRefused)?;
        let pack = verified.open(code).map_err(SessionError::PackRefused)?;
        // One sitting per candidate and exam on a machine: a finished candidate must not get
        // a fresh clock by checking in again.
        if lock(&self.store).has_sat(candidate_id, &pack.info.id)? {
            return Err(SessionError::AlreadyStarted(candidate_id.into()));
        }
        if let Ok(v) = semver::Version::parse(&pack.info.version) {
            ledger
                .record(&pack.info.id, &v, &pack.info.hash)
                .map_err(|e| SessionError::store("starting the session", e))?;
        }
        let packs_seen: BTreeMap<String, String> = ledger
            .entries()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let id = random_hex(16);
        let device_key = self.device.public().to_hex();
        // On a roster, the candidate proves who they are (their code) or a proctor vouches;
        // the name is the roster's.
        let (admission, name) = match (&pack.exam.roster, admit) {
            (None, _) => (None, name.to_owned()),
            (Some(_), Admit::Nobody) => {
                return Err(SessionError::AdmissionNeeded(candidate_id.into()));
            }
            (Some(roster), Admit::Code(admission_code)) => {
                let a = roster
                    .admit(candidate_id, admission_code, &id, &device_key)
                    .ok_or_else(|| SessionError::WrongAdmissionCode(candidate_id.into()))?;
                let listed = roster.entry(candidate_id).map(|e| e.name.clone());
                (Some(a), listed.unwrap_or_else(|| name.to_owned()))
            }
            (Some(roster), Admit::Proctor(passphrase)) => {
                let key = pack.exam.proctor.as_ref().ok_or(SessionError::NoProctor)?;
                let signer = key
                    .unlock(passphrase)
                    .ok_or(SessionError::WrongPassphrase)?;
                let statement = admission_statement(&id, &device_key, candidate_id);
                let listed = roster.entry(candidate_id).map(|e| e.name.clone());
                let name = listed.unwrap_or_else(|| name.to_owned());
                if name.trim().is_empty() {
                    return Err(SessionError::Invalid(
                        "a candidate not on the roster needs a name".into(),
                    ));
                }
                let a = Admission {
                    by: "proctor".into(),
                    signature: hex(&signer.sign(&statement)),
                };
                (Some(a), name)
            }
        };
        let name = name.as_str();
        let wall = self.clock.wall_ms();
        let loaded = Arc::new(LoadedPack {
            info: pack.info,
            exam: pack.exam,
            problems: pack.problems,
        });
        let path = self.pack_path(&loaded.info.hash);
        if !path.is_file() {
            crate::fsutil::write_atomic(&path, bytes, false)
                .map_err(|e| SessionError::store(path.display(), e))?;
        }
        {
            self.write(|tx| {
                tx.insert_pack(&loaded.pack_ref())?;
                tx.insert_session(&NewSession {
                    id: &id,
                    pack_hash: &loaded.info.hash,
                    start_code: code,
                    candidate_id,
                    candidate_name: name,
                    created_wall_ms: wall,
                    duration_ms: loaded.exam.rules.duration_ms,
                })?;
                let event = Event::SessionStarted {
                    candidate_name: name.into(),
                    device_public_key: device_key.clone(),
                    duration_ms: loaded.exam.rules.duration_ms,
                    while_closed: loaded.exam.rules.while_closed,
                    packs_seen,
                    admission: admission.clone(),
                };
                self.append(tx, &id, 0, event)?;
                Ok(())
            })?;
        }
        lock(&self.packs).insert(loaded.info.hash.clone(), loaded);
        let mono = self.clock.monotonic_ms();
        lock(&self.running).insert(id.clone(), RunningClock::starting_at(0, mono));
        Ok(id)
    }

    pub(super) fn submit(
        &self,
        session: &str,
        problem: &str,
        sql: &str,
    ) -> Result<u64, SessionError> {
        self.pack_problem(session, problem)?;
        // Nothing to grade is not an attempt: no record, nothing marked wrong.
        if crate::grade::is_blank(sql) {
            return Err(SessionError::Invalid(
                "the query is empty: write a statement before submitting".into(),
            ));
        }
        if sql.len() > crate::grade::MAX_SQL_BYTES {
            return Err(SessionError::Invalid(format!(
                "the query is {} bytes long; the limit is {}",
                sql.len(),
                crate::grade::MAX_SQL_BYTES
            )));
        }
        self.tick();
        let live = self.live_elapsed(session);
        // A refusal is committed (its record is the point) and then returned as the error.
        let accepted = self.write(|tx| {
            let (state, duration, stored) = tx.session_clock(session)?;
            let elapsed = live.unwrap_or(stored).max(stored);
            let running = state == SessionState::Running;
            let id = tx.insert_submission(session, problem, sql, elapsed, running)?;
            if !running {
                let reason = if state == SessionState::Interrupted {
                    "interrupted"
                } else {
                    "session_ended"
                };
                let event = Event::SubmissionRefused {
                    submission_id: id,
                    problem: problem.into(),
                    sql: sql.into(),
                    reason: reason.into(),
                };
                let seq = self.append(tx, session, elapsed, event)?;
                tx.set_record_seq(id, seq)?;
                return Ok(Err(match state {
                    SessionState::Interrupted => SessionError::Interrupted,
                    _ if elapsed >= duration => SessionError::TimeUp,
                    _ => SessionError::Ended,
                }));
            }
            // The clock is persisted with every accepted submission, not only every 5 s.
            tx.set_elapsed(session, elapsed)?;
            Ok(Ok(id))
        })?;
        let id = accepted?;
        self.wake.notify_all();
        Ok(id)
    }

    pub(super) fn proctor(
        &self,
        session: &str,
        passphrase: &str,
        action: ProctorAction,
    ) -> Result<(), SessionError> {
        let signer = self.proctor_signer(session, passphrase)?;
        // The proctor signs the action bound to this session and its place in the chain.
        let signed = |action: ProctorAction| {
            let signer = &signer;
            move |seq: u64, prev: &str| {
                let statement = proctor_statement(session, seq, prev, &action);
                Event::Proctor {
                    proof: Some(ProctorProof {
                        signature: hex(&signer.sign(&statement)),
                        statement,
                    }),
                    action: action.clone(),
                }
            }
        };
        if action == ProctorAction::End {
            // The action itself is in the chain too, right after the end it caused.
            return self.end_with(session, "proctor", Some(&signed(action)));
        }
        let (state, duration, stored) = self.session_row(session)?;
        let elapsed = self.elapsed(session, stored);
        match (&action, state) {
            (_, SessionState::Ended) => return Err(SessionError::Ended),
            (ProctorAction::Extend { minutes }, _) => {
                if *minutes == 0 || *minutes > 24 * 60 {
                    return Err(SessionError::Invalid(
                        "an extension is 1 to 1440 minutes".into(),
                    ));
                }
                let duration = duration + u64::from(*minutes) * 60_000;
                self.write(|tx| {
                    tx.set_duration(session, duration)?;
                    self.append_with(tx, session, elapsed, signed(action.clone()))?;
                    Ok(())
                })?;
            }
            (ProctorAction::Resume, SessionState::Interrupted) => {
                self.write(|tx| {
                    tx.resume(session, self.clock.wall_ms())?;
                    self.append_with(tx, session, stored, signed(action.clone()))?;
                    Ok(())
                })?;
                let mono = self.clock.monotonic_ms();
                lock(&self.running).insert(session.into(), RunningClock::starting_at(stored, mono));
            }
            (ProctorAction::Resume, _) => {
                return Err(SessionError::Invalid(
                    "the session is not interrupted".into(),
                ));
            }
            (ProctorAction::End, _) => {}
        }
        self.wake.notify_all();
        Ok(())
    }
}
