// .nixnode/state.json: the install's progress, so that a re-run after Ctrl-C, a dropped link or a
// killed process resumes instead of starting over. Only the "install" key is ours; the file itself is
// read and written by src/flake/state-file (atomic, 0600), which keeps every other key untouched.
import { STATE_PATH, readStateFile, updateStateFile } from "../flake/state-file";
import { isObject } from "../util/fields";
import { INSTALL_PHASES, type InstallPhase } from "./phases";

export interface InstallState {
  /** user@host:port the install targets; a resume for another target starts over. */
  target: string;
  engine: "nixos-anywhere" | "builtin" | null;
  /** Fingerprint of the ORIGINAL system's host key (the kexec installer keeps it). */
  previousHostKey: string | null;
  /** The pinned key of the installed system (also in host.json). */
  pinnedHostKey: string | null;
  /** /proc/sys/kernel/random/boot_id before anything changed. */
  bootIdBefore: string | null;
  phasesDone: InstallPhase[];
  /** The phase running when the last run stopped, if it stopped in the middle. */
  phaseRunning: InstallPhase | null;
  verified: boolean;
  updatedAt: string;
}

/** @deprecated import STATE_PATH from src/flake/state-file */
export { STATE_PATH };

/**
 * With `target`, that target's entry only: a fleet flake installs several targets at once, each
 * keeping its own entry under "installByTarget" ("install" is the latest write, for older readers).
 */
export function readInstallState(flakeDir: string, target?: string): InstallState | null {
  const all = readStateFile(flakeDir);
  const mine = target !== undefined && isObject(all.installByTarget) ? all.installByTarget[target] : undefined;
  const latest = isObject(all.install) && (target === undefined || all.install.target === target) ? all.install : null;
  const s = mine ?? latest;
  if (!isObject(s)) return null;
  const phasesDone = Array.isArray(s.phasesDone)
    ? (s.phasesDone.filter((p) => (INSTALL_PHASES as readonly unknown[]).includes(p)) as InstallPhase[])
    : [];
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    target: str(s.target) ?? "",
    engine: s.engine === "nixos-anywhere" || s.engine === "builtin" ? s.engine : null,
    previousHostKey: str(s.previousHostKey),
    pinnedHostKey: str(s.pinnedHostKey),
    bootIdBefore: str(s.bootIdBefore),
    phasesDone,
    phaseRunning: (INSTALL_PHASES as readonly unknown[]).includes(s.phaseRunning)
      ? (s.phaseRunning as InstallPhase)
      : null,
    verified: s.verified === true,
    updatedAt: str(s.updatedAt) ?? "",
  };
}

export function writeInstallState(flakeDir: string, state: Omit<InstallState, "updatedAt">): InstallState {
  const full: InstallState = { ...state, updatedAt: new Date().toISOString() };
  updateStateFile(flakeDir, (all) => {
    all.install = full;
    all.installByTarget = { ...(isObject(all.installByTarget) ? all.installByTarget : {}), [full.target]: full };
    // the plan's own summary fields (src/generate writes them): keep them in step
    if (full.pinnedHostKey) all.hostKeyFingerprint = full.pinnedHostKey;
    all.phases = { ...(isObject(all.phases) ? all.phases : {}), install: full.verified ? "done" : "started" };
  });
  return full;
}

export function freshInstallState(target: string): Omit<InstallState, "updatedAt"> {
  return {
    target,
    engine: null,
    previousHostKey: null,
    pinnedHostKey: null,
    bootIdBefore: null,
    phasesDone: [],
    phaseRunning: null,
    verified: false,
  };
}
