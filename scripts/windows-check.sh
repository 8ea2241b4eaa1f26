#!/usr/bin/env bash
# The Windows build, checked here on Linux (docs/ARCHITECTURE.md, "Platforms"):
# 1. cross-compiles and lints the whole workspace for x86_64-pc-windows-gnu (MinGW):
#    core, CLI and the Tauri app;
# 2. runs the core and CLI test suites as Windows binaries under wine64 (tests that call
#    Linux tools such as python3 and openssl, or measure Linux processes, are Unix-only);
# 3. grades the starter pack and the hostile-SQL suite with the Linux and the Windows builds
#    and prints the diff of verdicts and step counts, which must be empty.
# Installs what is missing first (scripts/deps.sh). Used by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
target=x86_64-pc-windows-gnu
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
wine=/usr/lib/wine/wine64
export WINEPREFIX="${XDG_CACHE_HOME:-$HOME/.cache}/sqlexam/wine" WINEDEBUG=-all
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine"

echo "== Windows: clippy for $target (core, CLI, app)"
cargo clippy --workspace --all-targets --locked --target "$target" -- -D warnings

echo "== Windows: build the test binaries"
cargo test --locked --target "$target" -p sqlexam-core -p sqlexam-cli --no-run
# Rust's std imports ProcessPrng, which wine 8.0 lacks: a stand-in DLL beside the binaries.
shim="$target_dir/$target/debug/deps/bcryptprimitives.dll"
x86_64-w64-mingw32-gcc -shared -O2 -o "$shim" scripts/windows/processprng.c -ladvapi32
cp "$shim" "$target_dir/$target/debug/"
mkdir -p "$WINEPREFIX"
"$wine" cmd /c exit 0 >/dev/null 2>&1 || true   # creates the wine prefix once (~20 s)

echo "== Windows: core and CLI tests under wine"
cargo test --locked --target "$target" -p sqlexam-core -p sqlexam-cli

echo "== Windows vs Linux: verdicts and step counts"
linux_fp=$(mktemp) windows_fp=$(mktemp)
trap 'rm -f "$linux_fp" "$windows_fp"' EXIT
fingerprint=(--test core -- --ignored --exact determinism::fingerprint)
SQLEXAM_FINGERPRINT="$linux_fp" cargo test --locked -q -p sqlexam-core "${fingerprint[@]}" >/dev/null
# Under wine, the Linux path is the same file on drive Z:.
SQLEXAM_FINGERPRINT="$windows_fp" cargo test --locked -q --target "$target" -p sqlexam-core "${fingerprint[@]}" >/dev/null
if diff -u "$linux_fp" "$windows_fp"; then
  echo "determinism: $(wc -l < "$linux_fp") gradings, identical verdicts and step counts on Linux and Windows"
else
  echo "determinism: Linux and Windows differ (above)" >&2
  exit 1
fi

echo "== Windows: the installer (scripts/bundle.sh --windows, from the debug builds above), installed and removed under wine"
scripts/bundle.sh --windows --debug >/dev/null
bundle="$target_dir/$target/debug/bundle"
setup=$(ls -t "$bundle"/sqlexam-*-setup.exe | head -n1)
"$wine" "$setup" /S
installed="$WINEPREFIX/drive_c/users/$(id -un)/AppData/Local/Programs/sqlexam"
for f in sqlexam.exe sqlexam-cli.exe uninstall.exe; do
  [ -f "$installed/$f" ] || { echo "installer: $f was not installed in $installed" >&2; exit 1; }
done
cp "$shim" "$installed/"   # wine only (see above)
verdict=$("$wine" "$installed/sqlexam-cli.exe" grade problems/sql-basics/p01-high-earners \
  problems/sql-basics/p01-high-earners/submissions/accepted/negated.sql | head -n1)
rm -f "$installed/bcryptprimitives.dll"
case "$verdict" in
  "Accepted — 100 / 100 points"*) ;;
  *) echo "installer: the installed CLI graded an accepted answer as: $verdict" >&2; exit 1 ;;
esac
"$wine" "$installed/uninstall.exe" /S
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -e "$installed/sqlexam.exe" ] || break; sleep 1; done
[ ! -e "$installed/sqlexam.exe" ] || { echo "installer: the uninstaller left $installed" >&2; exit 1; }
echo "installer: $(basename "$setup") ($(du -h "$setup" | cut -f1)) installs per user, runs, and uninstalls"
