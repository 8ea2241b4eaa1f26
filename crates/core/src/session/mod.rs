//! The exam session engine: a candidate's sessions, their exam clock, drafts, the grading
//! queue and the signed record chain, all in one durable store. No Tauri, no network: the
//! app is a view over this, the sync client consumes its outbox.
//!
//! Grading never runs on the caller's thread: `submit` stores the submission and returns its
//! id; one worker thread claims exactly one submission at a time under a lease that outlasts
//! the grader's time limit, grades it, and writes its record in the same transaction that
//! marks it done — so a crash at any point leads to exactly one record after restart.
//!
//! This module holds the engine's public API; each job is in its own file: `store` (every
//! SQL statement), `actions` (check-in, submit, proctor), `running` (the exam clock),
//! `worker` (grading), `chain` (appending records), `packs` (the pack copies), `views` and
//! `report` (what callers read), `error`, `device` and `clock`.

mod actions;
mod chain;
mod clock;
mod device;
mod error;
mod packs;
mod receipts;
mod report;
mod running;
mod store;
mod views;
mod worker;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

pub use actions::Admit;
pub use clock::{Clock, ManualClock, ScaledClock, SystemClock};
pub use error::SessionError;
pub use packs::kept_proctor;
pub use receipts::{
    HeldReceipts, ReceiptReport, StoredCheckpoint, StoredReceipt, SyncCounts, check_receipts,
    read_log_alerts, read_store_receipts, verify_store_receipts,
};
pub use report::{
    SessionSummary, VerifyReport, read_store_records, store_expectations, summaries, verify_report,
};
pub use views::{
    EngineEvent, OutboxRecord, ProblemStatus, RecordRow, RecordsReport, SessionState, SessionView,
    SubmissionView,
};

use crate::crypto::SigningKey;
use crate::encoding::hex;
use crate::pack::{PackInfo, Trust, VerifyOptions, verify};
use crate::problem::Problem;
use crate::record::{ProctorAction, Record, SignedRecord, verify_records};
use chain::check_against_chain;
use packs::LoadedPack;
use running::{CLEAN_EXIT, RunningClock};
use store::{Store, Submissions, Tx};
use worker::SampleJob;

struct Inner {
    /// Held for the engine's life: the store's exclusive lock.
    _lock: std::fs::File,
    dir: PathBuf,
    store: Mutex<Store>,
    device: SigningKey,
    trust: Trust,
    clock: Arc<dyn Clock>,
    /// This process's identity as a queue worker.
    owner: String,
    packs: Mutex<HashMap<String, Arc<LoadedPack>>>,
    running: Mutex<HashMap<String, RunningClock>>,
    samples: Mutex<VecDeque<SampleJob>>,
    wake: Condvar,
    in_flight: AtomicUsize,
    next_run: AtomicU64,
    shutdown: AtomicBool,
    subscribers: Mutex<Vec<mpsc::Sender<EngineEvent>>>,
    /// (monotonic, boot) at the last tick, to notice a suspended machine.
    last_tick: Mutex<Option<(u64, u64)>>,
}

/// The engine over one store directory.
pub struct Engine {
    inner: Arc<Inner>,
    worker: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn random_hex(bytes: usize) -> String {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; bytes];
    // The system random source does not fail on supported platforms; a zeroed id would
    // still be unique enough within one store.
    let _ = ring::rand::SystemRandom::new().fill(&mut buf);
    hex(&buf)
}

/// Where an installation keeps its store: `$SQLEXAM_HOME` if set (tests, portable
/// installs), else the platform's data directory (`~/.local/share/sqlexam` on Linux).
pub fn default_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("SQLEXAM_HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(home));
    }
    directories::ProjectDirs::from("", "", "sqlexam").map(|d| d.data_dir().to_owned())
}

/// The store file inside an engine directory.
pub fn store_path(dir: &Path) -> PathBuf {
    dir.join("store.sqlite3")
}

