#!/usr/bin/env node
// Logins, round trips and wall time of `detect` against a real throwaway target, with and without
// 100 ms of added RTT; medians of --runs N (default 5). Needs root (network namespaces).
// Usage: node bench/detect.mjs [--runs N] [--json]
import { join } from "node:path";
import { importBench, root, runsArg } from "./import-bench.mjs";

const runs = runsArg(5);
const { module, cleanup } = await importBench("detect");
try {
  const { benchDetect } = module;
  const result = await benchDetect({ runs, bin: join(root, "dist/nixnode-install.mjs") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(result));
  else {
    console.log(`detect: medians of ${result.runs} runs`);
    console.table(result.rows);
    console.table([result.extra]);
  }
} finally {
  cleanup();
}
