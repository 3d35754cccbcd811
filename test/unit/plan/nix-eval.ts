// Evaluates the generated static modules with the real Nix evaluator (nix-instantiate 2.8 from
// Debian's nix-bin) against a host.json, with a three-function stand-in for nixpkgs' lib: enough to
// prove what the modules turn host.json into, without a nixpkgs checkout.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const NIX_INSTANTIATE = (() => {
  try {
    execFileSync("nix-instantiate", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
export const NO_NIX_REASON = "nix-instantiate is not installed (Debian/Ubuntu: apt-get install nix-bin)";

const STUB_LIB = `{
  mkIf = cond: v: if cond then v else { };
  mkDefault = v: v;
  mkForce = v: v;
  optional = cond: v: if cond then [ v ] else [ ];
  optionalAttrs = cond: v: if cond then v else { };
}`;

/** The attrset a module returns, as JSON: `(import FILE { lib = stub; ... }).ATTR`. */
export function evalModule(moduleFile: string, hostJson: unknown, attr: string): unknown {
  const dir = mkdtempSync(join(tmpdir(), "nixnode-eval-"));
  try {
    copyFileSync(moduleFile, join(dir, "module.nix"));
    writeFileSync(join(dir, "host.json"), JSON.stringify(hostJson));
    const expr = `(import ${dir}/module.nix { lib = ${STUB_LIB}; config = { }; pkgs = { }; }).${attr}`;
    return JSON.parse(
      execFileSync("nix-instantiate", ["--eval", "--strict", "--json", "--readonly-mode", "-E", expr], {
        encoding: "utf8",
        env: { ...process.env, NIX_STATE_DIR: join(dir, "state") },
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `nix-instantiate --parse` on the files (in batches; per file only to name a failure). */
export function parseNixFiles(files: string[]): Array<{ file: string; error: string }> {
  const failed: Array<{ file: string; error: string }> = [];
  const parse = (batch: string[]) =>
    execFileSync("nix-instantiate", ["--parse", ...batch], { stdio: ["ignore", "ignore", "pipe"] });
  for (let i = 0; i < files.length; i += 40) {
    const batch = files.slice(i, i + 40);
    try {
      parse(batch);
    } catch {
      for (const file of batch) {
        try {
          parse([file]);
        } catch (e) {
          failed.push({ file, error: String((e as { stderr?: Buffer }).stderr ?? e) });
        }
      }
    }
  }
  return failed;
}
