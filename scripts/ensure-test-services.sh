#!/usr/bin/env bash
# Installs what the tests need from Debian's packages when it is missing:
# the PostgreSQL server (started by the tests themselves) and Chromium (driven by Playwright).
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x "${FENGQIAO_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
fc-list 2>/dev/null | grep -i "wenquanyi\|noto sans cjk" >/dev/null || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing from Debian: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
