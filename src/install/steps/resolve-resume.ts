// Step: what this run does, from state.json and what the target is now. A target already running the
// planned system with the pinned key only needs verifying; one in the installer skips kexec; one back
// in its old OS after kexec had finished starts over (kexec lives in RAM).
import { freshInstallState, readInstallState } from "../install-state";
import { INSTALL_PHASES, remainingPhases } from "../phases";
import type { InstallContext, InstallStateDraft } from "../types";

export async function resolveResume(
  ctx: Pick<InstallContext, "flake" | "facts" | "label" | "presented" | "phases" | "out">,
): Promise<Pick<InstallContext, "state" | "runPhases" | "resumedFrom" | "alreadyInstalled">> {
  const { flake, facts, label, out } = ctx;
  const prior = readInstallState(flake.dir, label);
  let state: InstallStateDraft = prior && prior.target === label ? prior : freshInstallState(label);
  const pinnedBefore = flake.host.ssh.hostKeyFingerprint;

  if (pinnedBefore && ctx.presented === pinnedBefore && facts.os.isNixos && !facts.os.isNixosInstaller) {
    out.info(
      `${label} already runs the installed system with the pinned host key ${pinnedBefore}: skipping to verification.`,
    );
    return { state, runPhases: [], resumedFrom: "installed system", alreadyInstalled: true };
  }

  const inInstaller = facts.os.isNixosInstaller;
  let phases = ctx.phases ?? remainingPhases(state.phasesDone);
  if (inInstaller) phases = phases.filter((p) => p !== "kexec");
  else if (!ctx.phases && state.phasesDone.includes("kexec")) {
    out.warn(
      `${label} runs ${facts.os.prettyName ?? "its previous OS"} again although kexec had finished: starting the install over.`,
    );
    phases = [...INSTALL_PHASES];
    state = { ...state, phasesDone: [] };
  }
  if (phases.length === 0) phases = ["reboot"];
  const resumedFrom =
    prior && prior.target === label && (prior.phasesDone.length || inInstaller)
      ? `after ${prior.phasesDone.join(", ") || "kexec"}`
      : inInstaller
        ? "in the installer"
        : null;
  if (resumedFrom) out.info(`Resuming the install of ${label} ${resumedFrom}: phases ${phases.join(", ")}.`);
  return { state, runPhases: phases, resumedFrom, alreadyInstalled: false };
}
