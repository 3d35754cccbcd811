// Step: the flake to install, generated now (wizard / --config) or the operator's (--flake).
// Every question is asked here, before anything on the target changes.
import type { InstallContext } from "../types";

export async function loadFlake(
  ctx: Pick<InstallContext, "obtainFlake" | "facts">,
): Promise<Pick<InstallContext, "flake">> {
  return { flake: await ctx.obtainFlake(ctx.facts) };
}
