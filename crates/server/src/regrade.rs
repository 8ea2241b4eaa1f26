//! Re-grading: the original cloud system's queue, done right. Every stored submission is a
//! job in the database; each worker claims exactly one job at a time under a lease longer
//! than the grader's worst case, grades it in a child process (SQLite's heap limit is
//! process-wide, and a crash must not take the server down), and stores the server's verdict
//! beside the device's.
//!
//! The child (`sqlexam serve --grader`, [`child_main`]) reads one job per line on stdin and
//! answers one line on stdout; it keeps the packs it opened, so a pack's key derivation is
//! paid once per child, not per job.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlexam_core::grade::{Scope, Verdict, grade};
use sqlexam_core::pack::{Pack, verify_known};
use sqlexam_core::problem::MAX_WALL_MS;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::db::{Job, JobResult, Store};

/// How long a child may take for one job before it is killed: the largest per-submission
/// wall-clock allowance a problem may set, plus time to start and open a sealed pack.
pub const CHILD_TIMEOUT_MS: u64 = MAX_WALL_MS + 60_000;
/// A claim's lease. It outlasts a child's whole allowance twice over, so a job is only
/// claimed again when its worker is gone (a killed server process), never while it grades.
pub const LEASE_MS: u64 = 2 * CHILD_TIMEOUT_MS;
const _: () = assert!(LEASE_MS > CHILD_TIMEOUT_MS && CHILD_TIMEOUT_MS > MAX_WALL_MS);

/// How a re-grade that waits for its pack begins (`server_error`): such submissions are
/// queued again when the pack is uploaded.
pub const WAITING_FOR_PACK: &str = "the server does not hold pack";

/// How to start a grading child: a program and its arguments.
#[derive(Debug, Clone)]
pub struct GraderCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// One job, as the child reads it.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChildJob {
    pub pack_path: PathBuf,
    pub pack_hash: String,
    pub start_code: Option<String>,
    pub problem: String,
    pub sql: String,
}

/// The child's answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChildAnswer {
    pub verdict: Option<Verdict>,
    pub score: u32,
    pub error: Option<String>,
}

/// The grading child: one job per stdin line, one answer per stdout line, until stdin ends.
pub fn child_main() -> std::process::ExitCode {
    sqlexam_core::init_sqlite();
    let mut packs: HashMap<String, Pack> = HashMap::new();
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let answer = match serde_json::from_str::<ChildJob>(&line) {
            Ok(job) => grade_job(&mut packs, &job),
            Err(e) => ChildAnswer {
                verdict: None,
                score: 0,
                error: Some(format!("not a job: {e}")),
            },
        };
        let text = serde_json::to_string(&answer).unwrap_or_default();
        if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    std::process::ExitCode::SUCCESS
}

fn grade_job(packs: &mut HashMap<String, Pack>, job: &ChildJob) -> ChildAnswer {
    let failed = |error: String| ChildAnswer {
        verdict: None,
        score: 0,
        error: Some(error),
    };
    if !packs.contains_key(&job.pack_hash) {
        match open_pack(&job.pack_path, &job.pack_hash, job.start_code.as_deref()) {
            Ok(pack) => {
                packs.insert(job.pack_hash.clone(), pack);
            }
            Err(e) => return failed(e),
        }
    }
    let Some(problem) = packs
        .get(&job.pack_hash)
        .and_then(|p| p.problems.iter().find(|p| p.id == job.problem))
    else {
        return failed(format!("the pack has no problem {:?}", job.problem));
    };
    let grading = grade(problem, &job.sql, Scope::All);
    ChildAnswer {
        verdict: Some(grading.verdict),
        score: grading.score,
        error: None,
    }
}

fn open_pack(path: &Path, hash: &str, start_code: Option<&str>) -> Result<Pack, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (manifest, _) =
        sqlexam_core::pack::signed_manifest(&bytes[..]).map_err(|e| e.to_string())?;
    // The pack was verified against the organizers' trust when it was uploaded; here only
    // that these are its bytes, signed by its signer, as of a time inside its window.
    let then = sqlexam_core::encoding::parse_time(&manifest.not_before)
        .ok_or("the pack's not_before is not a time")?;
    verify_known(&bytes, hash, then, start_code)
        .and_then(|v| v.open(start_code))
        .map_err(|e| e.to_string())
}

