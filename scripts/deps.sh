#!/usr/bin/env bash
# Installs what building and testing sqlexam needs on Debian/Ubuntu, skipping what is there.
# Rust itself comes from rustup (Debian's rustc is too old for edition 2024).
set -euo pipefail

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

# build-essential/pkg-config: the bundled SQLite is C; openssl and python3-cryptography:
# tests verify signatures with tools that are not ours.
packages=(build-essential pkg-config openssl python3 python3-cryptography)
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
