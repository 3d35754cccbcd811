// Switch timings behind 100 ms of added RTT (the project's latency proxy, 50 ms each way) on a real
// throwaway target with the nixos personality, locked down first (not measured): each run flips
// sshd between ports 2222 and 2200, so every switch is confirmed on a port that was closed before.
// Measured per run: switch ended -> confirmed (the tool's StageTiming.confirmationMs), the whole
// run, and the fresh SSH logins the target accepted (sshd.log "Accepted publickey" lines).
// Every SSH connection of the tool goes through a proxy; bare TCP probes go direct (a proxy
// always accepts).
import { PassThrough } from "node:stream";
import { locateFlakeHost } from "../src/lockdown/flake-files";
import { keyOnlyConnector, probeTcp } from "../src/lockdown/ssh-connector";
import { connectSsh } from "../src/remote/ssh-target";
import { healthCheckFor } from "../src/switch/health";
import { runSwitch } from "../src/switch/run-switch";
import { memoryLog } from "../src/ui/log";
import { createOutput } from "../src/ui/output";
import { startLatencyProxy } from "../test/targets/latency-proxy";
import { NEW_PORT, type Lab } from "../test/system/lockdown/fixture";
import { editHost, lockedDownLab } from "../test/system/switch/fixture";

const OTHER_PORT = 2200;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};
const accepted = async (lab: Lab) => ((await lab.t.sshdLog()).match(/Accepted publickey/g) ?? []).length;

async function supervisorsGone(lab: Lab) {
  const alive = `for f in /run/nixnode-lockdown/*/supervisor.pid; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && echo alive; done; true`;
  for (let i = 0; i < 120 && (await lab.t.exec(alive)).stdout.includes("alive"); i++)
    await new Promise((r) => setTimeout(r, 500));
}

async function once(lab: Lab, from: number, to: number, oneWayMs: number, confirmTimeoutSec: number) {
  editHost(lab, (h) => {
    h.ssh.ports = [to];
    h.firewall.allowedTCPPorts = [...h.firewall.allowedTCPPorts.filter((p) => p !== from), to];
  });
  const proxies = new Map<number, Awaited<ReturnType<typeof startLatencyProxy>>>();
  for (const p of [NEW_PORT, OTHER_PORT])
    proxies.set(p, await startLatencyProxy({ host: lab.t.address, port: p }, oneWayMs));
  const route = (p: number) => ({ host: "127.0.0.1", port: proxies.get(p)?.port ?? p });
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
  const loginsBefore = await accepted(lab);
  const started = Date.now();
  const primary = await connectSsh({
    host: "127.0.0.1",
    port: route(from).port,
    identityFiles: [lab.key.privatePath],
    pinnedHostKey: lab.fingerprint,
  });
  const base = keyOnlyConnector({
    base: { host: lab.t.address, user: "root", identityFiles: [lab.key.privatePath] },
    pinnedHostKey: lab.fingerprint,
    route,
  });
  const connector = { ...base, probe: (p: number, ms: number) => probeTcp({ host: lab.t.address, port: p }, ms) };
  const flake = locateFlakeHost(lab.flake);
  try {
    const result = await runSwitch({
      primary,
      currentPort: from,
      connector,
      flake,
      pinned: lab.fingerprint,
      operatorKeys: [{ publicKey: lab.key.publicKey, privatePath: lab.key.privatePath }],
      proveKeyLogin: async () => false,
      confirmTimeoutSec,
      dryRun: false,
      knownHostsFile: null,
      out,
      log: memoryLog(),
      // as the CLI does: the node's health after the SSH confirmation, before the ack
      healthCheck: healthCheckFor(flake.host, { keepOnFailedChecks: false, log: () => undefined }),
    });
    const totalMs = Date.now() - started;
    await primary.close().catch(() => undefined);
    // sshd logs the acceptance a moment after the handshake: let the last line land
    await new Promise((r) => setTimeout(r, 500));
    const logins = (await accepted(lab)) - loginsBefore;
    if (!result.timing) throw new Error("a confirmed switch without timing");
    const health = marks.find((m) => /checking the switched system's health/.test(m.text));
    const done = marks.find((m) => /made the boot default/.test(m.text));
    if (!health || !done) throw new Error(`progress lines missing:\n${marks.map((m) => m.text).join("\n")}`);
    return {
      totalMs,
      activationMs: result.timing.activationMs,
      confirmationMs: result.timing.confirmationMs,
      // confirmed -> health checks passed (the ack, persist and record follow and are subtracted)
      healthMs: done.at - health.at - result.timing.acknowledgementMs,
      acknowledgementMs: result.timing.acknowledgementMs,
      // the run's own primary connection is one of them; the rest are the stage's
      loginsPerSwitch: logins,
      loginsPerStage: logins - 1,
    };
  } finally {
    await primary.close().catch(() => undefined);
    for (const p of proxies.values()) await p.close();
  }
}

export async function benchSwitch(opts: { runs: number; oneWayMs: number }) {
  const confirmTimeoutSec = 120;
  const lab = await lockedDownLab();
  const rows: Array<Record<string, number>> = [];
  try {
    let port = NEW_PORT;
    for (let i = 0; i < opts.runs; i++) {
      await supervisorsGone(lab);
      const to = port === NEW_PORT ? OTHER_PORT : NEW_PORT;
      rows.push(await once(lab, port, to, opts.oneWayMs, confirmTimeoutSec));
      port = to;
    }
  } finally {
    await lab.stop();
  }
  const keys = Object.keys(rows[0] ?? {});
  return {
    runs: opts.runs,
    addedRttMs: 2 * opts.oneWayMs,
    confirmTimeoutSec,
    medians: Object.fromEntries(keys.map((k) => [k, median(rows.map((r) => r[k]!))])),
    raw: rows,
  };
}
