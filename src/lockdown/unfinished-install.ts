// A lockdown run against a machine whose install never finished meets the key of the system that
// was there BEFORE the install (the kexec installer keeps it; a failed install reboots into the old
// OS). That is not an attack, and --host-key is not the way out: state.json recorded that key as
// the install's `previousHostKey` and that the install was not verified. Say so, and how to resume.
import { OperationError } from "../errors";
import { readInstallState } from "../install/install-state";
import { hostKeyFailureOf } from "../remote/ssh-errors";
import { shellQuote } from "../util/shell-quote";

export interface UnfinishedInstallContext {
  flakeDir: string;
  /** The flake folder as the operator wrote it (for the command to run). */
  flakeArg: string;
  /** [user@]host[:port] as the operator wrote it. */
  destination: string;
  /**
   * user@host:port after ~/.ssh/config, as the install records it (destinationLabel): a fleet
   * flake keeps one install entry per target, and only this target's may explain its key.
   */
  target: string;
  hostFile: string;
}

/**
 * `e` explained when it is a changed host key that is the pre-install system's key of an install
 * that did not complete; otherwise null (the caller rethrows `e` unchanged).
 */
export function unfinishedInstallError(e: unknown, c: UnfinishedInstallContext): OperationError | null {
  const hk = hostKeyFailureOf(e);
  if (!hk || hk.kind !== "changed") return null;
  let install;
  try {
    install = readInstallState(c.flakeDir, c.target);
  } catch {
    return null;
  }
  if (!install || install.verified || !install.previousHostKey) return null;
  if (hk.presented !== install.previousHostKey.replace(/=+$/, "")) return null;
  const stopped = install.phaseRunning
    ? `it stopped during the ${install.phaseRunning} phase`
    : install.phasesDone.length
      ? `it stopped after ${install.phasesDone.join(", ")}`
      : "it stopped before its first phase finished";
  return new OperationError(
    `the install of this machine did not complete (${stopped}): it still presents the host key of the system that was there before the install, not the new system's. Nothing was changed on the target.`,
    {
      details: [
        `presented: ${hk.presented} (recorded before the install in .nixnode/state.json)`,
        `expected:  ${hk.expected.join(", ") || "the key pinned in " + c.hostFile} (the installed system's key, pinned in ${c.hostFile})`,
      ],
      hint: `finish the install first: nixnode-install ${shellQuote(c.destination)} --flake ${shellQuote(c.flakeArg)} (it resumes from .nixnode/state.json); then run lockdown again`,
      cause: e,
    },
  );
}
