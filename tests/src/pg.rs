//! A throwaway PostgreSQL cluster from Debian's packages: initdb into a temporary folder,
//! started listening only on a Unix socket in that folder (no TCP port to pick, so no two
//! clusters or other servers can collide), stopped (immediately) when dropped. As root it
//! runs as the `postgres` user, which PostgreSQL requires.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

pub struct PgCluster {
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    /// The folder of the cluster's socket.
    socket_dir: String,
}

/// The port number names the socket file (`.s.PGSQL.<port>`) in the cluster's own folder;
/// nothing listens on it over TCP.
const SOCKET_PORT: u16 = 5432;

/// The newest installed server's bin folder (`/usr/lib/postgresql/<version>/bin`).
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|b| b.join("initdb").exists());
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb): scripts/deps.sh installs Debian's postgresql package"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PgCluster {
    /// A cluster for tests: `fsync` off (nothing here must survive a power cut).
    pub fn start() -> PgCluster {
        Self::start_with(false)
    }

    /// A cluster whose commits are durable (`fsync` on), for benchmarks.
    pub fn start_durable() -> PgCluster {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> PgCluster {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success();
            assert!(
                ok,
                "cannot give {} to the postgres user",
                dir.path().display()
            );
        }
        let data = dir.path().join("data");
        let cluster = PgCluster {
            data: data.clone(),
            bin,
            as_postgres,
            socket_dir: dir.path().to_str().unwrap().to_owned(),
            _dir: dir,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "sqlexam",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let options = format!(
            "-c listen_addresses= -p {SOCKET_PORT} -k {} -c fsync={} -c max_connections=200",
            cluster.socket_dir,
            if durable { "on" } else { "off" }
        );
        let log = data.parent().unwrap().join("log");
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        cluster
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A URL of a new, empty database in this cluster.
    pub async fn database(&self) -> String {
        let admin = self.url("postgres");
        let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let name = format!(
            "t{}",
            sqlexam_server::new_token().unwrap().1[..16].to_owned()
        );
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        self.url(&name)
    }

    /// A backup of the database at `url` with PostgreSQL's own `pg_dump` (custom format), in
    /// the cluster's folder as `name`: its path.
    pub fn dump(&self, url: &str, name: &str) -> PathBuf {
        let file = PathBuf::from(&self.socket_dir).join(name);
        let mut args = self.connection(url);
        args.extend(["-Fc".into(), "-f".into(), file.to_str().unwrap().into()]);
        self.run(
            "pg_dump",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        file
    }

    /// Restores `file` (from [`PgCluster::dump`]) over the database at `url` with
    /// `pg_restore --clean`: what it held since the backup is gone.
    pub fn restore(&self, url: &str, file: &std::path::Path) {
        let mut args = self.connection(url);
        args.extend([
            "--clean".into(),
            "--if-exists".into(),
            file.to_str().unwrap().into(),
        ]);
        self.run(
            "pg_restore",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }

    /// The arguments that reach the database at `url` through the cluster's socket.
    fn connection(&self, url: &str) -> Vec<String> {
        let name = url.rsplit('/').next().unwrap_or_default();
        [
            "-h",
            &self.socket_dir,
            "-p",
            &SOCKET_PORT.to_string(),
            "-U",
            "sqlexam",
            "-d",
            name,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// The URL of database `name`, through the cluster's socket (its folder is the host,
    /// percent-encoded).
    fn url(&self, name: &str) -> String {
        format!(
            "postgres://sqlexam@{}:{SOCKET_PORT}/{name}",
            self.socket_dir.replace('/', "%2F")
        )
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data.to_str().unwrap_or_default().to_owned();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}
