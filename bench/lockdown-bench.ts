// Lockdown timings behind 100 ms of added RTT (the project's latency proxy, 50 ms each way) on a
// real throwaway target with the nixos personality: start -> confirmed final state, split per
// stage into activation / confirmation / acknowledgement; and, with the new port blocked
// upstream, how long until the failure is detected and until access is restored and verified.
// Every SSH connection of the tool (the primary, the fallback, every confirmation) goes through a
// proxy; only the bare TCP probes (is the port open?) go direct, because a proxy always accepts.
import { PassThrough } from "node:stream";
import { runLockdown } from "../src/lockdown";
import { keyOnlyConnector, probeTcp } from "../src/lockdown/ssh-connector";
import { connectSsh } from "../src/remote/ssh-target";
import { memoryLog } from "../src/ui/log";
import { createOutput } from "../src/ui/output";
import { startLatencyProxy } from "../test/targets/latency-proxy";
import { NEW_PORT, startLab, type Lab } from "../test/system/lockdown/fixture";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

async function once(lab: Lab, oneWayMs: number, confirmTimeoutSec: number) {
  const p22 = await startLatencyProxy({ host: lab.t.address, port: 22 }, oneWayMs);
  const pNew = await startLatencyProxy({ host: lab.t.address, port: NEW_PORT }, oneWayMs);
  const route = (p: number) => ({ host: "127.0.0.1", port: p === 22 ? p22.port : p === NEW_PORT ? pNew.port : p });
  const marks: Array<{ at: number; text: string }> = [];
  const stream = new PassThrough();
  stream.on("data", (d: Buffer) =>
    d
      .toString()
      .split("\n")
      .filter(Boolean)
      .forEach((text) => marks.push({ at: Date.now(), text })),
  );
  const out = createOutput({ stdout: stream, stderr: stream, json: false, env: { NO_COLOR: "1" }, stdinIsTTY: false });
  const started = Date.now();
  const primary = await connectSsh({
    host: "127.0.0.1",
    port: p22.port,
    password: lab.t.rootPassword,
    pinnedHostKey: lab.fingerprint,
  });
  const base = keyOnlyConnector({
    base: { host: lab.t.address, user: "root", identityFiles: [lab.key.privatePath] },
    pinnedHostKey: lab.fingerprint,
    route,
  });
  const connector = { ...base, probe: (p: number, ms: number) => probeTcp({ host: lab.t.address, port: p }, ms) };
  try {
    const result = await runLockdown({
      primary,
      currentPort: 22,
      connector,
      flakeDir: lab.flake,
      confirmTimeoutSec,
      knownHostsFile: null,
      out,
      log: memoryLog(),
    });
    return { ok: true as const, totalMs: Date.now() - started, result, marks };
  } catch (e) {
    return {
      ok: false as const,
      totalMs: Date.now() - started,
      error: (e as Error).message,
      endedAt: Date.now(),
      marks,
    };
  } finally {
    await primary.close().catch(() => undefined);
    await p22.close();
    await pNew.close();
  }
}

export async function benchLockdown(opts: { runs: number; oneWayMs: number }) {
  const ok: Array<Record<string, number>> = [];
  const failed: Array<Record<string, number>> = [];
  for (let i = 0; i < opts.runs; i++) {
    const lab = await startLab();
    try {
      const r = await once(lab, opts.oneWayMs, 120);
      if (!r.ok) throw new Error(`happy run failed: ${r.error}`);
      const [s1, s2] = r.result.timings;
      ok.push({
        totalMs: r.totalMs,
        stage1ActivationMs: s1!.activationMs,
        stage1ConfirmationMs: s1!.confirmationMs,
        stage1AcknowledgementMs: s1!.acknowledgementMs,
        stage2ActivationMs: s2!.activationMs,
        stage2ConfirmationMs: s2!.confirmationMs,
        stage2AcknowledgementMs: s2!.acknowledgementMs,
      });
    } finally {
      await lab.stop();
    }
  }
  for (let i = 0; i < opts.runs; i++) {
    const lab = await startLab();
    try {
      await lab.t.faults.blockPort(NEW_PORT);
      const r = await once(lab, opts.oneWayMs, 120);
      if (r.ok) throw new Error("the blocked-port run succeeded: it must not");
      const confirming = r.marks.find((m) => /confirming with a new key-only login/.test(m.text))!;
      const rolling = r.marks.find((m) => /rolling back$/.test(m.text))!;
      failed.push({
        detectMs: rolling.at - confirming.at,
        restoreAndVerifyMs: r.endedAt - rolling.at,
        totalMs: r.totalMs,
      });
    } finally {
      await lab.stop();
    }
  }
  const med = (rows: Array<Record<string, number>>) =>
    Object.fromEntries(Object.keys(rows[0] ?? {}).map((k) => [k, median(rows.map((r) => r[k]!))]));
  return {
    runs: opts.runs,
    addedRttMs: 2 * opts.oneWayMs,
    confirmTimeoutSec: 120,
    confirmed: med(ok),
    blockedPort: med(failed),
    raw: { ok, failed },
  };
}
