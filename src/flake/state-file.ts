// .nixnode/state.json: what the tool did to the machine (the plan, the install's progress, the
// lockdown's outcome). The ONE reader and writer: each phase owns one key and every other key is
// written back untouched; the file is replaced atomically and stays private (0600, folder 0700).
// A fleet flake keeps per-host (per-target) maps under one key (writeStateEntry); read-modify-write
// is synchronous, so hosts running in parallel in one process never interleave inside it.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors";
import { isObject } from "../util/fields";
import { writeAtomic } from "../util/write-atomic";

export const STATE_PATH = ".nixnode/state.json";

export function statePath(flakeDir: string): string {
  return join(flakeDir, STATE_PATH);
}

/** The whole file as an object; {} when it does not exist yet. */
export function readStateFile(flakeDir: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(statePath(flakeDir), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new UserError(`${STATE_PATH}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      field: STATE_PATH,
      hint: "check the permissions of the flake's .nixnode folder",
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
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

/** Reads, lets `change` edit the object, and replaces the file atomically. */
export function updateStateFile(flakeDir: string, change: (all: Record<string, unknown>) => void): void {
  const all = readStateFile(flakeDir);
  change(all);
  mkdirSync(join(flakeDir, ".nixnode"), { recursive: true, mode: 0o700 });
  writeAtomic(statePath(flakeDir), JSON.stringify(all, null, 2) + "\n", { mode: 0o600 });
}

/** Sets one top-level key, keeping every other one as it was. */
export function writeStateKey(flakeDir: string, key: string, value: unknown): void {
  updateStateFile(flakeDir, (all) => {
    all[key] = value;
  });
}

/**
 * One named entry of a per-name map (a fleet flake keeps one per host or target): all[byKey][name].
 * With `latestKey`, all[latestKey] is set to the same value in the same write, for readers that
 * predate the map. Every other entry and key is written back untouched.
 */
export function writeStateEntry(
  flakeDir: string,
  byKey: string,
  name: string,
  value: unknown,
  latestKey?: string,
): void {
  updateStateFile(flakeDir, (all) => {
    all[byKey] = { ...(isObject(all[byKey]) ? all[byKey] : {}), [name]: value };
    if (latestKey !== undefined) all[latestKey] = value;
  });
}

/** all[byKey][name] when it is an object; null otherwise (the file is still validated). */
export function readStateEntry(flakeDir: string, byKey: string, name: string): Record<string, unknown> | null {
  const by = readStateFile(flakeDir)[byKey];
  const v = isObject(by) ? by[name] : undefined;
  return isObject(v) ? v : null;
}
