# Sourced by scripts/start.sh and scripts/test.sh: installs everything a fresh
# clone needs (pnpm, dependencies, a WebGPU driver) and builds the workspace.
# Needs only Node 20 and npm. Safe and quick to run again.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
pnpm_version=$(node -p "require('./package.json').packageManager.split('@')[1]")
bin="$root/.fathom-cache/bin"
mkdir -p "$bin"
export PATH="$bin:$root/node_modules/.bin:$PATH"
# Mesa prints an error on every start without it.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d -t fathom-xdg.XXXXXX)}"

if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  # Corepack can fail signature checks on some machines; integrity keys off is the
  # documented workaround. Fall back to a local npm install of the pinned pnpm.
  export COREPACK_ENABLE_DOWNLOAD_PROMPT=0 COREPACK_INTEGRITY_KEYS=0
  if ! { corepack enable --install-directory "$bin" pnpm >/dev/null 2>&1 &&
         [ "$(pnpm --version 2>/dev/null)" = "$pnpm_version" ]; }; then
    rm -f "$bin/pnpm" "$bin/pnpx"
    npm install --silent --no-audit --no-fund --prefix "$root/.fathom-cache/pnpm" "pnpm@$pnpm_version"
    ln -sf "$root/.fathom-cache/pnpm/node_modules/.bin/pnpm" "$bin/pnpm"
  fi
fi

pnpm install --frozen-lockfile --reporter=silent
bash scripts/setup-webgpu.sh
pnpm exec turbo run build --output-logs=errors-only
