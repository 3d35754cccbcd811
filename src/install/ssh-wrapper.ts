// nixos-anywhere 1.13 starts every ssh call with `-o UserKnownHostsFile=/dev/null -o
// StrictHostKeyChecking=no`, and ssh keeps the FIRST value of an option, so `--ssh-option` cannot
// turn checking back on; yet the private host key travels over those connections (--extra-files).
// Its script, `timeout 10 ssh`, `ssh -G`, ssh-copy-id and `nix copy` (NIX_SSHOPTS) all run `ssh` by
// name, and its package wrapper puts OpenSSH LAST on PATH: an `ssh` first on the PATH it is handed
// is the one every connection uses. This one puts strict checking against exactly the keys this run
// verified in front of everything, drops the two unchecking options, and execs the real ssh.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { InternalError } from "../errors";
import { shellQuote } from "../util/shell-quote";

/** The name ssh looks keys up under (HostKeyAlias): independent of address, port and ssh config aliases. */
export const PINNED_HOST_ALIAS = "nixnode-install-target";

const ED25519_LINE = /^ssh-ed25519 [A-Za-z0-9+/]+={0,3}$/;

/** known_hosts lines holding exactly `publicKeys` ("ssh-ed25519 AAAA..."), for any port of the alias. */
export function pinnedKnownHosts(publicKeys: readonly string[]): string {
  const keys = [...new Set(publicKeys.map((k) => k.trim().split(/\s+/).slice(0, 2).join(" ")))];
  for (const k of keys)
    if (!ED25519_LINE.test(k)) throw new InternalError(`not an ssh-ed25519 public key line: ${k.slice(0, 40)}`);
  if (keys.length === 0) throw new InternalError("no verified host key to pin");
  return keys.map((k) => `${PINNED_HOST_ALIAS},[${PINNED_HOST_ALIAS}]:* ${k}\n`).join("");
}

/** Options put in front of whatever the caller passes (the first value wins in ssh). */
export function pinningOptions(knownHostsFile: string): string[] {
  return [
    "StrictHostKeyChecking=yes",
    `UserKnownHostsFile=${knownHostsFile}`,
    "GlobalKnownHostsFile=/dev/null",
    `HostKeyAlias=${PINNED_HOST_ALIAS}`,
    // the tool verified the ed25519 key: negotiating another type would look like "unknown key"
    "HostKeyAlgorithms=ssh-ed25519",
    "UpdateHostKeys=no",
    // a shared (multiplexed) connection skips the host key check of the new session
    "ControlPath=none",
  ].flatMap((o) => ["-o", o]);
}

/**
 * The wrapper script. It only moves its arguments (no eval): options before the remote command are
 * scanned so that `-o UserKnownHostsFile=/dev/null` / `-o StrictHostKeyChecking=no` are dropped there
 * and never inside the command; the real ssh path and the known_hosts path are quoted once here.
 */
export function renderSshWrapper(realSsh: string, knownHostsFile: string): string {
  if (!realSsh.startsWith("/")) throw new InternalError(`the real ssh must be an absolute path: ${realSsh}`);
  const front = pinningOptions(knownHostsFile).map(shellQuote).join(" ");
  return `#!/bin/sh
# nixnode-install: ssh for nixos-anywhere, pinned to the host keys this run verified (removed after the run)
n=$#
i=0
state=opts
dest=
while [ "$i" -lt "$n" ]; do
  a=$1
  shift
  i=$((i + 1))
  case $state in
  cmd) set -- "$@" "$a"; continue ;;
  arg) state=opts; set -- "$@" "$a"; continue ;;
  o)
    state=opts
    case $a in
    UserKnownHostsFile=/dev/null | StrictHostKeyChecking=no) continue ;;
    esac
    set -- "$@" -o "$a"
    continue
    ;;
  esac
  case $a in
  --) state=cmd; set -- "$@" "$a" ;;
  -o) state=o ;;
  -oUserKnownHostsFile=/dev/null | -oStrictHostKeyChecking=no) ;;
  -[BbcDEeFIiJLlmOopQRSWw]) state=arg; set -- "$@" "$a" ;;
  -*) set -- "$@" "$a" ;;
  *)
    # ssh reads options after the destination too; the first word after it starts the command
    if [ -n "$dest" ]; then state=cmd; fi
    dest=1
    set -- "$@" "$a"
    ;;
  esac
done
if [ "$state" = o ]; then set -- "$@" -o; fi
exec ${shellQuote(realSsh)} ${front} "$@"
`;
}

export interface PinnedSsh {
  /** The 0700 folder holding `ssh` and `known_hosts`: put it first on PATH. */
  dir: string;
  knownHostsFile: string;
  /** `env` with the wrapper first on PATH. */
  env(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  cleanup(): void;
}

/** Writes the wrapper and its known_hosts (exactly `publicKeys`) into a fresh 0700 temp folder. */
export function createPinnedSsh(realSsh: string, publicKeys: readonly string[]): PinnedSsh {
  const known = pinnedKnownHosts(publicKeys);
  const dir = mkdtempSync(join(tmpdir(), "nixnode-ssh-"));
  chmodSync(dir, 0o700);
  const knownHostsFile = join(dir, "known_hosts");
  try {
    writeFileSync(knownHostsFile, known, { mode: 0o600, flag: "wx" });
    writeFileSync(join(dir, "ssh"), renderSshWrapper(realSsh, knownHostsFile), { mode: 0o700, flag: "wx" });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir,
    knownHostsFile,
    env: (base) => ({ ...base, PATH: [dir, base.PATH].filter(Boolean).join(delimiter) }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Lines of ssh/ssh-copy-id output that mean a host key was refused (the 1.13 script would retry forever). */
export function isHostKeyRefusal(line: string): boolean {
  return /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No (ED25519|[A-Z0-9]+) host key is known for/.test(
    line,
  );
}
