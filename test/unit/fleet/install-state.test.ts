// Hosts of one fleet flake installed side by side share .nixnode/state.json: each keeps its own
// install entry, so a re-run resumes every host from ITS phases, never from another host's.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freshInstallState, readInstallState, writeInstallState } from "../../../src/install/install-state";

describe("fleet: one state.json, one install entry per target", () => {
  const dir = mkdtempSync(join(tmpdir(), "nn-fleet-state-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("interleaved writes of two hosts: each reads back its own phases; an unknown target reads nothing", () => {
    const a = "root@10.0.0.1:22";
    const b = "root@10.0.0.2:22";
    writeInstallState(dir, { ...freshInstallState(a), phasesDone: ["kexec"], pinnedHostKey: "SHA256:a" });
    writeInstallState(dir, {
      ...freshInstallState(b),
      phasesDone: [],
      phaseRunning: "kexec",
      pinnedHostKey: "SHA256:b",
    });
    writeInstallState(dir, {
      ...freshInstallState(a),
      phasesDone: ["kexec", "disko"],
      phaseRunning: "install",
      pinnedHostKey: "SHA256:a",
    });
    expect(readInstallState(dir, a)).toMatchObject({
      phasesDone: ["kexec", "disko"],
      phaseRunning: "install",
      pinnedHostKey: "SHA256:a",
    });
    expect(readInstallState(dir, b)).toMatchObject({
      phasesDone: [],
      phaseRunning: "kexec",
      pinnedHostKey: "SHA256:b",
    });
    expect(readInstallState(dir, "root@10.0.0.3:22")).toBeNull();
    // single-node readers (no target) still see the latest entry under "install"
    expect(readInstallState(dir)?.target).toBe(a);
    const file = JSON.parse(readFileSync(join(dir, ".nixnode", "state.json"), "utf8"));
    expect(Object.keys(file.installByTarget).sort()).toEqual([a, b]);
  });
});
