//! `sqlexam serve` and `sqlexam token`: thin calls into sqlexam-server.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use sqlexam_server::model::Role;
use sqlexam_server::{GraderCommand, Settings};

use crate::home::Home;

/// The server's data folder: `--data`, else `server/` in sqlexam's data directory.
fn data_dir(home: &Home, data: Option<&Path>) -> PathBuf {
    data.map_or_else(|| home.data_dir().join("server"), Path::to_owned)
}

/// Ctrl-C, or (Unix) SIGTERM as service managers send it: both stop gracefully.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The PostgreSQL URL: `--database`, else SQLEXAM_DATABASE; `None` for SQLite.
fn database_url(arg: Option<&str>) -> Option<String> {
    arg.map(str::to_owned).or_else(|| {
        std::env::var("SQLEXAM_DATABASE")
            .ok()
            .filter(|u| !u.is_empty())
    })
}

/// A server's failure to open its store: input the command cannot use (a folder, a URL).
fn bad_store(e: sqlexam_server::ServerError) -> anyhow::Error {
    anyhow::Error::new(crate::BadInput(sqlexam_core::error_chain(&e)))
}

/// The store: PostgreSQL when there is a URL, else SQLite in the data folder.
async fn open_store(
    data: &Path,
    database: Option<&str>,
) -> anyhow::Result<std::sync::Arc<dyn sqlexam_server::Store>> {
    match database {
        #[cfg(feature = "postgres")]
        Some(url) => sqlexam_server::open_postgres(url).await.map_err(bad_store),
        #[cfg(not(feature = "postgres"))]
        Some(_) => Err(anyhow::Error::new(crate::BadInput(
            "this sqlexam was built without PostgreSQL (feature \"postgres\"): run it without --database and SQLEXAM_DATABASE, or use a build with it".into(),
        ))),
        None => sqlexam_server::open_sqlite(data).map_err(bad_store),
    }
}

pub struct ServeArgs<'a> {
    pub listen: &'a str,
    pub data: Option<&'a Path>,
    pub database: Option<&'a str>,
    pub workers: Option<usize>,
    pub relay: Option<sqlexam_relay::RelayTo>,
    /// `URL=KEYFILE` of each witness to ask.
    pub witnesses: &'a [String],
}

/// The witnesses of `--witness URL=KEYFILE`.
fn witness_targets(
    given: &[String],
) -> anyhow::Result<Vec<sqlexam_server::domain::witnessing::WitnessTarget>> {
    given
        .iter()
        .map(|w| {
            let (url, key) = w.split_once('=').ok_or_else(|| {
                anyhow::Error::new(crate::BadInput(format!(
                    "--witness {w:?}: give URL=KEYFILE (the witness's address and its public key file)"
                )))
            })?;
            Ok(sqlexam_server::domain::witnessing::WitnessTarget {
                url: url.to_owned(),
                key: crate::sync::read_key(Path::new(key))?,
            })
        })
        .collect()
}

