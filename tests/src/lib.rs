//! The harness of the cross-component scenarios: an organizer's pack built from the starter
//! problems, exams taken on the real session engine, a server launched on loopback, and a
//! hand-driven device for records no honest engine would write.
#![allow(clippy::unwrap_used)] // a test harness panics on broken setup

pub mod browser;
pub mod pg;
pub mod proxy;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlexam_core::crypto::{PublicKey, SigningKey};
use sqlexam_core::encoding::format_time;
use sqlexam_core::grade::{Verdict, grade};
use sqlexam_core::pack::{Anchor, BuildOptions, Trust, build};
use sqlexam_core::problem::{
    Expectation, Problem, WhileClosed, load_problem, read_pack_source, submissions,
};
use sqlexam_core::protocol::NDJSON;
use sqlexam_core::record::{
    Event, FORMAT, GENESIS, PackRef, ProctorAction, ProctorProof, Record, SignedRecord,
    proctor_statement,
};
use sqlexam_core::session::{Admit, Engine, SystemClock};
use sqlexam_server::Store;
use sqlexam_server::model::Role;
use sqlexam_server::{GraderCommand, Settings};

pub const START_CODE: &str = "7G4K-2QXM-9PZR-H3CW";
pub const PASSPHRASE: &str = "kq3v-8mzt-r2wd-x6hp";

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `sqlexam` binary `cargo test` built beside this test (it grades in the server's
/// children and runs as a server process).
pub fn sqlexam_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join(format!("sqlexam{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the workspace's tests (cargo test --workspace), which build it",
        bin.display()
    );
    bin
}

/// An organizer: a key, the trust that names it, and a sealed pack of the starter problems.
pub struct Organizer {
    pub key: SigningKey,
    pub trust: Trust,
    pub pack: Vec<u8>,
    pub pack_id: String,
    pub problems: Vec<Problem>,
    /// The exam time the pack gives each candidate.
    pub duration_ms: u64,
    /// Every labelled submission of the starter pack: (problem id, SQL, expected verdict).
    pub labelled: Vec<(String, String, Expectation)>,
    /// Each rostered candidate's admission code (empty: the pack has no roster).
    pub admission_codes: BTreeMap<String, String>,
}

impl Organizer {
    /// The first labelled submission of problem `problem` (index) that expects `expect`.
    pub fn answer(&self, problem: usize, expect: Expectation) -> String {
        let id = &self.problems[problem].id;
        self.labelled
            .iter()
            .find(|(p, _, e)| p == id && *e == expect)
            .map(|(_, sql, _)| sql.clone())
            .unwrap_or_else(|| panic!("{id} has no labelled {expect:?} submission"))
    }
}

/// Builds the starter pack's first `n` problems into a sealed pack signed by a fresh key.
pub fn organizer(n: usize) -> Organizer {
    organizer_with_roster(n, &[])
}

/// As [`organizer`], with a roster of `candidates` (id, name) when there are any, each with
/// a fresh admission code.
pub fn organizer_with_roster(n: usize, candidates: &[(&str, &str)]) -> Organizer {
    sqlexam_core::init_sqlite();
    let source = read_pack_source(&root().join("problems/sql-basics")).unwrap();
    let mut problems = Vec::new();
    let mut labelled = Vec::new();
    for dir in source.problem_dirs.iter().take(n) {
        let problem = load_problem(dir, &source.defaults).unwrap();
        for s in submissions(dir).unwrap() {
            labelled.push((
                problem.id.clone(),
                std::fs::read_to_string(&s.path).unwrap(),
                s.expect,
            ));
        }
        problems.push(problem);
    }
    let key = SigningKey::generate().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let mut exam = source.exam;
    exam.while_closed = WhileClosed::Paused;
    let duration_ms = exam.duration_ms;
    let listed: Vec<sqlexam_core::pack::Listed> = candidates
        .iter()
        .map(|(id, name)| sqlexam_core::pack::Listed {
            candidate: (*id).into(),
            name: (*name).into(),
            settings: BTreeMap::new(),
        })
        .collect();
    let codes: Vec<String> = listed
        .iter()
        .map(|_| sqlexam_core::pack::generate_admission_code().unwrap())
        .collect();
    let admission_codes = listed
        .iter()
        .map(|l| l.candidate.clone())
        .zip(codes.iter().cloned())
        .collect();
    let pack = build(
        &source.id,
        &source.version,
        &source.title,
        &problems,
        &BuildOptions {
            key: &key,
            endorsements: Vec::new(),
            start_code: Some(START_CODE.into()),
            exam,
            proctor_passphrase: Some(PASSPHRASE.into()),
            roster: (!listed.is_empty()).then_some((listed, codes)),
            created: now,
            not_before: now - time::Duration::hours(1),
            not_after: now + time::Duration::days(30),
        },
    )
    .unwrap();
    let trust = Trust {
        anchors: vec![Anchor::new(&key.public(), "test organizer")],
        revoked: Vec::new(),
    };
    Organizer {
        key,
        trust,
        pack,
        pack_id: source.id,
        problems,
        duration_ms,
        labelled,
        admission_codes,
    }
}

/// A candidate's machine: the real session engine in its own folder.
pub struct Machine {
    pub engine: Engine,
    pub session: String,
    pub dir: tempfile::TempDir,
}

impl Machine {
    /// Starts a session for `candidate`, submits each (problem, SQL) and waits for every
    /// verdict; the session stays open.
    /// A candidate on the roster checks in with their admission code.
    pub fn exam(org: &Organizer, candidate: &str, answers: &[(String, String)]) -> Machine {
        let admit = match org.admission_codes.get(candidate) {
            Some(code) => Admit::Code(code),
            None => Admit::Nobody,
        };
        Self::sit(org, candidate, admit, answers).unwrap()
    }

    /// Starts a session admitted as `admit` says (the engine's refusal, if it refuses),
    /// and submits each answer.
    pub fn sit(
        org: &Organizer,
        candidate: &str,
        admit: Admit<'_>,
        answers: &[(String, String)],
    ) -> Result<Machine, sqlexam_core::session::SessionError> {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(
            dir.path(),
            org.trust.clone(),
            Arc::new(SystemClock::default()),
        )
        .unwrap();
        let session = engine.start_admitted(
            &org.pack,
            Some(START_CODE),
            candidate,
            &format!("Candidate {candidate}"),
            admit,
        )?;
        let machine = Machine {
            engine,
            session,
            dir,
        };
        machine.submit(answers);
        Ok(machine)
    }

    /// Submits each (problem, SQL) and waits for every verdict.
    pub fn submit(&self, answers: &[(String, String)]) {
        for (problem, sql) in answers {
            self.engine.submit(&self.session, problem, sql).unwrap();
        }
        assert!(
            self.engine.wait_idle(Duration::from_secs(300)),
            "graded in time"
        );
    }

    pub fn store(&self) -> PathBuf {
        sqlexam_core::session::store_path(self.dir.path())
    }
}

/// The sync client a machine (or a relay) uses, for the server at `url` with `token`.
pub fn sync_client(url: &str, token: &str) -> sqlexam_sync::Client {
    sqlexam_sync::Client::new(sqlexam_sync::Server::parse(url, Some(token)).unwrap()).unwrap()
}

/// A proctor's export of `m` into `out` (what the app's proctor panel does), as of a fixed
/// time, in `venue` "Room 3".
pub fn proctor_export(
    m: &Machine,
    out: &Path,
    passphrase: &str,
    lang: sqlexam_export::Lang,
    pdf: bool,
) -> Result<sqlexam_export::machine::Exported, sqlexam_export::machine::MachineError> {
    sqlexam_export::machine::export(&sqlexam_export::machine::Request {
        dir: m.dir.path(),
        pack: None,
        passphrase,
        venue: "Room 3",
        lang,
        out,
        now: "2026-11-30T12:00:00Z",
        pdf,
    })
}

/// Takes an exam on the real session engine: starts a session, submits each (problem, SQL)
/// and waits for every verdict, then ends it. Returns the engine's records.
pub fn take_exam(
    org: &Organizer,
    candidate: &str,
    answers: &[(String, String)],
) -> Vec<SignedRecord> {
    let machine = Machine::exam(org, candidate, answers);
    machine.engine.finish(&machine.session).unwrap();
    machine.engine.records().unwrap()
}

/// Checks a receipt (the `receipt` object of an answer) as a device does: the checkpoint
/// signed by `server` for its log, and each entry's inclusion proof against the record
/// `records` holds at that seq (`records[seq - 1]`). Returns the receipt; panics naming
/// what does not verify.
pub fn checked_receipt(
    json: &serde_json::Value,
    server: &PublicKey,
    records: &[SignedRecord],
) -> sqlexam_core::protocol::Receipt {
    use sqlexam_core::tlog::{check_inclusion, decode_proof, open_checkpoint};
    let receipt: sqlexam_core::protocol::Receipt =
        serde_json::from_value(json.clone()).expect("a receipt");
    let checkpoint = open_checkpoint(&receipt.checkpoint, server).expect("a signed checkpoint");
    for e in &receipt.entries {
        let record = &records[e.seq as usize - 1];
        check_inclusion(
            &checkpoint,
            e.leaf,
            &record.bytes,
            &decode_proof(&e.proof).unwrap(),
            &receipt.session,
            e.seq,
        )
        .unwrap_or_else(|err| panic!("{err}"));
    }
    receipt
}

/// A device's view of a server's log: each new checkpoint must be one history with the
/// newest seen before (checked with the server's consistency proof).
pub struct LogWatcher {
    pub key: PublicKey,
    pub newest: Option<sqlexam_core::tlog::Checkpoint>,
}

impl LogWatcher {
    pub fn new(key: PublicKey) -> LogWatcher {
        LogWatcher { key, newest: None }
    }

    /// Checks `receipt`'s checkpoint against the newest seen; panics if inconsistent.
    pub async fn observe(
        &mut self,
        api: &Api,
        token: &str,
        receipt: &sqlexam_core::protocol::Receipt,
    ) {
        use sqlexam_core::tlog::{check_consistency, decode_proof, open_checkpoint};
        let new = open_checkpoint(&receipt.checkpoint, &self.key).expect("a signed checkpoint");
        if let Some(old) = &self.newest {
            let (from, to) = (old.size.min(new.size), old.size.max(new.size));
            let reply = api
                .get(token, &format!("/v1/log/consistency?from={from}&to={to}"))
                .await;
            let proof: sqlexam_core::protocol::Consistency =
                serde_json::from_value(reply.json).expect("a consistency proof");
            check_consistency(old, &new, &decode_proof(&proof.proof).unwrap())
                .unwrap_or_else(|e| panic!("{e}"));
        }
        if self.newest.as_ref().is_none_or(|o| o.size < new.size) {
            self.newest = Some(new);
        }
    }
}

/// `n` hand-driven devices of sessions `{tag}-{i}`, each with a backlog of `backlog`
/// records (its start and wrong-answer submissions): a room's worth of load.
pub fn backlogs(org: &Organizer, tag: &str, n: usize, backlog: usize) -> Vec<Device> {
    let problem = &org.problems[0];
    (0..n)
        .map(|d| {
            let mut device = Device::new(org, &format!("{tag}-{d}"), &format!("c{d}"));
            device.start();
            for i in 1..backlog as u64 {
                device.push(Device::submission(
                    problem,
                    i,
                    "SELECT 1",
                    Verdict::WrongAnswer,
                    0,
                ));
            }
            device
        })
        .collect()
}

/// The benchmarks' floor: records of `devices` verified per second by ring on one thread
/// (the best of 3 runs), every record's signature being what a server must check.
pub fn verify_rate(devices: &[Device]) -> f64 {
    let keys: Vec<PublicKey> = devices.iter().map(|d| d.key.public()).collect();
    let records: usize = devices.iter().map(|d| d.records.len()).sum();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = std::time::Instant::now();
        for (device, key) in devices.iter().zip(&keys) {
            for r in &device.records {
                assert!(key.verify(sqlexam_core::record::RECORD_DOMAIN, &r.bytes, &r.signature));
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    records as f64 / best
}

/// The median of a benchmark's rounds.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The batch body: one export line per record.
pub fn ndjson(records: &[SignedRecord]) -> String {
    records.iter().map(|r| r.to_export_line() + "\n").collect()
}

/// A device driven by hand: signs whatever records a test needs, chained or not.
pub struct Device {
    pub key: SigningKey,
    pub session: String,
    pub candidate: String,
    pub pack: PackRef,
    /// The exam time its first record claims (the pack's, unless a test says otherwise).
    pub duration_ms: u64,
    pub records: Vec<SignedRecord>,
}

impl Device {
    pub fn new(org: &Organizer, session: &str, candidate: &str) -> Device {
        // The pack's public facts are enough: its signed manifest, read from its head.
        let (manifest, hash) = sqlexam_core::pack::signed_manifest(&org.pack[..]).unwrap();
        Device {
            key: SigningKey::generate().unwrap(),
            session: session.into(),
            candidate: candidate.into(),
            pack: PackRef {
                id: manifest.id,
                version: manifest.version,
                hash,
            },
            duration_ms: org.duration_ms,
            records: Vec::new(),
        }
    }

    /// Signs the next record of the chain with `event`.
    pub fn push(&mut self, event: Event) -> SignedRecord {
        let signed = self.sign(self.records.len() as u64 + 1, self.head(), event);
        self.records.push(signed.clone());
        signed
    }

    /// The hash the next record chains to.
    pub fn head(&self) -> String {
        self.records
            .last()
            .map_or(GENESIS.to_string(), SignedRecord::hash)
    }

    /// Signs a record with any seq and prev, outside the chain.
    pub fn sign(&self, seq: u64, prev: String, event: Event) -> SignedRecord {
        let record = Record {
            format: FORMAT.into(),
            device: self.key.public().key_id(),
            session: self.session.clone(),
            seq,
            prev,
            pack: self.pack.clone(),
            candidate: self.candidate.clone(),
            wall_time: format_time(time::OffsetDateTime::now_utc()),
            elapsed_ms: seq * 1000,
            event,
        };
        SignedRecord::sign(&record, &self.key)
    }

    pub fn start(&mut self) -> SignedRecord {
        self.push(Event::SessionStarted {
            candidate_name: format!("Device {}", self.candidate),
            device_public_key: self.key.public().to_hex(),
            duration_ms: self.duration_ms,
            while_closed: WhileClosed::Paused,
            packs_seen: BTreeMap::new(),
            admission: None,
        })
    }

    /// Appends a proctor action signed with the pack's proctor key (unlocked with the
    /// passphrase): what a proctor's real action on this device writes.
    pub fn proctor(&mut self, org: &Organizer, action: ProctorAction) -> SignedRecord {
        let (manifest, _) = sqlexam_core::pack::signed_manifest(&org.pack[..]).unwrap();
        let signer = manifest.proctor.unwrap().unlock(PASSPHRASE).unwrap();
        let (seq, prev) = (self.records.len() as u64 + 1, self.head());
        let statement = proctor_statement(&self.session, seq, &prev, &action);
        let signature = sqlexam_core::encoding::hex(&signer.sign(&statement));
        self.push(Event::Proctor {
            action,
            proof: Some(ProctorProof {
                statement,
                signature,
            }),
        })
    }

    /// A submission event claiming `verdict` and `score` for `sql`.
    pub fn submission(
        problem: &Problem,
        id: u64,
        sql: &str,
        verdict: Verdict,
        score: u32,
    ) -> Event {
        Event::Submission {
            submission_id: id,
            submitted_elapsed_ms: id * 1000,
            problem: problem.id.clone(),
            sql: sql.into(),
            verdict,
            score,
            max_score: problem.points,
            groups: Vec::new(),
            datasets: Vec::new(),
            grader_version: "test".into(),
            sqlite_version: sqlexam_core::sqlite_version().into(),
            grading_ms: 1.0,
        }
    }

    /// An honest submission: graded here, recorded as graded.
    pub fn honest(problem: &Problem, id: u64, sql: &str) -> Event {
        let g = grade(problem, sql, sqlexam_core::grade::Scope::All);
        Self::submission(problem, id, sql, g.verdict, g.score)
    }
}

/// Where a test server stores.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// A database URL (from [`pg::PgCluster::database`]).
    Postgres(String),
}

/// Where a test server keeps its data folder.
enum Place<'a> {
    In(tempfile::TempDir),
    /// The folder (and database, and tokens) of another server: a second process.
    Beside(&'a TestServer),
}

/// A server on loopback, in this process, with an organizer and a venue token.
pub struct TestServer {
    pub url: String,
    pub organizer: String,
    pub venue: String,
    pub key: PublicKey,
    pub store: Arc<dyn Store>,
    pub data_dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

impl TestServer {
    /// Starts a server on SQLite in a fresh folder with `workers` re-grade workers.
    pub async fn start(trust: &Trust, workers: usize) -> TestServer {
        Self::launch(&Backend::Sqlite, trust, workers, None).await
    }

    /// Starts a server on `backend`. With `beside`, a second server on the same database
    /// (as a second process would be): same data folder (so the same server key), same
    /// tokens, its own connections and workers.
    pub async fn launch(
        backend: &Backend,
        trust: &Trust,
        workers: usize,
        beside: Option<&TestServer>,
    ) -> TestServer {
        let grader = GraderCommand {
            program: sqlexam_bin(),
            args: vec!["serve".into(), "--grader".into()],
        };
        Self::launch_with(backend, trust, workers, beside, grader).await
    }

    /// As [`TestServer::launch`], with graders started by `grader`.
    pub async fn launch_with(
        backend: &Backend,
        trust: &Trust,
        workers: usize,
        beside: Option<&TestServer>,
        grader: GraderCommand,
    ) -> TestServer {
        let place = match beside {
            Some(b) => Place::Beside(b),
            None => Place::In(tempfile::tempdir().unwrap()),
        };
        Self::launch_at(backend, trust, workers, place, grader, None).await
    }

    /// A server on SQLite in `dir`, which a test may have prepared (a server key copied
    /// from another server: a server that is "the same server" but holds another history).
    pub async fn launch_in(trust: &Trust, dir: tempfile::TempDir) -> TestServer {
        let grader = GraderCommand {
            program: sqlexam_bin(),
            args: vec!["serve".into(), "--grader".into()],
        };
        Self::launch_at(&Backend::Sqlite, trust, 0, Place::In(dir), grader, None).await
    }

    /// A venue relay: a server on SQLite that forwards every record to `to`.
    pub async fn relay(trust: &Trust, to: sqlexam_relay::RelayTo) -> TestServer {
        let grader = GraderCommand {
            program: sqlexam_bin(),
            args: vec!["serve".into(), "--grader".into()],
        };
        let dir = Place::In(tempfile::tempdir().unwrap());
        Self::launch_at(&Backend::Sqlite, trust, 0, dir, grader, Some(to)).await
    }

    async fn launch_at(
        backend: &Backend,
        trust: &Trust,
        workers: usize,
        place: Place<'_>,
        grader: GraderCommand,
        relay: Option<sqlexam_relay::RelayTo>,
    ) -> TestServer {
        let (dir, beside) = match place {
            Place::In(dir) => (Some(dir), None),
            Place::Beside(b) => (None, Some(b)),
        };
        let data_dir = match (&dir, beside) {
            (Some(d), _) => d.path().to_owned(),
            (None, Some(b)) => b.data_dir.clone(),
            (None, None) => unreachable!(),
        };
        let store = match backend {
            Backend::Sqlite => sqlexam_server::open_sqlite(&data_dir).unwrap(),
            Backend::Postgres(url) => sqlexam_server::open_postgres(url).await.unwrap(),
        };
        let (organizer, venue) = match beside {
            Some(b) => (b.organizer.clone(), b.venue.clone()),
            None => {
                let now = format_time(time::OffsetDateTime::now_utc());
                let mut tokens = Vec::new();
                for role in [Role::Organizer, Role::Venue] {
                    let (token, hash) = sqlexam_server::new_token().unwrap();
                    store.add_token(&hash, role, "test", &now).await.unwrap();
                    tokens.push(token);
                }
                (tokens.remove(0), tokens.remove(0))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let key = sqlexam_server::server_key(&data_dir).unwrap().public();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let settings = Settings {
            data_dir: data_dir.clone(),
            trust: trust.clone(),
            grader,
            workers,
            uplink: None,
            witnesses: Vec::new(),
        };
        let shutdown = async {
            let _ = stopped.await;
        };
        let store_ = store.clone();
        let error = |e: &dyn std::error::Error| sqlexam_core::error_chain(e);
        let handle = tokio::spawn(async move {
            match relay {
                Some(to) => sqlexam_relay::launch(settings, store_, &to, listener, shutdown)
                    .await
                    .map_err(|e| error(&e)),
                None => sqlexam_server::launch(settings, store_, listener, shutdown)
                    .await
                    .map_err(|e| error(&e)),
            }
        });
        TestServer {
            url,
            organizer,
            venue,
            key,
            store,
            data_dir,
            _dir: dir,
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
    }
}

/// A minimal HTTP client for the API.
pub struct Api {
    pub url: String,
    http: reqwest::Client,
}

/// A response: status and body (JSON when it parses).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub json: serde_json::Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Api {
    pub fn new(url: &str) -> Api {
        sqlexam_sync::tls_provider();
        Api {
            url: url.into(),
            http: reqwest::Client::new(),
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        self.try_send(request).await.unwrap()
    }

    /// As `send`, but a connection that fails (a server killed) is an error, not a panic.
    pub async fn try_send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Reply, reqwest::Error> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await?;
        Ok(Reply {
            status,
            json: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            text,
            headers,
        })
    }

    pub async fn post_batch(&self, token: &str, body: impl Into<String>) -> Reply {
        self.try_post_batch(token, body).await.unwrap()
    }

    pub async fn try_post_batch(
        &self,
        token: &str,
        body: impl Into<String>,
    ) -> Result<Reply, reqwest::Error> {
        self.try_send(
            self.http
                .post(format!("{}/v1/records", self.url))
                .bearer_auth(token)
                .header("content-type", NDJSON)
                .body(body.into()),
        )
        .await
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.send(
            self.http
                .get(format!("{}{path}", self.url))
                .bearer_auth(token),
        )
        .await
    }

    pub async fn put_pack(
        &self,
        token: &str,
        exam: &str,
        pack: &[u8],
        code: Option<&str>,
    ) -> Reply {
        let mut request = self
            .http
            .put(format!("{}/v1/exams/{exam}/pack", self.url))
            .bearer_auth(token)
            .body(pack.to_vec());
        if let Some(code) = code {
            request = request.header("x-sqlexam-start-code", code);
        }
        self.send(request).await
    }

    /// Uploads `org`'s pack with its start code; the upload must succeed.
    pub async fn upload(&self, token: &str, org: &Organizer) -> Reply {
        let reply = self
            .put_pack(token, &org.pack_id, &org.pack, Some(START_CODE))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply
    }

    pub fn raw(&self) -> &reqwest::Client {
        &self.http
    }

    /// The kinds of the flags raised on `exam`, in order.
    pub async fn flag_kinds(&self, token: &str, exam: &str) -> Vec<String> {
        let flags = self.get(token, &format!("/v1/exams/{exam}/flags")).await;
        assert_eq!(flags.status, 200, "{}", flags.text);
        flags.json["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Waits until every submission of `exam` has the server's verdict (at most `limit`);
    /// returns the results' candidates.
    pub async fn wait_regraded(
        &self,
        token: &str,
        exam: &str,
        limit: Duration,
    ) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let results = self.get(token, &format!("/v1/exams/{exam}/results")).await;
            assert_eq!(results.status, 200, "{}", results.text);
            let waiting: u64 = results.json["candidates"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|c| c["problems"].as_array().unwrap().iter())
                .map(|p| p["awaiting_regrade"].as_u64().unwrap())
                .sum();
            if waiting == 0 {
                return results.json["candidates"].clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{waiting} submissions still not re-graded after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A listening `sqlexam` process (`serve`, or `witness`), killed (SIGKILL) when dropped:
/// a failing test leaves none behind.
pub struct ServeProcess {
    pub child: std::process::Child,
    pub url: String,
    /// The line it printed on start (its address and where it stores).
    pub banner: String,
}

impl ServeProcess {
    /// Starts `sqlexam serve --listen 127.0.0.1:0 <args>` with `SQLEXAM_HOME=home` and
    /// waits for the line with its address.
    pub fn start(home: &Path, args: &[&std::ffi::OsStr]) -> ServeProcess {
        Self::start_under(home, "serve", args, None)
    }

    /// Starts `sqlexam witness --listen 127.0.0.1:0 <args>` the same way.
    pub fn witness(home: &Path, args: &[&std::ffi::OsStr]) -> ServeProcess {
        Self::start_under(home, "witness", args, None)
    }

    /// As `start`, with at most `files` open files (`prlimit --nofile`), as a server with a
    /// common default limit has.
    pub fn start_with_file_limit(
        home: &Path,
        args: &[&std::ffi::OsStr],
        files: u32,
    ) -> ServeProcess {
        Self::start_under(home, "serve", args, Some(files))
    }

    fn start_under(
        home: &Path,
        subcommand: &str,
        args: &[&std::ffi::OsStr],
        files: Option<u32>,
    ) -> ServeProcess {
        use std::io::BufRead;
        let mut command = match files {
            Some(n) => {
                let mut c = std::process::Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}"))
                    .arg("--")
                    .arg(sqlexam_bin());
                c
            }
            None => std::process::Command::new(sqlexam_bin()),
        };
        let mut child = command
            .args([subcommand, "--listen", "127.0.0.1:0"])
            .args(args)
            .env("SQLEXAM_HOME", home)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut banner = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut banner)
            .unwrap();
        let url = banner
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .map(|u| u.trim_end_matches('/').to_owned());
        let Some(url) = url else {
            let _ = child.kill();
            panic!("no address in {banner:?}");
        };
        ServeProcess { child, url, banner }
    }

    /// SIGKILL, then wait for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `sqlexam ARGS` with `SQLEXAM_HOME=home`: its exit code and what it said (standard
/// output, then standard error).
pub fn cli(home: &Path, args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let out = std::process::Command::new(sqlexam_bin())
        .args(args)
        .env("SQLEXAM_HOME", home)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

/// `sqlexam token create --role <role> <storage>` (`--data DIR` or `--database URL`) with
/// `SQLEXAM_HOME=home`: the token it printed.
pub fn create_token(home: &Path, role: &str, storage: &[&std::ffi::OsStr]) -> String {
    let out = std::process::Command::new(sqlexam_bin())
        .args(["token", "create", "--role", role])
        .args(storage)
        .env("SQLEXAM_HOME", home)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
