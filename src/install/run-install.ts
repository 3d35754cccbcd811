// The install phase as ONE list of named steps: connect and probe, check --phases, load the flake,
// resolve resume, gate the destructive part, stage the host key, run the engine, verify, hand over.
// Each step is a function of only the context fields it uses; what it returns is merged into the
// context for the steps after it. --phases, resume (state.json) and install --dry-run (dry-run.ts,
// which needs a description for every step named here) all read this list, so a step skipped for an
// already-installed node is skipped in one place.
import { checkRequestedPhases } from "./steps/check-phases";
import { connectTarget } from "./steps/connect-target";
import { gateDestructive } from "./steps/gate-destructive";
import { handOver } from "./steps/hand-over";
import { loadFlake } from "./steps/load-flake";
import { resolveResume } from "./steps/resolve-resume";
import { runEngine } from "./steps/run-engine";
import { stageHostKey } from "./steps/stage-host-key";
import { verifyInstalledSystem } from "./steps/verify-installed-system";
import type { InstallContext, InstallDeps, InstallOutcome } from "./types";

export { destinationLabel } from "./steps/connect-target";

export interface InstallStep {
  name: string;
  /** Why the step does not run for this context (null: it runs). Read once the steps before it ran. */
  skip?(ctx: InstallContext): string | null;
  run(ctx: InstallContext): Promise<Partial<InstallContext> | void>;
}

const installedAlready = (ctx: InstallContext) =>
  ctx.alreadyInstalled ? "the target already runs the installed system with the pinned host key" : null;

export const INSTALL_STEPS: readonly InstallStep[] = [
  { name: "connect", run: connectTarget },
  { name: "check-phases", run: checkRequestedPhases },
  { name: "load-flake", run: loadFlake },
  { name: "resolve-resume", run: resolveResume },
  { name: "gate", skip: installedAlready, run: gateDestructive },
  { name: "stage-host-key", skip: installedAlready, run: stageHostKey },
  { name: "run-engine", skip: installedAlready, run: runEngine },
  { name: "verify", run: verifyInstalledSystem },
  { name: "hand-over", run: handOver },
];

export async function runInstall(
  deps: InstallDeps,
  steps: readonly InstallStep[] = INSTALL_STEPS,
): Promise<InstallOutcome> {
  // fields are set by the steps in order; a step only reads what an earlier one returned
  const ctx = { ...deps, session: null, staged: null, warnings: [] } as unknown as InstallContext;
  try {
    for (const step of steps) {
      const skipped = step.skip?.(ctx) ?? null;
      if (skipped) {
        ctx.log.write(`install step ${step.name}: skipped (${skipped})`);
        continue;
      }
      ctx.log.write(`install step ${step.name}`);
      Object.assign(ctx, await step.run(ctx));
    }
  } finally {
    if (ctx.session) await ctx.session.close().catch(() => undefined);
  }
  return ctx.outcome;
}
