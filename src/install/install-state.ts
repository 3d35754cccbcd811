// .nixnode/state.json: the install's progress, so that a re-run after Ctrl-C, a dropped link or a
// killed process resumes instead of starting over. Only the "install" key is ours; other keys
// (lockdown, generations) are read and written back untouched. Written atomically (tmp + rename).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors";
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

export const STATE_PATH = ".nixnode/state.json";

function readAll(flakeDir: string): Record<string, unknown> {
  const p = join(flakeDir, STATE_PATH);
  if (!existsSync(p)) return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(p, "utf8"));
  } catch (e) {
    throw new UserError(`${STATE_PATH}: not valid JSON (${(e as Error).message})`, {
      field: STATE_PATH,
      hint: "restore it from git, or delete it to start the install over",
    });
  }
  if (!isObject(data))
    throw new UserError(`${STATE_PATH}: not a JSON object`, { field: STATE_PATH, hint: "restore it from git" });
  return data;
}

export function readInstallState(flakeDir: string): InstallState | null {
  const s = readAll(flakeDir).install;
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
  const all = readAll(flakeDir);
  const full: InstallState = { ...state, updatedAt: new Date().toISOString() };
  all.install = full;
  // the plan's own summary fields (src/generate writes them): keep them in step
  if (full.pinnedHostKey) all.hostKeyFingerprint = full.pinnedHostKey;
  all.phases = { ...(isObject(all.phases) ? all.phases : {}), install: full.verified ? "done" : "started" };
  const dir = join(flakeDir, ".nixnode");
  mkdirSync(dir, { recursive: true });
  const p = join(flakeDir, STATE_PATH);
  const tmp = `${p}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(all, null, 2) + "\n");
  renameSync(tmp, p);
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
