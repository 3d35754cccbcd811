// The flake the install uses. An existing one (--flake DIR, or ./<hostname> from an earlier run) is
// re-planned against the facts just detected, so a flake made for another machine (a disk by-id
// that is not here) is refused before anything is erased. Otherwise the wizard (or --config with
// --yes) answers, the plan is built and the flake is written, all before the task list starts.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../errors";
import type { Facts } from "../facts/types";
import { writeNodeFlake } from "../generate/write-node-flake";
import { findDuplicateKey } from "../plan/duplicate-keys";
import { loadConfigFile, parseConfig, planFromFacts, type PartialConfig } from "../plan/index";
import type { Output } from "../ui/output";
import { askAnswers } from "../wizard/ask-answers";
import { findOperatorKeys, systemKeySources } from "../wizard/operator-keys";
import type { Prompter } from "../wizard/prompter";
import { findFlakeHost, readHostData, refuseWithoutOperatorKey } from "./flake-host";
import type { FlakeInfo } from "./types";

export interface ObtainFlakeInput {
  facts: Facts;
  /** --flake, resolved; null: ./<hostname>. */
  flakeOption: string | null;
  cwd: string;
  configFile: string | null;
  interactive: boolean;
  prompter: Prompter | null;
  env: NodeJS.ProcessEnv;
  out: Output;
  /** Keys the operator holds here: one must be authorised before anything is written (#294). */
  operatorPublicKeys: string[];
  /** -i files: their public keys are offered first by the wizard (the key the operator logs in with). */
  identityFiles?: string[];
  /** Ctrl-C while the flake is written: nothing is left half-written. */
  signal?: AbortSignal;
  /** install --dry-run: plan in memory, write nothing (the folder is not created). */
  dryRun?: boolean;
  /** install --local: the keys the operator brought (pasted, file, GitHub) when --config names none. */
  presetAuthorizedKeys?: string[];
}

function existingFlake(dir: string, facts: Facts): FlakeInfo {
  const hostName = findFlakeHost(dir);
  const host = readHostData(dir, hostName);
  let config: PartialConfig;
  try {
    const text = readFileSync(join(dir, "nixnode.json"), "utf8");
    const json: unknown = JSON.parse(text);
    const duplicate = findDuplicateKey(text);
    if (duplicate)
      throw new UserError(
        `--flake: ${join(dir, "nixnode.json")}: ${duplicate}: appears twice; JSON keeps only the last one`,
        {
          field: duplicate,
          hint: `keep one "${duplicate.split(".").pop()}" in that object and delete the other`,
        },
      );
    config = parseConfig(json, "nixnode.json");
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`--flake: ${join(dir, "nixnode.json")} cannot be read (${(e as Error).message})`, {
      field: "--flake",
      hint: "give a flake made by nixnode-install plan",
    });
  }
  // Re-planning proves the flake fits THIS machine (its disks exist here) and gives the erase summary.
  const plan = planFromFacts({ facts, config, interactive: false });
  return { dir, hostName, host, plan };
}

export async function obtainFlake(i: ObtainFlakeInput): Promise<FlakeInfo> {
  if (i.flakeOption && existsSync(join(i.flakeOption, "flake.nix"))) {
    i.out.info(`Using the flake in ${i.flakeOption}`);
    return existingFlake(i.flakeOption, i.facts);
  }
  const partial = i.configFile ? await loadConfigFile(i.configFile) : {};
  if (i.presetAuthorizedKeys?.length && !partial.ssh?.authorizedKeys)
    partial.ssh = { ...partial.ssh, authorizedKeys: i.presetAuthorizedKeys };
  const keysFound = await findOperatorKeys(systemKeySources(i.env, undefined, i.identityFiles));
  if (i.interactive && !i.prompter) throw new UserError("--yes: needed without a terminal", { field: "--yes" });
  const config = await askAnswers({
    facts: i.facts,
    partial,
    prompter: i.prompter!,
    interactive: i.interactive,
    keysFound,
  });
  const dir = i.flakeOption ?? resolve(i.cwd, config.hostname);
  if (existsSync(join(dir, "flake.nix"))) {
    i.out.info(`Using the flake written by an earlier run: ${dir}`);
    return existingFlake(dir, i.facts);
  }
  const written = await writeNodeFlake(
    { out: dir, cwd: i.cwd, field: "--flake", partial: config, dryRun: i.dryRun },
    (answers) => {
      const plan = planFromFacts({ facts: i.facts, config: answers, interactive: false });
      refuseWithoutOperatorKey(plan.host, i.operatorPublicKeys, config.hostname);
      return plan;
    },
    { warn: (m, h) => i.out.warn(m, h), signal: i.signal },
  );
  if (!written.written) return { dir, hostName: config.hostname, host: written.plan.host, plan: written.plan };
  i.out.info(`Wrote the flake for ${config.hostname} to ${dir}`);
  if (written.secrets) i.out.info(written.secrets);
  return { dir, hostName: config.hostname, host: written.plan.host, plan: written.plan };
}
