// What an earlier switch left decides what the next one does. The state files are written by the
// REAL supervisor.sh (run with /bin/sh against toplevels whose switch-to-configuration only records
// the call), read back by the REAL target-state script (its state folder pointed at a temporary
// one) and parsed as a switch parses the target's answer.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { STATE_ROOT } from "../../../src/lockdown/remote-commands";
import { decidePreviousRun, runningMessage } from "../../../src/switch/previous-run";
import { CONFIRMED_HOST_JSON, parseTargetState, targetStateScript } from "../../../src/switch/target-state";
import { baseHost } from "../lockdown/host-fixture";

const SCRIPT = fileURLToPath(new URL("../../../src/lockdown/supervisor.sh", import.meta.url));
const roots: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  roots.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function toplevel(root: string, name: string): string {
  const t = join(root, name);
  mkdirSync(join(t, "bin"), { recursive: true });
  writeFileSync(join(t, "bin/switch-to-configuration"), `#!/bin/sh\necho "${name} $1" >> ${root}/calls\n`);
  chmodSync(join(t, "bin/switch-to-configuration"), 0o755);
  return t;
}

function lab() {
  const root = mkdtempSync(join(tmpdir(), "nn-prev-"));
  roots.push(root);
  const runs = join(root, "run");
  mkdirSync(runs);
  const hostJson = join(root, "confirmed-host.json");
  writeFileSync(hostJson, JSON.stringify(baseHost(), null, 2));
  return { root, runs, hostJson, neu: toplevel(root, "new"), old: toplevel(root, "old") };
}
type Lab = ReturnType<typeof lab>;

function supervise(l: Lab, stage: string, timeoutSec: number): ChildProcess {
  const p = spawn("/bin/sh", [SCRIPT, join(l.runs, stage), l.neu, l.old, String(timeoutSec)], { stdio: "ignore" });
  children.push(p);
  return p;
}

const stateOf = (l: Lab, stage: string) =>
  existsSync(join(l.runs, stage, "state")) ? readFileSync(join(l.runs, stage, "state"), "utf8") : "";

async function until(cond: () => boolean) {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error("timed out");
}

/** The switch's own one-round-trip script, run here with its state folder and record redirected. */
function readTarget(l: Lab): Promise<string> {
  const script = targetStateScript("h", 2222)
    .replaceAll(STATE_ROOT, l.runs)
    .replaceAll(CONFIRMED_HOST_JSON, l.hostJson);
  return new Promise((resolve, reject) =>
    execFile("/bin/sh", ["-c", script], (e, stdout) => (e && !stdout ? reject(e) : resolve(stdout))),
  );
}

async function decide(l: Lab, toplevels: { current: string; boot: string }) {
  const state = parseTargetState(await readTarget(l), 2222);
  return decidePreviousRun({
    runs: state.runs,
    now: state.now,
    currentToplevel: toplevels.current,
    bootToplevel: toplevels.boot,
  });
}

describe("decidePreviousRun on the supervisor's real state files", () => {
  it("no earlier supervisor (e.g. after a reboot emptied /run): nothing to settle", async () => {
    const l = lab();
    expect(await decide(l, { current: l.old, boot: l.old })).toEqual({ kind: "none" });
  });

  it("a supervisor still in its window: refused with the stage, the start, the window end and the time left", async () => {
    const l = lab();
    supervise(l, "final", 60);
    await until(() => /^\d+ switched \d+$/m.test(stateOf(l, "final")));
    const p = await decide(l, { current: l.neu, boot: l.old });
    const deadline = Number(/^\d+ switched (\d+)$/m.exec(stateOf(l, "final"))![1]);
    const started = Number(/^(\d+) switching/m.exec(stateOf(l, "final"))![1]);
    expect(p).toMatchObject({ kind: "running", stage: "final", phase: "waiting", since: started, windowEnd: deadline });
    if (p.kind !== "running") throw new Error(p.kind);
    expect(p.secondsLeft).toBeGreaterThan(30); // 60 s window, read right after it opened (slack for a loaded machine)
    expect(p.secondsLeft).toBeLessThanOrEqual(60);
    const clock = new Date(deadline * 1000).toISOString().slice(11, 19);
    expect(runningMessage(p)).toMatch(
      new RegExp(
        `supervisor final, waiting, started at \\d\\d:\\d\\d:\\d\\d UTC; its window ends at ${clock} UTC \\(\\d+s left\\)\\); nothing was changed`,
      ),
    );
  });

  it("a lockdown stage still running blocks a switch too", async () => {
    const l = lab();
    supervise(l, "dual-port", 60);
    await until(() => /switched/.test(stateOf(l, "dual-port")));
    expect(await decide(l, { current: l.neu, boot: l.old })).toMatchObject({ kind: "running", stage: "dual-port" });
  });

  it("the last run rolled back by itself: said, with its reason, then a normal switch", async () => {
    const l = lab();
    const p = supervise(l, "final", 1);
    await new Promise((r) => p.on("close", r));
    expect(await decide(l, { current: l.old, boot: l.old })).toMatchObject({
      kind: "rolled-back",
      stage: "final",
      reason: "no acknowledgement within 1s",
    });
    expect(readFileSync(join(l.root, "calls"), "utf8")).toBe("new test\nold switch\n");
  });

  it("acknowledged but the boot default is still the old system: finish that run (the toplevel it activated)", async () => {
    const l = lab();
    const p = supervise(l, "final", 60);
    await until(() => /switched/.test(stateOf(l, "final")));
    writeFileSync(join(l.runs, "final", "ack"), "");
    await new Promise((r) => p.on("close", r));
    expect(await decide(l, { current: l.neu, boot: l.old })).toMatchObject({
      kind: "unfinished",
      stage: "final",
      toplevel: l.neu,
    });
    // persisted already (the boot default is the acknowledged system): nothing left to do
    expect(await decide(l, { current: l.neu, boot: l.neu })).toEqual({ kind: "none" });
    // acknowledged but something else runs now: not ours to finish
    expect(await decide(l, { current: l.old, boot: l.old })).toEqual({ kind: "none" });
  });

  it("a supervisor killed inside its window: reported as stopped (its reboot timer remains), not refused", async () => {
    const l = lab();
    const p = supervise(l, "final", 60);
    await until(() => /switched/.test(stateOf(l, "final")));
    p.kill("SIGKILL");
    await new Promise((r) => p.on("close", r));
    expect(await decide(l, { current: l.neu, boot: l.old })).toEqual({
      kind: "stopped",
      stage: "final",
      phase: "waiting",
    });
  });

  it("an answer cut off by a dropped session is not mistaken for a missing host.json", async () => {
    const l = lab();
    const full = await readTarget(l);
    const cut = full.slice(0, full.indexOf("----nixnode-host-json----"));
    expect(() => parseTargetState(cut, 2222)).toThrow(
      /cut off \(the connection dropped; the target may be rebooting\)/,
    );
    expect(() => parseTargetState("", 2222)).toThrow(/cut off/);
    expect(parseTargetState(full, 2222).host.hostname).toBe(baseHost().hostname);
  });
});
