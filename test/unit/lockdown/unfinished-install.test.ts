// Which changed host keys mean "the install did not complete" (issue 10.11): only the key state.json
// recorded as the pre-install system's, for an install that was not verified. Everything else keeps
// the SSH layer's own error (the changed-key alarm) untouched.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { unfinishedInstallError } from "../../../src/lockdown/unfinished-install";
import { hostKeyChanged, hostKeyDeclined } from "../../../src/remote/ssh-errors";

const OLD = "SHA256:" + "o".repeat(43);
const NEW = "SHA256:" + "n".repeat(43);

let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function flakeWith(install: Record<string, unknown> | null): string {
  dir = mkdtempSync(join(tmpdir(), "nn-unfinished-"));
  mkdirSync(join(dir, ".nixnode"));
  writeFileSync(
    join(dir, ".nixnode", "state.json"),
    JSON.stringify(install ? { install: { target: "root@h:22", phasesDone: [], verified: false, ...install } } : {}),
  );
  return dir;
}
const ctx = (flakeDir: string) => ({
  flakeDir,
  flakeArg: "./my node",
  destination: "root@203.0.113.7",
  target: "root@h:22",
  hostFile: "hosts/node1/host.json",
});
const changed = (presented: string) => hostKeyChanged("root@203.0.113.7:22", [NEW], presented, "the pinned --host-key");

describe("unfinishedInstallError", () => {
  it("the recorded pre-install key of an unverified install: says so, with the command that resumes it", () => {
    const e = unfinishedInstallError(changed(OLD), ctx(flakeWith({ previousHostKey: OLD, phasesDone: ["kexec"] })));
    expect(e?.exitCode).toBe(3);
    expect(e?.message).toMatch(/^the install of this machine did not complete \(it stopped after kexec\)/);
    expect(e?.details).toEqual([expect.stringContaining(`presented: ${OLD}`), expect.stringContaining(NEW)]);
    // the flake folder is quoted for copy and paste; no --host-key advice
    expect(e?.hint).toBe(
      "finish the install first: nixnode-install root@203.0.113.7 --flake './my node' (it resumes from .nixnode/state.json); then run lockdown again",
    );
  });
  it("says which phase was running when it stopped", () => {
    const e = unfinishedInstallError(changed(OLD), ctx(flakeWith({ previousHostKey: OLD, phaseRunning: "disko" })));
    expect(e?.message).toMatch(/it stopped during the disko phase/);
  });
  it("keeps the alarm for another key, a verified install, no install record, or a key that was not 'changed'", () => {
    expect(unfinishedInstallError(changed(NEW.replace("n", "x")), ctx(flakeWith({ previousHostKey: OLD })))).toBeNull();
    expect(unfinishedInstallError(changed(OLD), ctx(flakeWith({ previousHostKey: OLD, verified: true })))).toBeNull();
    expect(unfinishedInstallError(changed(OLD), ctx(flakeWith(null)))).toBeNull();
    expect(unfinishedInstallError(hostKeyDeclined("w", OLD), ctx(flakeWith({ previousHostKey: OLD })))).toBeNull();
    expect(unfinishedInstallError(new Error(`host key ${OLD}`), ctx(flakeWith({ previousHostKey: OLD })))).toBeNull();
  });
  it("in a fleet flake, reads the entry of the target being locked down, never another host's", () => {
    dir = mkdtempSync(join(tmpdir(), "nn-unfinished-"));
    mkdirSync(join(dir, ".nixnode"));
    const entry = (target: string, more: Record<string, unknown>) => ({
      target,
      phasesDone: [],
      verified: false,
      ...more,
    });
    const a = entry("root@10.0.0.1:22", { previousHostKey: OLD, phasesDone: ["kexec", "disko"] });
    const b = entry("root@10.0.0.2:22", { previousHostKey: OLD, phaseRunning: "kexec" });
    // "install" is the latest write (host b); host a's own entry is only in installByTarget
    writeFileSync(
      join(dir, ".nixnode", "state.json"),
      JSON.stringify({ install: b, installByTarget: { [a.target]: a, [b.target]: b } }),
    );
    const forA = unfinishedInstallError(changed(OLD), { ...ctx(dir), target: "root@10.0.0.1:22" });
    expect(forA?.message).toMatch(/it stopped after kexec, disko\)/);
    const forB = unfinishedInstallError(changed(OLD), { ...ctx(dir), target: "root@10.0.0.2:22" });
    expect(forB?.message).toMatch(/it stopped during the kexec phase/);
    // a target with no entry of its own keeps the SSH layer's alarm, even if another host's matches
    expect(unfinishedInstallError(changed(OLD), { ...ctx(dir), target: "root@10.0.0.3:22" })).toBeNull();
    // host a finished (verified): its own entry says so, host b's unfinished one does not speak for it
    writeFileSync(
      join(dir, ".nixnode", "state.json"),
      JSON.stringify({ install: b, installByTarget: { [a.target]: { ...a, verified: true }, [b.target]: b } }),
    );
    expect(unfinishedInstallError(changed(OLD), { ...ctx(dir), target: "root@10.0.0.1:22" })).toBeNull();
  });
});
