// What the install costs on the wire, and how fast it notices the new system: (1) logins and
// commands the TOOL itself uses across a whole install (the target sshd's "Accepted" and "Starting
// session" lines, minus those of the nixos-anywhere stand-in, which counts its own), for both engines;
// (2) the delay between sshd answering again and waitForPinnedHostKey returning, when sshd was down
// (connection refused) and when the link was down (packets lost). Bundled and run by bench/install.mjs.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { waitForPinnedHostKey } from "../src/install/wait-for-pinned-host-key";
import { makeKeyPair } from "../test/helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../test/targets/index";
import { addKexecPersonality, startKexecMirror } from "../test/targets/standins/kexec-personality";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const count = (log: string, re: RegExp) => log.split("\n").filter((l) => re.test(l)).length;

async function oneInstall(bin: string, standinBin: string, engine: "nixos-anywhere" | "builtin") {
  const work = mkdtempSync(join(tmpdir(), "nn-bench-install-"));
  const home = join(work, "home");
  mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
  const key = await makeKeyPair(join(home, ".ssh"));
  const t = await startTarget({ virt: "kvm", memoryMiB: 4096, authorizedKeys: [key.publicKey] });
  let mirror: Awaited<ReturnType<typeof startKexecMirror>> | null = null;
  try {
    if (!existsSync("/usr/bin/cpio")) await t.writeFile("/usr/local/sbin/cpio", "#!/bin/sh\n", 0o755);
    // the kexec image and its digest come from the suite's mirror (loopback / the target's veth), never GitHub
    const kexec = engine === "builtin" ? addKexecPersonality(t, join(standinBin, "..")) : null;
    if (!kexec) writeFileSync(join(work, "kexec.tar.gz"), "stand-in\n");
    const m = await startKexecMirror(kexec?.tarball ?? join(work, "kexec.tar.gz"), {
      downloadsFrom: kexec ? t.operatorAddress : undefined,
    });
    mirror = m;
    writeFileSync(
      join(work, "nixnode.json"),
      JSON.stringify({ hostname: "node1", ssh: { authorizedKeys: [key.publicKey] } }),
    );
    const standinLog = join(work, "standin-logins");
    const args = [
      bin,
      "install",
      `root@${t.address}`,
      "--config",
      join(work, "nixnode.json"),
      "--yes",
      "--json",
      "-i",
      key.privatePath,
      "--host-key",
      await t.hostKeyFingerprint(),
      "--known-hosts",
      join(home, ".ssh", "known_hosts"),
      "--no-lockdown",
      "--engine",
      engine,
      "--log-dir",
      join(work, "logs"),
    ];
    const t0 = performance.now();
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        process.execPath,
        args,
        {
          cwd: work,
          env: {
            ...process.env,
            HOME: home,
            SSH_AUTH_SOCK: "",
            NIXNODE_STANDIN_TARGETS: t.dir,
            NIXNODE_STANDIN_LOG: standinLog,
            ...m.env,
            // the operator's nix is the stand-in: the real one would fetch the flake's inputs
            PATH: `${engine === "nixos-anywhere" ? `${standinBin}:` : ""}${join(standinBin, "..", "installer", "operator-bin")}:${process.env.PATH}`,
            NIXNODE_STANDIN_NIX_LOG: join(work, "operator-nix.log"),
          },
          maxBuffer: 64 * 1024 * 1024,
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    const wallMs = performance.now() - t0;
    if (r.code !== 0) throw new Error(`install (${engine}) exited ${r.code}: ${r.out.slice(-2000)}`);
    const log = await t.sshdLog();
    const standin = existsSync(standinLog) ? count(readFileSync(standinLog, "utf8"), /login/) : 0;
    return {
      wallMs,
      toolLogins: count(log, /Accepted \S+ for /) - standin,
      // each stand-in login runs one command (`true`)
      toolCommands: count(log, /Starting session: command/) - standin,
      standinLogins: standin,
    };
  } finally {
    await mirror?.close();
    await t.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** sshd comes back after `downMs`; how long after it listens does the wait return? */
async function noticeDelay(t: TestTarget, mode: "refused" | "link-down", downMs: number) {
  const pinned = await t.hostKeyFingerprint();
  await t.killSshd();
  if (mode === "link-down") await t.faults.linkDown();
  let noticedAt = 0;
  const waiting = waitForPinnedHostKey({ host: t.address, port: t.port, pinned, previous: [], timeoutMs: 60_000 }).then(
    () => (noticedAt = performance.now()),
  );
  await sleep(downMs);
  if (mode === "link-down") await t.faults.linkUp();
  const restartStart = performance.now();
  await t.restartSshd(); // returns once sshd listens (start-sshd polls every 50 ms)
  const upAt = performance.now();
  await waiting;
  // sshd listened at some point between restartStart and upAt; measure from the earlier bound (pessimistic)
  return Math.max(0, noticedAt - restartStart);
}

export async function benchInstall(opts: { runs: number; bin: string; standinBin: string }) {
  const ok = targetsSupported();
  if (!ok.ok) throw new Error(`cannot run: ${ok.reason}`);
  const installs: Array<Record<string, number | string>> = [];
  for (const engine of ["nixos-anywhere", "builtin"] as const) {
    const runs = [];
    for (let i = 0; i < opts.runs; i++) runs.push(await oneInstall(opts.bin, opts.standinBin, engine));
    installs.push({
      engine,
      "tool logins (max)": Math.max(...runs.map((r) => r.toolLogins)),
      "tool commands (median)": median(runs.map((r) => r.toolCommands)),
      "stand-in logins": median(runs.map((r) => r.standinLogins)),
      "wall s (median)": +(median(runs.map((r) => r.wallMs)) / 1000).toFixed(1),
    });
  }
  const dir = mkdtempSync(join(tmpdir(), "nn-bench-notice-"));
  const key = await makeKeyPair(dir);
  const t = await startTarget({ authorizedKeys: [key.publicKey] });
  const notice: Array<Record<string, number | string>> = [];
  try {
    for (const mode of ["refused", "link-down"] as const) {
      const xs: number[] = [];
      for (let i = 0; i < Math.max(5, opts.runs); i++) xs.push(await noticeDelay(t, mode, 3000));
      notice.push({
        "while down": mode === "refused" ? "sshd not listening (refused)" : "link down (packets lost)",
        "median ms": Math.round(median(xs)),
        "max ms": Math.round(Math.max(...xs)),
        runs: xs.length,
      });
    }
  } finally {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { runs: opts.runs, installs, notice };
}
