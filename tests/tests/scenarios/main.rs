//! Cross-component scenarios, one test binary (the whole stack is linked once): an exam on
//! the real engine, its records synced, imported or relayed to servers on SQLite and
//! PostgreSQL, re-graded, exported and shown on the dashboard — with faults in between.

use sqlexam_core::pack::Trust;
use sqlexam_tests::{Backend, TestServer};

/// Runs `scenario` on SQLite and on PostgreSQL (a throwaway cluster, two servers).
macro_rules! on_both_backends {
    ($scenario:ident, $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            $scenario(sqlexam_tests::Backend::Sqlite).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let cluster = sqlexam_tests::pg::PgCluster::start();
            $scenario(sqlexam_tests::Backend::Postgres(cluster.database().await)).await;
            drop(cluster);
        }
    };
}

/// One server on SQLite; two on one PostgreSQL database (as two processes would be).
async fn servers(backend: &Backend, trust: &Trust, workers: usize) -> Vec<TestServer> {
    let first = TestServer::launch(backend, trust, workers, None).await;
    match backend {
        Backend::Sqlite => vec![first],
        Backend::Postgres(_) => {
            let second = TestServer::launch(backend, trust, workers, Some(&first)).await;
            vec![first, second]
        }
    }
}

async fn stop(servers: Vec<TestServer>) {
    for s in servers {
        s.stop().await;
    }
}

mod crash;
mod dashboard;
mod docs;
mod export;
mod import;
mod processes;
mod proven;
mod relay;
mod server;
mod standing;
mod sync;
mod witness;
