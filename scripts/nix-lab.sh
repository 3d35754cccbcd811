#!/usr/bin/env bash
# nix-lab.sh DISKO NIXPKGS_LIB [DEST]
# Prepares the offline "nix lab" in which the disko tests evaluate every layout with REAL disko.
# DISKO and NIXPKGS_LIB are each either a git directory (bare repo or a .git folder) of
# nix-community/disko and nix-community/nixpkgs.lib, or an already-unpacked source tree.
# Git directories are unpacked (HEAD) into DEST (default ~/nix-src), OUTSIDE the project: that
# source is never copied into or committed with nixnode-install. Prints the two exports to use:
#   eval "$(scripts/nix-lab.sh /path/to/disko.git /path/to/nixpkgs.lib.git)"
#   npx vitest run test/unit/disko
set -euo pipefail

usage() { echo "usage: $0 DISKO_GIT_DIR_OR_TREE NIXPKGS_LIB_GIT_DIR_OR_TREE [DEST (default ~/nix-src)]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage
disko_src=$1
lib_src=$2
dest=${3:-$HOME/nix-src}
project=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# prepare NAME SRC MARKER: prints the tree path to use for SRC, unpacking a git dir into $dest/NAME.
# MARKER is a file that must exist in a tree of the right repository (so a swapped argument order
# is caught here instead of as a puzzling evaluation error later).
prepare() {
  local name=$1 src=$2 marker=$3 tree
  [ -e "$src" ] || { echo "nix-lab: $name: $src does not exist" >&2; exit 2; }
  if [ -f "$src/$marker" ]; then
    tree=$(cd "$src" && pwd)
  elif git --git-dir="$src" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    tree=$(realpath -m "$dest/$name")
    case "$tree/" in "$project"/*) echo "nix-lab: refusing to unpack $name inside the project ($tree)" >&2; exit 2 ;; esac
    rm -rf "$tree.tmp"
    mkdir -p "$tree.tmp"
    git --git-dir="$src" archive --format=tar HEAD | tar -x -C "$tree.tmp"
    [ -f "$tree.tmp/$marker" ] || { rm -rf "$tree.tmp"; echo "nix-lab: $src is not a git dir of $name (no $marker at HEAD)" >&2; exit 2; }
    rm -rf "$tree"
    mv "$tree.tmp" "$tree"
    echo "nix-lab: unpacked $name $(git --git-dir="$src" rev-parse --short HEAD) into $tree" >&2
  else
    echo "nix-lab: $name: $src is neither a $name source tree (no $marker) nor a git directory" >&2
    exit 2
  fi
  printf '%s' "$tree"
}

disko_tree=$(prepare disko "$disko_src" lib/types/gpt.nix)
lib_tree=$(prepare nixpkgs.lib "$lib_src" lib/modules.nix)

command -v nix-instantiate >/dev/null || echo "nix-lab: nix-instantiate is missing (apt-get install nix-bin)" >&2
printf 'export NIXNODE_DISKO=%q NIXNODE_NIXPKGS_LIB=%q\n' "$disko_tree" "$lib_tree"
