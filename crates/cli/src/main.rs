//! The `sqlexam` command. Exit codes (docs/cli.md): 0 success / Accepted; 1 the thing
//! checked failed (a verdict other than Accepted, a failed problem check); 2 usage error;
//! 3 bad input (a problem source or query file that cannot be used); 4 internal error.
#![forbid(unsafe_code)]

mod check;
mod lang;
mod render;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sqlexam_core::grade::{Scope, Verdict, grade_bytes};
use sqlexam_core::problem::load_problem_in_context;

use lang::Lang;

#[derive(Parser)]
#[command(
    name = "sqlexam",
    version,
    about = "Offline SQL exams: write problems, grade queries against SQLite"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work on problem sources.
    Problem {
        #[command(subcommand)]
        command: ProblemCommand,
    },
    /// Grade one query against a problem source folder.
    Grade {
        /// The problem folder (inside a pack source, the pack's [defaults] apply).
        problem: PathBuf,
        /// A file with the query, or - for standard input.
        query: PathBuf,
        /// Run only the sample datasets (no score), as "run on sample" in the app.
        #[arg(long)]
        samples: bool,
        /// Output language: en or ja (default: from LC_ALL / LC_MESSAGES / LANG).
        #[arg(long)]
        lang: Option<Lang>,
        /// Print the grading as JSON (docs/cli.md) instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ProblemCommand {
    /// Prove a problem or pack source: data loads, the reference runs, accepted submissions
    /// pass, wrong ones are caught, and suggest a step budget.
    Check {
        /// Problem folders or pack source folders (holding pack.toml).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Print the report as JSON (docs/cli.md).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sqlexam: {e:#}");
            // A problem source or query file we cannot use is bad input (3); anything else
            // is our fault (4).
            if e.downcast_ref::<sqlexam_core::Error>().is_some()
                || e.downcast_ref::<std::io::Error>().is_some()
            {
                ExitCode::from(3)
            } else {
                ExitCode::from(4)
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Problem {
            command: ProblemCommand::Check { dirs, json },
        } => check::run(&dirs, json),
        Command::Grade {
            problem,
            query,
            samples,
            lang,
            json,
        } => {
            let lang = lang.unwrap_or_else(Lang::from_env);
            let sql = read_query(&query)?;
            let problem = load_problem_in_context(&problem)?;
            let scope = if samples { Scope::Samples } else { Scope::All };
            let grading = grade_bytes(&problem, &sql, scope);
            if json {
                println!("{}", serde_json::to_string_pretty(&grading)?);
            } else {
                print!("{}", render::grading(&grading, lang));
            }
            Ok(if grading.verdict == Verdict::Accepted {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn read_query(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read the query from standard input")?;
        Ok(buf)
    } else {
        std::fs::read(path)
            .with_context(|| format!("{}: cannot read the query file", path.display()))
    }
}
