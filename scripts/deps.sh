#!/usr/bin/env bash
# Installs what building and testing sqlexam needs on Debian/Ubuntu, skipping what is there:
# apt packages (C toolchain, WebKitGTK for Tauri, Xvfb and the WebDriver for end-to-end
# tests, CJK fonts, OpenSSL and Python's cryptography for independent checks; MinGW, wine64
# and NSIS for the Windows build; PostgreSQL for the server tests, which start their own
# throwaway clusters; Debian's Chromium and chromedriver for the dashboard test), the Rust
# target for Windows, Node.js, the UI's npm packages, and tauri-driver.
# Rust itself comes from rustup (Debian's rustc is too old for edition 2024).
set -euo pipefail
cd "$(dirname "$0")/.."

need_rust="1.90"
if ! command -v cargo >/dev/null 2>&1; then
  echo "sqlexam: cargo not found. Install Rust $need_rust or newer with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
have_rust=$(rustc --version | awk '{print $2}')
if [ "$(printf '%s\n%s\n' "$need_rust" "$have_rust" | sort -V | head -n1)" != "$need_rust" ]; then
  echo "sqlexam: Rust $have_rust is too old; $need_rust or newer is needed (rustup update)." >&2
  exit 1
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    if command -v rustup >/dev/null 2>&1; then rustup component add "$component"; fi
  fi
done

packages=(build-essential pkg-config libssl-dev openssl python3 python3-cryptography
  libwebkit2gtk-4.1-dev webkit2gtk-driver xvfb xauth dbus fonts-noto-cjk imagemagick
  gcc-mingw-w64-x86-64 wine64 nsis postgresql chromium chromium-driver)
node_major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || true)
if [ -z "$node_major" ] || [ "$node_major" -lt 18 ]; then
  packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "sqlexam: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Windows builds: the Rust standard library for the MinGW target comes from rustup.
if ! rustc --print sysroot >/dev/null 2>&1 || [ ! -d "$(rustc --print sysroot)/lib/rustlib/x86_64-pc-windows-gnu" ]; then
  if command -v rustup >/dev/null 2>&1; then
    rustup target add x86_64-pc-windows-gnu
  else
    echo "sqlexam: the Rust target x86_64-pc-windows-gnu is missing; install it with rustup (rustup target add x86_64-pc-windows-gnu)." >&2
    exit 1
  fi
fi

# The UI: npm packages from the lockfile (only when they changed), then the builds Tauri and
# the server embed (the app's dist/, the dashboard's dashboard/dist/).
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd ui && npm run --silent build >/dev/null)

# tauri-driver drives the app in end-to-end tests (a crates.io build, ~1 minute once).
if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  cargo install tauri-driver --version '^2' --locked --quiet
fi
