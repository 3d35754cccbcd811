// The planning entry point shared by `plan`, the wizard (remote planning) and `install`.
import type { Facts } from "../facts/types";
import { buildPlan, refuseUninstallable } from "./build-plan";
import type { PartialConfig } from "./config";
import { resolveConfig } from "./defaults";
import { providerNotes } from "./provider-notes";
import { supportWarning } from "./releases";
import type { InstallPlan } from "./types";

export type { PartialConfig } from "./config";
export { parseConfig, loadConfigFile } from "./config";
export { defaultsFromFacts, mirrorCandidates, resolveConfig, DEFAULT_SSH_PORT } from "./defaults";
export { buildPlan } from "./build-plan";
export { planNetwork } from "./network";
export { supportWarning } from "./releases";

export interface PlanFromFactsInput {
  facts: Facts;
  /** The raw nixos-facter report when the facts came from one (hardware.facter.reportPath). */
  facterReport?: unknown;
  config: PartialConfig;
  /** Where the flake will be written (recorded for messages only; planning does no I/O). */
  outDir?: string;
  interactive: false;
  /** Planning on the machine itself from a NixOS installer: no kexec, so kexec checks do not apply. */
  local?: boolean;
  /** See ResolveOptions.allowNoKeys: only for bundled examples. */
  allowNoKeys?: boolean;
  /** The day the release's support is judged against (tests pin it). */
  today?: Date;
}

/** Answers (already complete or defaultable) + facts -> a validated InstallPlan; throws UserError. */
export function planFromFacts(input: PlanFromFactsInput): InstallPlan {
  refuseUninstallable(input.facts, input.local);
  const notes: string[] = [];
  const config = resolveConfig(
    input.config,
    input.facts,
    { interactive: false, allowNoKeys: input.allowNoKeys },
    notes,
  );
  const plan = buildPlan(config, input.facts, { facterReport: input.facterReport ?? undefined, local: input.local });
  const unsupported = supportWarning(config.nixos, input.today);
  return { ...plan, notes: [...(unsupported ? [unsupported] : []), ...notes, ...plan.notes, ...providerNotes(plan)] };
}
