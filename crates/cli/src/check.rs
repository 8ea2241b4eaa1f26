//! `sqlexam problem check`: proves a problem source. The data loads, the reference runs on
//! every dataset, every labelled submission gets its label's verdict (a wrong_answer one
//! gets Wrong Answer on at least one dataset, which is named), and a step budget is
//! suggested from the slowest accepted submission.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;
use sqlexam_core::grade::{Grading, Scope, Verdict, grade_bytes};
use sqlexam_core::problem::{
    Expectation, Problem, Settings, load_problem, load_problem_in_context, read_pack_source,
    submissions,
};

/// The report of one run of `problem check`.
#[derive(Serialize)]
pub struct Report {
    pub ok: bool,
    pub problems: Vec<ProblemReport>,
}

#[derive(Serialize)]
pub struct ProblemReport {
    pub dir: PathBuf,
    pub id: String,
    pub ok: bool,
    /// Why the problem did not load (then nothing else was checked).
    pub error: Option<String>,
    pub datasets: Vec<DatasetReport>,
    pub submissions: Vec<SubmissionReport>,
    pub step_limit: u64,
    /// VM steps of the slowest accepted submission (or the reference) on any dataset.
    pub slowest_accepted_steps: u64,
    /// At least twice `slowest_accepted_steps`, rounded up to two significant digits.
    pub suggested_steps: u64,
    /// The step limit ÷ the slowest accepted run: how much slower a fair query may be.
    pub headroom: f64,
    /// Rows of the largest table in any dataset.
    pub largest_table_rows: u64,
    /// About what a correlated subquery over the largest table needs (rows² ×
    /// `STEPS_PER_ROW_PAIR`): a slower formulation candidates often write.
    pub quadratic_steps: u64,
    pub warnings: Vec<String>,
}

#[derive(Serialize)]
pub struct DatasetReport {
    pub name: String,
    pub secret: bool,
    pub reference_steps: u64,
}

#[derive(Serialize)]
pub struct SubmissionReport {
    pub path: PathBuf,
    pub expected: Expectation,
    pub verdict: Verdict,
    pub ok: bool,
    /// Datasets that did not pass, with their verdicts.
    pub failed: Vec<(String, Verdict)>,
    pub max_steps: u64,
    pub message: String,
}

