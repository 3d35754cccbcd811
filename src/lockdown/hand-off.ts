// Hand-off after a confirmed lockdown (LOCKDOWN.md step 7): the known_hosts entry for [host]:P
// (only for the key whose fingerprint was pinned), an optional ~/.ssh/config block, and per host
// (a fleet flake holds several, locked down in parallel): a README.md section marked with the host's
// name, and .nixnode/state.json "lockdownByHost".<host> ("lockdown" mirrors the latest write).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { OperationError } from "../errors";
import { readStateEntry, readStateFile, writeStateEntry } from "../flake/state-file";
import { withFlakeLock } from "../secrets/flake-lock";
import { isObject } from "../util/fields";
import { addKnownHost, checkKnownHost, fingerprintSha256, keyTypeOf, parseKnownHosts } from "../remote/known-hosts";
import { writeAtomic } from "../util/write-atomic";
import { SYSTEM_PROFILE } from "./remote-commands";
import type { LockdownResult, RemoteSession } from "./types";

/** Reads the host key over a session that already proved it (pinned) and records [host]:port. */
export async function recordKnownHost(
  session: RemoteSession,
  file: string,
  host: string,
  port: number,
  pinned: string,
): Promise<"added" | "present"> {
  const r = await session.run("cat /etc/ssh/ssh_host_ed25519_key.pub", { timeoutMs: 10_000 });
  const b64 = r.stdout.trim().split(/\s+/)[1] ?? "";
  const blob = Buffer.from(b64, "base64");
  if (fingerprintSha256(blob) !== pinned) {
    throw new OperationError(
      `the target's /etc/ssh/ssh_host_ed25519_key.pub (${fingerprintSha256(blob)}) is not the pinned key ${pinned}; known_hosts was not changed`,
    );
  }
  const key = { type: keyTypeOf(blob), blob };
  const entries = existsSync(file) ? parseKnownHosts(readFileSync(file, "utf8"), file) : [];
  if (checkKnownHost(entries, host, port, key).status === "known") return "present";
  addKnownHost(file, host, port, key);
  return "added";
}

export function sshConfigBlock(alias: string, host: string, port: number, user: string): string {
  return [`Host ${alias}`, `  HostName ${host}`, `  Port ${port}`, `  User ${user}`, `  IdentitiesOnly yes`, ""].join(
    "\n",
  );
}

// Before per-host sections the notes had one unnamed section; it is still found and replaced
// by the host it names (its last line names hosts/<host>/host.json).
const LEGACY_BEGIN = "<!-- nixnode-install lockdown: begin -->";
const LEGACY_END = "<!-- nixnode-install lockdown: end -->";
// host names are validated (parseHostname: letters, digits, '-'), so they are safe in a comment
const beginOf = (host: string) => `<!-- nixnode-install lockdown ${host}: begin -->`;
const endOf = (host: string) => `<!-- nixnode-install lockdown ${host}: end -->`;

export function renderRecoveryNotes(r: LockdownResult, hostname: string, user: string, pinned?: string): string {
  const g = r.generations;
  const keyLine = pinned ? `\nIts SSH host key (pinned in \`hosts/${hostname}/host.json\`): \`${pinned}\`.\n` : "";
  return `${beginOf(hostname)}
## Lockdown and recovery (${hostname})

\`nixnode-install lockdown\` set this node to: SSH on port **${r.port}** only, keys only (no password,
no keyboard-interactive), firewall on, fail2ban ignoring your address. Log in with:

    ssh -p ${r.port} ${user}@${r.host}
${keyLine}
System generations: before lockdown **${g.before ?? "?"}**, stage 1 (ports 22 and ${r.port}) **${g.dualPort ?? "?"}**,
final **${g.final ?? "?"}** (the boot default).

If you cannot get in, use your provider's web console (VNC/serial) and log in there, then either
go back one step (port 22 open again, keys only):

    nix-env -p ${SYSTEM_PROFILE} --switch-generation ${g.dualPort ?? "N"}
    ${SYSTEM_PROFILE}-${g.dualPort ?? "N"}-link/bin/switch-to-configuration switch

or all the way back to before the lockdown (password login as before):

    nix-env -p ${SYSTEM_PROFILE} --switch-generation ${g.before ?? "N"}
    ${SYSTEM_PROFILE}-${g.before ?? "N"}-link/bin/switch-to-configuration switch

\`nixos-rebuild --rollback switch\` also goes back one generation. The boot menu lists every
generation too. Data the tool manages is in \`hosts/${hostname}/host.json\`; \`lockdown.nix\` reads it.
${endOf(hostname)}
`;
}

