// The published form: `npm pack` must produce a package that works when installed into an empty
// folder, with no dependencies to fetch (everything is bundled into one file).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let work: string;
let installed: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "nixnode-pack-"));
  const packOut = execFileSync(npm, ["pack", "--json", "--pack-destination", work], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const { filename } = (JSON.parse(packOut) as Array<{ filename: string }>)[0]!;
  installed = join(work, "app");
  execFileSync("mkdir", ["-p", installed]);
  writeFileSync(join(installed, "package.json"), JSON.stringify({ name: "empty", version: "1.0.0", private: true }));
  // --offline: a package with no runtime dependencies must install without the registry
  execFileSync(npm, ["install", "--offline", "--no-audit", "--no-fund", join(work, filename!)], {
    cwd: installed,
    stdio: "ignore",
  });
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[]) {
  return spawnSync(join(installed, "node_modules/.bin/nixnode-install"), args, {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
}

describe("the packed package, installed into an empty folder", () => {
  it("declares no runtime dependencies", () => {
    const pkg = JSON.parse(
      readFileSync(join(installed, "node_modules/nixnode-install/package.json"), "utf8"),
    ) as Record<string, unknown>;
    expect(pkg.dependencies ?? {}).toEqual({});
    const lock = JSON.parse(readFileSync(join(installed, "package-lock.json"), "utf8")) as {
      packages: Record<string, unknown>;
    };
    expect(Object.keys(lock.packages).filter((p) => p.startsWith("node_modules/"))).toEqual([
      "node_modules/nixnode-install",
    ]);
  });

  it("runs --version and --help from the installed bin", () => {
    const v = run(["--version"]);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    const h = run(["--help"]);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain("nixnode-install plan");
  });

  it("plans a complete node from a bundled example, with its templates inside the package", () => {
    const out = join(work, "node-flake");
    const r = run(["plan", "--example", "hetzner-cloud", "--out", out, "--yes"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const flake = readFileSync(join(out, "flake.nix"), "utf8");
    expect(flake).toContain("nixosConfigurations");
  });
});
