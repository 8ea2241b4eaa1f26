#!/usr/bin/env bash
# The main job: opens the sqlexam desktop app (a demo build) with the starter pack signed by
# the DEMO key. Start code: DEMO-2026-START. Proctor passphrase: proctor-demo. Candidates
# 0042, 0043 and 0044 (problems/roster-example.csv) check in with the admission codes it
# prints (new ones each run).
# Installs what is missing first. Without a display it runs under Xvfb (invisible).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
demo_dir="${XDG_CACHE_HOME:-$HOME/.cache}/sqlexam/demo"
mkdir -p "$demo_dir"
cargo build --locked -q -p sqlexam-cli -p sqlexam-app --features sqlexam-app/demo
cargo run --locked -q -p sqlexam-cli -- pack build problems/sql-basics \
  --key keys/demo/demo-organizer.key --not-before 2026-01-01T00:00:00Z --not-after 2030-01-01T00:00:00Z \
  --start-code DEMO-2026-START --proctor-passphrase proctor-demo --allow-weak-secrets \
  --roster problems/roster-example.csv --out "$demo_dir/sql-basics.sqlexam" >/dev/null
export SQLEXAM_DEMO_PACK="$demo_dir/sql-basics.sqlexam"
echo "sqlexam: demo pack $SQLEXAM_DEMO_PACK (start code DEMO-2026-START, proctor passphrase proctor-demo)"
echo "sqlexam: admission codes (slips to print: $demo_dir/sql-basics-admission-slips.html):"
tail -n +2 "$demo_dir/sql-basics-admission-slips.csv" | tr -d '"=\r' | sed 's/^/  /'
run=(cargo run --locked -q -p sqlexam-app --features demo)
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "sqlexam: no display found; running the app under Xvfb (it is invisible there). Ctrl+C stops it." >&2
  exec xvfb-run -a -s "-screen 0 1280x800x24" "${run[@]}"
fi
exec "${run[@]}"
