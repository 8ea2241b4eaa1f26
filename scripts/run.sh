#!/usr/bin/env bash
# The main job: opens the sqlexam desktop app (a demo build) with the starter pack signed by
# the DEMO key. Start code: DEMO-2026-START. Proctor passphrase: proctor-demo.
# Installs what is missing first. Without a display it runs under Xvfb (invisible).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
demo_dir="${XDG_CACHE_HOME:-$HOME/.cache}/sqlexam/demo"
mkdir -p "$demo_dir"
cargo build --locked -q -p sqlexam-cli -p sqlexam-app --features sqlexam-app/demo
cargo run --locked -q -p sqlexam-cli -- pack build problems/sql-basics \
  --key keys/demo/demo-organizer.key --not-before 2026-01-01T00:00:00Z --not-after 2030-01-01T00:00:00Z \
  --start-code DEMO-2026-START --proctor-passphrase proctor-demo --allow-weak-secrets --out "$demo_dir/sql-basics.sqlexam" >/dev/null
export SQLEXAM_DEMO_PACK="$demo_dir/sql-basics.sqlexam"
echo "sqlexam: demo pack $SQLEXAM_DEMO_PACK (start code DEMO-2026-START, proctor passphrase proctor-demo)"
run=(cargo run --locked -q -p sqlexam-app --features demo)
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "sqlexam: no display found; running the app under Xvfb (it is invisible there). Ctrl+C stops it." >&2
  exec xvfb-run -a -s "-screen 0 1280x800x24" "${run[@]}"
fi
exec "${run[@]}"
