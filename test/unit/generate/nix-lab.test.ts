// scripts/nix-lab.sh: unpacks git directories of disko and nixpkgs.lib outside the project (or takes
// unpacked trees as they are) and prints the two exports. Exercised with small real git repositories
// that have the files the script recognises each repository by.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("../../../scripts/nix-lab.sh", import.meta.url));
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
let hasGit = true;
try {
  execFileSync("git", ["--version"], { stdio: "ignore" });
} catch {
  hasGit = false; // reported as the skip reason
}
const work = mkdtempSync(join(tmpdir(), "nixnode-lab-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A git repository with one commit holding `files`; returns its .git directory. */
function gitRepo(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, ".."), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  const git = (...a: string[]) =>
    execFileSync("git", ["-C", dir, ...a], {
      stdio: "ignore",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.invalid",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.invalid",
      },
    });
  git("init", "-q");
  git("add", ".");
  git("commit", "-q", "-m", "x");
  return join(dir, ".git");
}

async function lab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("bash", [SCRIPT, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe.skipIf(!hasGit)(`scripts/nix-lab.sh${hasGit ? "" : " (skipped: git is not installed)"}`, () => {
  const disko = hasGit ? gitRepo("disko", { "lib/types/gpt.nix": "{ }\n", "lib/default.nix": "{ }\n" }) : "";
  const nixlib = hasGit ? gitRepo("nixpkgs.lib", { "lib/modules.nix": "{ }\n", "lib/default.nix": "{ }\n" }) : "";

  it("unpacks both git directories into DEST and prints the exports", async () => {
    const dest = join(work, "src");
    const r = await lab(disko, nixlib, dest);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`export NIXNODE_DISKO=${dest}/disko NIXNODE_NIXPKGS_LIB=${dest}/nixpkgs.lib`);
    expect(existsSync(join(dest, "disko/lib/types/gpt.nix"))).toBe(true);
    expect(existsSync(join(dest, "nixpkgs.lib/lib/modules.nix"))).toBe(true);
  });

  it("takes already-unpacked trees as they are", async () => {
    const r = await lab(join(work, "disko"), join(work, "nixpkgs.lib"), join(work, "unused"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`NIXNODE_DISKO=${join(work, "disko")} `);
    expect(existsSync(join(work, "unused"))).toBe(false);
  });

  it("catches the two arguments swapped, before anything is unpacked", async () => {
    const r = await lab(nixlib, disko, join(work, "swapped"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not a git dir of disko");
    expect(r.stdout).toBe("");
  });

  it("refuses to unpack inside the project", async () => {
    const r = await lab(disko, nixlib, join(REPO, "nix-src-test"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("refusing to unpack disko inside the project");
    expect(existsSync(join(REPO, "nix-src-test"))).toBe(false);
  });

  it("explains a path that is neither a tree nor a git directory", async () => {
    const r = await lab(join(work, "nothing-here"), nixlib);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("does not exist");
  });
});
