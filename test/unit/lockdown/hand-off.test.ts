import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
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
    writeRecoveryNotes(d, renderRecoveryNotes(result, "node1", "root"));
    writeRecoveryNotes(
      d,
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
    writeLockdownState(d, { stage: "final", port: 2222 });
    expect(JSON.parse(readFileSync(join(d, ".nixnode/state.json"), "utf8"))).toEqual({
      install: { verified: true },
      lockdown: { stage: "final", port: 2222 },
    });
  });
  it("the ~/.ssh/config block", () => {
    expect(sshConfigBlock("node1", "203.0.113.7", 2222, "root")).toBe(
      "Host node1\n  HostName 203.0.113.7\n  Port 2222\n  User root\n  IdentitiesOnly yes\n",
    );
  });
});
