// Step: wait for the PINNED key (handshakes only), one verifying login, the known_hosts entry, the
// optional copy of the flake to /etc/nixos, state.json marked verified. A target that already runs
// the installed system hands its verified session in and skips the wait.
import { finishAndVerify } from "../finish-install";
import { lineProgress } from "../phase-progress";
import type { InstallContext } from "../types";

export async function verifyInstalledSystem(
  ctx: Pick<
    InstallContext,
    | "session"
    | "flake"
    | "state"
    | "progress"
    | "warnings"
    | "alreadyInstalled"
    | "out"
    | "log"
    | "signal"
    | "destination"
    | "rebootTimeoutMs"
    | "probeHostKey"
    | "connect"
    | "trustHostKey"
    | "copyFlakeToEtc"
  >,
): Promise<Pick<InstallContext, "session">> {
  const session = ctx.alreadyInstalled ? ctx.session : null;
  await finishAndVerify(ctx, {
    session,
    flake: ctx.flake,
    state: ctx.state,
    progress: ctx.alreadyInstalled ? lineProgress(ctx.out) : ctx.progress,
    warnings: ctx.warnings,
  });
  // finishAndVerify closes the session it was handed
  return { session: null };
}
