//! Cross-component scenarios, one test binary (the whole stack is linked once): an exam on
//! the real engine, its records synced, imported or relayed to servers on SQLite and
//! PostgreSQL, re-graded, exported and shown on the dashboard — with faults in between.

mod crash;
mod dashboard;
mod docs;
mod export;
mod import;
mod processes;
mod relay;
mod server;
mod standing;
mod sync;
