#!/usr/bin/env node
// Cold start of the CLI against a bare `node -e 0` in the same run, interleaved so that machine noise
// hits every variant alike; reports medians and ratios. Also the packed package's installed size.
// Usage: node bench/startup.mjs [--runs N] [--json]
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const root = new URL("..", import.meta.url).pathname;
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 21;
execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" });
// what `npx nixnode-install` runs: the bin turns source maps on, then imports the shell chunk
const bin = join(root, "bin/nixnode-install");
const work = mkdtempSync(join(tmpdir(), "nixnode-bench-"));

const variants = {
  "node -e 0": [process.execPath, "-e", "0"],
  "--help": [process.execPath, bin, "--help"],
  "--version": [process.execPath, bin, "--version"],
  "plan --example hetzner-cloud": null, // needs a fresh out dir each run
};
const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, argv] of Object.entries(variants)) {
    const cmd = argv ?? [
      process.execPath,
      bin,
      "plan",
      "--example",
      "hetzner-cloud",
      "--out",
      join(work, `p${i}`),
      "--yes",
    ];
    const t0 = performance.now();
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: "ignore" });
    const dt = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    samples[name].push(dt);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const base = median(samples["node -e 0"]);
const rows = Object.entries(samples).map(([name, xs]) => ({
  name,
  medianMs: +median(xs).toFixed(1),
  ratio: +(median(xs) / base).toFixed(2),
}));

// the published package: pack, install into an empty folder, measure what landed
const packDir = join(work, "pack");
const pack = JSON.parse(
  execFileSync("npm", ["pack", "--json", "--pack-destination", work], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  }),
)[0];
execFileSync("mkdir", ["-p", packDir]);
writeFileSync(join(packDir, "package.json"), '{"name":"empty","version":"1.0.0","private":true}');
execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", join(work, pack.filename)], {
  cwd: packDir,
  stdio: "ignore",
});
let bytes = 0;
let files = 0;
const walk = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.isFile()) {
      files++;
      bytes += statSync(p).size;
    }
  }
};
walk(join(packDir, "node_modules"));
const distBytes = (ext) =>
  readdirSync(join(root, "dist"), { recursive: true })
    .filter((f) => f.endsWith(ext))
    .reduce((n, f) => n + statSync(join(root, "dist", f)).size, 0);
const pkg = {
  tarballBytes: pack.size,
  installedBytes: bytes,
  installedFiles: files,
  codeBytes: distBytes(".mjs"),
  sourceMapBytes: distBytes(".map"),
  shellBytes: statSync(join(root, "dist/nixnode-install.mjs")).size,
};
rmSync(work, { recursive: true, force: true });

const result = { node: process.version, runs, startup: rows, package: pkg };
if (process.argv.includes("--json")) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`node ${process.version}, ${runs} interleaved runs each, medians:`);
  for (const r of rows)
    console.log(`  ${r.name.padEnd(32)} ${String(r.medianMs).padStart(7)} ms   ${r.ratio}x bare node`);
  console.log(
    `package: tarball ${(pkg.tarballBytes / 1024).toFixed(0)} KiB, installed ${(pkg.installedBytes / 1024).toFixed(0)} KiB in ${pkg.installedFiles} files (dist/: code ${(pkg.codeBytes / 1024).toFixed(0)} KiB, source maps ${(pkg.sourceMapBytes / 1024).toFixed(0)} KiB, shell chunk ${(pkg.shellBytes / 1024).toFixed(0)} KiB)`,
  );
}
