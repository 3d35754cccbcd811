// Runs Nix for the disko tests: `nix-instantiate --parse` (Debian's nix-bin), and evaluation with
// REAL disko when the nix lab is set up (NIXNODE_DISKO and NIXNODE_NIXPKGS_LIB, see
// scripts/nix-lab.sh). Nothing is built or fetched: evaluation reads only the two source trees.
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** ../shared/tools/nix-lab/eval-disko.nix beside the repository (CI clones shared/ next to it). */
export const EVAL_DISKO_NIX = fileURLToPath(
  new URL("../../../../shared/tools/nix-lab/eval-disko.nix", import.meta.url),
);
/** Evaluates a generated boot.nix with nixpkgs' lib (and a stand-in for pkgs). */
export const BOOT_MODULE_NIX = fileURLToPath(new URL("./boot-module.nix", import.meta.url));
/** The wipe/create/mount scripts nixos-anywhere runs, which eval-disko.nix does not expose. */
export const DISKO_SCRIPTS_NIX = fileURLToPath(new URL("./disko-scripts.nix", import.meta.url));

function hasCommand(cmd: string): boolean {
  try {
    execFileSync(cmd, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false; // not installed: the tests that need it report as skipped
  }
}

export const nixInstantiate = hasCommand("nix-instantiate");
export const NO_NIX = "nix-instantiate is not installed (apt-get install nix-bin)";

const diskoDir = process.env.NIXNODE_DISKO;
const libDir = process.env.NIXNODE_NIXPKGS_LIB;
export const lab =
  nixInstantiate &&
  !!diskoDir &&
  !!libDir &&
  existsSync(`${diskoDir}/lib/types/gpt.nix`) &&
  existsSync(`${libDir}/lib/modules.nix`) &&
  existsSync(EVAL_DISKO_NIX)
    ? { disko: diskoDir, lib: libDir }
    : null;
export const NO_LAB = !nixInstantiate
  ? NO_NIX
  : !diskoDir || !libDir
    ? "NIXNODE_DISKO and NIXNODE_NIXPKGS_LIB are not set: no real disko to evaluate with (see scripts/nix-lab.sh)"
    : !existsSync(EVAL_DISKO_NIX)
      ? `${EVAL_DISKO_NIX} is missing (shared/ must sit beside the repository)`
      : `NIXNODE_DISKO=${diskoDir} or NIXNODE_NIXPKGS_LIB=${libDir} is not a disko / nixpkgs.lib source tree`;

/** Parses a file as Nix; resolves to the parser's error text, or null when it parses. */
export async function nixParseError(file: string): Promise<string | null> {
  try {
    await run("nix-instantiate", ["--parse", file], { maxBuffer: 64 << 20 });
    return null;
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
}

async function evalJson(nixFile: string, args: string[], withDisko = true): Promise<unknown> {
  if (!lab) throw new Error(NO_LAB);
  try {
    const { stdout } = await run(
      "nix-instantiate",
      [
        "--eval",
        "--strict",
        "--json",
        nixFile,
        ...(withDisko ? ["--arg", "disko", lab.disko] : []),
        "--arg",
        "nixpkgsLib",
        lab.lib,
        ...args,
      ],
      { maxBuffer: 64 << 20 },
    );
    return JSON.parse(stdout);
  } catch (e) {
    throw new Error(`disko evaluation failed:\n${String((e as { stderr?: string }).stderr ?? e)}`);
  }
}

/** eval-disko.sh FILE [what], reimplemented: `check` gives { ok, disks, mountpoints }. */
export function evalDisko(file: string, what: "check" | "devices" | "create" | "mount" = "check"): Promise<unknown> {
  return evalJson(EVAL_DISKO_NIX, ["--arg", "diskoFile", file, "--argstr", "what", what]);
}

export interface DiskoScripts {
  disks: Record<string, { device: string; destroy: boolean }>;
  mountpoints: string[];
  swap: string[];
  grubDevices: string[];
  swraid: boolean;
  /** The wipe step of nixos-anywhere's default `--disko-mode disko`. */
  destroy: string;
  /** The wipe step of `disko --mode destroy,format,mount`. */
  destroyStrict: string;
  create: string;
  mount: string;
}

/**
 * The layout file evaluated by real disko: called with arguments for a template (`disko --arg`),
 * or, with asModule, imported as a NixOS module the way the generated flake imports it.
 */
export async function diskoScripts(
  file: string,
  args: Record<string, unknown> = {},
  opts: { asModule?: boolean } = {},
): Promise<DiskoScripts> {
  const mode = opts.asModule ? ["--arg", "asModule", "true"] : [];
  return (await evalJson(DISKO_SCRIPTS_NIX, [
    "--arg",
    "diskoFile",
    file,
    "--argstr",
    "argsJson",
    JSON.stringify(args),
    ...mode,
  ])) as DiskoScripts;
}

/** A generated boot.nix called like the module system would, as JSON. */
export function evalBootModule(file: string): Promise<unknown> {
  return evalJson(BOOT_MODULE_NIX, ["--arg", "bootFile", file], false);
}
