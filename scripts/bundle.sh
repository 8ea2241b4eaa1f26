#!/usr/bin/env bash
# Builds an installable .deb of the production app (release build, without the DEMO key)
# with the Tauri CLI. AppImage is not built: it downloads tools at build time.
#
# tauri.conf.json stays at the repository root and is the only source of truth. The Tauri
# CLI insists on a config beside a Cargo.toml that has [package], so this script writes a
# derived copy into src-tauri/ (with its paths rebased) for the length of the build and
# removes it afterwards; cargo itself reads the root config (src-tauri/build.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
derived=src-tauri/tauri.conf.json
trap 'rm -f "$derived"' EXIT
python3 - "$derived" <<'PY'
import json, sys
config = json.load(open("tauri.conf.json"))
config["build"]["frontendDist"] = "../" + config["build"]["frontendDist"]
config["bundle"]["icon"] = [p.removeprefix("src-tauri/") for p in config["bundle"]["icon"]]
json.dump(config, open(sys.argv[1], "w"), indent=2, ensure_ascii=False)
PY
(cd src-tauri && ../ui/node_modules/.bin/tauri build --bundles deb -- --no-default-features --locked)
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
deb=$(ls -t "$target_dir"/release/bundle/deb/*.deb | head -n1)
echo "sqlexam: built $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | sed -n '1,20p'
