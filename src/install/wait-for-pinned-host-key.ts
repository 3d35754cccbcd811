// Waiting for the installed system: one loop of short SSH handshakes that read the host key the
// target presents and then hang up BEFORE authenticating (no login is spent, nothing is sent).
// Only the pinned key ends the wait; the previous system's key (the old OS, or the kexec installer
// that preserves it) means "not rebooted yet"; any other key aborts with both fingerprints.
import { createHash } from "node:crypto";
import { Client } from "ssh2";
import { CancelledError, OperationError } from "../errors";

export type HostKeyProbe =
  /** publicKey ("ssh-ed25519 AAAA...") is set by the real handshake; the fingerprint is what is compared. */
  | { kind: "key"; fingerprint: string; publicKey?: string }
  | { kind: "refused" | "timeout" | "unreachable"; message: string };

export type ProbeHostKey = (host: string, port: number, timeoutMs: number) => Promise<HostKeyProbe>;

export function fingerprintOfKeyBlob(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** One handshake: which ed25519 host key does host:port present? Never authenticates. */
export const probeHostKey: ProbeHostKey = (host, port, timeoutMs) => {
  return new Promise((resolve) => {
    const c = new Client();
    let seen: string | null = null;
    let seenKey: string | undefined;
    let settled = false;
    const finish = (r: HostKeyProbe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      c.removeAllListeners();
      c.on("error", () => undefined);
      c.end();
      c.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ kind: "timeout", message: `no SSH answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    c.on("error", (e: Error & { code?: string; level?: string }) => {
      if (seen) return finish({ kind: "key", fingerprint: seen, publicKey: seenKey });
      if (e.code === "ECONNREFUSED")
        return finish({ kind: "refused", message: "connection refused (sshd is not listening)" });
      if (e.level === "client-timeout" || e.code === "ETIMEDOUT")
        return finish({ kind: "timeout", message: e.message });
      finish({ kind: "unreachable", message: e.message });
    });
    c.on("close", () =>
      finish(
        seen
          ? { kind: "key", fingerprint: seen, publicKey: seenKey }
          : { kind: "unreachable", message: "connection closed before the host key was sent" },
      ),
    );
    c.on("ready", () =>
      finish(
        seen ? { kind: "key", fingerprint: seen, publicKey: seenKey } : { kind: "unreachable", message: "no host key" },
      ),
    );
    c.connect({
      host,
      port,
      username: "nixnode-host-key-probe",
      readyTimeout: timeoutMs,
      algorithms: { serverHostKey: ["ssh-ed25519"] },
      hostVerifier: (key: Buffer) => {
        seen = fingerprintOfKeyBlob(key);
        seenKey = `ssh-ed25519 ${key.toString("base64")}`;
        // refusing here ends the handshake: no authentication is attempted
        setImmediate(() => finish({ kind: "key", fingerprint: seen!, publicKey: seenKey }));
        return false;
      },
    });
  });
};

export interface WaitForPinnedOptions {
  host: string;
  port: number;
  pinned: string;
  /** Fingerprints that mean "still the previous system": the original OS's key (kept by the kexec installer). */
  previous: string[];
  timeoutMs: number;
  signal?: AbortSignal;
  /** Per-attempt handshake timeout; short so that the return of sshd is noticed quickly. */
  attemptTimeoutMs?: number;
  intervalMs?: number;
  onAttempt?(probe: HostKeyProbe): void;
  /** Hints printed when the wait expires (provider console, captured network, how to resume). */
  timeoutHints?: string[];
  probe?: ProbeHostKey;
}

export interface WaitResult {
  elapsedMs: number;
  attempts: number;
  /** Milliseconds between the first successful TCP answer and the pinned key being seen (diagnostic). */
  lastFailure: string | null;
}

export async function waitForPinnedHostKey(o: WaitForPinnedOptions): Promise<WaitResult> {
  const start = Date.now();
  const deadline = start + o.timeoutMs;
  const probe = o.probe ?? probeHostKey;
  let attempts = 0;
  let last: HostKeyProbe | null = null;
  for (;;) {
    if (o.signal?.aborted) throw new CancelledError("Interrupted while waiting for the installed system to answer.");
    const budget = Math.max(200, Math.min(o.attemptTimeoutMs ?? 1500, deadline - Date.now()));
    last = await probe(o.host, o.port, budget);
    attempts++;
    o.onAttempt?.(last);
    if (last.kind === "key") {
      if (last.fingerprint === o.pinned) return { elapsedMs: Date.now() - start, attempts, lastFailure: null };
      if (!o.previous.includes(last.fingerprint)) {
        throw new OperationError(`${o.host}:${o.port} answered with a host key that is not the pinned one`, {
          details: [
            `expected (pinned): ${o.pinned}`,
            `presented:        ${last.fingerprint}`,
            "Nothing was sent to it: the connection was closed before logging in.",
          ],
          hint: "either something intercepts the connection, or the install did not take (the machine booted something else). Check from the provider's console before trusting it.",
        });
      }
    }
    if (Date.now() >= deadline) break;
    await new Promise<void>((r) => {
      const onAbort = () => (clearTimeout(t), r());
      const t = setTimeout(() => (o.signal?.removeEventListener("abort", onAbort), r()), o.intervalMs ?? 250);
      o.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
  const observed =
    last?.kind === "key"
      ? `it still presents the previous system's host key ${last.fingerprint} (not rebooted into NixOS yet, or the install did not take)`
      : `last attempt: ${last?.message ?? "none"}`;
  throw new OperationError(
    `${o.host}:${o.port} did not answer with the pinned host key within ${Math.round(o.timeoutMs / 1000)} s`,
    {
      details: [observed, ...(o.timeoutHints ?? [])],
      hint: "open the provider's rescue/VNC console to see what the machine is doing; when it answers again, re-run the same command to resume",
    },
  );
}
