#!/usr/bin/env bash
# Makes sure the headless Debian Chromium used by the dashboard end-to-end tests is installed.
# Idempotent: does nothing when /usr/bin/chromium exists. Never downloads a browser any other way
# (playwright-core drives the system Chromium through executablePath).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "ensure-chromium: $CHROMIUM present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
  else
    echo "ensure-chromium: $CHROMIUM is missing and this is not root; install it with: apt-get install -y chromium" >&2
    exit 1
  fi
else
  SUDO=""
fi

export DEBIAN_FRONTEND=noninteractive
echo "ensure-chromium: $CHROMIUM missing; running apt-get update"
$SUDO apt-get update
echo "ensure-chromium: running apt-get install -y --no-install-recommends chromium"
$SUDO apt-get install -y --no-install-recommends chromium
echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
