// The install's named phases (the same names nixos-anywhere 1.13 accepts for --phases), parsing of a
// --phases list, and what each phase means for the target when a run stops in the middle of it.
import { UserError } from "../errors";

export const INSTALL_PHASES = ["kexec", "disko", "install", "reboot"] as const;
export type InstallPhase = (typeof INSTALL_PHASES)[number];

export function isInstallPhase(s: string): s is InstallPhase {
  return (INSTALL_PHASES as readonly string[]).includes(s);
}

/** "disko,install" -> ["disko", "install"] in canonical order; unknown or empty names are a UserError. */
export function parsePhases(list: string, field = "--phases"): InstallPhase[] {
  const names = list.split(",").map((s) => s.trim());
  const bad = names.filter((n) => !isInstallPhase(n));
  if (names.length === 0 || bad.length > 0) {
    throw new UserError(
      `${field}: ${bad.length ? `unknown phase ${bad.map((b) => JSON.stringify(b)).join(", ")}` : "empty list"}`,
      {
        field,
        hint: `use a comma-separated subset of ${INSTALL_PHASES.join(",")}, e.g. --phases disko,install,reboot`,
      },
    );
  }
  return INSTALL_PHASES.filter((p) => names.includes(p));
}

/** The phases still to run, given the ones a previous run finished. */
export function remainingPhases(done: Iterable<InstallPhase>): InstallPhase[] {
  const d = new Set(done);
  const firstMissing = INSTALL_PHASES.findIndex((p) => !d.has(p));
  return firstMissing < 0 ? [] : INSTALL_PHASES.slice(firstMissing);
}

/**
 * What the target looks like when a run stops while `phase` was running: printed on Ctrl-C,
 * on failures and on timeouts, so that the operator knows whether the old system still exists.
 */
export function targetStateDuring(phase: InstallPhase | "before" | "verify"): string {
  switch (phase) {
    case "before":
      return "Nothing was changed on the target: it still runs its previous system.";
    case "kexec":
      return "The target was switching into the NixOS installer (in RAM). The disks are untouched; if it does not answer, a reboot from the provider's console brings back the old system.";
    case "disko":
      return "The target runs the NixOS installer and its disks were being partitioned: the old system is probably gone. Re-running resumes in the installer (kexec is skipped).";
    case "install":
      return "The target runs the NixOS installer; the disks are formatted and NixOS was being installed. Re-running resumes in the installer (kexec is skipped).";
    case "reboot":
      return "NixOS is installed and the target was rebooting into it. Re-running waits for it and verifies it.";
    case "verify":
      return "NixOS is installed; it has not yet answered with its pinned host key. Re-running waits for it and verifies it.";
  }
}

/**
 * disko partitions the disks of whatever system it runs on. Without kexec (which moves the target
 * into the NixOS installer in RAM) on a target that is not the installer, that is the running system
 * itself: both engines would wipe its disks under it. Exit 2 naming --phases.
 */
export function refuseDiskoOnRunningSystem(
  phases: readonly InstallPhase[],
  target: { label: string; inInstaller: boolean; osName: string | null },
): void {
  if (target.inInstaller || !phases.includes("disko") || phases.includes("kexec")) return;
  throw new UserError(
    `--phases ${phases.join(",")}: ${target.label} runs ${target.osName ?? "its own system"}, not the NixOS installer; disko would wipe the disks of that running system under it`,
    {
      field: "--phases",
      details: ["Nothing was changed on the target: only the detect probe ran."],
      hint: `include kexec (--phases kexec,${phases.join(",")}), or boot the NixOS installer on ${target.label} first`,
    },
  );
}
