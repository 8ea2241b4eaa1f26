#!/usr/bin/env bash
# The organizer's and the venue's side of sqlexam with the CLI: grade queries against a
# starter problem, then build a sealed pack signed by the DEMO key, verify it as a venue
# would, and grade from it. Extra arguments go to `sqlexam grade`, e.g. `--lang ja`.
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

# A venue of its own: a throwaway SQLEXAM_HOME that trusts only the demo key.
venue=$(mktemp -d)
trap 'rm -rf "$venue"' EXIT
export SQLEXAM_HOME="$venue/home"
pack="$venue/sql-basics.sqlexam"
echo
echo "== sqlexam pack build (signed by the DEMO key, sealed with start code DEMO-2026-START,"
echo "   with a roster: each candidate gets an admission code, printed once on slips)"
sqlexam pack build problems/sql-basics --key keys/demo/demo-organizer.key \
  --not-before 2026-01-01T00:00:00Z --not-after 2030-01-01T00:00:00Z \
  --start-code DEMO-2026-START --proctor-passphrase proctor-demo --allow-weak-secrets \
  --roster problems/roster-example.csv --out "$pack"
sqlexam trust add keys/demo/demo-organizer.pub.pem --name "DEMO organizer (not for real exams)"
echo
echo "== sqlexam pack inspect (no start code: only the public part)"
sqlexam pack inspect "$pack"
echo
echo "== sqlexam grade from the sealed pack, after the start code is announced"
sqlexam grade "$pack" "$problem/submissions/accepted/correlated-count.sql" \
  --problem p04-department-headcount --start-code demo-2026-start "$@"
echo
echo "== check-in: candidate 0042 with the admission code on their slip (without it: refused)"
code=$(grep '^"=""0042' "$venue/sql-basics-admission-slips.csv" | cut -d, -f3 | tr -d '"=\r')
sqlexam session --dir "$venue/machine" start --pack "$pack" --start-code DEMO-2026-START \
  --candidate 0042 || true
sqlexam session --dir "$venue/machine" start --pack "$pack" --start-code DEMO-2026-START \
  --candidate 0042 --admission-code "$code"
