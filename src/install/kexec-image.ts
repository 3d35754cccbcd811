// Where the built-in engine fetches the nixos-images kexec installer from, and the target-side
// shell that downloads it, unpacks it and starts it under setsid. Pure.
import { OperationError } from "../errors";
import type { Facts } from "../facts/types";
import { shellQuote } from "../util/shell-quote";

/** nixos-images release tags follow NixOS releases: nixos-25.11, nixos-26.05. */
export function kexecTarballUrl(arch: Facts["arch"], release: string, opts: { ipv6Only: boolean }): string {
  if (arch !== "x86_64" && arch !== "aarch64") {
    throw new OperationError(`the kexec installer exists only for x86_64 and aarch64; this target is ${arch}`, {
      hint: "boot the machine from a NixOS installer image instead, then run nixnode-install --local on it",
    });
  }
  // github.com has no AAAA record; gh-v6.com is the IPv6 mirror nixos-anywhere uses for IPv6-only targets.
  const host = opts.ipv6Only ? "gh-v6.com" : "github.com";
  return `https://${host}/nix-community/nixos-images/releases/download/nixos-${release}/nixos-kexec-installer-noninteractive-${arch}-linux.tar.gz`;
}

/** True when the target has a global IPv6 address and no global IPv4 one (nor an IPv4 default route). */
export function isIpv6Only(net: Facts["network"]): boolean {
  const globals = net.interfaces.flatMap((i) => i.addresses).filter((a) => a.scope === "global");
  return globals.some((a) => a.family === 6) && !globals.some((a) => a.family === 4) && net.defaultGateway4 === null;
}

const shq = shellQuote;

/**
 * The target-side script: download with curl or wget, unpack into $dir, start kexec/run detached
 * (setsid, output to a log) so that the SSH session ending does not stop it. Prints one line
 * `nixnode-kexec: started` when the installer is on its way; a failure exits non-zero with the reason.
 */
export function kexecStartScript(url: string, dir = "/root/kexec"): string {
  return `set -eu
dir=${shq(dir)}
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
if command -v curl >/dev/null 2>&1; then fetch() { curl --fail -sS -L "$1"; }
elif command -v wget >/dev/null 2>&1; then fetch() { wget -q -O- "$1"; }
else echo "nixnode-kexec: neither curl nor wget is installed on the target" >&2; exit 20; fi
fetch ${shq(url)} > installer.tar.gz || { echo "nixnode-kexec: download failed: ${url}" >&2; exit 21; }
tar -xzf installer.tar.gz || { echo "nixnode-kexec: the download is not a kexec tarball" >&2; exit 22; }
[ -x kexec/run ] || { echo "nixnode-kexec: kexec/run missing from the tarball" >&2; exit 23; }
setsid sh -c 'sleep 1; exec ./kexec/run' > "$dir/kexec.log" 2>&1 < /dev/null &
echo "nixnode-kexec: started"
`;
}
