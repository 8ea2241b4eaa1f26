#!/usr/bin/env bash
# Benchmarks (BENCHMARKS.md). Each prints its figures; the last line of each is machine-readable.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo bench --locked -p sqlexam-core --bench grade
cargo bench --locked -p sqlexam-core --bench pack
