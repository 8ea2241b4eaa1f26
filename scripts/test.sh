#!/usr/bin/env bash
# Runs every check CI runs: formatting, clippy, all tests (unit, integration, hostile SQL,
# the starter pack's `problem check`). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps -p sqlexam-core
cargo test --workspace --locked
