#!/usr/bin/env bash
# Builds what an organizer hands to a venue, from the production app (release build, without
# the DEMO key):
#   scripts/bundle.sh            an installable .deb (Tauri CLI). AppImage is not built: it
#                                downloads tools at build time.
#   scripts/bundle.sh --windows  sqlexam.exe (icon and version info embedded) and
#                                sqlexam-cli.exe for Windows, and an NSIS installer built with
#                                Debian's makensis (scripts/windows/installer.nsi). Put
#                                Microsoft's offline WebView2 Runtime installer at
#                                $SQLEXAM_WEBVIEW2_INSTALLER to bundle it (docs/ARCHITECTURE.md).
#   scripts/bundle.sh --windows --debug
#                                the same installer from debug builds: what the test run
#                                installs under wine, reusing the binaries its Windows tests
#                                built (a release build would add ~10 minutes and check nothing
#                                more). Not for venues.
#
# tauri.conf.json stays at the repository root and is the only source of truth. The Tauri
# CLI insists on a config beside a Cargo.toml that has [package], so this script writes a
# derived copy into src-tauri/ (with its paths rebased) for the length of the build and
# removes it afterwards; cargo itself reads the root config (src-tauri/build.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
if [ "${1:-}" = "--windows" ]; then
  target=x86_64-pc-windows-gnu
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  version=$(python3 -c 'import json; print(json.load(open("tauri.conf.json"))["version"])')
  profile=release profile_flag=--release
  if [ "${2:-}" = "--debug" ]; then profile=debug profile_flag=; fi
  cargo build $profile_flag --locked --target "$target" -p sqlexam-app --no-default-features
  cargo build $profile_flag --locked --target "$target" -p sqlexam-cli
  out="$target_dir/$target/$profile/bundle"
  mkdir -p "$out"
  cp "$target_dir/$target/$profile/sqlexam-app.exe" "$out/sqlexam.exe"
  cp "$target_dir/$target/$profile/sqlexam.exe" "$out/sqlexam-cli.exe"
  if [ "$profile" = debug ]; then
    # Debug info would make the installer hundreds of MB, and compressing it slow.
    x86_64-w64-mingw32-strip "$out/sqlexam.exe" "$out/sqlexam-cli.exe"
  fi
  nsis_defines=(-DVERSION="$version" -DAPP_EXE="$out/sqlexam.exe" -DCLI_EXE="$out/sqlexam-cli.exe"
    -DICON="$PWD/src-tauri/icons/icon.ico" -DOUT="$out/sqlexam-$version-setup.exe")
  if [ -n "${SQLEXAM_WEBVIEW2_INSTALLER:-}" ]; then
    nsis_defines+=(-DWEBVIEW2_INSTALLER="$SQLEXAM_WEBVIEW2_INSTALLER")
  fi
  makensis -V2 "${nsis_defines[@]}" scripts/windows/installer.nsi
  echo "sqlexam: built for Windows in $out:"
  ls -la "$out" | sed 1d
  if [ -z "${SQLEXAM_WEBVIEW2_INSTALLER:-}" ]; then
    echo "sqlexam: the installer does not bundle the WebView2 Runtime (see docs/ARCHITECTURE.md, Platforms)."
  fi
  exit 0
fi
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
