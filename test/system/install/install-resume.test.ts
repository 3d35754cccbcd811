// Interruptions: the link drops mid-install, the tool is SIGKILLed, the operator presses Ctrl-C.
// Each time the target is left in the NixOS installer, and re-running the same command resumes
// there (kexec is not repeated) and finishes with the pinned key.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { BIN } from "../../helpers/cli";
import { targetsSupported } from "../../targets/index";
import { installFixture, type InstallFixture } from "./install-fixture";

const supported = targetsSupported();
let f: InstallFixture | null = null;
afterEach(async () => {
  await f?.cleanup();
  f = null;
});

async function waitForFile(p: string, ms = 90_000): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (existsSync(p)) return readFileSync(p, "utf8");
    await sleep(100);
  }
  throw new Error(`${p} never appeared`);
}

function pauseEnv(fx: InstallFixture, phase: string) {
  const pauseFile = join(fx.work, `pause-${phase}`);
  return { env: { NIXNODE_STANDIN_PAUSE_AT: phase, NIXNODE_STANDIN_PAUSE_FILE: pauseFile }, pauseFile };
}

/** The built CLI as a child process we can signal. */
function spawnInstall(fx: InstallFixture, env: Record<string, string>) {
  const args = [
    "install",
    `root@${fx.target.address}`,
    "--config",
    fx.configFile,
    "--yes",
    "--json",
    "-i",
    fx.key.privatePath,
    "--host-key",
    fx.originalFingerprint,
    "--known-hosts",
    fx.knownHosts,
    "--no-lockdown",
    "--log-dir",
    join(fx.work, "logs"),
  ];
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: fx.work,
    env: { ...process.env, ...fx.env, ...env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code, sig) => resolve(code ?? (sig ? -1 : null))),
  );
  return { child, exited, out: () => ({ stdout, stderr }) };
}

async function expectFinishedInstall(
  fx: InstallFixture,
  r: Awaited<ReturnType<InstallFixture["install"]>>,
  phases: string[],
) {
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const result = r.events.find((e) => e.type === "result") as {
    data: { hostKeyFingerprint: string; resumedFrom: string | null };
  };
  expect(result.data.resumedFrom).not.toBeNull();
  // kexec was not run again: the resumed run starts with the phase that did not finish
  const finished = r.events
    .filter((e) => e.type === "step" && e.status === "done")
    .map((e) => e.phase as string)
    .filter((p) => ["kexec", "disko", "install", "reboot", "verify"].includes(p));
  expect(finished).toEqual(phases);
  expect(await fx.target.hostKeyFingerprint()).toBe(result.data.hostKeyFingerprint);
  expect((await fx.target.exec("cat /etc/os-release")).stdout).toMatch(/^ID=nixos$/m);
  expect((await fx.target.exec("cat /etc/os-release")).stdout).not.toMatch(/VARIANT_ID=installer/);
}

describe.skipIf(!supported.ok)(
  `install interrupted and resumed ${supported.ok ? "" : `(skipped: ${supported.reason})`}`,
  () => {
    it("the link drops mid-install: clear failure, then a re-run resumes in the installer", async () => {
      f = await installFixture();
      const { env, pauseFile } = pauseEnv(f, "install");
      const first = f.install([], { env });
      await waitForFile(`${pauseFile}.reached`);
      await f.target.faults.linkDown();
      (await import("node:fs")).writeFileSync(pauseFile, "go");
      const r1 = await first;
      expect(r1.code).toBe(3);
      const err = r1.events.find((e) => e.type === "error") as {
        message: string;
        hint: string;
        data: { details: string[] };
      };
      expect(err.message).toMatch(/nixos-anywhere failed \(exit 255\) during install/);
      const details = err.data.details.join("\n");
      expect(details).toMatch(/Connection timed out/);
      expect(details).toMatch(/runs the NixOS installer/);
      expect(err.hint).toMatch(/resumes/);
      const state = JSON.parse(readFileSync(join(f.flakeDir, ".nixnode", "state.json"), "utf8"));
      expect(state.install).toMatchObject({ phasesDone: ["kexec", "disko"], phaseRunning: "install", verified: false });

      await f.target.faults.linkUp();
      // disko had finished and the installer kept /mnt: the re-run goes on with the install phase
      await expectFinishedInstall(f, await f.install(), ["install", "reboot", "verify"]);
    });

    it("the tool is killed (SIGKILL) during disko: a re-run resumes from state.json", async () => {
      f = await installFixture();
      const { env, pauseFile } = pauseEnv(f, "disko");
      const run = spawnInstall(f, env);
      const standinPid = Number(await waitForFile(`${pauseFile}.reached`));
      // the kill lands once the tool has seen nixos-anywhere's disko line (it records the phase first)
      for (let i = 0; i < 100 && !/"phase":"disko","status":"start"/.test(run.out().stdout); i++) await sleep(100);
      run.child.kill("SIGKILL");
      process.kill(standinPid, "SIGKILL");
      await run.exited;
      const state = JSON.parse(readFileSync(join(f.flakeDir, ".nixnode", "state.json"), "utf8"));
      expect(state.install).toMatchObject({ phasesDone: ["kexec"], phaseRunning: "disko" });
      // a SIGKILL runs no cleanup, so the staged key is not reused: the resumed install pins a new one
      await expectFinishedInstall(f, await f.install(), ["disko", "install", "reboot", "verify"]);
    });

    it("Ctrl-C during the install explains the target's state and exits 130", async () => {
      f = await installFixture();
      const { env, pauseFile } = pauseEnv(f, "install");
      const run = spawnInstall(f, env);
      await waitForFile(`${pauseFile}.reached`);
      run.child.kill("SIGINT");
      expect(await run.exited).toBe(130);
      const events = run
        .out()
        .stdout.split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const err = events.find((e) => e.type === "error") as {
        message: string;
        hint: string;
        data: { details: string[] };
      };
      expect(err.message).toMatch(/Interrupted during install/);
      expect(err.data.details.join("\n")).toMatch(/runs the NixOS installer/);
      expect(err.hint).toMatch(/resume/);
    });
  },
);
