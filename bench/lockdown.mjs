#!/usr/bin/env node
// Lockdown timings behind 100 ms of added RTT on a real throwaway target: start -> confirmed final
// state split into activation / confirmation / acknowledgement per stage, and (new port blocked
// upstream) time to detect the failed confirmation and to restore and verify access.
// Medians of --runs N (default 3). Needs root (network namespaces).
// Usage: node bench/lockdown.mjs [--runs N] [--json]
// The bench and the harness are TypeScript: bundled once with esbuild into a temporary file.
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
process.chdir(root); // the bundled harness finds the target shims relative to the repository
const runs = Math.max(3, Number(process.argv[process.argv.indexOf("--runs") + 1]) || 3);
const work = mkdtempSync(join(root, ".nixnode-test-bench-lockdown-"));
try {
  const out = join(work, "lockdown-bench.mjs");
  await build({
    entryPoints: [join(root, "bench/lockdown-bench.ts")],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20.19",
    external: ["cpu-features", "*.node"],
    banner: { js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));" },
    loader: { ".sh": "text", ".nix": "text" },
    plugins: [{ name: "raw", setup(b) { b.onResolve({ filter: /\?raw$/ }, (a) => ({ path: join(a.resolveDir, a.path.slice(0, -4)) })); } }],
    logLevel: "warning",
  });
  const { benchLockdown } = await import(pathToFileURL(out).href);
  const result = await benchLockdown({ runs, oneWayMs: 50 });
  if (process.argv.includes("--json")) console.log(JSON.stringify(result));
  else {
    console.log(`lockdown: medians of ${result.runs} runs, +${result.addedRttMs} ms RTT, confirm timeout ${result.confirmTimeoutSec} s`);
    console.table([result.confirmed]);
    console.table([result.blockedPort]);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
