#!/usr/bin/env bash
# The README's second command: install everything, then run every test of the
# workspace as one vitest suite. Ends with the line `N passed, N failed`.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
# The trainer dashboard's browser test drives Debian's Chromium.
bash scripts/setup-browser.sh
pnpm test "$@"
