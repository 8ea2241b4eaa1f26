#!/usr/bin/env bash
# The main job at this stage: grade sample queries against the starter pack with the CLI.
# (The desktop app takes this command over once it exists.) Extra arguments go to
# `sqlexam grade`, e.g. `scripts/run.sh --lang ja`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo build --locked -q -p sqlexam-cli
sqlexam() { cargo run --locked -q -p sqlexam-cli -- "$@"; }
problem=problems/sql-basics/p04-department-headcount
echo "== sqlexam problem check $problem"
sqlexam problem check "$problem"
echo
echo "== sqlexam grade: a wrong query (INNER JOIN loses departments without staff)"
sqlexam grade "$problem" "$problem/submissions/wrong_answer/inner-join.sql" "$@" || true
echo
echo "== sqlexam grade: a correct one"
sqlexam grade "$problem" "$problem/submissions/accepted/correlated-count.sql" "$@"
