//! The exam session engine: a candidate's sessions, their exam clock, drafts, the grading
//! queue and the signed record chain, all in one durable store. No Tauri, no network: the
//! app is a view over this, the sync client consumes its outbox.
//!
//! Grading never runs on the caller's thread: `submit` stores the submission and returns its
//! id; one worker thread claims exactly one submission at a time under a lease that outlasts
//! the grader's time limit, grades it, and writes its record in the same transaction that
//! marks it done — so a crash at any point leads to exactly one record after restart.

mod clock;
mod device;
mod store;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;

pub use clock::{Clock, ManualClock, ScaledClock, SystemClock};

use crate::crypto::SigningKey;
use crate::encoding::{format_time, hex};
use crate::grade::{Grading, Scope, Verdict, grade};
use crate::pack::{Exam, PackInfo, ProctorSigner, Trust, VerifyOptions, VersionLedger, verify};
use crate::problem::{Problem, WhileClosed};
use crate::record::{
    DatasetVerdict, Event, Expectations, Finding, PackRef, ProctorAction, ProctorProof, Record,
    SignedRecord, proctor_statement, verify_records,
};
use store::{Claim, NewSession, ReadOnlyStore, Store, Submissions, Tx};

/// A suspend shorter than this is not noticed (timer jitter).
const SUSPEND_MS: u64 = 5_000;
/// How often the running exam time is written to the store.
const CHECKPOINT_MS: u64 = 5_000;

/// Why an engine operation failed. Messages are sentences; `code()` is for translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error("the session store cannot be used: {0}")]
    Store(String),
    #[error("the session store is damaged and was not changed: {0}")]
    Damaged(String),
    #[error("the session store has been tampered with and was not changed: {0}")]
    Tampered(String),
    #[error("the pack was refused: {0}")]
    Pack(String),
    /// The pack given to start a session was refused (its code says why: a wrong start
    /// code, an expired or downgraded pack …).
    #[error("{0}")]
    PackRefused(crate::pack::PackError),
    #[error("no session {0}")]
    NoSession(String),
    #[error("no problem {0} in this exam")]
    NoProblem(String),
    #[error("the exam time is over: submissions are no longer accepted")]
    TimeUp,
    #[error("the exam has ended for this candidate")]
    Ended,
    #[error("the exam is paused until a proctor resumes it")]
    Interrupted,
    #[error("the proctor passphrase is wrong")]
    WrongPassphrase,
    #[error("this pack allows no proctor actions (it was built without a proctor passphrase)")]
    NoProctor,
    #[error(
        "the session store {0} is in use by another sqlexam program (the app?); close it first"
    )]
    Busy(String),
    #[error("candidate {0} has already taken this exam on this computer")]
    AlreadyStarted(String),
    #[error("{0}")]
    Invalid(String),
}

