// `fleet install` of 1, 3 and 5 throwaway targets (nixos-anywhere stand-in, real sshd, real lockdown):
// wall time of the built CLI, its peak memory (/usr/bin/time -v), and the logins each target saw
// ("Accepted publickey" in its sshd log, minus the stand-in's own), against one single-host
// `install` with lockdown. Setup (targets, detect, fleet plan) is not timed. Bundled and run by
// bench/fleet-install.mjs.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { targetsSupported } from "../test/targets/index";
import { fleetFixture } from "../test/system/fleet/fleet-fixture";
import { installFixture } from "../test/system/install/install-fixture";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const accepted = (log: string) => (log.match(/Accepted publickey/g) ?? []).length;
const standinLogins = (file: string) =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("login")).length
    : 0;

/** The built CLI under /usr/bin/time -v: exit code, wall time, peak RSS (KiB). */
function timed(bin: string, args: string[], cwd: string, env: Record<string, string>) {
  const t0 = performance.now();
  return new Promise<{ code: number; wallMs: number; maxRssKiB: number; out: string }>((resolve) =>
    execFile(
      "/usr/bin/time",
      ["-v", process.execPath, bin, ...args],
      { cwd, env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const wallMs = performance.now() - t0;
        const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          wallMs,
          maxRssKiB: rss ? Number(rss[1]) : NaN,
          out: stdout + stderr,
        });
      },
    ),
  );
}

/** The fixtures find the stand-ins relative to their own source file, which a bundle is not next to. */
function standinPath(root: string): string {
  return `${join(root, "test/targets/standins/bin")}:${join(root, "test/targets/standins/installer/operator-bin")}:${process.env.PATH}`;
}

async function fleetRun(bin: string, root: string, n: number) {
  const f = await fleetFixture(n);
  f.env.PATH = standinPath(root);
  try {
    const before = await Promise.all(f.names.map(async (h) => accepted(await f.targets[h]!.sshdLog())));
    const standinLog = join(f.work, "standin-logins");
    const r = await timed(
      bin,
      [
        "fleet",
        "install",
        "--flake",
        f.flakeDir,
        "--yes",
        "--json",
        "-i",
        f.key.privatePath,
        "--known-hosts",
        f.knownHosts,
        "--accept-new-host-key",
        "--log-dir",
        join(f.work, "logs"),
        "--parallel",
        "5",
      ],
      f.work,
      { ...f.env, NIXNODE_STANDIN_LOG: standinLog },
    );
    if (r.code !== 0) throw new Error(`fleet install of ${n} exited ${r.code}: ${r.out.slice(-3000)}`);
    const after = await Promise.all(f.names.map(async (h) => accepted(await f.targets[h]!.sshdLog())));
    const perHost = after.map((a, i) => a - before[i]!);
    // the stand-in logs its own logins for all hosts in one file: the same count for every host
    const standin = standinLogins(standinLog) / n;
    return { wallMs: r.wallMs, maxRssKiB: r.maxRssKiB, toolLogins: perHost.map((p) => p - standin), standin };
  } finally {
    await f.cleanup();
  }
}

async function singleRun(bin: string, root: string) {
  const f = await installFixture();
  try {
    const before = accepted(await f.target.sshdLog());
    const standinLog = join(f.work, "standin-logins");
    const r = await timed(
      bin,
      [
        "install",
        `root@${f.target.address}`,
        "--config",
        f.configFile,
        "--yes",
        "--json",
        "-i",
        f.key.privatePath,
        "--host-key",
        f.originalFingerprint,
        "--known-hosts",
        f.knownHosts,
        "--engine",
        "nixos-anywhere",
        "--log-dir",
        join(f.work, "logs"),
      ],
      f.work,
      { ...f.env, PATH: standinPath(root), NIXNODE_STANDIN_LOG: standinLog },
    );
    if (r.code !== 0) throw new Error(`single install exited ${r.code}: ${r.out.slice(-3000)}`);
    const standin = standinLogins(standinLog);
    return {
      wallMs: r.wallMs,
      maxRssKiB: r.maxRssKiB,
      toolLogins: accepted(await f.target.sshdLog()) - before - standin,
      standin,
    };
  } finally {
    await f.cleanup();
  }
}

export async function benchFleetInstall(opts: { runs: number; bin: string; root: string; sizes: number[] }) {
  const ok = targetsSupported();
  if (!ok.ok) throw new Error(`cannot run: ${ok.reason}`);
  const singles = [];
  for (let i = 0; i < opts.runs; i++) singles.push(await singleRun(opts.bin, opts.root));
  const rows: Array<Record<string, number | string>> = [
    {
      run: "install (1 host, with lockdown)",
      "wall s (median)": +(median(singles.map((s) => s.wallMs)) / 1000).toFixed(1),
      "tool logins per host (max)": Math.max(...singles.map((s) => s.toolLogins)),
      "stand-in logins per host": median(singles.map((s) => s.standin)),
      "peak RSS MiB (median)": +(median(singles.map((s) => s.maxRssKiB)) / 1024).toFixed(0),
      "wall / fleet of 1": "-",
    },
  ];
  const fleets: Record<number, number> = {};
  for (const n of opts.sizes) {
    const runs = [];
    for (let i = 0; i < opts.runs; i++) runs.push(await fleetRun(opts.bin, opts.root, n));
    fleets[n] = median(runs.map((r) => r.wallMs));
    rows.push({
      run: `fleet install, ${n} host(s)`,
      "wall s (median)": +(fleets[n]! / 1000).toFixed(1),
      "tool logins per host (max)": Math.max(...runs.flatMap((r) => r.toolLogins)),
      "stand-in logins per host": median(runs.map((r) => r.standin)),
      "peak RSS MiB (median)": +(median(runs.map((r) => r.maxRssKiB)) / 1024).toFixed(0),
      "wall / fleet of 1": fleets[opts.sizes[0]!] ? +(fleets[n]! / fleets[opts.sizes[0]!]!).toFixed(2) : "-",
    });
  }
  return { runs: opts.runs, rows };
}
