// The shared real-machine captures: <repo>/../shared/corpus (CI clones shared/ beside the repo), or
// the folder NIXNODE_CORPUS names. A clone without them must still run the rest of the suite, so
// every test that reads them goes through here and is reported as skipped, with the reason, instead
// of failing with ENOENT.
import { readdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";

/** The corpus folder, with a trailing slash (callers append relative paths). */
export const CORPUS = `${resolve(process.env.NIXNODE_CORPUS || fileURLToPath(new URL("../../../shared/corpus/", import.meta.url)))}/`;

export const hasCorpus = (() => {
  try {
    return statSync(CORPUS).isDirectory();
  } catch {
    return false;
  }
})();

export const NO_CORPUS_REASON = `no real-machine captures at ${CORPUS} (clone the shared/ folder beside the repo, or set NIXNODE_CORPUS)`;

/** A test or block name that says why it was skipped when the corpus is missing. */
export function corpusName(name: string): string {
  return hasCorpus ? name : `${name} (skipped: ${NO_CORPUS_REASON})`;
}

/**
 * describe() for a block that reads the corpus. Without it, the block's body is never run (its
 * setup may read captures at collection time) and one skipped test carries the reason.
 */
export function describeWithCorpus(name: string, fn: () => void): void {
  if (hasCorpus) {
    describe(name, fn);
    return;
  }
  describe.skip(corpusName(name), () => {
    it("reads the shared corpus", () => {});
  });
}

/** it() for a single test that reads the corpus: `itWithCorpus.each(rows)(...)` works as it.each does. */
export const itWithCorpus = it.skipIf(!hasCorpus);

/** Sorted names in a corpus folder; [] without the corpus, for test tables built at load time. */
export function corpusDir(dir: string): string[] {
  return hasCorpus ? readdirSync(CORPUS + dir).sort() : [];
}
