#!/usr/bin/env node
// Logins and commands the install itself uses (both engines, against real throwaway targets with the
// nixos-anywhere stand-in / kexec stand-ins), and how fast it notices sshd coming back. Needs root.
// Usage: node bench/install.mjs [--runs N] [--json]   (N installs per engine, default 3)
import { join } from "node:path";
import { importBench, root, runsArg } from "./import-bench.mjs";

const runs = runsArg(3);
const { module, cleanup } = await importBench("install");
try {
  const { benchInstall } = module;
  const result = await benchInstall({
    runs,
    bin: join(root, "dist/nixnode-install.mjs"),
    standinBin: join(root, "test/targets/standins/bin"),
  });
  if (process.argv.includes("--json")) console.log(JSON.stringify(result));
  else {
    console.log(`install: ${result.runs} installs per engine`);
    console.table(result.installs);
    console.log("noticing the new system:");
    console.table(result.notice);
  }
} finally {
  cleanup();
}
