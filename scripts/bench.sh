#!/usr/bin/env bash
# Benchmarks (BENCHMARKS.md). Each prints its figures; the last line of each is
# machine-readable. Release builds throughout.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo bench --locked -p sqlexam-core --bench grade
cargo bench --locked -p sqlexam-core --bench pack
# The app against an empty Tauri app built the same way, in a virtual display.
cargo build --release --locked -q -p sqlexam-app -p sqlexam-empty-app
NO_AT_BRIDGE=1 dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo bench --locked -p sqlexam-app --bench startup
