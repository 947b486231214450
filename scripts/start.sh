#!/usr/bin/env bash
# The README's first command: install everything, then train the default small model on the
# bundled Brown corpus (prepare, train, evaluate, sample). Extra arguments go to `fathom-train train`.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
node apps/trainer/dist/cli/main.js train --config apps/trainer/configs/default.yaml "$@"
