// Confirmation over NEW connections only (LOCKDOWN.md step 4): the new port answers, with the
// pinned host key, a key-only login works, and the server no longer offers password or
// keyboard-interactive (asked with an auth 'none' query, so no failed attempt is spent and
// fail2ban counts nothing). Retries within a budget: sshd may take a moment to listen.
import { hostKeyFailureOf, type HostKeyFailureKind } from "../remote/ssh-errors";
import type { LockdownConnector, PortProbe, RemoteSession } from "./types";

/** Why the new configuration could not be confirmed: the hint and the rollback message follow from it. */
export type ConfirmFailure =
  | { kind: "interrupted" }
  | { kind: "port"; probe: Exclude<PortProbe, "open"> }
  | { kind: "host-key"; hostKey: HostKeyFailureKind }
  | { kind: "weak-auth" }
  | { kind: "handshake" }
  | { kind: "login" }
  | { kind: "not-tried" };

export type Confirmation =
  | { ok: true; session: RemoteSession; attempts: number }
  | { ok: false; observed: string; failure: ConfirmFailure; attempts: number };

/** What a host-key refusal on the new port means, per kind (never read from the message text). */
export function describeHostKeyFailure(port: number, kind: HostKeyFailureKind, message: string): string {
  if (kind === "changed") return `port ${port} answered with a host key that is not the pinned one (${message})`;
  if (kind === "declined") return `the host key on port ${port} was declined (${message})`;
  if (kind === "revoked") return `port ${port} answered with a host key marked @revoked (${message})`;
  return `port ${port} answered with a host key that is not on record (${message})`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function describeProbe(port: number, p: PortProbe, seconds: number): string {
  if (p === "timeout")
    return `port ${port} never answered from here within ${seconds}s; the provider's firewall probably blocks it`;
  if (p === "refused") return `port ${port} refused connections from here: nothing listened on it`;
  return `port ${port} was unreachable from here (no route); your network or the target's link is down`;
}

/** A host key that is not accepted ends the confirmation at once: retrying cannot change it. */
function hostKeyRefusal(e: unknown, port: number, attempts: number): Confirmation | null {
  const hk = hostKeyFailureOf(e);
  if (!hk) return null;
  return {
    ok: false,
    observed: describeHostKeyFailure(port, hk.kind, (e as Error).message),
    failure: { kind: "host-key", hostKey: hk.kind },
    attempts,
  };
}

export async function confirmNewConfig(
  connector: LockdownConnector,
  port: number,
  opts: { budgetMs: number; signal?: AbortSignal; log(line: string): void },
): Promise<Confirmation> {
  const started = Date.now();
  let attempts = 0;
  let observed = `port ${port} was not tried`;
  let failure: ConfirmFailure = { kind: "not-tried" };
  while (attempts === 0 || Date.now() - started < opts.budgetMs) {
    if (opts.signal?.aborted)
      return {
        ok: false,
        observed: "interrupted (Ctrl-C) during the confirmation",
        failure: { kind: "interrupted" },
        attempts,
      };
    attempts++;
    const left = Math.max(2000, opts.budgetMs - (Date.now() - started));
    const probe = await connector.probe(port, Math.min(5000, left));
    if (probe !== "open") {
      observed = describeProbe(port, probe, Math.round((Date.now() - started) / 1000));
      failure = { kind: "port", probe };
      opts.log(`confirm attempt ${attempts}: ${probe}`);
      await sleep(probe === "timeout" ? 0 : 500);
      continue;
    }
    let methods: string[];
    try {
      methods = await connector.authMethods(port);
    } catch (e) {
      const refused = hostKeyRefusal(e, port, attempts);
      if (refused) return refused;
      const msg = (e as Error).message;
      observed = `port ${port} answered but the SSH handshake failed: ${msg}`;
      failure = { kind: "handshake" };
      opts.log(`confirm attempt ${attempts}: ${msg}`);
      await sleep(500);
      continue;
    }
    const weak = methods.filter((m) => m === "password" || m === "keyboard-interactive");
    if (weak.length)
      return {
        ok: false,
        observed: `port ${port} still offers ${weak.join(" and ")} logins`,
        failure: { kind: "weak-auth" },
        attempts,
      };
    try {
      const session = await connector.openKeySession(port);
      return { ok: true, session, attempts };
    } catch (e) {
      const refused = hostKeyRefusal(e, port, attempts);
      if (refused) return refused;
      const msg = (e as Error).message;
      observed = `a key-only login on port ${port} failed: ${msg}`;
      failure = { kind: "login" };
      opts.log(`confirm attempt ${attempts}: ${msg}`);
      await sleep(500);
    }
  }
  return { ok: false, observed, failure, attempts };
}