/// `sqlexam serve --audit`: the store held against its record log, reported.
pub fn audit(
    home: &Home,
    data: Option<&Path>,
    database: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let data = data_dir(home, data);
    let database = database_url(database);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let store = open_store(&data, database.as_deref()).await?;
        let progress = |what: &str| {
            if !json {
                say_err!("audit: {what}");
            }
        };
        sqlexam_server::domain::audit::audit(&*store, &progress)
            .await
            .map_err(anyhow::Error::new)
    })?;
    if json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for f in &report.findings {
            say!("FOUND: {f}");
        }
        if report.more > 0 {
            say!("… and {} more", report.more);
        }
        say!(
            "{} leaves, {} sessions, {} records checked: {}",
            report.leaves,
            report.sessions,
            report.records,
            if report.ok() {
                "the tables are what the log bears out"
            } else {
                "THE TABLES DIFFER FROM THE LOG"
            }
        );
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `sqlexam witness`: cosigns the logs of the servers whose keys are in `log_keys`.
pub fn witness(
    home: &Home,
    listen: &str,
    data: Option<&Path>,
    log_keys: &[std::path::PathBuf],
) -> anyhow::Result<ExitCode> {
    let data = data.map_or_else(|| home.data_dir().join("witness"), Path::to_owned);
    let keys = log_keys
        .iter()
        .map(|k| crate::sync::read_key(k))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let witness = std::sync::Arc::new(sqlexam_witness::Witness::open(&data, &keys)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        say!(
            "sqlexam witness {} listening on http://{}/ (data: {}; public key {})",
            sqlexam_core::cosign::witness_name(&witness.public()),
            listener.local_addr()?,
            data.display(),
            witness.public().to_hex()
        );
        let shutdown = async {
            stop_signal().await;
            say_err!("sqlexam witness: stopping");
        };
        sqlexam_witness::launch(witness, listener, shutdown)
            .await
            .map_err(anyhow::Error::new)
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn serve(home: &Home, a: &ServeArgs<'_>) -> anyhow::Result<ExitCode> {
    let (listen, workers) = (a.listen, a.workers);
    let data = data_dir(home, a.data);
    let database = database_url(a.database);
    let database = database.as_deref();
    if a.relay.is_some() && database.is_some() {
        return Err(anyhow::Error::new(crate::BadInput(
            "a relay keeps its queue in its own SQLite store: run it without --database (and SQLEXAM_DATABASE)".into(),
        )));
    }
    let witnesses = witness_targets(a.witnesses)?;
    let trust = home.trust()?;
    if trust.anchors.is_empty() {
        say_err!(
            "sqlexam serve: no organizer key is trusted yet, so no pack can be uploaded (sqlexam trust add KEY.pub.pem)"
        );
    }
    let exe = std::env::current_exe().context("cannot find this program to start graders")?;
    let workers = workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = open_store(&data, database).await?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        // The database URL without its password: this line goes to logs.
        let stored_in = match database {
            Some(url) => sqlexam_server::redact(url),
            None => data.display().to_string(),
        };
        say!("sqlexam server listening on http://{address}/ (data: {stored_in})");
        if let Some(to) = &a.relay {
            say!(
                "relaying every record to {} (status: GET /v1/relay; the dashboard shows the room)",
                to.url
            );
        }
        let shutdown = async {
            stop_signal().await;
            say_err!("sqlexam serve: stopping after the requests in flight");
        };
        let settings = Settings {
            data_dir: data,
            trust,
            grader: GraderCommand {
                program: exe,
                args: vec!["serve".into(), "--grader".into()],
            },
            workers,
            uplink: None,
            witnesses,
        };
        match &a.relay {
            Some(to) => sqlexam_relay::launch(settings, store, to, listener, shutdown)
                .await
                .map_err(anyhow::Error::new),
            None => sqlexam_server::launch(settings, store, listener, shutdown)
                .await
                .map_err(anyhow::Error::new),
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn token_create(
    home: &Home,
    role: &str,
    label: &str,
    at: &Storage<'_>,
) -> anyhow::Result<ExitCode> {
    let role = Role::parse(role).ok_or_else(|| {
        crate::BadInput(format!("--role must be venue or organizer, not {role:?}"))
    })?;
    let (token, hash) = sqlexam_server::new_token()?;
    on_store(home, at, async |store| {
        let now = sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc());
        store
            .add_token(&hash, role, label, &now)
            .await
            .context("cannot store the token")
    })?;
    // The token goes to stdout alone (for scripts); the explanation to stderr.
    println!("{token}");
    say_err!(
        "a {} token for {label:?}: shown once, stored only as its hash",
        role.as_str()
    );
    Ok(ExitCode::SUCCESS)
}

/// Where the server's store is, as for `serve`.
pub struct Storage<'a> {
    pub data: Option<&'a Path>,
    pub database: Option<&'a str>,
}

/// Runs `f` on the server's store.
fn on_store<T>(
    home: &Home,
    at: &Storage<'_>,
    f: impl AsyncFnOnce(&dyn sqlexam_server::Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let data = data_dir(home, at.data);
    let database = database_url(at.database);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = open_store(&data, database.as_deref()).await?;
        f(&*store).await
    })
}

/// `sqlexam token list`: every token's id, role, label and dates — never a token.
pub fn token_list(home: &Home, at: &Storage<'_>, json: bool) -> anyhow::Result<ExitCode> {
    let tokens = on_store(home, at, async |store| {
        store.tokens().await.context("cannot read the tokens")
    })?;
    if json {
        say!("{}", serde_json::to_string_pretty(&tokens)?);
        return Ok(ExitCode::SUCCESS);
    }
    if tokens.is_empty() {
        say!("no tokens yet (sqlexam token create --role venue|organizer)");
    }
    for t in &tokens {
        let state = match &t.revoked_at {
            Some(at) => format!("revoked {at}"),
            None => "active".to_owned(),
        };
        say!(
            "{}  {:<9}  {:<8}  created {}  {}",
            t.id,
            t.role.as_str(),
            state,
            t.created_at,
            t.label
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `sqlexam token revoke ID`: the token stops working in every server process within a
/// second.
pub fn token_revoke(home: &Home, at: &Storage<'_>, id: &str) -> anyhow::Result<ExitCode> {
    let now = sqlexam_core::encoding::format_time(time::OffsetDateTime::now_utc());
    let revoked = on_store(home, at, async |store| {
        sqlexam_server::domain::tokens::revoke(store, id, &now)
            .await
            .map_err(|e| anyhow::Error::new(crate::BadInput(sqlexam_core::error_chain(&e))))
    })?;
    say!(
        "revoked {} token {} ({:?}); it stops working within a second",
        revoked.role.as_str(),
        revoked.id,
        revoked.label
    );
    Ok(ExitCode::SUCCESS)
}
