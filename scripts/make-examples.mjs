// Regenerates src/facts/examples/*.json (the bundled example machines) from the real captures in
// shared/corpus. Run: node scripts/make-examples.mjs [path/to/shared/corpus]
// The recipe lives in src/facts/example-sources.ts; test/unit/facts/examples.test.ts fails when
// the committed JSON no longer equals what this script would write.
import { build } from "esbuild";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));
const corpus = resolve(process.argv[2] ?? join(repo, "..", "shared", "corpus"));
const tmp = mkdtempSync(join(tmpdir(), "nixnode-examples-"));
try {
  const out = join(tmp, "example-sources.mjs");
  await build({
    entryPoints: [join(repo, "src/facts/example-sources.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: out,
    logLevel: "warning",
  });
  const { EXAMPLE_SOURCES, buildExampleFacts } = await import(pathToFileURL(out).href);
  for (const name of Object.keys(EXAMPLE_SOURCES)) {
    const facts = buildExampleFacts(name, (p) => readFileSync(join(corpus, p), "utf8"));
    const file = join(repo, "src/facts/examples", `${name}.json`);
    writeFileSync(file, `${JSON.stringify(facts, null, 2)}\n`);
    console.log(`wrote ${file} (${facts.disks.length} disk(s), ${facts.memory.totalBytes} bytes RAM)`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
