// The published form: `npm pack` must produce a package that works when installed into an empty
// folder, with no dependencies to fetch (everything is bundled into dist/), and that a reviewer can
// read: plain ESM chunks whose strings can be grepped, and source maps that turn a logged stack trace
// into src/ files and lines.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
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

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(join(installed, "node_modules/.bin/nixnode-install"), args, {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}
const pkgDir = () => join(installed, "node_modules/nixnode-install");
const distFiles = () => filesUnder(join(pkgDir(), "dist"));
const chunks = () => distFiles().filter((f) => f.endsWith(".mjs"));

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

describe("the packed package is readable", () => {
  it("keeps what a security reviewer greps for as plain text in the shipped code", () => {
    const code = chunks().map((f) => readFileSync(f, "utf8"));
    for (const needle of ["known_hosts", "sudo -n", "nixos-anywhere"]) {
      expect(
        code.some((c) => c.includes(needle)),
        needle,
      ).toBe(true);
    }
    // no embedded, compressed program text evaluated at run time
    expect(code.some((c) => /runInThisContext|brotliDecompressSync\(Buffer\.from\(SOURCE/.test(c))).toBe(false);
  });

  it("holds the error classes once: one chunk defines them, the shell and the commands share it", () => {
    const defining = chunks().filter((f) => /\(this,\s*"UserError"\)/.test(readFileSync(f, "utf8")));
    expect(defining).toHaveLength(1);
    const mapsWithErrors = distFiles()
      .filter((f) => f.endsWith(".map"))
      .filter((f) =>
        (JSON.parse(readFileSync(f, "utf8")) as { sources: string[] }).sources.some((s) => s.endsWith("src/errors.ts")),
      );
    expect(mapsWithErrors).toHaveLength(1);
    // the shell imports that chunk, and so does the lazily loaded command graph
    const shared = defining[0]!.split("/").pop()!;
    const importers = chunks().filter(
      (f) => readFileSync(f, "utf8").includes(`./${shared}`) || readFileSync(f, "utf8").includes(`./chunks/${shared}`),
    );
    expect(importers.map((f) => f.slice(pkgDir().length + 1))).toContain("dist/nixnode-install.mjs");
    expect(importers.length).toBeGreaterThan(1);
  });

  it("logs an internal error inside a command with src/ files and lines and the readable class name", () => {
    const out = join(work, "broken-plan");
    const logDir = join(work, "logs-internal");
    mkdirSync(logDir, { mode: 0o700 });
    // make path.resolve fail for the command's --out folder only: an unexpected exception inside the
    // command graph (where a bug would throw), in the installed package as a user runs it. (A user
    // error leaves no log to read: bad input drops the run log, src/cli/main.ts.)
    const preload = join(work, "fail-writes.mjs");
    writeFileSync(
      preload,
      `import path from "node:path";
import { syncBuiltinESMExports } from "node:module";
const real = path.resolve;
path.resolve = function (...args) {
  // only from inside a command (main.ts checks --out first); the stack names src/ only through the maps
  if (args.includes(${JSON.stringify(out)}) && String(new Error().stack).includes("/src/cli/commands/"))
    throw new TypeError("simulated failure resolving --out");
  return real.apply(this, args);
};
syncBuiltinESMExports();
`,
    );
    const r = run(["plan", "--example", "hetzner-cloud", "--out", out, "--yes", "--log-dir", logDir], {
      NODE_OPTIONS: `--import ${preload}`,
    });
    expect(r.status).toBe(1);
    expect(r.stderr, r.stderr).toContain("internal error: simulated failure");
    const log = readdirSync(logDir)
      .map((f) => readFileSync(join(logDir, f), "utf8"))
      .join("\n");
    expect(log).toContain("error (InternalError, exit 1)");
    const frames = log.split("\n").filter((l) => /^\s+at /.test(l));
    // frames of our own code point into src/*.ts with a line and column, not into dist/ chunks
    const ownFrames = frames.filter((l) => /\/src\/[\w/.-]+\.ts:\d+:\d+\)?$/.test(l));
    expect(ownFrames.length).toBeGreaterThan(0);
    expect(ownFrames.some((l) => l.includes("/src/cli/commands/plan.ts:"))).toBe(true);
    expect(frames.filter((l) => /\/dist\/.*\.mjs:\d+/.test(l) && !/node_modules\/(?!nixnode-install)/.test(l))).toEqual(
      [],
    );
    // the line named in the frame is real: it exists in src/ and is code
    const [, file, line] = /\/(src\/[\w/.-]+\.ts):(\d+):\d+/.exec(ownFrames[0]!)!;
    const text = readFileSync(join(ROOT, file!), "utf8").split("\n")[Number(line) - 1];
    expect(text?.trim().length).toBeGreaterThan(0);
  });

  it("ships a source map beside every chunk and stays under 1.5 MB installed", () => {
    for (const f of chunks()) {
      const map = readFileSync(f, "utf8").match(/\/\/# sourceMappingURL=(\S+)\s*$/)?.[1];
      expect(map, f).toBeDefined();
      expect(statSync(join(f, "..", map!)).isFile()).toBe(true);
    }
    const bytes = filesUnder(pkgDir()).reduce((n, f) => n + statSync(f).size, 0);
    expect(bytes).toBeLessThan(1_500_000);
  });
});
