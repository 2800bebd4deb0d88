#!/usr/bin/env bash
# One-time set-up for a fresh checkout: a Chromium to drive (if none is found), dependencies, a build.
set -euo pipefail
cd "$(dirname "$0")/.."

have_browser() {
  [ -n "${TOPN_BROWSER:-}" ] && [ -x "${TOPN_BROWSER}" ] && return 0
  for b in chromium chromium-browser google-chrome google-chrome-stable microsoft-edge; do
    command -v "$b" >/dev/null 2>&1 && return 0
  done
  [ -d "/Applications/Google Chrome.app" ] || [ -d "/Applications/Chromium.app" ]
}

if ! have_browser; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing Chromium with apt-get (topn drives a real browser)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: no Chrome, Chromium or Edge found: install one, or set TOPN_BROWSER=/path/to/chrome" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund
npm run build --silent
echo "setup: done. Try: npm run demo"
