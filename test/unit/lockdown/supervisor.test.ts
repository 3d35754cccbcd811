// Runs the REAL supervisor.sh with /bin/sh against toplevels whose switch-to-configuration only
// records what it was asked to do: the rollback decisions are observable in that record.
import { execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { parseSupervisorState } from "../../../src/lockdown/supervisor-state";

const SCRIPT = fileURLToPath(new URL("../../../src/lockdown/supervisor.sh", import.meta.url));
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function toplevel(root: string, name: string, exitCode = 0): string {
  const t = join(root, name);
  mkdirSync(join(t, "bin"), { recursive: true });
  writeFileSync(
    join(t, "bin/switch-to-configuration"),
    `#!/bin/sh\necho "${name} $1" >> ${root}/calls\nexit ${exitCode}\n`,
  );
  chmodSync(join(t, "bin/switch-to-configuration"), 0o755);
  return t;
}

function setup(newExit = 0) {
  const root = mkdtempSync(join(tmpdir(), "nn-sup-"));
  dirs.push(root);
  return { root, state: join(root, "state"), neu: toplevel(root, "new", newExit), old: toplevel(root, "old") };
}

function run(s: ReturnType<typeof setup>, timeout: number): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn("/bin/sh", [SCRIPT, s.state, s.neu, s.old, String(timeout)], { stdio: "ignore" });
    p.on("close", resolve);
  });
}

async function until(cond: () => boolean) {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
}

const calls = (s: { root: string }) =>
  existsSync(join(s.root, "calls")) ? readFileSync(join(s.root, "calls"), "utf8").trim().split("\n") : [];
const state = (s: { state: string }) => parseSupervisorState(readFileSync(join(s.state, "state"), "utf8"));

describe("supervisor.sh", () => {
  it("keeps the new configuration when the ack arrives inside the window", async () => {
    const s = setup();
    const done = run(s, 30);
    await until(() => existsSync(join(s.state, "state")) && state(s).phase === "waiting");
    writeFileSync(join(s.state, "ack"), "");
    expect(await done).toBe(0);
    expect(calls(s)).toEqual(["new test"]);
    expect(state(s).phase).toBe("acknowledged");
  });

  it("switches back to the old toplevel when no ack comes", async () => {
    const s = setup();
    expect(await run(s, 1)).toBe(1);
    expect(calls(s)).toEqual(["new test", "old switch"]);
    const st = state(s);
    expect(st.phase).toBe("rolled-back");
    expect(st.reason).toContain("no acknowledgement within 1s");
    expect(st.deadline! - st.switchedAt!).toBe(1);
  });

  it("rolls back at once on a nack, with the operator's reason", async () => {
    const s = setup();
    const done = run(s, 60);
    await until(() => existsSync(join(s.state, "state")) && state(s).phase === "waiting");
    writeFileSync(join(s.state, "nack"), "port 2222 never answered\n");
    expect(await done).toBe(1);
    expect(calls(s)).toEqual(["new test", "old switch"]);
    expect(state(s).reason).toBe("operator: port 2222 never answered");
  });

  it("rolls back when the switch itself fails, and records its exit code", async () => {
    const s = setup(4);
    expect(await run(s, 60)).toBe(1);
    expect(calls(s)).toEqual(["new test", "old switch"]);
    const st = state(s);
    expect(st.switchExitCode).toBe(4);
    expect(st.phase).toBe("rolled-back");
  });

  it("is POSIX sh (dash parses it)", async () => {
    const code = await new Promise<number | null>((r) => execFile("dash", ["-n", SCRIPT], (e) => r(e ? 1 : 0)));
    expect(code).toBe(0);
  });
});