impl SessionError {
    pub fn code(&self) -> &'static str {
        match self {
            SessionError::Store(_) => "store",
            SessionError::Damaged(_) => "store_damaged",
            SessionError::Tampered(_) => "store_tampered",
            SessionError::Pack(_) => "pack",
            SessionError::PackRefused(e) => e.code(),
            SessionError::NoSession(_) => "no_session",
            SessionError::NoProblem(_) => "no_problem",
            SessionError::TimeUp => "time_up",
            SessionError::Ended => "ended",
            SessionError::Interrupted => "interrupted",
            SessionError::WrongPassphrase => "wrong_passphrase",
            SessionError::NoProctor => "no_proctor",
            SessionError::Busy(_) => "store_busy",
            SessionError::AlreadyStarted(_) => "already_started",
            SessionError::Invalid(_) => "invalid",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Running,
    /// The app closed or crashed under the "paused" policy: a proctor must resume.
    Interrupted,
    Ended,
}

/// A session as the UI shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: String,
    pub pack: PackRef,
    pub title: crate::problem::Localized,
    pub candidate_id: String,
    pub candidate_name: String,
    pub state: SessionState,
    pub elapsed_ms: u64,
    pub duration_ms: u64,
    pub remaining_ms: u64,
    pub score: u32,
    pub max_score: u32,
    pub problems: Vec<ProblemStatus>,
    /// Records not yet acknowledged by a server.
    pub unsynced: usize,
    /// What the exam clock does while the app is closed (the close dialog says it).
    pub while_closed: WhileClosed,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProblemStatus {
    pub id: String,
    pub title: crate::problem::Localized,
    pub points: u32,
    pub best_score: u32,
    pub submissions: usize,
    /// The verdict of the best submission, if any was graded.
    pub best_verdict: Option<Verdict>,
}

/// A submission and, once graded, its verdict (from its record).
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionView {
    pub id: u64,
    pub session: String,
    pub problem: String,
    pub sql: String,
    pub elapsed_ms: u64,
    /// "queued", "grading" or "done".
    pub state: String,
    pub verdict: Option<Verdict>,
    pub score: Option<u32>,
    /// Why a submission was not graded (`session_ended`, `interrupted`, `grading_failed`),
    /// from its `submission_refused` record.
    pub refused: Option<String>,
}

/// What a submission's record says: verdict and score once graded, the reason once
/// refused (nothing while it waits, or if the record does not parse).
fn record_outcome(record: Option<&[u8]>) -> (Option<Verdict>, Option<u32>, Option<String>) {
    match record
        .and_then(|b| serde_json::from_slice::<Record>(b).ok())
        .map(|r| r.event)
    {
        Some(Event::Submission { verdict, score, .. }) => (Some(verdict), Some(score), None),
        Some(Event::SubmissionRefused { reason, .. }) => (None, None, Some(reason)),
        _ => (None, None, None),
    }
}

/// What the engine tells its subscribers.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EngineEvent {
    /// A submission was graded and its record written. The grading is the candidate's view.
    Graded {
        session: String,
        submission: u64,
        grading: Box<Grading>,
    },
    /// A run on the sample datasets finished (no record).
    SampleRun {
        session: String,
        run: u64,
        grading: Box<Grading>,
    },
    /// The session ended (time up, finished, or a proctor).
    SessionEnded { session: String, reason: String },
}

/// One record as the proctor's view lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordRow {
    pub seq: u64,
    /// The event's kind code (`submission`, `proctor` …).
    pub kind: String,
    /// Language-neutral facts: ids, codes and numbers (the UI translates the codes).
    pub summary: String,
    pub elapsed_ms: u64,
}

/// A session's records and what verifying the store found.
#[derive(Debug, Clone, Serialize)]
pub struct RecordsReport {
    pub records: Vec<RecordRow>,
    /// Each with its `kind` code and facts (docs/record-format.md), for translation.
    pub findings: Vec<Finding>,
    pub device_id: String,
}

/// A record waiting for a server's acknowledgement.
#[derive(Debug, Clone)]
pub struct OutboxRecord {
    pub session: String,
    pub seq: u64,
    pub record: SignedRecord,
}

struct LoadedPack {
    info: PackInfo,
    exam: Exam,
    problems: Vec<Problem>,
}

impl LoadedPack {
    /// The pack as records name it.
    fn pack_ref(&self) -> PackRef {
        PackRef {
            id: self.info.id.clone(),
            version: self.info.version.clone(),
            hash: self.info.hash.clone(),
        }
    }
}

/// The in-memory part of a running session's clock: exam time = `base` + monotonic time
/// since `mono_at_base`.
struct RunningClock {
    base: u64,
    mono_at_base: u64,
    checkpointed_mono: u64,
}

impl RunningClock {
    /// A clock showing `base` exam time at monotonic time `mono` (just checkpointed).
    fn starting_at(base: u64, mono: u64) -> RunningClock {
        RunningClock {
            base,
            mono_at_base: mono,
            checkpointed_mono: mono,
        }
    }
}

