#!/usr/bin/env bash
# The main job on a built-in default: plan a complete NixOS node flake from a bundled example machine
# (a Hetzner Cloud VM captured from real hardware), write it to ./my-node (or $1), and show it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-./my-node}
[ -d node_modules ] || npm ci --no-audit --no-fund
node scripts/build.mjs
rm -rf "$out"
node bin/nixnode-install plan --example hetzner-cloud --out "$out" --yes
echo
echo "== files generated in $out"
(cd "$out" && find . -path ./.git -prune -o -type f -print | sort)
host=$(cd "$out/hosts" && ls | head -n 1)
echo
echo "== $out/hosts/$host/disk-config.nix"
cat "$out/hosts/$host/disk-config.nix"
echo
echo "== $out/hosts/$host/host.json"
cat "$out/hosts/$host/host.json"