/** The span [a, b) of `text` between `begin` and `end` (markers included), or null. */
function section(text: string, begin: string, end: string): [number, number] | null {
  const a = text.indexOf(begin);
  const b = a >= 0 ? text.indexOf(end, a) : -1;
  return a >= 0 && b > a ? [a, b + end.length] : null;
}

/**
 * Replaces `hostname`'s section of README.md (or the old unnamed one when it is that host's, or
 * appends one), leaving the operator's text and every other host's section alone.
 */
export function writeRecoveryNotes(flakeDir: string, hostname: string, notes: string): void {
  const p = join(flakeDir, "README.md");
  const old = existsSync(p) ? readFileSync(p, "utf8") : "";
  let span = section(old, beginOf(hostname), endOf(hostname));
  if (!span) {
    const legacy = section(old, LEGACY_BEGIN, LEGACY_END);
    if (legacy && old.slice(legacy[0], legacy[1]).includes(`hosts/${hostname}/host.json`)) span = legacy;
  }
  const next = span
    ? old.slice(0, span[0]) + notes.trimEnd() + old.slice(span[1])
    : `${old}${old && !old.endsWith("\n\n") ? "\n" : ""}${notes}`;
  writeAtomic(p, next);
}

export const LOCKDOWN_STATE_KEY = "lockdown";
export const LOCKDOWN_BY_HOST_KEY = "lockdownByHost";

/**
 * Sets .nixnode/state.json "lockdownByHost".<hostname> (and "lockdown", the latest write, for older
 * readers); every other host's entry and the install's keys are kept as they are.
 */
export function writeLockdownState(flakeDir: string, hostname: string, value: Record<string, unknown>): void {
  writeStateEntry(flakeDir, LOCKDOWN_BY_HOST_KEY, hostname, { ...value, host: hostname }, LOCKDOWN_STATE_KEY);
}

function flakeHosts(flakeDir: string): string[] {
  try {
    return readdirSync(join(flakeDir, "hosts")).filter((h) => existsSync(join(flakeDir, "hosts", h, "host.json")));
  } catch {
    return [];
  }
}

/**
 * `hostname`'s lockdown record, or null. A state.json written before per-host entries has only an
 * unnamed "lockdown" key: it is this host's when the flake holds no other host.
 */
export function readLockdownState(flakeDir: string, hostname: string): Record<string, unknown> | null {
  const mine = readStateEntry(flakeDir, LOCKDOWN_BY_HOST_KEY, hostname);
  if (mine) return mine;
  const legacy = readStateFile(flakeDir)[LOCKDOWN_STATE_KEY];
  if (!isObject(legacy)) return null;
  if (typeof legacy.host === "string") return legacy.host === hostname ? legacy : null;
  const hosts = flakeHosts(flakeDir);
  return hosts.length === 1 && hosts[0] === hostname ? legacy : null;
}

/**
 * The flake's side of the hand-off: the host's README section and state entry, under the flake's
 * lock (another `lockdown` process for another host of the same flake may be writing both files).
 * The lockdown is confirmed by now, so a lock held too long costs a warning, not the record.
 */
export async function recordHandOff(
  flakeDir: string,
  hostname: string,
  notes: string,
  state: Record<string, unknown>,
  warn: (message: string, hint?: string) => void,
): Promise<void> {
  const write = () => {
    writeRecoveryNotes(flakeDir, hostname, notes);
    writeLockdownState(flakeDir, hostname, state);
  };
  let wrote = false;
  try {
    await withFlakeLock(
      flakeDir,
      `nixnode-install lockdown (${hostname}: recovery notes)`,
      async () => {
        wrote = true;
        write();
      },
      { waitMs: 60_000 },
    );
  } catch (e) {
    if (wrote) throw e;
    warn(
      `the flake's lock is held by another nixnode-install (${(e as Error).message}); writing ${hostname}'s recovery notes without it`,
      "if that process also wrote README.md or .nixnode/state.json just now, run lockdown again for the host whose entry is missing",
    );
    write();
  }
}
