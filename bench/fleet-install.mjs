#!/usr/bin/env node
// `fleet install` of 1, 3 and 5 targets with the install stand-ins: wall time, peak memory of the
// tool, logins per host, against one single-host install with lockdown. Needs root.
// Usage: node bench/fleet-install.mjs [--runs N] [--sizes 1,3,5] [--json]   (default 2 runs each)
import { join } from "node:path";
import { importBench, root, runsArg } from "./import-bench.mjs";

const runs = runsArg(2);
const i = process.argv.indexOf("--sizes");
const sizes = (i > 0 ? process.argv[i + 1] : "1,3,5").split(",").map(Number);
const { module, cleanup } = await importBench("fleet-install");
try {
  const result = await module.benchFleetInstall({ runs, bin: join(root, "dist/nixnode-install.mjs"), root, sizes });
  if (process.argv.includes("--json")) console.log(JSON.stringify(result));
  else {
    console.log(`fleet install: ${result.runs} run(s) per size`);
    console.table(result.rows);
  }
} finally {
  cleanup();
}
