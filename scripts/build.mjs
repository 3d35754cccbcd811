// Builds the published CLI into dist/ with no runtime dependencies, as plain, readable ESM:
//
//   dist/nixnode-install.mjs   the light shell: argv, help, the error handler (src/cli/main.ts)
//   dist/chunks/index-*.mjs    the command graph (ssh2, listr2, prompts, age, the phases), reached only
//                              through the dynamic import in src/cli/load-commands.ts
//   dist/chunks/chunk-*.mjs    code both halves share (src/errors.ts lives here, exactly once)
//   dist/**/*.mjs.map          source maps (mappings only), so a stack trace names src/FILE.ts:LINE
//
// V8 compiles a module when it is imported, even if nothing in it runs; splitting keeps the command graph
// out of --help and --version (bench/startup.mjs measures both against a bare `node -e 0`).
// Minified with keepNames: class and function names survive (a log says `InternalError`), string literals
// stay greppable (`known_hosts`, `sudo -n`), and the source maps name src/ files and lines for every frame
// of our own code. The maps keep only mappings into src/: frames inside a bundled dependency stay
// positions in the chunk (that halves the package). bin/nixnode-install turns source maps on before it
// imports the shell.
import { build } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const outdir = join(root, "dist");
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

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

const result = await build({
  absWorkingDir: root,
  entryPoints: { "nixnode-install": "src/cli/main.ts" },
  outdir,
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  // minified to stay under 1.5 MB installed (unminified the code alone is 1.5 MB), but keepNames keeps
  // every function and class its name (`UserError`, not `v`), string literals stay greppable, and the
  // source map gives every frame its src/ file, line and name
  minify: true,
  keepNames: true,
  // mappings without the sources' text: enough for file:line in a stack trace, a fraction of the size
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  define: { __NIXNODE_VERSION__: JSON.stringify(pkg.version) },
  // ssh2's optional native speed-ups: it falls back to pure JS when they are absent
  external: ["cpu-features", "*.node"],
  plugins: [rawText],
  banner: {
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins, and ssh2's
    // poly1305 (emscripten) reads __dirname when it starts
    js: [
      "import { createRequire as __nnCreateRequire } from 'node:module';",
      "import { fileURLToPath as __nnFileURLToPath } from 'node:url';",
      "const require = __nnCreateRequire(import.meta.url);",
      "const __filename = __nnFileURLToPath(import.meta.url);",
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(" "),
  },
  write: false,
  metafile: true,
  logLevel: "warning",
});

// Each file is written to a temporary name and renamed into place, and only then are files of an older
// build removed: a CLI started while the tests rebuild (global-setup runs once per vitest process) sees
// either the old or the new file, never half of one.
const written = new Set();
for (const f of result.outputFiles) {
  mkdirSync(dirname(f.path), { recursive: true });
  const tmp = `${f.path}.${process.pid}.tmp`;
  writeFileSync(tmp, f.path.endsWith(".map") ? ownSourcesOnly(f.text) : f.contents);
  renameSync(tmp, f.path);
  written.add(relative(outdir, f.path));
}
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [relative(outdir, join(dir, e.name))],
  );
for (const f of walk(outdir)) if (!written.has(f) && !f.endsWith(".tmp")) rmSync(join(outdir, f), { force: true });

if (process.argv.includes("--analyze")) {
  for (const [file, out] of Object.entries(result.metafile.outputs))
    if (!file.endsWith(".map")) console.log(`${(out.bytes / 1024).toFixed(0).padStart(6)} KiB  ${file}`);
}

// Source map v3 "mappings": lines split by ";", segments by ",", each segment 1, 4 or 5 base64 VLQ
// fields (generated column, source, original line, original column, name), all relative to the previous
// segment. Segments into node_modules become unmapped (1 field, several in a row collapse into one), so a
// frame inside a dependency is never attributed to a neighbouring src/ line.
function ownSourcesOnly(text) {
  const map = JSON.parse(text);
  const keepSource = map.sources.map((s) => !s.split("/").includes("node_modules"));
  const sources = [];
  const newSource = map.sources.map((s, i) => (keepSource[i] ? sources.push(s) - 1 : -1));
  const names = [];
  const nameIndex = new Map();
  const state = { src: 0, line: 0, col: 0, name: 0 };
  const out = { src: 0, line: 0, col: 0, name: 0 };
  const lines = map.mappings.split(";").map((line) => {
    let genCol = 0;
    let outGenCol = 0;
    let lastUnmapped = false;
    const segs = [];
    for (const seg of line ? line.split(",") : []) {
      const f = decodeVlq(seg);
      genCol += f[0];
      let keep = false;
      if (f.length >= 4) {
        state.src += f[1];
        state.line += f[2];
        state.col += f[3];
        if (f.length === 5) state.name += f[4];
        keep = keepSource[state.src];
      }
      if (!keep) {
        if (lastUnmapped) continue;
        segs.push(encodeVlq([genCol - outGenCol]));
        outGenCol = genCol;
        lastUnmapped = true;
        continue;
      }
      // one mapping per original line and generated run is enough for FILE:LINE in a stack trace
      if (!lastUnmapped && segs.length > 0 && newSource[state.src] === out.src && state.line === out.line) continue;
      const fields = [genCol - outGenCol, newSource[state.src] - out.src, state.line - out.line, state.col - out.col];
      if (f.length === 5) {
        const n = map.names[state.name];
        if (!nameIndex.has(n)) nameIndex.set(n, names.push(n) - 1);
        fields.push(nameIndex.get(n) - out.name);
        out.name = nameIndex.get(n);
      }
      out.src = newSource[state.src];
      out.line = state.line;
      out.col = state.col;
      outGenCol = genCol;
      lastUnmapped = false;
      segs.push(encodeVlq(fields));
    }
    return segs.join(",");
  });
  return JSON.stringify({ ...map, sources, names, mappings: lines.join(";") });
}

function decodeVlq(seg) {
  const fields = [];
  let value = 0;
  let shift = 0;
  for (const ch of seg) {
    const digit = B64.indexOf(ch);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return fields;
}
function encodeVlq(fields) {
  let s = "";
  for (const n of fields) {
    let v = n < 0 ? (-n << 1) | 1 : n << 1;
    do {
      let digit = v & 31;
      v >>>= 5;
      if (v > 0) digit |= 32;
      s += B64[digit];
    } while (v > 0);
  }
  return s;
}
