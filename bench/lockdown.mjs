#!/usr/bin/env node
// Lockdown timings behind 100 ms of added RTT on a real throwaway target: start -> confirmed final
// state split into activation / confirmation / acknowledgement per stage, and (new port blocked
// upstream) time to detect the failed confirmation and to restore and verify access.
// Medians of --runs N (default 3). Needs root (network namespaces).
// Usage: node bench/lockdown.mjs [--runs N] [--json]
import { join } from "node:path";
import { importBench, root, runsArg } from "./import-bench.mjs";

const runs = runsArg(3, 3);
process.chdir(root); // the bundled harness finds the target shims relative to the repository
const { module, cleanup } = await importBench("lockdown");
try {
  const { benchLockdown } = module;
  const result = await benchLockdown({ runs, oneWayMs: 50 });
  if (process.argv.includes("--json")) console.log(JSON.stringify(result));
  else {
    console.log(
      `lockdown: medians of ${result.runs} runs, +${result.addedRttMs} ms RTT, confirm timeout ${result.confirmTimeoutSec} s`,
    );
    console.table([result.confirmed]);
    console.table([result.blockedPort]);
  }
} finally {
  cleanup();
}
