// The flake writer leaves nothing half-written: a run killed outright leaves its hidden temporary
// folder behind, and the next write to the same place removes it (its writer's pid is dead) while
// keeping a live writer's; Ctrl-C (the CLI's abort signal) removes the temporary folder at once.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CancelledError } from "../../../src/errors";
import { writeFlake } from "../../../src/generate/write-flake";
import { runCli } from "../../helpers/cli";
import { KEY_ED25519 } from "../plan/fixtures";

const work = mkdtempSync(join(tmpdir(), "nn-write-flake-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A pid that certainly belonged to a process which has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("temporary folders of killed runs", () => {
  it("plan --out removes a dead writer's leftover, keeps a live writer's and unrelated folders", async () => {
    const parent = join(work, "stale");
    mkdirSync(parent);
    const dead = join(parent, `.node.nixnode-${deadPid()}-Ab12Cd`);
    const live = join(parent, `.node.nixnode-${process.pid}-Zz99Yy`);
    const other = join(parent, `.other.nixnode-${deadPid()}-Ab12Cd`);
    for (const d of [dead, live, other]) {
      mkdirSync(d);
      writeFileSync(join(d, "flake.nix"), "{ }\n");
    }
    const r = await runCli([
      "plan",
      "--example",
      "hetzner-cloud",
      "--ssh-key",
      KEY_ED25519,
      "--out",
      join(parent, "node"),
      "--json",
    ]);
    expect(r.code).toBe(0);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(other)).toBe(true);
    expect(existsSync(join(parent, "node", "flake.nix"))).toBe(true);
    expect(readdirSync(parent).filter((n) => n.startsWith(".node.nixnode-"))).toEqual([
      `.node.nixnode-${process.pid}-Zz99Yy`,
    ]);
  });
});

describe("Ctrl-C while writing", () => {
  it("removes the temporary folder and writes nothing", async () => {
    const parent = join(work, "abort");
    mkdirSync(parent);
    // enough files that the write is still going when the temporary folder appears
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) files[`hosts/h/f${i}.nix`] = `# ${i}\n${"x".repeat(2000)}\n`;
    const abort = new AbortController();
    const poll = setInterval(() => {
      if (readdirSync(parent).some((n) => n.startsWith(".node.nixnode-"))) abort.abort();
    }, 1);
    try {
      await expect(
        writeFlake(files, join(parent, "node"), { git: false, signal: abort.signal }),
      ).rejects.toBeInstanceOf(CancelledError);
    } finally {
      clearInterval(poll);
    }
    expect(abort.signal.aborted).toBe(true);
    expect(readdirSync(parent)).toEqual([]);
  });

  it("an abort before the write starts leaves nothing either", async () => {
    const parent = join(work, "early");
    mkdirSync(parent);
    const abort = new AbortController();
    abort.abort();
    await expect(
      writeFlake({ "flake.nix": "{ }\n" }, join(parent, "node"), { git: false, signal: abort.signal }),
    ).rejects.toThrow();
    expect(readdirSync(parent)).toEqual([]);
  });
});