struct SampleJob {
    session: String,
    problem: String,
    sql: String,
    run: u64,
}

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
        std::fs::create_dir_all(dir)
            .map_err(|e| SessionError::Store(format!("{}: {e}", dir.display())))?;
        // One process per store: recovery would otherwise take another's work away.
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))
            .map_err(|e| SessionError::Store(format!("{}: {e}", dir.display())))?;
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
            .map_err(|e| SessionError::Store(format!("cannot start the grading worker: {e}")))?;
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
    pub fn start_session(
        &self,
        pack_bytes: &[u8],
        start_code: Option<&str>,
        candidate_id: &str,
        candidate_name: &str,
    ) -> Result<String, SessionError> {
        self.inner
            .start_session(pack_bytes, start_code, candidate_id, candidate_name)
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

    /// Marks a session's records up to `seq` as acknowledged by the server.
    pub fn ack_through(&self, session: &str, seq: u64) -> Result<(), SessionError> {
        lock(&self.inner.store).ack_through(session, seq)
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

/// The file a normal shutdown leaves beside the store (see `Inner::recover`).
const CLEAN_EXIT: &str = "closed-cleanly";

impl Inner {
    fn now_text(&self) -> String {
        let wall = self.clock.wall_ms();
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(wall) * 1_000_000)
            .map(format_time)
            .unwrap_or_default()
    }

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

    /// The wall clock as a time value (for pack validity windows).
    fn now(&self) -> Result<time::OffsetDateTime, SessionError> {
        time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(self.clock.wall_ms()) * 1_000_000,
        )
        .map_err(|e| SessionError::Invalid(e.to_string()))
    }

    fn ledger(&self) -> Result<VersionLedger, SessionError> {
        VersionLedger::open(&self.dir.join("pack-versions.json"))
            .map_err(|e| SessionError::Store(e.to_string()))
    }

    fn start_session(
        &self,
        bytes: &[u8],
        code: Option<&str>,
        candidate_id: &str,
        name: &str,
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
                .map_err(|e| SessionError::Store(e.to_string()))?;
        }
        let packs_seen: BTreeMap<String, String> = ledger
            .entries()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let id = random_hex(16);
        let wall = self.clock.wall_ms();
        let loaded = Arc::new(LoadedPack {
            info: pack.info,
            exam: pack.exam,
            problems: pack.problems,
        });
        let path = self.pack_path(&loaded.info.hash);
        if !path.is_file() {
            crate::fsutil::write_atomic(&path, bytes, false)
                .map_err(|e| SessionError::Store(format!("{}: {e}", path.display())))?;
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
                    device_public_key: self.device.public().to_hex(),
                    duration_ms: loaded.exam.rules.duration_ms,
                    while_closed: loaded.exam.rules.while_closed,
                    packs_seen,
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

    /// Appends a record to a session's chain inside `tx`; returns its seq.
    fn append(
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
    fn append_with(
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

    /// Loads (verifies and opens) the pack a session uses, from the store's copy.
    fn pack_of(&self, session: &str) -> Result<Arc<LoadedPack>, SessionError> {
        let store::SessionPack {
            hash,
            start_code: code,
            created_wall_ms: created,
        } = lock(&self.store).session_pack(session)?;
        if let Some(p) = lock(&self.packs).get(&hash) {
            return Ok(p.clone());
        }
        let path = self.pack_path(&hash);
        let bytes = std::fs::read(&path)
            .map_err(|e| SessionError::Pack(format!("{}: {e}", path.display())))?;
        // The copy is untrusted like the rest of the store: verify it again — against the
        // signer it was accepted from (today's trust store may have changed since) and as of
        // the session's start (an exam must not die when its pack expires mid-session).
        let then = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(created) * 1_000_000)
            .map_err(|e| SessionError::Damaged(e.to_string()))?;
        let verified = crate::pack::verify_known(&bytes, &hash, then, code.as_deref())
            .map_err(|e| SessionError::Tampered(format!("{}: {e}", path.display())))?;
        let pack = verified
            .open(code.as_deref())
            .map_err(|e| SessionError::Pack(e.to_string()))?;
        let loaded = Arc::new(LoadedPack {
            info: pack.info,
            exam: pack.exam,
            problems: pack.problems,
        });
        lock(&self.packs).insert(hash, loaded.clone());
        Ok(loaded)
    }

    /// Where the engine keeps its copy of a pack (a file: packs can be larger than a row).
    fn pack_path(&self, hash: &str) -> PathBuf {
        self.dir.join("packs").join(format!("{hash}.sqlexam"))
    }

    fn pack_problem(&self, session: &str, problem: &str) -> Result<Arc<LoadedPack>, SessionError> {
        let pack = self.pack_of(session)?;
        if pack.problems.iter().any(|p| p.id == problem) {
            Ok(pack)
        } else {
            Err(SessionError::NoProblem(problem.into()))
        }
    }

    fn session_row(&self, session: &str) -> Result<(SessionState, u64, u64), SessionError> {
        lock(&self.store).session_clock(session)
    }

    /// The session's exam time now.
    fn elapsed(&self, session: &str, stored: u64) -> u64 {
        match lock(&self.running).get(session) {
            Some(c) => c.base + self.clock.monotonic_ms().saturating_sub(c.mono_at_base),
            None => stored,
        }
    }

    /// After a restart: sessions that were running were closed or stopped; each gets an
    /// `interrupted` record saying which. Under "paused" they wait for a proctor; under
    /// "running" the closed time counts (never negative).
    fn recover(&self) -> Result<(), SessionError> {
        // Written by a normal shutdown (`Drop`); its absence means the app did not close.
        let marker = self.dir.join(CLEAN_EXIT);
        let cause = if marker.exists() { "closed" } else { "stopped" };
        let _ = std::fs::remove_file(&marker);
        lock(&self.store).requeue_foreign_claims(&self.owner)?;
        let running = lock(&self.store).running_sessions()?;
        for store::RunningSession {
            id,
            elapsed_ms: elapsed,
            duration_ms: duration,
            checkpoint_wall_ms: checkpoint_wall,
        } in running
        {
            // A session whose pack cannot be loaded waits for a proctor; others go on.
            let policy = self
                .pack_of(&id)
                .map_or(WhileClosed::Paused, |p| p.exam.rules.while_closed);
            let mono = self.clock.monotonic_ms();
            let interrupted = Event::Interrupted {
                cause: cause.into(),
            };
            match policy {
                WhileClosed::Paused => {
                    self.write(|tx| {
                        tx.interrupt(&id)?;
                        self.append(tx, &id, elapsed, interrupted)?;
                        Ok(())
                    })?;
                }
                WhileClosed::Running => {
                    let wall = self.clock.wall_ms();
                    let closed = u64::try_from(wall - checkpoint_wall)
                        .unwrap_or(0)
                        .min(duration.saturating_sub(elapsed));
                    let elapsed = elapsed + closed;
                    self.write(|tx| {
                        tx.set_clock(&id, elapsed, wall)?;
                        self.append(tx, &id, elapsed - closed, interrupted)?;
                        self.append(tx, &id, elapsed, Event::Reopened { closed_ms: closed })?;
                        Ok(())
                    })?;
                    lock(&self.running).insert(id, RunningClock::starting_at(elapsed, mono));
                }
            }
        }
        Ok(())
    }

    /// Writes running sessions' exam time (every CHECKPOINT_MS, or now if `force`).
    fn checkpoint_all(&self, force: bool) {
        let mono = self.clock.monotonic_ms();
        let wall = self.clock.wall_ms();
        let mut running = lock(&self.running);
        for (id, c) in running.iter_mut() {
            if force || mono.saturating_sub(c.checkpointed_mono) >= CHECKPOINT_MS {
                let elapsed = c.base + mono.saturating_sub(c.mono_at_base);
                let ok = lock(&self.store).checkpoint(id, elapsed, wall);
                if ok.is_ok() {
                    c.checkpointed_mono = mono;
                }
            }
        }
    }

    /// Checkpoints, applies the closed-time policy to a suspend, and ends sessions whose
    /// time is up.
    fn tick(&self) {
        self.notice_suspend();
        self.checkpoint_all(false);
        let over: Vec<String> = {
            let running = lock(&self.running);
            let store = lock(&self.store);
            running
                .iter()
                .filter(|(id, c)| {
                    let elapsed = c.base + self.clock.monotonic_ms().saturating_sub(c.mono_at_base);
                    let duration = store.duration(id).unwrap_or(u64::MAX);
                    elapsed >= duration
                })
                .map(|(id, _)| id.clone())
                .collect()
        };
        for id in over {
            let _ = self.end(&id, "time_up");
        }
    }

    /// A machine that slept (lid closed) stopped the monotonic clock: treat the sleep like
    /// the app being closed — under "paused" the session waits for a proctor, under
    /// "running" the time counts.
    fn notice_suspend(&self) {
        let Some(boot) = self.clock.boot_ms() else {
            return;
        };
        let mono = self.clock.monotonic_ms();
        let previous = lock(&self.last_tick).replace((mono, boot));
        let Some((last_mono, last_boot)) = previous else {
            return;
        };
        let slept = boot
            .saturating_sub(last_boot)
            .saturating_sub(mono.saturating_sub(last_mono));
        if slept < SUSPEND_MS {
            return;
        }
        let ids: Vec<String> = lock(&self.running).keys().cloned().collect();
        for id in ids {
            let policy = self
                .pack_of(&id)
                .map_or(WhileClosed::Paused, |p| p.exam.rules.while_closed);
            // The sleep is measured, not guessed: it started where the clock stopped.
            let Some(asleep_at) = self.live_elapsed(&id) else {
                continue;
            };
            let interrupted = Event::Interrupted {
                cause: "suspended".into(),
            };
            let _ = match policy {
                WhileClosed::Running => {
                    let counted = {
                        let mut running = lock(&self.running);
                        running.get_mut(&id).map(|c| {
                            c.base += slept;
                            slept
                        })
                    };
                    self.write(|tx| {
                        self.append(tx, &id, asleep_at, interrupted)?;
                        if let Some(closed_ms) = counted {
                            self.append(
                                tx,
                                &id,
                                asleep_at + closed_ms,
                                Event::Reopened { closed_ms },
                            )?;
                        }
                        Ok(())
                    })
                }
                WhileClosed::Paused => {
                    lock(&self.running).remove(&id);
                    self.write(|tx| {
                        if tx.interrupt_running(&id, asleep_at)? {
                            self.append(tx, &id, asleep_at, interrupted)?;
                        }
                        Ok(())
                    })
                }
            };
        }
    }

    fn end(&self, session: &str, reason: &str) -> Result<(), SessionError> {
        self.end_with(session, reason, None)
    }

    /// Ends a session (and appends `then`, e.g. the proctor action that ended it) in one
    /// transaction that re-reads the state, so two enders cannot both succeed.
    fn end_with(
        &self,
        session: &str,
        reason: &str,
        then: Option<&ChainedEvent<'_>>,
    ) -> Result<(), SessionError> {
        let live = self.live_elapsed(session);
        {
            self.write(|tx| {
                let (state, duration, stored) = tx.session_clock(session)?;
                if state == SessionState::Ended {
                    return Err(SessionError::Ended);
                }
                let elapsed = if reason == "time_up" {
                    duration
                } else {
                    live.unwrap_or(stored).min(duration)
                };
                tx.end_session(session, elapsed)?;
                self.append(
                    tx,
                    session,
                    elapsed,
                    Event::SessionEnded {
                        reason: reason.into(),
                    },
                )?;
                if let Some(event) = then {
                    self.append_with(tx, session, elapsed, event)?;
                }
                Ok(())
            })?;
        }
        lock(&self.running).remove(session);
        self.emit(EngineEvent::SessionEnded {
            session: session.into(),
            reason: reason.into(),
        });
        Ok(())
    }

    /// A running session's exam time now, from its in-memory clock (`None` if not running).
    /// Read before taking the store lock: the lock order is `running`, then `store`.
    fn live_elapsed(&self, session: &str) -> Option<u64> {
        lock(&self.running)
            .get(session)
            .map(|c| c.base + self.clock.monotonic_ms().saturating_sub(c.mono_at_base))
    }

    fn submit(&self, session: &str, problem: &str, sql: &str) -> Result<u64, SessionError> {
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

    fn proctor(
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

    /// The proctor's signing key for a session's pack, if `passphrase` is the proctor's.
    fn proctor_signer(
        &self,
        session: &str,
        passphrase: &str,
    ) -> Result<ProctorSigner, SessionError> {
        let pack = self.pack_of(session)?;
        let key = pack.exam.proctor.as_ref().ok_or(SessionError::NoProctor)?;
        key.unlock(passphrase).ok_or(SessionError::WrongPassphrase)
    }

    fn view(&self, session: &str) -> Result<SessionView, SessionError> {
        let pack = self.pack_of(session)?;
        let (state, duration, stored) = self.session_row(session)?;
        let (candidate_id, candidate_name) = lock(&self.store).candidate(session)?;
        let elapsed = self.elapsed(session, stored).min(duration);
        let subs = lock(&self.store).submissions(Submissions::OfSession(session))?;
        let problems: Vec<ProblemStatus> = pack
            .problems
            .iter()
            .map(|p| {
                let mine: Vec<&SubmissionView> =
                    subs.iter().filter(|s| s.problem == p.id).collect();
                let best = mine
                    .iter()
                    .filter(|s| s.verdict.is_some())
                    .max_by_key(|s| s.score.unwrap_or(0));
                ProblemStatus {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    points: p.points,
                    best_score: best.and_then(|s| s.score).unwrap_or(0),
                    submissions: mine.len(),
                    best_verdict: best.and_then(|s| s.verdict),
                }
            })
            .collect();
        let unsynced = lock(&self.store).unsynced(session)?;
        Ok(SessionView {
            id: session.into(),
            pack: pack.pack_ref(),
            title: pack.info.title.clone(),
            candidate_id,
            candidate_name,
            state,
            elapsed_ms: elapsed,
            duration_ms: duration,
            remaining_ms: duration.saturating_sub(elapsed),
            score: problems.iter().map(|p| p.best_score).sum(),
            max_score: problems.iter().map(|p| p.points).sum(),
            problems,
            unsynced,
            while_closed: pack.exam.rules.while_closed,
        })
    }

    /// The worker: one job at a time, forever.
    fn work(&self) {
        while !self.shutdown.load(Ordering::SeqCst) {
            self.tick();
            let sample = lock(&self.samples).pop_front();
            if let Some(job) = sample {
                self.in_flight.fetch_add(1, Ordering::SeqCst);
                self.run_sample(job);
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let claimed = self.claim_and_grade();
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if claimed {
                continue;
            }
            let guard = lock(&self.samples);
            if guard.is_empty() && !self.shutdown.load(Ordering::SeqCst) {
                let _ = self.wake.wait_timeout(guard, Duration::from_millis(500));
            }
        }
    }

    fn run_sample(&self, job: SampleJob) {
        let Ok(pack) = self.pack_problem(&job.session, &job.problem) else {
            return;
        };
        if let Some(problem) = pack.problems.iter().find(|p| p.id == job.problem) {
            let grading = grade(problem, &job.sql, Scope::Samples).for_candidate();
            self.emit(EngineEvent::SampleRun {
                session: job.session,
                run: job.run,
                grading: Box::new(grading),
            });
        }
    }

    /// Claims one submission, grades it and records the verdict. `false` if none waited.
    fn claim_and_grade(&self) -> bool {
        let now = self.clock.wall_ms();
        // Claimed with a generous lease at once; then, knowing the problem, extended to
        // twice the grader's worst case. The lease must outlast the grader's own limit, or a
        // slow grading is graded twice.
        let claim = {
            let mut store = lock(&self.store);
            match store.claim(&self.owner, now, now.saturating_add(CLAIM_LEASE_MS as i64)) {
                Ok(Some(c)) => c,
                _ => return false,
            }
        };
        let problem = self
            .pack_problem(&claim.session, &claim.problem)
            .ok()
            .and_then(|pack| {
                pack.problems
                    .iter()
                    .find(|p| p.id == claim.problem)
                    .cloned()
            });
        let Some(problem) = problem else {
            // Never leave a claim that can never be graded at the head of the queue.
            self.refuse_claim(&claim, "grading_failed");
            return true;
        };
        let lease = lease_ms(&problem).max(CLAIM_LEASE_MS);
        let _ = lock(&self.store).extend_lease(
            claim.submission,
            &self.owner,
            now.saturating_add(i64::try_from(lease).unwrap_or(i64::MAX)),
        );
        let graded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            grade(&problem, &claim.sql, Scope::All).for_candidate()
        }));
        let Ok(grading) = graded else {
            self.refuse_claim(&claim, "grading_failed");
            return true;
        };
        if let Ok(true) = self.complete(&claim, &grading) {
            self.emit(EngineEvent::Graded {
                session: claim.session.clone(),
                submission: claim.submission,
                grading: Box::new(grading),
            });
        }
        true
    }

    /// Ends a claim that cannot be graded with a recorded refusal (so it is not lost and
    /// does not block the queue).
    fn refuse_claim(&self, claim: &Claim, reason: &str) {
        // Nothing is written unless the claim is still ours (an `Err` rolls back).
        let _ = self.write(|tx| {
            let event = Event::SubmissionRefused {
                submission_id: claim.submission,
                problem: claim.problem.clone(),
                sql: claim.sql.clone(),
                reason: reason.into(),
            };
            let seq = self.append(tx, &claim.session, claim.elapsed_ms, event)?;
            if tx.mark_claim_done(claim, &self.owner, seq)? {
                Ok(())
            } else {
                Err(SessionError::Store("the claim was lost".into()))
            }
        });
    }

    /// Writes the record and marks the submission done, in one transaction, only if the
    /// claim is still ours. `Ok(false)`: someone else holds it now; nothing written.
    fn complete(&self, claim: &Claim, grading: &Grading) -> Result<bool, SessionError> {
        self.write(|tx| {
            if !tx.still_claimed(claim, &self.owner)? {
                return Ok(false);
            }
            let event = Event::Submission {
                submission_id: claim.submission,
                submitted_elapsed_ms: claim.elapsed_ms,
                problem: claim.problem.clone(),
                sql: claim.sql.clone(),
                verdict: grading.verdict,
                score: grading.score,
                max_score: grading.max_score,
                groups: grading.groups.clone(),
                datasets: grading
                    .datasets
                    .iter()
                    .map(|d| DatasetVerdict {
                        name: d.name.clone(),
                        verdict: d.verdict,
                    })
                    .collect(),
                grader_version: grading.grader_version.clone(),
                sqlite_version: grading.sqlite_version.clone(),
                grading_ms: grading.datasets.iter().filter_map(|d| d.wall_ms).sum(),
            };
            let seq = self.append(tx, &claim.session, claim.elapsed_ms, event)?;
            tx.mark_done(claim.submission, seq)?;
            Ok(true)
        })
    }
}

/// The sessions table must agree with the verified chain: a session the chain ended must
/// not be running again, its time must be what its records allow, and its clock must not
/// have gone back. Anything else means the table was edited.
fn check_against_chain(store: &Store, records: &[Record]) -> Result<(), SessionError> {
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

/// A claim's lease: twice the longest the grader can take on this problem (every dataset
/// at its wall-clock backstop), plus a margin.
pub(crate) fn lease_ms(problem: &Problem) -> u64 {
    (problem.datasets.len() as u64)
        .saturating_mul(problem.limits.wall_ms)
        .saturating_mul(2)
        .saturating_add(30_000)
}

/// The lease a claim gets before its problem is known.
const CLAIM_LEASE_MS: u64 = 10 * 60_000;

/// An event made for its place in a chain: `(seq, prev) → event`.
type ChainedEvent<'a> = dyn Fn(u64, &str) -> Event + 'a;

/// What `sqlexam session verify` reports about a store or an export.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub records: usize,
    pub sessions: usize,
    pub findings: Vec<Finding>,
}

/// Reads every record of a store file without changing it (read-only; no recovery).
pub fn read_store_records(path: &Path) -> Result<Vec<SignedRecord>, SessionError> {
    ReadOnlyStore::open(path)?.records()
}

/// What verifying a store's records expects: the store's own device (from its device key,
/// when `device` is not given) and the proctor key of each pack whose copy the store keeps,
/// read from the copy's signed manifest (a copy whose hash is not the one the records name
/// gives no key, so its proctor records stay unproven).
pub fn store_expectations(
    dir: &Path,
    records: &[SignedRecord],
    device: Option<String>,
) -> Expectations {
    #[derive(serde::Deserialize)]
    struct PackOnly {
        pack: PackRef,
    }
    let device = device.or_else(|| device::public_key_id(&dir.join("device.key")));
    let hashes: std::collections::BTreeSet<String> = records
        .iter()
        .filter_map(|r| serde_json::from_slice::<PackOnly>(&r.bytes).ok())
        .map(|r| r.pack.hash)
        .collect();
    let proctor_keys = hashes
        .into_iter()
        .filter_map(|hash| {
            let path = dir.join("packs").join(format!("{hash}.sqlexam"));
            pack_proctor_key(&path, &hash).map(|key| (hash, key))
        })
        .collect();
    Expectations {
        device,
        proctor_keys,
    }
}

/// The proctor key a pack file's signed manifest names, if the file is the pack `hash`:
/// `Some(None)` when that pack allows no proctor actions. Reads only the file's head.
fn pack_proctor_key(path: &Path, hash: &str) -> Option<Option<crate::crypto::PublicKey>> {
    let file = std::fs::File::open(path).ok()?;
    let (manifest, found) = crate::pack::signed_manifest(std::io::BufReader::new(file)).ok()?;
    (found == hash).then(|| manifest.proctor_public_key())
}

/// Verifies records from a store or an export.
pub fn verify_report(records: &[SignedRecord], expect: &Expectations) -> VerifyReport {
    let (good, findings) = verify_records(records, expect);
    let sessions = good
        .iter()
        .map(|r| r.session.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    VerifyReport {
        records: records.len(),
        sessions,
        findings,
    }
}

/// One session as `sqlexam session show` lists it, read without changing the store.
#[derive(Debug, Clone, Serialize)]
pub struct SessionSummary {
    pub id: String,
    pub pack_id: String,
    pub pack_version: String,
    pub candidate_id: String,
    pub candidate_name: String,
    pub state: SessionState,
    pub elapsed_ms: u64,
    pub duration_ms: u64,
    /// Best score per problem, summed, from the verified records.
    pub score: u32,
    pub submissions: usize,
    pub records: usize,
    pub unsynced: usize,
}

/// Lists the sessions of a store file read-only (safe while the app has it open).
pub fn summaries(path: &Path) -> Result<Vec<SessionSummary>, SessionError> {
    let store = ReadOnlyStore::open(path)?;
    let records = store.records()?;
    let (good, _) = verify_records(&records, &Expectations::default());
    let mut out = store.summaries()?;
    for s in &mut out {
        let mut best: BTreeMap<&str, u32> = BTreeMap::new();
        for r in good.iter().filter(|r| r.session == s.id) {
            if let Event::Submission { problem, score, .. } = &r.event {
                let b = best.entry(problem.as_str()).or_default();
                *b = (*b).max(*score);
            }
        }
        s.score = best.values().sum();
    }
    Ok(out)
}
