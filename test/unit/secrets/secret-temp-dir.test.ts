// createSecretTempDir in a real process: 0700, and gone after a normal exit, an uncaught error,
// SIGTERM and SIGINT (which still end the process when nobody else handles them).
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratch } from "./tools";

const s = scratch();
const bundle = s.path("temp-dir-child.cjs");

beforeAll(async () => {
  // The child imports the real module, bundled, and reports the dir path before doing `mode`.
  const entry = s.path("child.ts");
  writeFileSync(
    entry,
    `import { createSecretTempDir } from ${JSON.stringify(fileURLToPath(new URL("../../../src/secrets/host-key.ts", import.meta.url)))};
import { writeFileSync, statSync } from "node:fs";
const d = createSecretTempDir();
writeFileSync(d.path + "/secret", "plaintext", { mode: 0o600 });
process.stdout.write(JSON.stringify({ path: d.path, mode: statSync(d.path).mode & 0o777 }) + "\\n");
const mode = process.argv[2];
if (mode === "exit") process.exit(0);
if (mode === "throw") setTimeout(() => { throw new Error("boom"); }, 10);
if (mode === "wait") setInterval(() => {}, 1000);
`,
  );
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "cjs",
    outfile: bundle,
    // as scripts/build.mjs: ssh2's optional native speed-ups stay out (it falls back to pure JS)
    external: ["cpu-features", "*.node"],
    logLevel: "silent",
  });
});
afterAll(() => s.remove());

function runChild(
  mode: string,
  signal?: NodeJS.Signals,
): Promise<{ path: string; mode: number; code: number | null; sig: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, mode], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (signal && out.includes("\n")) child.kill(signal);
    });
    child.on("error", reject);
    child.on("close", (code, sig) => {
      const info = JSON.parse(out.split("\n")[0]!) as { path: string; mode: number };
      resolve({ ...info, code, sig });
    });
  });
}

describe("createSecretTempDir in a real process", () => {
  for (const [mode, signal] of [["exit"], ["throw"], ["wait", "SIGTERM"], ["wait", "SIGINT"]] as Array<
    [string, NodeJS.Signals?]
  >) {
    it(`is 0700 and removed after ${signal ?? mode}`, async () => {
      const r = await runChild(mode, signal);
      expect(r.mode).toBe(0o700);
      expect(existsSync(r.path)).toBe(false);
      if (signal) expect(r.sig).toBe(signal); // the process still ended by the signal
    });
  }
});
