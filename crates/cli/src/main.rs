//! The `sqlexam` command. Exit codes (docs/cli.md): 0 success / Accepted; 1 the thing
//! checked failed (a verdict other than Accepted, a failed problem check, a refused pack
//! under `pack verify`); 2 usage error; 3 bad input (a problem source, pack, key or query
//! file that cannot be used); 4 internal error.
#![forbid(unsafe_code)]

#[macro_use]
mod term;

mod bundle;
mod check;
mod home;
mod keys;
mod lang;
mod pack;
mod render;
mod serve;
mod session;
mod sync;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use sqlexam_core::ErrorCode;
use sqlexam_core::grade::{Scope, Verdict, grade_bytes};
use sqlexam_core::pack::PackError;
use sqlexam_core::problem::{Problem, load_problem_in_context};
use sqlexam_core::record::ProctorAction;
use sqlexam_core::session::SessionError;

use home::Home;
use lang::Lang;

#[derive(Parser)]
#[command(
    name = "sqlexam",
    version,
    about = "Offline SQL exams: write problems, build signed packs, grade queries against SQLite"
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
    /// Build, verify and inspect signed problem packs.
    Pack {
        #[command(subcommand)]
        command: PackCommand,
    },
    /// Organizer signing keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// The keys this machine trusts to sign packs (SQLEXAM_HOME or ~/.config/sqlexam).
    Trust {
        #[command(subcommand)]
        command: TrustCommand,
    },
    /// Exam sessions on this machine: start, submit, proctor actions, show, verify, export.
    Session {
        /// The engine directory (default: $SQLEXAM_HOME, else the platform data directory).
        #[arg(long, global = true)]
        dir: Option<PathBuf>,
        #[command(subcommand)]
        command: SessionCommand,
    },
    /// Run the central server (docs/api.md): stores and re-grades synced records.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8617")]
        listen: String,
        /// The server's data folder (default: server/ in sqlexam's data directory).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Store in PostgreSQL instead (postgres://user@host:port/db; also SQLEXAM_DATABASE):
        /// several server processes may share one database.
        #[arg(long)]
        database: Option<String>,
        /// Re-grade workers in this process (default: one per core; 0: none).
        #[arg(long)]
        workers: Option<usize>,
        /// Run as a venue relay: forward every record to this central server whenever it
        /// can be reached, checking its receipts as a device does (SQLite store only).
        #[arg(long, value_name = "CENTRAL_URL")]
        relay_to: Option<String>,
        /// The central server's venue token for the relay.
        #[arg(long, env = "SQLEXAM_RELAY_TOKEN", hide_env_values = true)]
        relay_token: Option<String>,
        /// Ask this witness (`sqlexam witness`) to cosign the log's checkpoints:
        /// URL=KEYFILE, its address and its public key (PEM or hex); repeatable.
        #[arg(long = "witness", value_name = "URL=KEYFILE")]
        witnesses: Vec<String>,
        /// Do not serve: audit the data (or --database) against the record log — every
        /// leaf's record in the tables, every session re-derived from its records — report
        /// each difference and exit 0 (none) or 1.
        #[arg(long, conflicts_with_all = ["relay_to", "witnesses"])]
        audit: bool,
        /// With --audit: the report as JSON.
        #[arg(long, requires = "audit")]
        json: bool,
        /// Internal: run as a grading child of a server (jobs on stdin, verdicts on stdout).
        #[arg(long, hide = true)]
        grader: bool,
    },
    /// Witness servers' record logs: cosign each checkpoint only after checking it extends
    /// the last one cosigned (c2sp.org/tlog-witness). Run it where the server's operator has
    /// no hand.
    Witness {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8619")]
        listen: String,
        /// The witness's data folder (default: witness/ in sqlexam's data directory).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The public key (PEM or hex, from GET /v1/server-key) of a server whose log this
        /// witness cosigns; repeatable.
        #[arg(long = "log-key", required = true)]
        log_keys: Vec<PathBuf>,
    },
    /// Receipts: the servers' proofs that they hold this machine's records.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// A proctor's signed results bundle: create, verify, results, import.
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
    /// Bearer tokens for the server.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Grade one query against a problem folder, or a problem of a pack file.
    Grade {
        /// A problem folder (inside a pack source, the pack's [defaults] apply) or a pack file.
        problem: PathBuf,
        /// A file with the query, or - for standard input.
        query: PathBuf,
        /// With a pack file: the id of the problem to grade.
        #[arg(long = "problem")]
        problem_id: Option<String>,
        /// With a sealed pack file: the start code.
        #[arg(long)]
        start_code: Option<String>,
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
enum ReceiptCommand {
    /// Check, offline, every receipt a store holds: checkpoint signatures, consistency
    /// between checkpoints, each record's inclusion proof against its own bytes.
    Verify {
        /// The engine directory or its store.sqlite3 (default: as for `session`).
        path: Option<PathBuf>,
        /// The server's public key (PEM or hex, from GET /v1/server-key); repeatable.
        #[arg(long = "server-key", required = true)]
        server_keys: Vec<PathBuf>,
        /// Also ask this server, now, whether its log still extends the newest checkpoint
        /// the store holds of it (a server restored from an older backup does not).
        #[arg(long)]
        server: Option<String>,
        /// Bearer token for --server.
        #[arg(long, env = "SQLEXAM_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum BundleCommand {
    /// Write this machine's results into a folder (a USB stick): the signed bundle for the
    /// server, and CSV, XLSX and JSON for people. Needs the proctor passphrase.
    Create {
        /// The engine directory (default: as for `session`).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Instead of this machine: the room's records held by a venue relay (or any
        /// SQLite server), from its data folder, with the central server's receipts.
        #[arg(long, conflicts_with = "dir")]
        relay_data: Option<PathBuf>,
        /// The folder to write into.
        #[arg(long)]
        out: PathBuf,
        /// The exam (pack id) or pack hash, when the machine holds sessions of several.
        #[arg(long)]
        pack: Option<String>,
        /// The pack's proctor passphrase (signs the bundle).
        #[arg(long, env = "SQLEXAM_PROCTOR_PASSPHRASE", hide_env_values = true)]
        passphrase: String,
        /// The venue or room, as the results should show it.
        #[arg(long, default_value = "")]
        venue: String,
        /// Language of the CSV and XLSX headers and the report: en or ja (default: from the
        /// locale).
        #[arg(long)]
        lang: Option<Lang>,
        /// Also print the session report to PDF (with a headless Chromium, Chrome or Edge).
        #[arg(long)]
        pdf: bool,
        #[arg(long)]
        json: bool,
    },
    /// Check a bundle offline and say what it proves: the proctor's signature, every
    /// record, the roster, every receipt.
    Verify {
        file: PathBuf,
        /// The exam's pack file: checks the bundle is signed by its proctor key.
        #[arg(long)]
        pack: Option<PathBuf>,
        /// The pack's start code: opens its roster, so each session's admission is checked.
        #[arg(long, requires = "pack")]
        start_code: Option<String>,
        /// A server's public key (PEM or hex) its receipts are checked with; repeatable.
        #[arg(long = "server-key")]
        server_keys: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The results of one or more bundles (the machines of a venue), each record counted
    /// once, as CSV, XLSX or JSON (by --out's extension).
    Results {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// Language of the headers: en or ja (default: from the locale).
        #[arg(long)]
        lang: Option<Lang>,
    },
    /// The printable session report of one or more bundles (a room): HTML, and PDF with
    /// --pdf (printed by a headless Chromium, Chrome or Edge).
    Report {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The HTML file to write.
        #[arg(long)]
        out: PathBuf,
        /// Also print it to this PDF file.
        #[arg(long)]
        pdf: Option<PathBuf>,
        /// Language: en or ja (default: from the locale).
        #[arg(long)]
        lang: Option<Lang>,
    },
    /// Send bundles to a server (POST /v1/bundles): every record verified and stored as a
    /// sync would; exits 1 if the server's log contradicts a bundle's receipts.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The server's address (https://…).
        #[arg(long)]
        server: String,
        /// A venue or organizer token.
        #[arg(long, env = "SQLEXAM_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token, print it once (stdout) and store only its hash.
    Create {
        /// venue (uploads records, fetches packs) or organizer (everything else).
        #[arg(long)]
        role: String,
        /// Who the token is for, shown in listings.
        #[arg(long, default_value = "")]
        label: String,
        /// The server's data folder (as for `serve`).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The server's PostgreSQL database (as for `serve`).
        #[arg(long)]
        database: Option<String>,
    },
    /// List the tokens: id (the first digits of its hash), role, state, label. Never a
    /// token itself.
    List {
        /// The server's data folder (as for `serve`).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The server's PostgreSQL database (as for `serve`).
        #[arg(long)]
        database: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (as `token list` shows it; at least 8 digits): it stops
    /// working in every server process within a second.
    Revoke {
        id: String,
        /// The server's data folder (as for `serve`).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The server's PostgreSQL database (as for `serve`).
        #[arg(long)]
        database: Option<String>,
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

#[derive(Subcommand)]
enum PackCommand {
    /// Check a pack source, then build one signed (and, with --start-code, sealed) pack file.
    Build {
        /// The pack source folder (holding pack.toml).
        source: PathBuf,
        /// The organizer's signing key (from `sqlexam key gen`).
        #[arg(long)]
        key: PathBuf,
        /// An endorsement of the signing key by a trusted key (repeatable).
        #[arg(long = "endorsement")]
        endorsements: Vec<PathBuf>,
        /// The start code that seals the pack (nothing but the manifest is readable without
        /// it). Without it, a code of 80 random bits is generated and printed once.
        #[arg(long, conflicts_with = "unsealed")]
        start_code: Option<String>,
        /// Build a pack that is not sealed (a practice pack: its problems are readable).
        #[arg(long)]
        unsealed: bool,
        /// The passphrase proctors use for time extensions, ending an exam and resuming
        /// after a crash (only the public half of a key derived from it goes into the pack).
        /// Without it, one of 80 random bits is generated and printed once.
        #[arg(long, conflicts_with = "no_proctor")]
        proctor_passphrase: Option<String>,
        /// Build a pack that allows no proctor actions (its exam clock must keep running
        /// while the app is closed: while_closed = "running").
        #[arg(long)]
        no_proctor: bool,
        /// Accept a start code or passphrase that is easy to guess (estimated under 60 bits):
        /// for demos and classrooms only.
        #[arg(long)]
        allow_weak_secrets: bool,
        /// Start of the validity window (RFC 3339, e.g. 2026-12-01T00:00:00Z).
        #[arg(long)]
        not_before: String,
        /// End of the validity window (RFC 3339).
        #[arg(long)]
        not_after: String,
        /// The creation time written in the manifest (default: --not-before), so builds
        /// are reproducible.
        #[arg(long)]
        created: Option<String>,
        /// Who may sit: a CSV with a header naming `candidate` and `name` columns (others are
        /// kept as each candidate's settings). Each candidate gets an admission code, written
        /// once beside the pack as printable slips (…-admission-slips.html and .csv).
        #[arg(long)]
        roster: Option<PathBuf>,
        /// The pack file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a pack: signature, trust path, validity window, version, every entry.
    Verify {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Download an exam's pack from a server and verify it as a pack file is verified; only
    /// a pack that verifies is written.
    Fetch {
        /// The server's address (https://…).
        #[arg(long)]
        server: String,
        /// The exam id (the pack id).
        #[arg(long)]
        exam: String,
        /// A venue or organizer token.
        #[arg(long, env = "SQLEXAM_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Where to write it (default: EXAM.sqlexam here).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Show what a pack holds; a sealed pack shows only its public part without the code.
    Inspect {
        file: PathBuf,
        #[arg(long)]
        start_code: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SessionCommand {
    /// Start a session for a candidate on a pack (verified; unsealed with the start code).
    Start {
        #[arg(long)]
        pack: PathBuf,
        #[arg(long)]
        start_code: Option<String>,
        #[arg(long)]
        candidate: String,
        /// The candidate's name (a pack with a roster uses the roster's).
        #[arg(long, default_value = "")]
        name: String,
        /// On a pack with a roster: the admission code on the candidate's slip.
        #[arg(long, conflicts_with = "proctor_admits")]
        admission_code: Option<String>,
        /// On a pack with a roster: a proctor admits the candidate (a walk-in, a lost slip)
        /// with the proctor passphrase, from --passphrase or SQLEXAM_PROCTOR_PASSPHRASE.
        #[arg(long)]
        proctor_admits: bool,
        #[arg(
            long,
            env = "SQLEXAM_PROCTOR_PASSPHRASE",
            hide_env_values = true,
            requires = "proctor_admits"
        )]
        passphrase: Option<String>,
    },
    /// Submit a query (file or -) and wait for its verdict.
    Submit {
        #[arg(long)]
        session: String,
        #[arg(long)]
        problem: String,
        query: PathBuf,
        #[arg(long)]
        lang: Option<Lang>,
        #[arg(long)]
        json: bool,
    },
    /// A proctor action: extend the time, end the exam, or resume after a crash.
    Proctor {
        #[arg(long)]
        session: String,
        #[arg(long)]
        passphrase: String,
        /// Minutes to add.
        #[arg(long, conflicts_with_all = ["end", "resume"])]
        extend: Option<u32>,
        #[arg(long, conflicts_with = "resume")]
        end: bool,
        #[arg(long)]
        resume: bool,
    },
    /// List sessions, candidates, scores and unsynced records (read-only).
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Verify a store (folder or store.sqlite3) or an export: signatures, chains, gaps,
    /// forks, duplicates, and proctor signatures (a store's own pack copies give the proctor
    /// keys; for an export, give the packs with --pack).
    Verify {
        path: PathBuf,
        /// A pack file whose proctor key checks the proctor records (repeatable).
        #[arg(long = "pack")]
        packs: Vec<PathBuf>,
        /// The packs' start code: opens their rosters, so each session's admission is
        /// checked (a pack with a roster keeps it sealed).
        #[arg(long, requires = "packs")]
        start_code: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Send unsent records to a server until each is proven held (docs/sync.md); exits 1
    /// if some are still unsent at --timeout.
    Sync {
        /// The server's address (https://…).
        #[arg(long)]
        server: String,
        /// A venue token.
        #[arg(long, env = "SQLEXAM_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Give up after this many seconds of failing to reach the server.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Write every record of the store as JSON lines (to --out, or standard output).
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Test harness: submit COUNT copies of a query as fast as possible, printing each id
    /// as it is accepted (the crash-safety tests kill this with SIGKILL).
    #[command(hide = true)]
    Burst {
        #[arg(long)]
        pack: PathBuf,
        #[arg(long)]
        start_code: Option<String>,
        #[arg(long)]
        passphrase: String,
        #[arg(long)]
        problem: String,
        #[arg(long)]
        count: usize,
        query: PathBuf,
    },
    /// Test harness: open the store (recovering from a crash) and grade what is queued.
    #[command(hide = true)]
    Drain,
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Generate an Ed25519 signing key (mode 0600) and its public key beside it.
    Gen {
        /// The private key file to write, e.g. organizer.key (the public key goes to
        /// organizer.pub.pem).
        #[arg(long)]
        out: PathBuf,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
    },
    /// Endorse another key to sign packs until a date (key rotation).
    Endorse {
        /// The endorsing (trusted) key.
        #[arg(long)]
        key: PathBuf,
        /// The public key being endorsed.
        #[arg(long)]
        subject: PathBuf,
        /// Until when (RFC 3339).
        #[arg(long)]
        until: String,
        /// A name for the endorsed key, shown to verifiers.
        #[arg(long, default_value = "signing key")]
        name: String,
        /// The endorsement file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum TrustCommand {
    /// Trust a public key to sign packs and endorse signing keys.
    Add {
        key: PathBuf,
        #[arg(long)]
        name: Option<String>,
    },
    /// List trusted and revoked keys.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting a key.
    Remove { key_id: String },
    /// Revoke a key: packs it signed, and keys it endorsed, are refused from now on.
    Revoke {
        key: PathBuf,
        #[arg(long)]
        name: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            say_err!("sqlexam: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Exit code 3: a problem source, pack, key, query file or store that cannot be used.
const EXIT_BAD_INPUT: u8 = 3;
/// Exit code 4: our fault (a bug).
const EXIT_INTERNAL: u8 = 4;

/// The exit code of an error that ends a command (docs/cli.md, "Exit codes"): the one place
/// it is chosen. Errors of sqlexam carry an [`ErrorCode`]; of the errors from elsewhere, a
/// file that cannot be read or JSON that does not parse is bad input too.
fn exit_code(e: &anyhow::Error) -> u8 {
    if let Some(coded) = error_code(e) {
        return coded_exit_code(coded);
    }
    if e.downcast_ref::<std::io::Error>().is_some()
        || e.downcast_ref::<serde_json::Error>().is_some()
    {
        return EXIT_BAD_INPUT;
    }
    EXIT_INTERNAL
}

/// The exit code for a coded error. Every code so far names input or state the command
/// cannot use — a problem source, a pack, a key, a query, the session store (a busy store
/// included, though it is `retryable`) — so each is bad input; a code that means our own
/// failure would be told apart here.
fn coded_exit_code(_: &dyn ErrorCode) -> u8 {
    EXIT_BAD_INPUT
}

/// The coded error `e` holds (under any context it was given), if any.
fn error_code(e: &anyhow::Error) -> Option<&dyn ErrorCode> {
    fn held<T: ErrorCode + Send + Sync + 'static>(e: &anyhow::Error) -> Option<&dyn ErrorCode> {
        e.downcast_ref::<T>().map(|c| c as &dyn ErrorCode)
    }
    held::<sqlexam_core::Error>(e)
        .or_else(|| held::<SessionError>(e))
        .or_else(|| held::<PackError>(e))
        .or_else(|| held::<BadInput>(e))
}

/// An argument or file that cannot be used, described by its message.
#[derive(Debug)]
pub(crate) struct BadInput(pub(crate) String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

impl ErrorCode for BadInput {
    fn code(&self) -> &'static str {
        "bad_input"
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { grader: true, .. } => Ok(sqlexam_server::child_main()),
        Command::Serve {
            audit: true,
            data,
            database,
            json,
            ..
        } => serve::audit(&Home::locate()?, data.as_deref(), database.as_deref(), json),
        Command::Serve {
            listen,
            data,
            database,
            workers,
            relay_to,
            relay_token,
            witnesses,
            audit: false,
            json: _,
            grader: false,
        } => serve::serve(
            &Home::locate()?,
            &serve::ServeArgs {
                listen: &listen,
                data: data.as_deref(),
                database: database.as_deref(),
                workers,
                relay: relay_to.map(|url| sqlexam_relay::RelayTo {
                    url,
                    token: relay_token,
                }),
                witnesses: &witnesses,
            },
        ),
        Command::Witness {
            listen,
            data,
            log_keys,
        } => serve::witness(&Home::locate()?, &listen, data.as_deref(), &log_keys),
        Command::Receipt {
            command:
                ReceiptCommand::Verify {
                    path,
                    server_keys,
                    server,
                    token,
                    json,
                },
        } => {
            let path = session::engine_dir(path.as_deref())?;
            let online = server.as_deref().map(|url| (url, token.as_deref()));
            sync::receipt_verify(&path, &server_keys, online, json)
        }
        Command::Bundle { command } => match command {
            BundleCommand::Create {
                dir,
                relay_data,
                out,
                pack,
                passphrase,
                venue,
                lang,
                pdf,
                json,
            } => {
                let (dir, relay) = match relay_data {
                    Some(data) => (data, true),
                    None => (session::engine_dir(dir.as_deref())?, false),
                };
                bundle::create(&bundle::CreateArgs {
                    dir: &dir,
                    relay,
                    pack: pack.as_deref(),
                    passphrase: &passphrase,
                    venue: &venue,
                    lang: lang.unwrap_or_else(lang::from_env),
                    out: &out,
                    pdf,
                    json,
                })
            }
            BundleCommand::Verify {
                file,
                pack,
                start_code,
                server_keys,
                json,
            } => bundle::verify(
                &Home::locate()?,
                &file,
                pack.as_deref(),
                start_code.as_deref(),
                &server_keys,
                json,
            ),
            BundleCommand::Import {
                files,
                server,
                token,
                json,
            } => bundle::import(&files, &server, token.as_deref(), json),
            BundleCommand::Report {
                files,
                out,
                pdf,
                lang,
            } => bundle::report(
                &files,
                &out,
                pdf.as_deref(),
                lang.unwrap_or_else(lang::from_env),
            ),
            BundleCommand::Results { files, out, lang } => {
                bundle::results(&files, &out, lang.unwrap_or_else(lang::from_env))
            }
        },
        Command::Token {
            command:
                TokenCommand::Create {
                    role,
                    label,
                    data,
                    database,
                },
        } => serve::token_create(
            &Home::locate()?,
            &role,
            &label,
            &serve::Storage {
                data: data.as_deref(),
                database: database.as_deref(),
            },
        ),
        Command::Token {
            command:
                TokenCommand::List {
                    data,
                    database,
                    json,
                },
        } => serve::token_list(
            &Home::locate()?,
            &serve::Storage {
                data: data.as_deref(),
                database: database.as_deref(),
            },
            json,
        ),
        Command::Token {
            command: TokenCommand::Revoke { id, data, database },
        } => serve::token_revoke(
            &Home::locate()?,
            &serve::Storage {
                data: data.as_deref(),
                database: database.as_deref(),
            },
            &id,
        ),
        Command::Problem {
            command: ProblemCommand::Check { dirs, json },
        } => check::run(&dirs, json),
        Command::Pack { command } => {
            let home = Home::locate()?;
            match command {
                PackCommand::Build {
                    source,
                    key,
                    endorsements,
                    start_code,
                    unsealed,
                    proctor_passphrase,
                    no_proctor,
                    allow_weak_secrets,
                    not_before,
                    not_after,
                    created,
                    roster,
                    out,
                } => pack::build_pack(&pack::BuildArgs {
                    roster: roster.as_deref(),
                    source: &source,
                    key: &key,
                    endorsements: &endorsements,
                    start_code: pack::Secret::from_args(start_code, unsealed),
                    proctor_passphrase: pack::Secret::from_args(proctor_passphrase, no_proctor),
                    allow_weak_secrets,
                    not_before: &not_before,
                    not_after: &not_after,
                    created: created.as_deref(),
                    out: &out,
                })
                .map_err(bad_input),
                PackCommand::Verify { file, json } => pack::verify_cmd(&home, &file, json),
                PackCommand::Fetch {
                    server,
                    exam,
                    token,
                    out,
                } => sync::pack_fetch(&home, &server, token.as_deref(), &exam, out.as_deref()),
                PackCommand::Inspect {
                    file,
                    start_code,
                    json,
                } => {
                    pack::inspect_cmd(&home, &file, start_code.as_deref(), json).map_err(bad_input)
                }
            }
        }
        Command::Key { command } => match command {
            KeyCommand::Gen { out, force } => keys::generate(&out, force)
                .map_err(bad_input)
                .map(|()| ExitCode::SUCCESS),
            KeyCommand::Endorse {
                key,
                subject,
                until,
                name,
                out,
            } => keys::endorse(&key, &subject, &until, &name, &out)
                .map_err(bad_input)
                .map(|()| ExitCode::SUCCESS),
        },
        Command::Trust { command } => {
            let home = Home::locate()?;
            match command {
                TrustCommand::Add { key, name } => keys::trust_add(&home, &key, name.as_deref()),
                TrustCommand::List { json } => keys::trust_list(&home, json),
                TrustCommand::Remove { key_id } => keys::trust_remove(&home, &key_id),
                TrustCommand::Revoke { key, name } => {
                    keys::trust_revoke(&home, &key, name.as_deref())
                }
            }
            .map_err(bad_input)
            .map(|()| ExitCode::SUCCESS)
        }
        Command::Session { dir, command } => {
            let home = Home::locate()?;
            let dir = session::engine_dir(dir.as_deref())?;
            match command {
                SessionCommand::Start {
                    pack,
                    start_code,
                    candidate,
                    name,
                    admission_code,
                    proctor_admits,
                    passphrase,
                } => {
                    let admit = match (&admission_code, proctor_admits, &passphrase) {
                        (Some(code), _, _) => sqlexam_core::session::Admit::Code(code),
                        (None, true, Some(p)) => sqlexam_core::session::Admit::Proctor(p),
                        (None, true, None) => {
                            return Err(BadInput(
                                "--proctor-admits needs the proctor passphrase (--passphrase or SQLEXAM_PROCTOR_PASSPHRASE)".into(),
                            )
                            .into());
                        }
                        (None, false, _) => sqlexam_core::session::Admit::Nobody,
                    };
                    session::start(
                        &home,
                        &dir,
                        &pack,
                        start_code.as_deref(),
                        &candidate,
                        &name,
                        admit,
                    )
                }
                SessionCommand::Submit {
                    session: id,
                    problem,
                    query,
                    lang,
                    json,
                } => {
                    let sql = read_query(&query)?;
                    let sql = String::from_utf8(sql).map_err(|e| {
                        BadInput(format!("{}: not UTF-8 text ({e})", query.display()))
                    })?;
                    session::submit(
                        &home,
                        &dir,
                        &id,
                        &problem,
                        &sql,
                        lang.unwrap_or_else(lang::from_env),
                        json,
                    )
                }
                SessionCommand::Proctor {
                    session: id,
                    passphrase,
                    extend,
                    end,
                    resume,
                } => {
                    let action = match (extend, end, resume) {
                        (Some(minutes), false, false) => ProctorAction::Extend { minutes },
                        (None, true, false) => ProctorAction::End,
                        (None, false, true) => ProctorAction::Resume,
                        _ => bail!(BadInput(
                            "say one of --extend MINUTES, --end or --resume".into()
                        )),
                    };
                    session::proctor(&home, &dir, &id, &passphrase, action)
                }
                SessionCommand::Show { json } => session::show(&dir, json),
                SessionCommand::Verify {
                    path,
                    packs,
                    start_code,
                    json,
                } => session::verify(&home, &path, &packs, start_code.as_deref(), json),
                SessionCommand::Export { out } => session::export(&dir, out.as_deref()),
                SessionCommand::Sync {
                    server,
                    token,
                    timeout,
                    json,
                } => sync::session_sync(
                    &home,
                    &dir,
                    &server,
                    token.as_deref(),
                    std::time::Duration::from_secs(timeout),
                    json,
                ),
                SessionCommand::Burst {
                    pack,
                    start_code,
                    passphrase,
                    problem,
                    count,
                    query,
                } => {
                    let sql = String::from_utf8(read_query(&query)?)
                        .map_err(|e| BadInput(e.to_string()))?;
                    session::burst(
                        &home,
                        &dir,
                        &session::Burst {
                            pack: &pack,
                            start_code: start_code.as_deref(),
                            passphrase: &passphrase,
                            problem: &problem,
                            sql: &sql,
                            count,
                        },
                    )
                }
                SessionCommand::Drain => session::drain(&home, &dir),
            }
        }
        Command::Grade {
            problem,
            query,
            problem_id,
            start_code,
            samples,
            lang,
            json,
        } => {
            let lang = lang.unwrap_or_else(lang::from_env);
            let sql = read_query(&query)?;
            let problem = load_for_grading(&problem, problem_id.as_deref(), start_code.as_deref())?;
            let scope = if samples { Scope::Samples } else { Scope::All };
            // What a candidate would see: no step counts or times from secret datasets.
            let grading = grade_bytes(&problem, &sql, scope).for_candidate();
            if json {
                println!("{}", serde_json::to_string_pretty(&grading)?);
            } else {
                say_part!("{}", render::grading(&grading, lang));
            }
            Ok(if grading.verdict == Verdict::Accepted {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// Errors from commands that read user files are bad input unless they already carry a
/// code.
fn bad_input(e: anyhow::Error) -> anyhow::Error {
    if error_code(&e).is_some() {
        e
    } else {
        let message = format!("{e:#}");
        anyhow::Error::new(BadInput(message))
    }
}

/// A problem folder, or problem `id` of a pack file (verified and, if sealed, opened).
fn load_for_grading(
    path: &Path,
    id: Option<&str>,
    start_code: Option<&str>,
) -> anyhow::Result<Problem> {
    if path.is_dir() {
        if id.is_some() {
            bail!(BadInput(format!(
                "{}: --problem is for pack files; this is a problem folder",
                path.display()
            )));
        }
        return Ok(load_problem_in_context(path)?);
    }
    let home = Home::locate()?;
    let pack = pack::open_file(&home, path, start_code)?;
    let ids: Vec<&str> = pack.problems.iter().map(|p| p.id.as_str()).collect();
    let Some(id) = id else {
        bail!(BadInput(format!(
            "{}: say which problem with --problem (one of: {})",
            path.display(),
            ids.join(", ")
        )));
    };
    let known = ids.join(", ");
    pack.problems
        .into_iter()
        .find(|p| p.id == id)
        .with_context(|| {
            BadInput(format!(
                "{}: no problem {id:?} (the pack has: {known})",
                path.display()
            ))
        })
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
