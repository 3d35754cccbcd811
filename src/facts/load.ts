// Reads a facts file given on the command line: either the tool's own Facts JSON (`"schema": 1`,
// written by `detect --json` or by hand) or a nixos-facter report, recognised by content, not by
// file name. Every failure is the operator's to fix, so each is a UserError naming the option.
import { readFile } from "node:fs/promises";
import { UserError } from "../errors";
import { describe, isObject } from "../util/fields";
import { importFacterReport, looksLikeFacterReport } from "./facter";
import type { Facts } from "./types";
import { validateFacts } from "./validate";

export interface LoadedFacts {
  facts: Facts;
  /** The raw nixos-facter report when the file was one (the flake can ship it as facter.json). */
  facterReport: unknown | null;
}

const NEITHER_HINT =
  "give the facts from `nixnode-install detect root@HOST --json > facts.json` (or --save facts.json), or a nixos-facter report (`nix run nixpkgs#nixos-facter -- -o facter.json`)";

export async function loadFactsFile(path: string, field = "--facts"): Promise<LoadedFacts> {
  if (path.trim() === "") throw new UserError(`${field}: no file given`, { field, hint: NEITHER_HINT });
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw readError(e, path, field);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // `detect --json > facts.json` writes the NDJSON event stream: take the facts out of its result
    const stream = readEventStream(text);
    if (!stream) {
      const why = e instanceof Error ? e.message : String(e);
      throw new UserError(`${field}: ${path} is not valid JSON (${why})`, { field, hint: NEITHER_HINT, cause: e });
    }
    return factsFromStream(stream, path, field);
  }
  // a stream of one line (only the result, or only an error) parses as plain JSON
  if (isObject(json) && typeof json.type === "string" && !("schema" in json)) {
    const stream = readEventStream(text);
    if (stream) return factsFromStream(stream, path, field);
  }
  return factsFromJson(json, `${field} ${path}`, field);
}

function factsFromStream(stream: { facts?: unknown; error?: string }, path: string, field: string): LoadedFacts {
  if (stream.facts !== undefined) return factsFromJson(stream.facts, `${field} ${path}`, field);
  throw new UserError(
    `${field}: ${path} is the output of a detect run that ended without facts${stream.error ? ` (${stream.error})` : ""}`,
    { field, hint: "run detect again until it succeeds: nixnode-install detect root@HOST --save facts.json" },
  );
}

/**
 * The NDJSON that `detect --json` prints (one event per line, the last a "result" whose data holds
 * `facts`): its facts and the error it ended with, or null when the text is not such a stream.
 */
export function readEventStream(text: string): { facts?: unknown; error?: string } | null {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return null;
  const found: { facts?: unknown; error?: string } = {};
  for (const line of lines) {
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      return null; // not a stream of events: the file's own JSON error is reported
    }
    if (!isObject(ev) || typeof ev.type !== "string") return null;
    if (ev.type === "result" && isObject(ev.data) && "facts" in ev.data) found.facts = ev.data.facts;
    if (ev.type === "error" && typeof ev.message === "string") found.error = ev.message;
  }
  return found;
}
/** The same recognition for JSON already in memory (stdin, an HTTP body, a test). */
export function factsFromJson(json: unknown, what: string, field: string): LoadedFacts {
  if (isObject(json) && "schema" in json)
    return { facts: withField(() => validateFacts(json), field), facterReport: null };
  if (looksLikeFacterReport(json))
    return { facts: withField(() => importFacterReport(json), field), facterReport: json };
  const seen = isObject(json)
    ? `an object with keys ${Object.keys(json).slice(0, 6).join(", ") || "(none)"}`
    : describe(json);
  throw new UserError(
    `${field}: ${what} is neither nixnode facts ("schema": 1) nor a nixos-facter report; it holds ${seen}`,
    { field, hint: NEITHER_HINT },
  );
}

/** Field errors inside the file keep their path (facts.disks[0].sizeBytes) and gain the option's name. */
function withField<T>(load: () => T, field: string): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof UserError && e.field && !e.message.startsWith(field)) {
      throw new UserError(`${field}: ${e.message}`, { field: e.field, hint: e.hint, details: e.details, cause: e });
    }
    throw e;
  }
}

function readError(e: unknown, path: string, field: string): UserError {
  const code = isObject(e) && typeof e.code === "string" ? e.code : "";
  const why =
    code === "ENOENT"
      ? "does not exist"
      : code === "EACCES" || code === "EPERM"
        ? "cannot be read (permission denied)"
        : code === "EISDIR"
          ? "is a directory, not a file"
          : `cannot be read (${e instanceof Error ? e.message : String(e)})`;
  const hint =
    code === "ENOENT"
      ? `check the path; ${NEITHER_HINT}`
      : code === "EISDIR"
        ? "name the JSON file inside it"
        : NEITHER_HINT;
  return new UserError(`${field}: ${path} ${why}`, { field, hint, cause: e });
}
