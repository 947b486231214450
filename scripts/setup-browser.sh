#!/usr/bin/env bash
# Makes a headless Chromium available at /usr/bin/chromium for the trainer dashboard's browser
# test (apps/trainer, playwright-core drives it; no browser download from a CDN).
#
# Where /usr/bin/chromium is missing and we run as root on Debian, apt-installs Debian's
# `chromium` package. Elsewhere, say what to install and exit 0 (only the dashboard's browser
# test needs it). Idempotent: a machine that already has it returns in milliseconds.
set -euo pipefail

say() { printf '[setup-browser] %s\n' "$*" >&2; }

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || ! grep -qi 'debian' /etc/os-release 2>/dev/null; then
  say "/usr/bin/chromium is missing, and this script can only install it as root on Debian."
  say "Install Chromium so that /usr/bin/chromium exists (Debian/Ubuntu: apt-get install chromium)."
  say "Until then the trainer's dashboard browser test fails; everything else works."
  exit 0
fi

say "installing Debian's chromium (one time, a minute or two)"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
say "chromium installed: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
