#!/usr/bin/env node
// Logins, round trips and wall time of `detect` against a real throwaway target, with and without
// 100 ms of added RTT; medians of --runs N (default 5). Needs root (network namespaces).
// Usage: node bench/detect.mjs [--runs N] [--json]
// The bench and the test harness are TypeScript: they are bundled once with esbuild into a
// temporary file and imported, so nothing but Node is needed to run it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 5;
execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" });
// inside the repo (git-ignored) so that the bundle resolves node_modules
const work = mkdtempSync(join(root, ".nixnode-test-bench-detect-"));
try {
  const out = join(work, "detect-bench.mjs");
  await build({
    entryPoints: [join(root, "bench/detect-bench.ts")],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20.19",
    external: ["cpu-features", "*.node"],
    // bundled CommonJS (ssh2) expects require, __filename and __dirname
    banner: { js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));" },
    loader: { ".sh": "text" },
    plugins: [{ name: "raw", setup(b) { b.onResolve({ filter: /\?raw$/ }, (a) => ({ path: join(a.resolveDir, a.path.slice(0, -4)) })); } }],
    logLevel: "warning",
  });
  const { benchDetect } = await import(pathToFileURL(out).href);
  const result = await benchDetect({ runs, bin: join(root, "dist/nixnode-install.mjs") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(result));
  else {
    console.log(`detect: medians of ${result.runs} runs`);
    console.table(result.rows);
    console.table([result.extra]);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