/// A running child and its pipes.
struct Grader {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Grader {
    fn spawn(command: &GraderCommand) -> std::io::Result<Grader> {
        let mut child = Command::new(&command.program)
            .args(&command.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("no stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        Ok(Grader {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }

    async fn ask(&mut self, job: &ChildJob) -> Result<ChildAnswer, String> {
        let mut line = serde_json::to_string(job).map_err(|e| e.to_string())?;
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| format!("the grader stopped: {e}"))?;
        let mut answer = String::new();
        let read = tokio::time::timeout(
            Duration::from_millis(CHILD_TIMEOUT_MS),
            self.stdout.read_line(&mut answer),
        )
        .await;
        match read {
            Err(_) => Err(format!("the grader took more than {CHILD_TIMEOUT_MS} ms")),
            Ok(Err(e)) => Err(format!("the grader stopped: {e}")),
            Ok(Ok(0)) => Err("the grader stopped (it may have run out of memory)".into()),
            Ok(Ok(_)) => serde_json::from_str(&answer).map_err(|e| format!("bad answer: {e}")),
        }
    }
}

/// What the workers share.
pub struct Regrader {
    pub store: Arc<dyn Store>,
    pub command: GraderCommand,
    /// Where packs are written for children to read.
    pub pack_dir: PathBuf,
    /// Woken when jobs are queued.
    pub wake: Arc<tokio::sync::Notify>,
    /// Packs already written for the children, by hash (packs never change).
    pub known_packs: std::sync::Mutex<HashMap<String, crate::db::PackFacts>>,
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl Regrader {
    /// One worker: claims a job, grades it, stores the verdict, until `stop` is set.
    /// A child that fails is replaced for the next job; the failed job is graded again
    /// under a new claim (up to the attempt limit), because its result was not stored.
    pub async fn run(self: Arc<Self>, name: String, stop: tokio::sync::watch::Receiver<bool>) {
        let mut grader: Option<Grader> = None;
        let mut done: Option<JobResult> = None;
        while !*stop.borrow() {
            // Listening for new jobs starts before looking for one, so a batch stored while
            // this worker looks (and finds nothing) still wakes it.
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            // The last verdict is stored and the next job claimed in one transaction.
            let claimed = self
                .store
                .next_job(done.as_ref(), &name, LEASE_MS, now_ms())
                .await;
            let job = match claimed {
                Ok(job) => {
                    done = None;
                    job
                }
                Err(e) => {
                    eprintln!("re-grade worker {name}: cannot store or claim a job: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let Some(job) = job else {
                let mut stop = stop.clone();
                tokio::select! {
                    () = woken => {}
                    _ = stop.changed() => {}
                    () = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
                continue;
            };
            let answer = self.grade(&mut grader, &job).await;
            let (verdict, score, error) = match answer {
                Ok(a) => (a.verdict, a.score, a.error),
                Err(e) => {
                    // The child is gone or stuck: put the job back for another attempt (the
                    // attempt limit flags a submission that always kills its grader), and
                    // start a fresh child.
                    eprintln!("re-grade worker {name}: job {}: {e}", job.id);
                    if let Some(mut g) = grader.take() {
                        let _ = g.child.kill().await;
                    }
                    if let Err(e) = self.store.release_job(job.id).await {
                        eprintln!("re-grade worker {name}: cannot release job {}: {e}", job.id);
                    }
                    continue;
                }
            };
            done = Some(JobResult {
                id: job.id,
                session: job.session.clone(),
                seq: job.seq,
                verdict,
                score,
                error,
                graded_at: sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc()),
            });
        }
        // A verdict graded before the stop is stored, not thrown away.
        if let Some(result) = done
            && let Err(e) = self.store.finish_job(&result).await
        {
            eprintln!(
                "re-grade worker {name}: cannot store job {}: {e}",
                result.id
            );
        }
    }

    async fn grade(&self, grader: &mut Option<Grader>, job: &Job) -> Result<ChildAnswer, String> {
        let known = self
            .known_packs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&job.pack_hash)
            .cloned();
        let pack = match known {
            Some(pack) => pack,
            None => match self
                .store
                .pack_facts(&job.pack_hash)
                .await
                .map_err(|e| e.to_string())?
            {
                Some(pack) => pack,
                None => {
                    return Ok(ChildAnswer {
                        verdict: None,
                        score: 0,
                        error: Some(format!(
                            "{WAITING_FOR_PACK} {}: upload the exam's pack",
                            job.pack_hash
                        )),
                    });
                }
            },
        };
        // Packs are immutable (named by hash): written once for the children to read.
        let pack_path = self.pack_dir.join(format!("{}.sqlexam", pack.hash));
        if !pack_path.exists() {
            let bytes = self
                .store
                .pack_bytes(&pack.hash)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("pack {} vanished", pack.hash))?;
            static PART: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let part = PART.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tmp =
                self.pack_dir
                    .join(format!("{}.part-{}-{part}", pack.hash, std::process::id()));
            let write = async {
                tokio::fs::create_dir_all(&self.pack_dir).await?;
                tokio::fs::write(&tmp, &bytes).await?;
                tokio::fs::rename(&tmp, &pack_path).await
            };
            write
                .await
                .map_err(|e| format!("{}: {e}", pack_path.display()))?;
        }
        self.known_packs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pack.hash.clone(), pack.clone());
        if grader.is_none() {
            *grader =
                Some(Grader::spawn(&self.command).map_err(|e| {
                    format!("cannot start {}: {e}", self.command.program.display())
                })?);
        }
        let child = grader.as_mut().ok_or("no grader")?;
        child
            .ask(&ChildJob {
                pack_path,
                pack_hash: pack.hash.clone(),
                start_code: pack.start_code.clone(),
                problem: job.problem.clone(),
                sql: job.sql.clone(),
            })
            .await
    }
}
