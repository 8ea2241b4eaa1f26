//! The grading child (`sqlexam serve --grader`, [`child_main`]): one job per stdin line,
//! one answer per stdout line, each job graded alone. It keeps the packs it opened, so a
//! pack's key derivation is paid once per child, not per job. [`Grader`] is the parent's
//! side: a running child and its pipes, with the time limit on each answer.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlexam_core::grade::{Scope, Verdict, grade};
use sqlexam_core::pack::{Pack, verify_known};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::domain::regrade::CHILD_TIMEOUT_MS;

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

/// Why a grading child gave no answer: the job goes back to the queue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraderError {
    #[error("cannot start the grader {}", .0.display())]
    Spawn(PathBuf, #[source] std::io::Error),
    #[error("the grader stopped")]
    Stopped(#[source] std::io::Error),
    #[error("the grader stopped (it may have run out of memory)")]
    Gone,
    #[error("the grader took more than {CHILD_TIMEOUT_MS} ms")]
    TooSlow,
    #[error("the grader's answer is not one")]
    BadAnswer(#[source] serde_json::Error),
    #[error("the server cannot read the pack for the grader")]
    Store(#[source] crate::store::StoreError),
    #[error("pack {0} vanished from the store")]
    PackVanished(String),
    #[error("{}: cannot write the pack for the grader", .0.display())]
    WritePack(PathBuf, #[source] std::io::Error),
}

/// A running child and its pipes.
pub(super) struct Grader {
    pub(super) child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Grader {
    pub(super) fn spawn(command: &GraderCommand) -> Result<Grader, GraderError> {
        let failed = |e| GraderError::Spawn(command.program.clone(), e);
        let mut child = Command::new(&command.program)
            .args(&command.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(failed)?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| failed(std::io::Error::other("no stdin")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| failed(std::io::Error::other("no stdout")))?;
        Ok(Grader {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }

    pub(super) async fn ask(&mut self, job: &ChildJob) -> Result<ChildAnswer, GraderError> {
        // A job is paths, hashes and text: it always serializes.
        let mut line = serde_json::to_string(job).unwrap_or_default();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(GraderError::Stopped)?;
        let mut answer = String::new();
        let read = tokio::time::timeout(
            Duration::from_millis(CHILD_TIMEOUT_MS),
            self.stdout.read_line(&mut answer),
        )
        .await;
        match read {
            Err(_) => Err(GraderError::TooSlow),
            Ok(Err(e)) => Err(GraderError::Stopped(e)),
            Ok(Ok(0)) => Err(GraderError::Gone),
            Ok(Ok(_)) => serde_json::from_str(&answer).map_err(GraderError::BadAnswer),
        }
    }
}