pub fn run(dirs: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let mut problems = Vec::new();
    for dir in dirs {
        if dir.join("pack.toml").is_file() {
            let pack = read_pack_source(dir)?;
            for problem_dir in &pack.problem_dirs {
                problems.push(check_problem(problem_dir, Some(&pack.defaults)).0);
            }
        } else if dir.join("problem.toml").is_file() {
            problems.push(check_problem(dir, None).0);
        } else {
            anyhow::bail!(
                "{}: neither a pack source (pack.toml) nor a problem (problem.toml)",
                dir.display()
            );
        }
    }
    let report = Report {
        ok: problems.iter().all(|p| p.ok),
        problems,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        say_part!("{}", human(&report));
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Checks one problem folder; the loaded problem comes back too when it loaded.
pub fn check_problem(dir: &Path, defaults: Option<&Settings>) -> (ProblemReport, Option<Problem>) {
    let mut report = ProblemReport {
        dir: dir.to_owned(),
        id: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ok: false,
        error: None,
        datasets: Vec::new(),
        submissions: Vec::new(),
        step_limit: 0,
        slowest_accepted_steps: 0,
        suggested_steps: 0,
        headroom: 0.0,
        largest_table_rows: 0,
        quadratic_steps: 0,
        warnings: Vec::new(),
    };
    let loaded = match defaults {
        Some(d) => load_problem(dir, d),
        None => load_problem_in_context(dir),
    };
    let problem = match loaded.and_then(|p| submissions(dir).map(|s| (p, s))) {
        Ok(p) => p,
        Err(e) => {
            report.error = Some(e.to_string());
            return (report, None);
        }
    };
    let (problem, subs) = problem;
    report.step_limit = problem.limits.steps;
    report.datasets = problem
        .datasets
        .iter()
        .map(|d| DatasetReport {
            name: d.name.clone(),
            secret: d.visibility == sqlexam_core::problem::Visibility::Secret,
            reference_steps: d.reference_steps,
        })
        .collect();
    let mut slowest = problem
        .datasets
        .iter()
        .map(|d| d.reference_steps)
        .max()
        .unwrap_or(0);
    for sub in subs {
        let s = check_submission(&problem, &sub.path, sub.expect);
        if sub.expect == Expectation::Accepted && s.ok {
            slowest = slowest.max(s.max_steps);
        }
        report.submissions.push(s);
    }
    report.slowest_accepted_steps = slowest;
    report.suggested_steps = round_up_2_digits(slowest.saturating_mul(2).max(1_000));
    report.headroom = problem.limits.steps as f64 / slowest.max(1) as f64;
    report.largest_table_rows = problem.largest_table_rows();
    report.quadratic_steps = report
        .largest_table_rows
        .saturating_pow(2)
        .saturating_mul(STEPS_PER_ROW_PAIR);
    if problem.limits.steps < 2 * slowest {
        report.warnings.push(format!(
            "limits.steps = {} is less than twice the slowest accepted run ({slowest} steps); a slower but fair query may time out: use at least {}",
            problem.limits.steps, report.suggested_steps
        ));
    }
    if report.quadratic_steps > problem.limits.steps {
        report.warnings.push(format!(
            "a correlated subquery over the largest table ({} rows) needs about {} steps, more than limits.steps = {}: such a correct answer would get Time Limit Exceeded; use less data or raise the limit",
            report.largest_table_rows, report.quadratic_steps, problem.limits.steps
        ));
    }
    let has = |e: Expectation| report.submissions.iter().any(|s| s.expected == e);
    if !has(Expectation::WrongAnswer) {
        report.warnings.push(
            "no submissions/wrong_answer: nothing shows that the data catches wrong queries".into(),
        );
    }
    if !has(Expectation::Accepted) {
        report
            .warnings
            .push("no submissions/accepted besides the reference".into());
    }
    report.ok = report.submissions.iter().all(|s| s.ok);
    (report, Some(problem))
}

fn check_submission(problem: &Problem, path: &Path, expect: Expectation) -> SubmissionReport {
    let grading: Result<Grading, String> = std::fs::read(path)
        .map(|sql| grade_bytes(problem, &sql, Scope::All))
        .map_err(|e| format!("cannot read: {e}"));
    let g = match grading {
        Ok(g) => g,
        Err(message) => {
            return SubmissionReport {
                path: path.to_owned(),
                expected: expect,
                verdict: Verdict::RuntimeError,
                ok: false,
                failed: Vec::new(),
                max_steps: 0,
                message,
            };
        }
    };
    let failed: Vec<(String, Verdict)> = g
        .datasets
        .iter()
        .filter(|d| d.verdict != Verdict::Accepted)
        .map(|d| (d.name.clone(), d.verdict))
        .collect();
    let any = |v: Verdict| g.datasets.iter().any(|d| d.verdict == v);
    let (ok, message) = match expect {
        Expectation::Accepted => (g.verdict == Verdict::Accepted, format!("{:?}", g.verdict)),
        Expectation::WrongAnswer if any(Verdict::WrongAnswer) => (true, String::new()),
        Expectation::WrongAnswer if g.verdict == Verdict::Accepted => (
            false,
            "accepted: the data does not catch this wrong query".into(),
        ),
        Expectation::WrongAnswer => (false, format!("got {:?}, not Wrong Answer", g.verdict)),
        Expectation::TimeLimitExceeded => {
            (any(Verdict::TimeLimitExceeded), format!("{:?}", g.verdict))
        }
        Expectation::RuntimeError => (
            g.verdict == Verdict::RuntimeError,
            format!("{:?}", g.verdict),
        ),
        Expectation::Forbidden => (g.verdict == Verdict::Forbidden, format!("{:?}", g.verdict)),
    };
    let message = match (&g.diagnostic, ok) {
        (Some(d), false) => format!("{message}: {d:?}"),
        _ => message,
    };
    SubmissionReport {
        path: path.to_owned(),
        expected: expect,
        verdict: g.verdict,
        ok,
        failed,
        max_steps: g.datasets.iter().filter_map(|d| d.steps).max().unwrap_or(0),
        message,
    }
}

/// VM steps a correlated subquery takes per (outer row, inner row) pair, measured on the
/// starter pack's quadratic accepted answers (4 to 17; a safe middle).
const STEPS_PER_ROW_PAIR: u64 = 10;

/// Rounds up to two significant digits: 24,690 → 25,000.
fn round_up_2_digits(n: u64) -> u64 {
    let mut unit = 1;
    while n / unit >= 100 {
        unit *= 10;
    }
    n.div_ceil(unit) * unit
}

pub fn human(report: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for p in &report.problems {
        let status = if p.ok { "ok" } else { "FAILED" };
        let _ = writeln!(out, "{status:6} {}", p.dir.display());
        if let Some(e) = &p.error {
            let _ = writeln!(out, "       {e}");
            continue;
        }
        let _ = writeln!(
            out,
            "       {} datasets, {} submissions; slowest accepted {} steps; step limit {} (about {} s on a typical laptop), headroom {:.1}×, suggested ≥ {}",
            p.datasets.len(),
            p.submissions.len(),
            p.slowest_accepted_steps,
            p.step_limit,
            sqlexam_core::problem::typical_seconds(p.step_limit),
            p.headroom,
            p.suggested_steps
        );
        for s in &p.submissions {
            let name = s
                .path
                .strip_prefix(&p.dir)
                .unwrap_or(&s.path)
                .display()
                .to_string();
            let mark = if s.ok { "  " } else { "✗ " };
            let caught = if s.expected == Expectation::WrongAnswer && s.ok {
                let names: Vec<&str> = s
                    .failed
                    .iter()
                    .filter(|(_, v)| *v == Verdict::WrongAnswer)
                    .map(|(n, _)| n.as_str())
                    .collect();
                format!("caught by {}", names.join(", "))
            } else {
                s.message.clone()
            };
            let _ = writeln!(
                out,
                "     {mark}{name:48} {:>10} steps  {caught}",
                s.max_steps
            );
        }
        for w in &p.warnings {
            let _ = writeln!(out, "       warning: {w}");
        }
    }
    let failed = report.problems.iter().filter(|p| !p.ok).count();
    let _ = writeln!(
        out,
        "{} problems checked, {failed} failed",
        report.problems.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::round_up_2_digits;

    #[test]
    fn step_suggestions_round_up_to_two_digits() {
        assert_eq!(round_up_2_digits(24_690), 25_000);
        assert_eq!(round_up_2_digits(1_000), 1_000);
        assert_eq!(round_up_2_digits(99), 99);
        assert_eq!(round_up_2_digits(101), 110);
    }
}
