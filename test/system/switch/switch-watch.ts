// Helpers for the tests that run the built `switch` CLI against a locked-down lab and strike at a
// precise moment of its supervisor (watched through the target's own namespaces, never the network).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { BIN } from "../../helpers/cli";
import type { TestTarget } from "../../targets";
import type { Lab } from "../lockdown/fixture";

export function switchArgs(lab: Lab, port: number, ...extra: string[]): string[] {
  return [
    "switch",
    `root@${lab.t.address}:${port}`,
    "--flake",
    lab.flake,
    "-i",
    lab.key.privatePath,
    "--known-hosts",
    join(lab.work, "known_hosts"),
    ...extra,
  ];
}

/** The switch's supervisor (not the lockdown's finished one in the same folder) reached `event`. */
export async function waitForSwitch(t: TestTarget, lockdownToplevel: string, event: string, maxMs = 120_000) {
  const until = Date.now() + maxMs;
  for (;;) {
    const r = await t.exec("cat /run/nixnode-lockdown/final/state 2>/dev/null || true");
    const top = /^\d+ switching (\S+)$/m.exec(r.stdout)?.[1];
    if (top && top !== lockdownToplevel && new RegExp(`^\\d+ ${event}\\b`, "m").test(r.stdout)) return r.stdout;
    if (Date.now() > until) throw new Error(`the switch's supervisor never reached "${event}":\n${r.stdout}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

export async function supervisorsGone(t: TestTarget) {
  const alive = `for f in /run/nixnode-lockdown/*/supervisor.pid; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && echo alive; done; true`;
  for (let i = 0; i < 120; i++) {
    if (!(await t.exec(alive)).stdout.includes("alive")) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("a supervisor was still running after 60 s");
}

export function spawnCli(lab: Lab, args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", HOME: lab.work },
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on("close", (_c, sig) => r(sig)));
  return { child, exited, output: () => output };
}
