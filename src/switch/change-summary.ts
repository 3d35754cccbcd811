// What a switch changes, in words, from the two systems' data (the host.json the node runs now and
// the one the flake says, plus the unit lists) -- and the changes refused before anything is
// activated because they would lock the operator out. Pure: the CLI, --dry-run and the tests read
// exactly this.
import type { HostData } from "../plan/types";

export interface SwitchContext {
  /** The port the operator is connected on now. */
  operatorPort: number;
  /** The public key line the operator logs in with, when known ("ssh-ed25519 AAAA..."). */
  operatorKey: string | null;
  /** Another key of the new list proven (by a real login) to work; lifts the key refusal. */
  otherKeyProven?: boolean;
}

export interface UnitLists {
  /** Units active before the switch (from the target). */
  before: string[];
  /** Units the new system starts, when known (after the build); null = not known yet. */
  after: string[] | null;
}

export interface ChangeSummary {
  /** One line per change, in words; empty = nothing the tool manages changes. */
  lines: string[];
  /** Why the switch must not be activated; empty = allowed. */
  refusals: string[];
  /** Where the NEW configuration says the node answers: confirmation goes there. */
  confirmPort: number;
  confirmAddresses: string[];
  addressChanged: boolean;
}

const diff = <T>(a: T[], b: T[]) => ({
  added: b.filter((x) => !a.includes(x)),
  removed: a.filter((x) => !b.includes(x)),
});
const list = (xs: Array<string | number>) => xs.join(", ");
/** The key type and a short tail: enough to tell keys apart, never the whole line. */
export function keyLabel(line: string): string {
  const [type = "?", body = "", ...comment] = line.trim().split(/\s+/);
  return `${type} ...${body.slice(-8)}${comment.length ? ` (${comment.join(" ")})` : ""}`;
}
const keyBody = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(" ");

function addresses(h: HostData): string[] {
  return h.network.interfaces.flatMap((i) => i.addresses.map((a) => `${a} on ${i.name}`));
}
function routes(h: HostData): string[] {
  return h.network.interfaces.flatMap((i) =>
    i.routes.map((r) => `${r.destination} via ${r.gateway}${r.onLink ? " (on-link)" : ""} on ${i.name}`),
  );
}
function authMethods(h: HostData): string[] {
  return ["publickey", ...(h.ssh.passwordAuthentication ? ["password"] : [])];
}

