// Bundles the CLI into ONE file with no runtime dependencies (dist/nixnode-install.mjs), so that
// `npx nixnode-install` downloads little and starts fast.
//
// Two passes. The command graph (src/cli/commands/index.ts and everything it pulls in: ssh2, listr2,
// prompts, age...) is bundled as CommonJS and embedded in the light shell as a STRING, compiled
// (brotli, base64) and compiled with node:vm only when a command runs. V8 compiles a 1 MB module in
// ~70 ms even when nothing in it runs; scanning a string literal costs a fraction of that, so --help
// and --version stay close to a bare `node -e 0` (bench/startup.mjs measures it).
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { brotliCompressSync, constants as zlib } from "node:zlib";
import { dirname, resolve } from "node:path";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const minify = !process.argv.includes("--no-minify");

// `import text from "../../disko/ext4.nix?raw"`: the file's text, as Vite/Vitest do it, so that the
// templates stay real files (evaluated and parsed on their own) and still ship inside the bundle.
const rawText = {
  name: "raw-text",
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (a) => ({
      path: resolve(dirname(a.importer), a.path.slice(0, -4)),
      namespace: "raw",
    }));
    b.onLoad({ filter: /.*/, namespace: "raw" }, (a) => ({ contents: readFileSync(a.path, "utf8"), loader: "text" }));
  },
};

const common = {
  bundle: true,
  platform: "node",
  target: "node20.19",
  minify,
  legalComments: "none",
  define: { __NIXNODE_VERSION__: JSON.stringify(pkg.version) },
  // ssh2's optional native speed-ups: it falls back to pure JS when they are absent
  external: ["cpu-features", "*.node"],
  plugins: [rawText],
  logLevel: "warning",
};

// pass 1: the commands, as a CommonJS function body
const heavy = await build({
  ...common,
  entryPoints: ["src/cli/commands/index.ts"],
  format: "cjs",
  write: false,
  // code that needs its own location gets the bundle's (set by the loader below)
  define: { ...common.define, "import.meta.url": "__nixnodeBundleUrl" },
});
// compressed: the shell scans a 0.37 MB base64 string at start-up instead of 1.1 MB of source, and
// the package installs smaller; decompressing costs ~10 ms, only when a command runs
const heavySource = brotliCompressSync(Buffer.from(heavy.outputFiles[0].text), {
  params: { [zlib.BROTLI_PARAM_QUALITY]: 11 },
}).toString("base64");

// pass 2: the light shell, with load-commands.ts replaced by a loader of the embedded string
const embed = {
  name: "embed-commands",
  setup(b) {
    b.onResolve({ filter: /\/load-commands$/ }, () => ({ path: "load-commands", namespace: "embed" }));
    b.onLoad({ filter: /.*/, namespace: "embed" }, () => ({
      loader: "js",
      resolveDir: process.cwd(),
      contents: `
import { runInThisContext } from "node:vm";
import { brotliDecompressSync } from "node:zlib";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
const SOURCE = ${JSON.stringify(heavySource)};
let loaded;
export async function loadCommands() {
  if (!loaded) {
    const module = { exports: {} };
    const filename = fileURLToPath(import.meta.url);
    const code = brotliDecompressSync(Buffer.from(SOURCE, "base64")).toString("utf8");
    const fn = runInThisContext("(function (require, module, exports, __filename, __dirname, __nixnodeBundleUrl) {" + code + "\\n})", { filename });
    fn(createRequire(import.meta.url), module, module.exports, filename, dirname(filename), import.meta.url);
    loaded = module.exports.commands;
  }
  return loaded;
}`,
    }));
  },
};
await build({
  ...common,
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/nixnode-install.mjs",
  format: "esm",
  plugins: [rawText, embed],
  banner: {
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins
    js: "import { createRequire as __nnCreateRequire } from 'node:module'; const require = __nnCreateRequire(import.meta.url);",
  },
});
