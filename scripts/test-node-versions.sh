#!/usr/bin/env bash
# Runs the unit suite under Node 22 and 24 (from the npm registry's node@22 / node@24 packages), on
# top of the machine's own Node (20 here). The system suite needs root and runs once, in test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=.nixnode-test-node
for v in 22 24; do
  dir="$tools/$v"
  if [ ! -x "$dir/node_modules/node/bin/node" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent "node@$v" >/dev/null)
  fi
  bin="$(cd "$dir/node_modules/node/bin" && pwd)"
  echo "== unit suite on Node $("$bin/node" --version)"
  PATH="$bin:$PATH" "$bin/node" node_modules/vitest/vitest.mjs run --project unit
done
