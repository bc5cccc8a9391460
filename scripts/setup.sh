#!/usr/bin/env bash
# Sets up a fresh clone on Debian with Node 20: pnpm, the locked dependencies, the services
# the tests and demos need (scripts/services.sh up) and the build. Safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) {
    console.error(`setup: Node ${process.versions.node} is too old: Hodei needs Node 20.19 or later`);
    process.exit(1);
  }'

pnpm_version=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
  echo "setup: installing pnpm $pnpm_version"
  npm install --global --save-exact "pnpm@$pnpm_version" >/dev/null
fi

pnpm install --frozen-lockfile
scripts/services.sh up
pnpm build
