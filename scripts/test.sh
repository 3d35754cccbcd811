#!/usr/bin/env bash
# The whole suite, from a fresh Debian/Ubuntu machine: installs what the tests need (system packages
# when run as root, then npm ci), typechecks, and runs every test. System tests (real sshd, fail2ban,
# network namespaces) need root; elsewhere they report as skipped with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(openssh-server openssh-client iproute2 iptables tmux fail2ban age nix-bin sudo wireguard-tools e2fsprogs util-linux fdisk)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # the package starts an sshd on the machine itself; the suite never uses it
else
  echo "not root or no apt-get: system packages not installed; tests that need them will be skipped"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npx tsc --noEmit
npx vitest run "$@"
