#!/usr/bin/env node
// Switch timings behind 100 ms of added RTT on a real throwaway target (locked down first, not
// measured): switch ended -> confirmed, the whole run, and fresh SSH logins per switch and per
// stage, for switches that move sshd between ports 2222 and 2200. Medians of --runs N (default 5).
// Needs root (network namespaces). Aim (issue 13): confirmation within 3 s of the switch ending,
// at most 2 new logins per stage.
// Usage: node bench/switch.mjs [--runs N] [--json]
import { importBench, root, runsArg } from "./import-bench.mjs";

const runs = runsArg(5, 1);
process.chdir(root); // the bundled harness finds the target shims relative to the repository
const { module, cleanup } = await importBench("switch");
try {
  const result = await module.benchSwitch({ runs, oneWayMs: 50 });
  if (process.argv.includes("--json")) console.log(JSON.stringify(result));
  else {
    console.log(
      `switch: medians of ${result.runs} runs, +${result.addedRttMs} ms RTT, confirm timeout ${result.confirmTimeoutSec} s`,
    );
    console.table([result.medians]);
    console.table(result.raw);
  }
} finally {
  cleanup();
}
