// Bundles the CLI into ONE file with no runtime dependencies (dist/nixnode-install.mjs), so that
// `npx nixnode-install` downloads little and starts fast. Heavy modules stay behind dynamic
// import() and are only initialised by the commands that need them.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
// `import text from "../../disko/ext4.nix?raw"`: the file's text, as Vite/Vitest do it, so that the
// templates stay real files (evaluated and parsed on their own) and still ship inside the bundle.
const rawText = {
  name: "raw-text",
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (a) => ({ path: resolve(dirname(a.importer), a.path.slice(0, -4)), namespace: "raw" }));
    b.onLoad({ filter: /.*/, namespace: "raw" }, (a) => ({ contents: readFileSync(a.path, "utf8"), loader: "text" }));
  },
};
const watch = process.argv.includes("--watch");
await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/nixnode-install.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20.19",
  minify: !process.argv.includes("--no-minify"),
  legalComments: "linked",
  sourcemap: false,
  define: { __NIXNODE_VERSION__: JSON.stringify(pkg.version) },
  // ssh2's optional native speed-ups: it falls back to pure JS when they are absent
  external: ["cpu-features", "*.node"],
  banner: {
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins
    js: "import { createRequire as __nnCreateRequire } from 'node:module'; const require = __nnCreateRequire(import.meta.url);",
  },
  plugins: [rawText],
  logLevel: watch ? "info" : "warning",
});
