#!/usr/bin/env bash
# Installs a Chinese font from Debian's packages when none is present: the mediation
# agreements (调解协议书) are printed to PDF with it. Without root or sudo it only warns.
set -uo pipefail
if fc-list 2>/dev/null | grep -i "wenquanyi\|noto sans cjk\|noto serif cjk" >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "warning: no Chinese font; install fonts-wqy-zenhei to print agreements (PDF)" >&2
    exit 0
  fi
fi
echo "Installing from Debian: fonts-wqy-zenhei"
$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
  --no-install-recommends fonts-wqy-zenhei >/dev/null \
  || echo "warning: could not install fonts-wqy-zenhei; agreements cannot be printed" >&2
