// Step: the verified node goes to lockdown (unless --no-lockdown), then the run's outcome.
import { readInstallState } from "../install-state";
import type { InstallContext } from "../types";

export async function handOver(
  ctx: Pick<InstallContext, "lockdown" | "flake" | "state" | "warnings" | "resumedFrom" | "out">,
): Promise<Pick<InstallContext, "outcome">> {
  if (ctx.lockdown) await ctx.lockdown(ctx.flake);
  for (const w of ctx.warnings) ctx.out.warn(w);
  const state = readInstallState(ctx.flake.dir, ctx.state.target) ?? ctx.state;
  return {
    outcome: {
      hostName: ctx.flake.hostName,
      flakeDir: ctx.flake.dir,
      fingerprint: state.pinnedHostKey ?? ctx.flake.host.ssh.hostKeyFingerprint ?? "",
      knownHostsFile: null,
      warnings: ctx.warnings,
      resumedFrom: ctx.resumedFrom,
    },
  };
}
