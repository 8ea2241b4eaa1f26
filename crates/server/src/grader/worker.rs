//! The re-grade workers: each claims exactly one job at a time under a lease longer than
//! the grader's worst case, grades it in a child process (SQLite's heap limit is
//! process-wide, and a crash must not take the server down), and stores the server's
//! verdict beside the device's in the transaction that claims its next job.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlexam_core::error_chain;

use super::child::{ChildAnswer, ChildJob, Grader, GraderCommand, GraderError};
use crate::domain::regrade::{self, WAITING_FOR_PACK};
use crate::model::{Job, JobResult, PackFacts};
use crate::store::Store;

/// What the workers share.
pub struct Regrader {
    pub store: Arc<dyn Store>,
    pub command: GraderCommand,
    /// Where packs are written for children to read.
    pub pack_dir: PathBuf,
    /// Woken when jobs are queued.
    pub wake: Arc<tokio::sync::Notify>,
    /// Packs already written for the children, by hash (packs never change).
    pub known_packs: std::sync::Mutex<HashMap<String, PackFacts>>,
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
                .next_job(done.as_ref(), &regrade::claim(&name, now_ms()))
                .await;
            let job = match claimed {
                Ok(job) => {
                    done = None;
                    job
                }
                Err(e) => {
                    eprintln!(
                        "re-grade worker {name}: cannot store or claim a job: {}",
                        error_chain(&e)
                    );
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
                    eprintln!(
                        "re-grade worker {name}: job {}: {}",
                        job.id,
                        error_chain(&e)
                    );
                    if let Some(mut g) = grader.take() {
                        let _ = g.child.kill().await;
                    }
                    if let Err(e) = self.store.release_job(job.id).await {
                        eprintln!(
                            "re-grade worker {name}: cannot release job {}: {}",
                            job.id,
                            error_chain(&e)
                        );
                    }
                    continue;
                }
            };
            done = Some(regrade::result(
                &job,
                verdict,
                score,
                error,
                crate::domain::now(),
            ));
        }
        // A verdict graded before the stop is stored, not thrown away.
        if let Some(result) = done
            && let Err(e) = self.store.finish_job(&result).await
        {
            eprintln!(
                "re-grade worker {name}: cannot store job {}: {}",
                result.id,
                error_chain(&e)
            );
        }
    }

    async fn grade(
        &self,
        grader: &mut Option<Grader>,
        job: &Job,
    ) -> Result<ChildAnswer, GraderError> {
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
                .map_err(GraderError::Store)?
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
                .map_err(GraderError::Store)?
                .ok_or_else(|| GraderError::PackVanished(pack.hash.clone()))?;
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
                .map_err(|e| GraderError::WritePack(pack_path.clone(), e))?;
        }
        self.known_packs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pack.hash.clone(), pack.clone());
        if grader.is_none() {
            *grader = Some(Grader::spawn(&self.command)?);
        }
        let Some(child) = grader.as_mut() else {
            return Err(GraderError::Gone);
        };
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
