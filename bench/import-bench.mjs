// The system benchmarks and the test harness they drive are TypeScript: bundle one (bench/NAME-bench.ts)
// with esbuild into a temporary file inside the repo (git-ignored, so the bundle resolves
// node_modules) and import it, so that nothing but Node is needed to run a benchmark.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

export const root = new URL("..", import.meta.url).pathname;

/** `--runs N` from argv, at least `min`, else `fallback`. */
export function runsArg(fallback, min = 1) {
  const i = process.argv.indexOf("--runs");
  return Math.max(min, i > 0 ? Number(process.argv[i + 1]) || fallback : fallback);
}

/** Builds the CLI bundle, then bundles and imports bench/NAME-bench.ts. Call cleanup() when done. */
export async function importBench(name) {
  execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" });
  const work = mkdtempSync(join(root, `.nixnode-test-bench-${name}-`));
  const out = join(work, `${name}-bench.mjs`);
  try {
    await build({
      entryPoints: [join(root, `bench/${name}-bench.ts`)],
      outfile: out,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20.19",
      external: ["cpu-features", "*.node"],
      // bundled CommonJS (ssh2) expects require, __filename and __dirname
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
      },
      loader: { ".sh": "text", ".nix": "text" },
      plugins: [
        {
          name: "raw",
          setup(b) {
            // text whatever the extension (a `.json?raw` or `.md?raw` template is a string, as in the CLI build)
            b.onResolve({ filter: /\?raw$/ }, (a) => ({
              path: join(a.resolveDir, a.path.slice(0, -4)),
              namespace: "raw",
            }));
            b.onLoad({ filter: /.*/, namespace: "raw" }, (a) => ({
              contents: readFileSync(a.path, "utf8"),
              loader: "text",
            }));
          },
        },
      ],
      logLevel: "warning",
    });
    return {
      module: await import(pathToFileURL(out).href),
      cleanup: () => rmSync(work, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}
