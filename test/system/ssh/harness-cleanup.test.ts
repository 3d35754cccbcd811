// A test process that dies by SIGTERM or SIGINT, or just exits, leaves no target behind: the
// harness is bundled (esbuild) into a small program that starts a target and then waits.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../targets/run-command";
import { targetsSupported } from "../../targets/index";

const supported = targetsSupported();
const harness = fileURLToPath(new URL("../../targets/index.ts", import.meta.url));

describe.skipIf(!supported.ok)(
  `target cleanup when the test process dies${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let dir: string;
    let program: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "nnt-cleanup-"));
      const entry = join(dir, "entry.ts");
      writeFileSync(
        entry,
        `import { startTarget } from ${JSON.stringify(harness)};
const t = await startTarget();
console.log(JSON.stringify({ ns: t.ns, dir: t.dir }));
if (process.argv[2] === "exit") process.exit(0);
setInterval(() => undefined, 1000);
`,
      );
      program = join(dir, "program.mjs");
      await build({
        entryPoints: [entry],
        bundle: true,
        platform: "node",
        format: "esm",
        outfile: program,
        packages: "external",
        logLevel: "error",
      });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each([["SIGTERM"], ["SIGINT"], ["exit"]] as const)("%s", async (how) => {
      const child = spawn(process.execPath, [program, how], { stdio: ["ignore", "pipe", "pipe"] });
      const exited = new Promise<void>((r) => child.on("exit", () => r()));
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const info = await new Promise<{ ns: string; dir: string }>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
          if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!));
        });
        child.on("exit", () => (out.includes("\n") ? undefined : reject(new Error(`program exited early: ${stderr}`))));
      });
      if (how !== "exit") {
        expect((await runCommand("ip", ["netns", "list"])).stdout).toContain(info.ns);
        child.kill(how);
      }
      await exited;
      expect((await runCommand("ip", ["netns", "list"])).stdout).not.toContain(info.ns);
      expect(existsSync(info.dir)).toBe(false);
    });
  },
);
