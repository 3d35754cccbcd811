#!/usr/bin/env node
// Logins and commands the install itself uses (both engines, against real throwaway targets with the
// nixos-anywhere stand-in / kexec stand-ins), and how fast it notices sshd coming back. Needs root.
// Usage: node bench/install.mjs [--runs N] [--json]   (N installs per engine, default 3)
// bench/install-bench.ts and the harness are bundled with esbuild into a temporary file and imported.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const i = process.argv.indexOf("--runs");
const runs = i > 0 ? Number(process.argv[i + 1]) || 3 : 3;
execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" });
const work = mkdtempSync(join(root, ".nixnode-test-bench-install-"));
try {
  const out = join(work, "install-bench.mjs");
  await build({
    entryPoints: [join(root, "bench/install-bench.ts")],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20.19",
    external: ["cpu-features", "*.node"],
    banner: { js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));" },
    loader: { ".sh": "text" },
    plugins: [{ name: "raw", setup(b) { b.onResolve({ filter: /\?raw$/ }, (a) => ({ path: join(a.resolveDir, a.path.slice(0, -4)) })); } }],
    logLevel: "warning",
  });
  const { benchInstall } = await import(pathToFileURL(out).href);
  const result = await benchInstall({ runs, bin: join(root, "dist/nixnode-install.mjs"), standinBin: join(root, "test/targets/standins/bin") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(result));
  else {
    console.log(`install: ${result.runs} installs per engine`);
    console.table(result.installs);
    console.log("noticing the new system:");
    console.table(result.notice);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
