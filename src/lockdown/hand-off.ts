// Hand-off after a confirmed lockdown (LOCKDOWN.md step 7): the known_hosts entry for [host]:P
// (only for the key whose fingerprint was pinned), an optional ~/.ssh/config block, recovery notes
// in the flake's README.md, and the "lockdown" key of .nixnode/state.json.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { OperationError } from "../errors";
import { writeStateKey } from "../flake/state-file";
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

const BEGIN = "<!-- nixnode-install lockdown: begin -->";
const END = "<!-- nixnode-install lockdown: end -->";

export function renderRecoveryNotes(r: LockdownResult, hostname: string, user: string): string {
  const g = r.generations;
  return `${BEGIN}
## Lockdown and recovery

\`nixnode-install lockdown\` set this node to: SSH on port **${r.port}** only, keys only (no password,
no keyboard-interactive), firewall on, fail2ban ignoring your address. Log in with:

    ssh -p ${r.port} ${user}@${r.host}

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
${END}
`;
}

/** Replaces our section of README.md (or appends it), leaving the operator's text alone. */
export function writeRecoveryNotes(flakeDir: string, notes: string): void {
  const p = join(flakeDir, "README.md");
  const old = existsSync(p) ? readFileSync(p, "utf8") : "";
  const a = old.indexOf(BEGIN);
  const b = old.indexOf(END);
  const next =
    a >= 0 && b > a
      ? old.slice(0, a) + notes.trimEnd() + old.slice(b + END.length)
      : `${old}${old && !old.endsWith("\n\n") ? "\n" : ""}${notes}`;
  writeAtomic(p, next);
}

/** Sets the "lockdown" key of .nixnode/state.json; other keys (the install's) are kept as they are. */
export function writeLockdownState(flakeDir: string, value: Record<string, unknown>): void {
  writeStateKey(flakeDir, "lockdown", value);
}
