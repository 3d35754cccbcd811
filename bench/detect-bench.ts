// What `detect` costs on the wire: logins (the target sshd's "Accepted" lines), protocol round trips
// (counted by a proxy that sees every turn of the conversation), and wall time with and without
// 100 ms of added round-trip delay (the harness's delaying proxy, 50 ms each way). Runs against a
// real throwaway target. Bundled and started by bench/detect.mjs; needs root like the system tests.
import { execFile, spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { detectFacts } from "../src/detect/detect";
import { connectSsh } from "../src/remote/ssh-target";
import { memoryLog } from "../src/ui/log";
import { makeKeyPair } from "../test/helpers/ssh-keys";
import { looksLikeKvmVps, operatorHome } from "../test/system/detect/operator-home";
import { startTarget, targetsSupported } from "../test/targets/index";

/** Counts turns: each time data flows server->client after client->server is one round trip. */
function turnCounter(toHost: string, toPort: number) {
  let last: "up" | "down" | null = null;
  let turns = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(toPort, toHost);
    client.on("data", (d) => {
      last = "up";
      upstream.write(d);
    });
    upstream.on("data", (d) => {
      if (last === "up") turns++;
      last = "down";
      client.write(d);
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  return {
    listen: () =>
      new Promise<number>((r) => server.listen(0, "127.0.0.1", () => r((server.address() as net.AddressInfo).port))),
    turns: () => turns,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const accepted = (log: string) => log.split("\n").filter((l) => /Accepted \S+ for /.test(l)).length;

export async function benchDetect(opts: { runs: number; bin: string }) {
  const ok = targetsSupported();
  if (!ok.ok) throw new Error(`cannot run: ${ok.reason}`);
  const dir = mkdtempSync(join(tmpdir(), "nnt-bench-detect-"));
  const key = await makeKeyPair(dir);
  const t = await startTarget({ authorizedKeys: [key.publicKey], virt: "kvm" });
  await looksLikeKvmVps(t);
  const home = await operatorHome(t, key);
  const pinnedHostKey = await t.hostKeyFingerprint();
  const hostLine = spawnSync("ssh-keygen", ["-y", "-f", t.hostKeyPath], { encoding: "utf8" }).stdout.trim();
  // A fresh delaying proxy per connection; the CLI checks known_hosts, so each gets its entry.
  const endpoint = async (delayed: boolean) => {
    if (!delayed) return { host: t.address, port: t.port, close: async () => undefined };
    const p = await t.latencyProxy(50);
    appendFileSync(join(home, ".ssh", "known_hosts"), `[127.0.0.1]:${p.port} ${hostLine}\n`);
    return p;
  };
  const rows: Array<Record<string, number | string>> = [];
  try {
    for (const [label, delayed] of [
      ["direct", false],
      ["+100 ms RTT", true],
    ] as const) {
      const lib = {
        connect: [] as number[],
        probe: [] as number[],
        turnsAuth: [] as number[],
        turnsAfter: [] as number[],
        logins: [] as number[],
      };
      const cli = { wall: [] as number[], logins: [] as number[] };
      for (let i = 0; i < opts.runs; i++) {
        // In-process: connect + detectFacts through the turn-counting proxy.
        const e1 = await endpoint(delayed);
        const counter = turnCounter(e1.host, e1.port);
        const cport = await counter.listen();
        const before = accepted(await t.sshdLog());
        const t0 = performance.now();
        const ssh = await connectSsh({
          host: "127.0.0.1",
          port: cport,
          user: "root",
          identityFiles: [key.privatePath],
          pinnedHostKey,
          log: memoryLog(),
        });
        const t1 = performance.now();
        const turnsAuth = counter.turns();
        await detectFacts(ssh);
        const t2 = performance.now();
        lib.turnsAfter.push(counter.turns() - turnsAuth);
        await ssh.close();
        await counter.close();
        await e1.close();
        lib.connect.push(t1 - t0);
        lib.probe.push(t2 - t1);
        lib.turnsAuth.push(turnsAuth);
        lib.logins.push(accepted(await t.sshdLog()) - before);
        // The CLI as a user runs it (node start-up included).
        const e2 = await endpoint(delayed);
        const b2 = accepted(await t.sshdLog());
        const c0 = performance.now();
        // async: the delaying proxy lives in this process and must keep forwarding meanwhile
        const r = await new Promise<{ code: number; out: string }>((resolve) =>
          execFile(
            process.execPath,
            [opts.bin, "detect", `root@${delayed ? `127.0.0.1:${e2.port}` : e2.host}`, "--json"],
            { env: { ...process.env, HOME: home, SSH_AUTH_SOCK: "" } },
            (err, stdout, stderr) =>
              resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
          ),
        );
        cli.wall.push(performance.now() - c0);
        if (r.code !== 0) throw new Error(`detect (${label}) exited ${r.code}: ${r.out}`);
        cli.logins.push(accepted(await t.sshdLog()) - b2);
        await e2.close();
      }
      rows.push({
        path: label,
        "connect+auth ms": Math.round(median(lib.connect)),
        "probe ms": Math.round(median(lib.probe)),
        "turns to auth": median(lib.turnsAuth),
        "turns after auth": median(lib.turnsAfter),
        "logins (lib)": Math.max(...lib.logins),
        "CLI wall ms": Math.round(median(cli.wall)),
        "logins (CLI)": Math.max(...cli.logins),
      });
    }
  } finally {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
  const [direct, delayed] = rows as Array<Record<string, number>>;
  const extra = {
    "connect+auth added / RTT": +((delayed!["connect+auth ms"]! - direct!["connect+auth ms"]!) / 100).toFixed(1),
    "probe added / RTT": +((delayed!["probe ms"]! - direct!["probe ms"]!) / 100).toFixed(1),
    "CLI wall added / RTT": +((delayed!["CLI wall ms"]! - direct!["CLI wall ms"]!) / 100).toFixed(1),
  };
  return { runs: opts.runs, rows, extra };
}