export function summarizeChanges(
  old: HostData,
  next: HostData,
  ctx: SwitchContext,
  units: UnitLists = { before: [], after: null },
): ChangeSummary {
  const lines: string[] = [];
  const refusals: string[] = [];
  const say = (
    what: string,
    d: { added: unknown[]; removed: unknown[] },
    fmt = (xs: unknown[]) => list(xs as string[]),
  ) => {
    if (d.added.length) lines.push(`${what} added: ${fmt(d.added)}`);
    if (d.removed.length) lines.push(`${what} removed: ${fmt(d.removed)}`);
  };

  const ports = diff(old.ssh.ports, next.ssh.ports);
  if (ports.added.length || ports.removed.length)
    lines.push(`sshd ports: ${list(old.ssh.ports)} -> ${list(next.ssh.ports)}`);
  const am = diff(authMethods(old), authMethods(next));
  if (am.added.length || am.removed.length)
    lines.push(`sshd auth methods: ${list(authMethods(old))} -> ${list(authMethods(next))}`);
  if (old.ssh.permitRootLogin !== next.ssh.permitRootLogin)
    lines.push(`root login: ${old.ssh.permitRootLogin} -> ${next.ssh.permitRootLogin}`);
  if (old.ssh.adminUser !== next.ssh.adminUser)
    lines.push(`admin user: ${old.ssh.adminUser ?? "none"} -> ${next.ssh.adminUser ?? "none"}`);

  // compared by type and key (a changed comment is not a changed key), named with the comment
  const oldBodies = old.ssh.authorizedKeys.map(keyBody);
  const newBodies = next.ssh.authorizedKeys.map(keyBody);
  say(
    "authorized keys",
    {
      added: next.ssh.authorizedKeys.filter((k) => !oldBodies.includes(keyBody(k))),
      removed: old.ssh.authorizedKeys.filter((k) => !newBodies.includes(keyBody(k))),
    },
    (xs) => list((xs as string[]).map(keyLabel)),
  );

  if (old.firewall.enable !== next.firewall.enable)
    lines.push(`firewall: ${old.firewall.enable ? "on" : "off"} -> ${next.firewall.enable ? "on" : "off"}`);
  const tcp = diff(old.firewall.allowedTCPPorts, next.firewall.allowedTCPPorts);
  if (tcp.added.length) lines.push(`firewall opens TCP ${list(tcp.added)}`);
  if (tcp.removed.length) lines.push(`firewall closes TCP ${list(tcp.removed)}`);
  const udp = diff(old.firewall.allowedUDPPorts, next.firewall.allowedUDPPorts);
  if (udp.added.length) lines.push(`firewall opens UDP ${list(udp.added)}`);
  if (udp.removed.length) lines.push(`firewall closes UDP ${list(udp.removed)}`);

  const f2bOld = old.fail2ban;
  const f2bNew = next.fail2ban;
  if (f2bOld.enable !== f2bNew.enable)
    lines.push(`fail2ban: ${f2bOld.enable ? "on" : "off"} -> ${f2bNew.enable ? "on" : "off"}`);
  if (f2bOld.maxretry !== f2bNew.maxretry) lines.push(`fail2ban maxretry: ${f2bOld.maxretry} -> ${f2bNew.maxretry}`);
  if (f2bOld.bantime !== f2bNew.bantime) lines.push(`fail2ban bantime: ${f2bOld.bantime} -> ${f2bNew.bantime}`);
  say("fail2ban ignoreIP", diff(f2bOld.ignoreIP, f2bNew.ignoreIP));

  const addr = diff(addresses(old), addresses(next));
  say("addresses", addr);
  say("routes", diff(routes(old), routes(next)));
  if (list(old.network.dns) !== list(next.network.dns))
    lines.push(`DNS servers: ${list(old.network.dns) || "none"} -> ${list(next.network.dns) || "none"}`);

  if (units.after) {
    const u = diff(units.before, units.after);
    if (u.added.length) lines.push(`services started: ${list(u.added)}`);
    if (u.removed.length) lines.push(`services stopped: ${list(u.removed)}`);
  }
  for (const k of ["hostname", "timezone", "stateVersion", "profile"] as const)
    if (JSON.stringify(old[k]) !== JSON.stringify(next[k]))
      lines.push(`${k}: ${JSON.stringify(old[k])} -> ${JSON.stringify(next[k])}`);

  // Where the node answers after the switch: the operator's port if it stays, else the first new one.
  const confirmPort = next.ssh.ports.includes(ctx.operatorPort) ? ctx.operatorPort : (next.ssh.ports[0] ?? 0);
  if (next.ssh.ports.length === 0) refusals.push("the new configuration has no sshd port (ssh.ports is empty)");
  // The firewall must let the new sshd port in, or nobody (the operator included) gets in again.
  if (next.firewall.enable) {
    const shut = next.ssh.ports.filter((p) => !next.firewall.allowedTCPPorts.includes(p));
    if (shut.length === next.ssh.ports.length && shut.length > 0)
      refusals.push(
        `the firewall would drop SSH: sshd listens on ${list(shut)} but firewall.allowedTCPPorts (${list(next.firewall.allowedTCPPorts) || "none"}) does not open ${shut.length > 1 ? "any of them" : "it"}; add ${shut[0]} to firewall.allowedTCPPorts`,
      );
    else if (next.ssh.ports.includes(ctx.operatorPort) && shut.includes(ctx.operatorPort))
      refusals.push(
        `the firewall would drop your own SSH port ${ctx.operatorPort}: sshd still listens on it but firewall.allowedTCPPorts no longer opens it; add ${ctx.operatorPort} to firewall.allowedTCPPorts or remove it from ssh.ports`,
      );
  }
  if (next.ssh.authorizedKeys.length === 0)
    refusals.push("ssh.authorizedKeys is empty: after the switch no key could log in");
  else if (
    ctx.operatorKey &&
    !next.ssh.authorizedKeys.map(keyBody).includes(keyBody(ctx.operatorKey)) &&
    !ctx.otherKeyProven
  )
    refusals.push(
      `the key you are logged in with (${keyLabel(ctx.operatorKey)}) is removed from ssh.authorizedKeys and no other listed key was proven to log in; log in once with one of the remaining keys (-i) and switch with that key`,
    );

  const confirmAddresses = next.network.interfaces.flatMap((i) => i.addresses.map((a) => a.replace(/\/\d+$/, "")));
  return {
    lines,
    refusals,
    confirmPort,
    confirmAddresses,
    addressChanged: addr.added.length + addr.removed.length > 0,
  };
}
