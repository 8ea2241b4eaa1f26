#!/usr/bin/env bash
# Runs every check CI runs: formatting, clippy, docs, the UI's type check, and all tests —
# unit, integration, hostile SQL, crash safety, the starter pack's `problem check`, and the
# desktop app end to end in a real window (under Xvfb) — then the Windows build: cross-
# compiled and linted, its core and CLI tests run under wine, and its verdicts and step
# counts diffed against Linux (scripts/windows-check.sh). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo fmt --all -- --check
(cd ui && npm run --silent typecheck)
cargo clippy --workspace --all-targets --locked -- -D warnings
# The CLI a venue laptop gets without PostgreSQL (the server's "postgres" feature off).
cargo clippy -p sqlexam-cli --no-default-features --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps -p sqlexam-core -p sqlexam-export
# One cargo test for everything, so the Tauri stack is built once; the app's window needs a
# display and a session bus (single-instance).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
NO_AT_BRIDGE=1 dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo test --workspace --locked 2>&1 | tee "$log"
# The Windows build: lint, tests under wine, and the determinism diff against Linux.
scripts/windows-check.sh 2>&1 | tee -a "$log"
# One closing line for the whole run (every binary's "test result" lines, added up, Linux
# and Windows).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
