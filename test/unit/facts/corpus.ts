// Where the shared real-machine captures live: <repo>/../shared/corpus (CI clones shared/ beside the repo).
import { readdirSync, readFileSync } from "node:fs";
import { CORPUS } from "../../helpers/corpus";

export { CORPUS };

export function readCorpus(path: string): string {
  return readFileSync(CORPUS + path, "utf8");
}

export function corpusFiles(dir: string): string[] {
  return readdirSync(CORPUS + dir).sort();
}

/** boot.initrd.availableKernelModules from a nixos-generate-config hardware-configuration.nix. */
export function generatedInitrdModules(nix: string): string[] {
  const list = nix.match(/boot\.initrd\.availableKernelModules\s*=\s*\[([\s\S]*?)\]/)?.[1];
  if (list === undefined) throw new Error("no boot.initrd.availableKernelModules in the file");
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
}