impl Engine {
    /// Opens (or creates) the store in `dir`, checks it, recovers from a crash, and starts
    /// the grading worker. `trust` decides which packs are accepted.
    pub fn open(dir: &Path, trust: Trust, clock: Arc<dyn Clock>) -> Result<Engine, SessionError> {
        std::fs::create_dir_all(dir).map_err(|e| SessionError::store(dir.display(), e))?;
        // One process per store: recovery would otherwise take another's work away.
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))
            .map_err(|e| SessionError::store(dir.display(), e))?;
        if lock.try_lock().is_err() {
            return Err(SessionError::Busy(dir.display().to_string()));
        }
        let store = Store::open(&store_path(dir))?;
        let records = store.records()?;
        let device = device::load_or_create(&dir.join("device.key"), !records.is_empty())?;
        let expect = store_expectations(dir, &records, Some(device.public().key_id()));
        let (good, findings) = verify_records(&records, &expect);
        if !findings.is_empty() {
            let list: Vec<String> = findings.iter().map(ToString::to_string).collect();
            return Err(SessionError::Tampered(list.join("; ")));
        }
        check_against_chain(&store, &good)?;
        let inner = Arc::new(Inner {
            _lock: lock,
            dir: dir.to_owned(),
            store: Mutex::new(store),
            device,
            trust,
            clock,
            owner: random_hex(8),
            packs: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            samples: Mutex::new(VecDeque::new()),
            wake: Condvar::new(),
            in_flight: AtomicUsize::new(0),
            next_run: AtomicU64::new(1),
            shutdown: AtomicBool::new(false),
            subscribers: Mutex::new(Vec::new()),
            last_tick: Mutex::new(None),
        });
        inner.recover()?;
        let worker_inner = inner.clone();
        let worker = std::thread::Builder::new()
            .name("sqlexam-grader".into())
            .spawn(move || worker_inner.work())
            .map_err(|e| SessionError::store("starting the grading worker", e))?;
        Ok(Engine {
            inner,
            worker: Some(worker),
        })
    }

    /// The device id (key id of the device key).
    pub fn device_id(&self) -> String {
        self.inner.device.public().key_id()
    }

    /// Events from now on.
    pub fn subscribe(&self) -> mpsc::Receiver<EngineEvent> {
        let (tx, rx) = mpsc::channel();
        lock(&self.inner.subscribers).push(tx);
        rx
    }

    /// Starts a session for a candidate on a pack (verified now; unsealed with the code).
    /// A pack with a roster refuses this: see [`Engine::start_admitted`].
    pub fn start_session(
        &self,
        pack_bytes: &[u8],
        start_code: Option<&str>,
        candidate_id: &str,
        candidate_name: &str,
    ) -> Result<String, SessionError> {
        self.start_admitted(
            pack_bytes,
            start_code,
            candidate_id,
            candidate_name,
            Admit::Nobody,
        )
    }

    /// Starts a session for a candidate admitted as `admit` says: on a pack with a roster,
    /// with their admission code or by a proctor (the first record carries the proof, and
    /// the roster's name is the candidate's); on one without, as [`Engine::start_session`].
    pub fn start_admitted(
        &self,
        pack_bytes: &[u8],
        start_code: Option<&str>,
        candidate_id: &str,
        candidate_name: &str,
        admit: Admit<'_>,
    ) -> Result<String, SessionError> {
        self.inner
            .start_session(pack_bytes, start_code, candidate_id, candidate_name, admit)
    }

    /// All sessions in the store, newest first.
    pub fn sessions(&self) -> Result<Vec<SessionView>, SessionError> {
        let ids = lock(&self.inner.store).session_ids()?;
        ids.iter().map(|id| self.view(id)).collect()
    }

    pub fn view(&self, session: &str) -> Result<SessionView, SessionError> {
        self.inner.tick();
        self.inner.view(session)
    }

    /// A problem of the session's exam (statement, tables, sample data …).
    pub fn problem(&self, session: &str, problem: &str) -> Result<Problem, SessionError> {
        let pack = self.inner.pack_of(session)?;
        pack.problems
            .iter()
            .find(|p| p.id == problem)
            .cloned()
            .ok_or_else(|| SessionError::NoProblem(problem.into()))
    }

    /// Writes every running session's exam time now (the app calls this when it exits).
    pub fn checkpoint(&self) {
        self.inner.checkpoint_all(true);
    }

    /// The most recently started session, if any (what the app resumes after a restart).
    pub fn latest_session(&self) -> Result<Option<String>, SessionError> {
        lock(&self.inner.store).latest_session()
    }

    /// Checks a proctor passphrase against the session's pack, without acting.
    pub fn check_proctor(&self, session: &str, passphrase: &str) -> Result<(), SessionError> {
        self.inner.proctor_signer(session, passphrase).map(drop)
    }

    /// Saves the editor text of a problem (the UI debounces; this just stores).
    pub fn save_draft(&self, session: &str, problem: &str, text: &str) -> Result<(), SessionError> {
        self.inner.pack_problem(session, problem)?;
        lock(&self.inner.store).save_draft(session, problem, text)
    }

    /// Every saved draft of a session, by problem.
    pub fn drafts(&self, session: &str) -> Result<BTreeMap<String, String>, SessionError> {
        lock(&self.inner.store).drafts(session)
    }

    /// Queues a submission and returns its id at once; the verdict arrives as an event and
    /// in [`Engine::submission`]. After the exam time, the submission is refused — and the
    /// refusal is recorded.
    pub fn submit(&self, session: &str, problem: &str, sql: &str) -> Result<u64, SessionError> {
        self.inner.submit(session, problem, sql)
    }

    /// Runs `sql` on the sample datasets only, on the worker; no record. Returns a run id;
    /// the result arrives as [`EngineEvent::SampleRun`].
    pub fn run_sample(&self, session: &str, problem: &str, sql: &str) -> Result<u64, SessionError> {
        self.inner.pack_problem(session, problem)?;
        match self.inner.session_row(session)?.0 {
            SessionState::Running => {}
            SessionState::Interrupted => return Err(SessionError::Interrupted),
            SessionState::Ended => return Err(SessionError::Ended),
        }
        let run = self.inner.next_run.fetch_add(1, Ordering::SeqCst);
        lock(&self.inner.samples).push_back(SampleJob {
            session: session.into(),
            problem: problem.into(),
            sql: sql.into(),
            run,
        });
        self.inner.wake.notify_all();
        Ok(run)
    }

    pub fn submission(&self, id: u64) -> Result<Option<SubmissionView>, SessionError> {
        Ok(lock(&self.inner.store)
            .submissions(Submissions::One(id))?
            .into_iter()
            .next())
    }

    pub fn submissions(&self, session: &str) -> Result<Vec<SubmissionView>, SessionError> {
        lock(&self.inner.store).submissions(Submissions::OfSession(session))
    }

    /// A session's submissions of one problem, oldest first.
    pub fn problem_submissions(
        &self,
        session: &str,
        problem: &str,
    ) -> Result<Vec<SubmissionView>, SessionError> {
        lock(&self.inner.store).submissions(Submissions::OfProblem { session, problem })
    }

    /// Checks a pack before check-in exactly as `start_session` will: this engine's trust,
    /// clock and version ledger, no start code. Returns what anyone may see of it.
    pub fn inspect_pack(&self, bytes: &[u8]) -> Result<PackInfo, SessionError> {
        let ledger = self.inner.ledger()?;
        let options = VerifyOptions {
            trust: &self.inner.trust,
            now: self.inner.now()?,
            ledger: Some(&ledger),
            start_code: None,
        };
        Ok(verify(bytes, &options)
            .map_err(SessionError::PackRefused)?
            .info())
    }

    /// Verifies every record of the store as `sqlexam session verify` does: signatures,
    /// chains, this device's sessions only, proctor proofs against the packs kept here.
    pub fn verify(&self) -> Result<VerifyReport, SessionError> {
        Ok(self.verify_these(&self.records()?))
    }

    fn verify_these(&self, signed: &[SignedRecord]) -> VerifyReport {
        let expect = store_expectations(&self.inner.dir, signed, Some(self.device_id()));
        verify_report(signed, &expect)
    }

    /// A session's records, verified, as rows for the proctor: seq, kind, facts, time.
    pub fn record_rows(&self, session: &str) -> Result<RecordsReport, SessionError> {
        let signed = self.records()?;
        let report = self.verify_these(&signed);
        let records = signed
            .iter()
            .filter_map(|r| serde_json::from_slice::<Record>(&r.bytes).ok())
            .filter(|r| r.session == session)
            .map(|r| RecordRow {
                seq: r.seq,
                kind: r.event.kind().into(),
                summary: r.event.summary(),
                elapsed_ms: r.elapsed_ms,
            })
            .collect();
        Ok(RecordsReport {
            records,
            findings: report.findings,
            device_id: self.device_id(),
        })
    }

    /// A proctor action, authorized by the pack's proctor passphrase, recorded in the chain.
    pub fn proctor(
        &self,
        session: &str,
        passphrase: &str,
        action: ProctorAction,
    ) -> Result<(), SessionError> {
        self.inner.proctor(session, passphrase, action)
    }

    /// The candidate finishes the exam early.
    pub fn finish(&self, session: &str) -> Result<(), SessionError> {
        self.inner.end(session, "finished")
    }

    /// Records not yet acknowledged by a server, oldest first (per session in seq order).
    pub fn outbox(&self, limit: usize) -> Result<Vec<OutboxRecord>, SessionError> {
        lock(&self.inner.store).outbox(limit)
    }

    /// Every record in the store, by session and seq.
    pub fn records(&self) -> Result<Vec<SignedRecord>, SessionError> {
        lock(&self.inner.store).records()
    }

    /// Waits until no submission or sample run is queued or being graded (or `timeout`).
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            let queued = lock(&self.inner.store)
                .unfinished_submissions()
                .unwrap_or(1);
            if queued == 0
                && lock(&self.inner.samples).is_empty()
                && self.inner.in_flight.load(Ordering::SeqCst) == 0
            {
                return true;
            }
            self.inner.wake.notify_all();
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.inner.shutdown.store(true, Ordering::SeqCst);
        self.inner.wake.notify_all();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        self.inner.checkpoint_all(true);
        // The next start records this interruption as a normal close, not a stop.
        let _ = std::fs::write(self.inner.dir.join(CLEAN_EXIT), b"");
    }
}

impl Inner {
    fn emit(&self, event: EngineEvent) {
        lock(&self.subscribers).retain(|s| s.send(event.clone()).is_ok());
    }

    /// Runs `f` in an immediate write transaction, committed when `f` returns `Ok`
    /// (an `Err` rolls everything back).
    fn write<T>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, SessionError>,
    ) -> Result<T, SessionError> {
        lock(&self.store).write(f)
    }
}
