#!/usr/bin/env bash
# The README's first command: install everything, then run Fathom's main job.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
pnpm smoke
