// Step: refuse a --phases list that would run disko on a running system, right after the detect
// probe and before anything is written locally or sent to the target.
import { refuseDiskoOnRunningSystem } from "../phases";
import type { InstallContext } from "../types";

export async function checkRequestedPhases(ctx: Pick<InstallContext, "phases" | "facts" | "label">): Promise<void> {
  if (!ctx.phases) return;
  refuseDiskoOnRunningSystem(ctx.phases, {
    label: ctx.label,
    inInstaller: ctx.facts.os.isNixosInstaller,
    osName: ctx.facts.os.prettyName,
  });
}
