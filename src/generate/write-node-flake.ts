// The one way a node flake comes into being, for `plan` (offline and from a live host) and for
// `install` (which writes one when it has none): check where it goes, add the --ssh-key keys to the
// answers, plan, render, write, and generate the secrets the profile declares. Every check of local
// input runs BEFORE `makePlan`, which is where a live host is contacted and questions are asked.
import { resolve } from "node:path";
import { UserError } from "../errors";
import { parseAuthorizedKeys, type PartialConfig } from "../plan/config";
import { supportWarning } from "../plan/releases";
import type { InstallPlan } from "../plan/types";
import { generateDeclaredSecrets } from "../secrets/store";
import { renderFlake, type FlakeFiles } from "./render-flake";
import { checkOutDir, writeFlake, type WriteFlakeResult } from "./write-flake";

export interface NodeFlakeRequest {
  /** The folder as the operator wrote it (relative to cwd); undefined only for a dry run. */
  out: string | undefined;
  cwd: string;
  /** The option that named the folder, for errors: "--out" (plan) or "--flake" (install). */
  field?: string;
  force?: boolean;
  dryRun?: boolean;
  /** The answers so far (nixnode.json). */
  partial: PartialConfig;
  /** Operator keys given on the command line (--ssh-key), added to ssh.authorizedKeys. */
  extraKeys?: string[];
  /** How to fix a missing --out, e.g. the command line with --out added. */
  outHint?: string;
}

export interface NodeFlakeIO {
  warn(message: string, hint?: string): void;
  log?(line: string): void;
  signal?: AbortSignal;
}

export interface NodeFlakeResult {
  plan: InstallPlan;
  files: FlakeFiles;
  /** The absolute folder (null for a dry run without --out). */
  dir: string | null;
  written: boolean;
  git: WriteFlakeResult["git"] | null;
  /** What the declared-secrets step did or asks the operator to do; null when the profile has none. */
  secrets: string | null;
}

/** --out: present (unless a dry run), not blank, and a new or empty folder (or --force). Touches nothing. */
export async function checkFlakeOut(req: NodeFlakeRequest): Promise<string | null> {
  const field = req.field ?? "--out";
  if (req.out === undefined) {
    if (req.dryRun) return null;
    throw new UserError(`${field}: missing; where should the flake go?`, {
      field,
      hint: req.outHint ?? "add --out ./my-node (a new or empty folder), or --dry-run to only look",
    });
  }
  if (req.out.trim() === "")
    throw new UserError(`${field}: is empty`, { field, hint: "give a folder path such as ./my-node" });
  const dir = resolve(req.cwd, req.out);
  await checkOutDir(dir, req.force === true, field, req.out);
  return dir;
}

/** The answers with the command line's keys added (each key checked, duplicates refused). */
export function withOperatorKeys(partial: PartialConfig, keys: string[]): PartialConfig {
  if (!keys.length) return partial;
  return {
    ...partial,
    ssh: {
      ...partial.ssh,
      authorizedKeys: parseAuthorizedKeys([...(partial.ssh?.authorizedKeys ?? []), ...keys], "ssh.authorizedKeys"),
    },
  };
}

/**
 * Checks the folder and the keys, then `makePlan(answers)` (which may connect and ask), then renders
 * and, unless a dry run, writes the flake and its declared secrets. Nothing is written when any step
 * before the write fails.
 */
export async function writeNodeFlake(
  req: NodeFlakeRequest,
  makePlan: (partial: PartialConfig) => InstallPlan | Promise<InstallPlan>,
  io: NodeFlakeIO,
): Promise<NodeFlakeResult> {
  const dir = await checkFlakeOut(req);
  const partial = withOperatorKeys(req.partial, req.extraKeys ?? []);
  const plan = await makePlan(partial);
  const unsupported = supportWarning(plan.config.nixos);
  if (unsupported) io.warn(unsupported, `set "nixos": "${plan.config.nixos}" only if you must; see docs/config.md`);
  const files = renderFlake(plan);
  if (req.dryRun || dir === null) return { plan, files, dir, written: false, git: null, secrets: null };
  const written = await writeFlake(files, dir, {
    force: req.force === true,
    warn: io.warn,
    signal: io.signal,
    field: req.field,
  });
  io.log?.(`flake: wrote ${written.files.length} files to ${written.dir} (git: ${written.git})`);
  const secrets = await generateDeclaredSecrets(written.dir, plan.config.profile, plan.config.ssh.authorizedKeys);
  return { plan, files, dir: written.dir, written: true, git: written.git, secrets };
}
