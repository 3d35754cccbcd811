import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FLAKE_LOCK } from "../../../src/secrets/flake-lock";
import {
  readLockdownState,
  recordHandOff,
  renderRecoveryNotes,
  sshConfigBlock,
  writeLockdownState,
  writeRecoveryNotes,
} from "../../../src/lockdown/hand-off";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const result = {
  host: "203.0.113.7",
  port: 2222,
  generations: { before: 4, dualPort: 5, final: 6 },
  timings: [],
  totalMs: 1,
  warnings: [],
};

describe("hand-off", () => {
  it("recovery notes name the generations and the console commands, and replace themselves on a re-run", () => {
    const d = mkdtempSync(join(tmpdir(), "nn-ho-"));
    dirs.push(d);
    writeFileSync(join(d, "README.md"), "# node\n\nmine\n");
    writeRecoveryNotes(d, "node1", renderRecoveryNotes(result, "node1", "root"));
    writeRecoveryNotes(
      d,
      "node1",
      renderRecoveryNotes({ ...result, generations: { before: 4, dualPort: 7, final: 8 } }, "node1", "root"),
    );
    const text = readFileSync(join(d, "README.md"), "utf8");
    expect(text.startsWith("# node\n\nmine\n")).toBe(true);
    expect(text.match(/## Lockdown and recovery/g)).toHaveLength(1);
    expect(text).toContain("nix-env -p /nix/var/nix/profiles/system --switch-generation 7");
    expect(text).toContain("/nix/var/nix/profiles/system-4-link/bin/switch-to-configuration switch");
    expect(text).toContain("ssh -p 2222 root@203.0.113.7");
  });
  it("state.json keeps the install's key", () => {
    const d = mkdtempSync(join(tmpdir(), "nn-ho-"));
    dirs.push(d);
    mkdirSync(join(d, ".nixnode"));
    writeFileSync(join(d, ".nixnode/state.json"), JSON.stringify({ install: { verified: true } }));
    writeLockdownState(d, "node1", { stage: "final", port: 2222 });
    expect(JSON.parse(readFileSync(join(d, ".nixnode/state.json"), "utf8"))).toEqual({
      install: { verified: true },
      lockdown: { stage: "final", port: 2222, host: "node1" },
      lockdownByHost: { node1: { stage: "final", port: 2222, host: "node1" } },
    });
  });
  it("the ~/.ssh/config block", () => {
    expect(sshConfigBlock("node1", "203.0.113.7", 2222, "root")).toBe(
      "Host node1\n  HostName 203.0.113.7\n  Port 2222\n  User root\n  IdentitiesOnly yes\n",
    );
  });
});

/** A flake folder with hosts/<name>/host.json for each name (readLockdownState counts them). */
function flakeWithHosts(...names: string[]): string {
  const d = mkdtempSync(join(tmpdir(), "nn-ho-"));
  dirs.push(d);
  for (const n of names) {
    mkdirSync(join(d, "hosts", n), { recursive: true });
    writeFileSync(join(d, "hosts", n, "host.json"), "{}\n");
  }
  return d;
}
const FP_A = "SHA256:" + "a".repeat(43);
const FP_B = "SHA256:" + "b".repeat(43);
const state = (port: number, fp: string) => ({ stage: "final", port, hostKeyFingerprint: fp });
const section = (text: string, host: string) => {
  const m = new RegExp(
    `<!-- nixnode-install lockdown ${host}: begin -->[\\s\\S]*?<!-- nixnode-install lockdown ${host}: end -->`,
  ).exec(text);
  return m?.[0] ?? "";
};

describe("hand-off per host (a fleet flake)", () => {
  it("two hosts' notes and states written interleaved: each reads back its own, the operator's text stays", async () => {
    const d = flakeWithHosts("alpha", "beta");
    writeFileSync(join(d, "README.md"), "# fleet\n\nmine\n");
    const notesA = renderRecoveryNotes({ ...result, host: "10.0.0.1", port: 2201 }, "alpha", "root", FP_A);
    const notesB = renderRecoveryNotes({ ...result, host: "10.0.0.2", port: 2202 }, "beta", "root", FP_B);
    const warned: string[] = [];
    // as fleet install runs them: both hand-offs in flight at once, then alpha again (a re-run)
    await Promise.all([
      recordHandOff(d, "alpha", notesA, state(2201, FP_A), (m) => warned.push(m)),
      recordHandOff(d, "beta", notesB, state(2202, FP_B), (m) => warned.push(m)),
    ]);
    writeRecoveryNotes(d, "alpha", notesA.replace("--switch-generation 5", "--switch-generation 9"));
    writeLockdownState(d, "alpha", state(2211, FP_A));
    expect(warned).toEqual([]);

    const text = readFileSync(join(d, "README.md"), "utf8");
    expect(text.startsWith("# fleet\n\nmine\n")).toBe(true);
    expect(text.match(/## Lockdown and recovery/g)).toHaveLength(2);
    const a = section(text, "alpha");
    const b = section(text, "beta");
    expect(a).toContain("ssh -p 2201 root@10.0.0.1");
    expect(a).toContain(FP_A);
    expect(a).toContain("--switch-generation 9");
    expect(a).not.toContain(FP_B);
    expect(b).toContain("ssh -p 2202 root@10.0.0.2");
    expect(b).toContain(FP_B);
    expect(b).toContain("hosts/beta/host.json");
    expect(b).not.toContain("10.0.0.1");

    expect(readLockdownState(d, "alpha")).toEqual({ ...state(2211, FP_A), host: "alpha" });
    expect(readLockdownState(d, "beta")).toEqual({ ...state(2202, FP_B), host: "beta" });
    expect(readLockdownState(d, "gamma")).toBeNull();
  });

  it("keeps the install's entries and every other host's lockdown entry", () => {
    const d = flakeWithHosts("alpha", "beta");
    mkdirSync(join(d, ".nixnode"));
    const install = {
      install: { target: "root@10.0.0.2:22" },
      installByTarget: { "root@10.0.0.1:22": {}, "root@10.0.0.2:22": {} },
    };
    writeFileSync(join(d, ".nixnode/state.json"), JSON.stringify(install));
    writeLockdownState(d, "beta", state(2202, FP_B));
    writeLockdownState(d, "alpha", state(2201, FP_A));
    const all = JSON.parse(readFileSync(join(d, ".nixnode/state.json"), "utf8"));
    expect(all).toMatchObject(install);
    expect(Object.keys(all.lockdownByHost).sort()).toEqual(["alpha", "beta"]);
    expect(all.lockdownByHost.beta.port).toBe(2202);
    // "lockdown" is the latest write, named, so an old reader never takes it for another host's
    expect(all.lockdown).toEqual({ ...state(2201, FP_A), host: "alpha" });
  });

  it("an old single-host state.json (an unnamed lockdown key) is still read, for that flake's only host", () => {
    const old = { install: { verified: true }, lockdown: { stage: "final", port: 2222, generations: { final: 3 } } };
    const single = flakeWithHosts("node1");
    mkdirSync(join(single, ".nixnode"));
    writeFileSync(join(single, ".nixnode/state.json"), JSON.stringify(old));
    expect(readLockdownState(single, "node1")).toEqual(old.lockdown);
    expect(readLockdownState(single, "node2")).toBeNull();
    // in a flake with more hosts nobody can say whose it was: no host takes it
    const fleet = flakeWithHosts("node1", "node2");
    mkdirSync(join(fleet, ".nixnode"));
    writeFileSync(join(fleet, ".nixnode/state.json"), JSON.stringify(old));
    expect(readLockdownState(fleet, "node1")).toBeNull();
    // the next lockdown of node1 writes its own entry and keeps the install's key
    writeLockdownState(single, "node1", { stage: "final", port: 2200 });
    expect(readLockdownState(single, "node1")).toMatchObject({ port: 2200, host: "node1" });
    expect(JSON.parse(readFileSync(join(single, ".nixnode/state.json"), "utf8")).install).toEqual({ verified: true });
  });

  it("an old unnamed README section is replaced by the host it names; another host's notes are appended", () => {
    const d = flakeWithHosts("node1", "node2");
    const legacy =
      "<!-- nixnode-install lockdown: begin -->\n## Lockdown and recovery\n\nold notes for `hosts/node1/host.json`\n<!-- nixnode-install lockdown: end -->\n";
    writeFileSync(join(d, "README.md"), `# node\n\n${legacy}\nafter\n`);
    writeRecoveryNotes(d, "node2", renderRecoveryNotes({ ...result, port: 2202 }, "node2", "root"));
    expect(readFileSync(join(d, "README.md"), "utf8")).toContain("old notes for `hosts/node1/host.json`");
    writeRecoveryNotes(d, "node1", renderRecoveryNotes({ ...result, port: 2201 }, "node1", "root"));
    const text = readFileSync(join(d, "README.md"), "utf8");
    expect(text).not.toContain("old notes");
    expect(text).not.toContain("<!-- nixnode-install lockdown: begin -->");
    expect(text).toContain("\nafter\n");
    expect(section(text, "node1")).toContain("ssh -p 2201 ");
    expect(section(text, "node2")).toContain("ssh -p 2202 ");
    expect(text.match(/## Lockdown and recovery/g)).toHaveLength(2);
  });

  it("waits for the flake's lock held by another process, and writes once it is released", async () => {
    const d = flakeWithHosts("alpha");
    const holder = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const lock = join(d, FLAKE_LOCK);
      const since = new Date().toISOString();
      writeFileSync(lock, JSON.stringify({ pid: holder.pid, host: hostname(), command: "secrets add", since }));
      const notes = renderRecoveryNotes(result, "alpha", "root");
      let done = false;
      const run = recordHandOff(d, "alpha", notes, state(2201, FP_A), () => undefined).then(() => (done = true));
      await new Promise((r) => setTimeout(r, 500));
      expect(done).toBe(false);
      expect(existsSync(join(d, "README.md"))).toBe(false);
      expect(existsSync(join(d, ".nixnode/state.json"))).toBe(false);
      rmSync(lock);
      await run;
      expect(section(readFileSync(join(d, "README.md"), "utf8"), "alpha")).toContain("ssh -p 2222 ");
      expect(readLockdownState(d, "alpha")).toMatchObject({ port: 2201 });
      expect(existsSync(lock)).toBe(false); // released after writing
    } finally {
      holder.kill();
    }
  });
});
