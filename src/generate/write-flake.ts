// Writes a rendered flake to disk: the only I/O of the generate phase. It refuses a folder that
// already holds files unless told to (--force), writes through a temporary sibling folder so that
// a failure half-way leaves nothing behind, and initialises git so the operator starts versioned.
// The temporary folder carries the writer's pid: a run that was killed (SIGKILL, power loss) leaves
// one behind, and the next run removes those whose writer is gone. Ctrl-C removes it at once.
import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { CancelledError, OperationError, UserError } from "../errors";
import type { FlakeFiles } from "./render-flake";

export interface WriteFlakeOptions {
  force?: boolean;
  /** Called for things the operator should know (git missing). */
  warn?: (message: string, hint?: string) => void;
  git?: boolean;
  /** The option that named the folder, for errors (default --out). */
  field?: string;
  /** Ctrl-C / SIGTERM (the CLI's abort signal): the temporary folder is removed and nothing is written. */
  signal?: AbortSignal;
}

export interface WriteFlakeResult {
  dir: string;
  files: string[];
  git: "initialised" | "skipped" | "missing";
}

const run = promisify(execFile);

/** Checks the output folder without touching anything: exists and non-empty -> UserError naming the option. */
export async function checkOutDir(outDir: string, force = false, field = "--out", shown = outDir): Promise<void> {
  const dir = resolve(outDir);
  let entries: string[];
  try {
    const st = await stat(dir);
    if (!st.isDirectory())
      throw new UserError(`${field}: ${shown} exists and is not a folder`, {
        field,
        hint: "give the path of a new or empty folder",
      });
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    if (e instanceof UserError) throw e;
    throw new UserError(`${field}: ${shown} cannot be read (${(e as NodeJS.ErrnoException).code ?? e})`, {
      field,
      hint: "give a folder you can write to",
    });
  }
  if (entries.length > 0 && !force) {
    throw new UserError(
      `${field}: ${shown} is not empty (${entries.length} entr${entries.length === 1 ? "y" : "ies"})`,
      {
        field,
        hint: "choose a new folder, or add --force to replace the generated files in it (other files are kept)",
      },
    );
  }
}

function modeFor(path: string): number {
  // Everything here is public or tool data; the state file may later hold pinned fingerprints only.
  return path.startsWith(".nixnode/") ? 0o600 : 0o644;
}

export async function writeFlake(
  files: FlakeFiles,
  outDir: string,
  opts: WriteFlakeOptions = {},
): Promise<WriteFlakeResult> {
  const field = opts.field ?? "--out";
  await checkOutDir(outDir, opts.force, field);
  const dir = resolve(outDir);
  await mkdir(dirname(dir), { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw new UserError(`${field}: cannot create ${dirname(dir)} (${e.code ?? e.message})`, {
      field,
      hint: "give a folder you can write to",
    });
  });
  const existed = await stat(dir).then(
    () => true,
    () => false,
  );
  await removeStaleStages(dir);
  opts.signal?.throwIfAborted();
  // Stage into a sibling so a failure leaves no half-written flake behind.
  const stage = await mkdtemp(join(dirname(dir), `${stagePrefix(dir)}${process.pid}-`));
  // synchronous: the process may be about to exit once the signal has been handled
  const onAbort = () => rmSync(stage, { recursive: true, force: true });
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (const [rel, text] of Object.entries(files)) {
      if (opts.signal?.aborted) throw new CancelledError(`Interrupted: nothing was written to ${outDir}.`);
      const target = join(stage, rel);
      await mkdir(dirname(target), { recursive: true, mode: rel.startsWith(".nixnode/") ? 0o700 : 0o755 });
      await writeFile(target, text, { mode: modeFor(rel) });
      await chmod(target, modeFor(rel));
    }
    if (!existed) {
      await rename(stage, dir);
    } else {
      // --force into an existing folder: move the generated files over, keep everything else.
      for (const rel of Object.keys(files)) {
        await mkdir(dirname(join(dir, rel)), { recursive: true });
        await rename(join(stage, rel), join(dir, rel));
      }
      await rm(stage, { recursive: true, force: true });
    }
  } catch (e) {
    await rm(stage, { recursive: true, force: true });
    if (e instanceof CancelledError || opts.signal?.aborted)
      throw new CancelledError(`Interrupted: nothing was written to ${outDir}.`, { cause: e });
    throw new OperationError(`could not write the flake to ${outDir}: ${(e as Error).message}`, {
      cause: e,
      hint: "check free space and permissions; nothing was left half-written",
    });
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
  const git = opts.git === false ? "skipped" : await gitInit(dir, Object.keys(files), opts.warn);
  return { dir, files: Object.keys(files), git };
}

/** `.<name>.nixnode-<pid>-XXXXXX` beside the flake folder. */
function stagePrefix(dir: string): string {
  return `.${basename(dir)}.nixnode-`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
}

/** Removes temporary folders of earlier writes to the same flake whose writer (by pid) is dead and which we own. */
export async function removeStaleStages(outDir: string): Promise<string[]> {
  const dir = resolve(outDir);
  const prefix = stagePrefix(dir);
  const entries = await readdir(dirname(dir)).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of entries) {
    const m = name.startsWith(prefix) ? /^(\d+)-[A-Za-z0-9]{6}$/.exec(name.slice(prefix.length)) : null;
    if (!m) continue;
    const pid = Number(m[1]);
    const path = join(dirname(dir), name);
    const st = await stat(path).catch(() => null);
    if (!st?.isDirectory() || (process.getuid && st.uid !== process.getuid())) continue;
    if (pid === process.pid || processAlive(pid)) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

async function gitInit(
  dir: string,
  files: string[],
  warn?: WriteFlakeOptions["warn"],
): Promise<WriteFlakeResult["git"]> {
  try {
    await run("git", ["init", "--quiet", dir]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      warn?.(
        "git is not installed: the flake folder is not a git repository",
        "install git and run `git init && git add -A` there; Nix flakes only see files that git tracks",
      );
      return "missing";
    }
    throw new OperationError(`git init in ${dir} failed: ${(e as Error).message}`, { cause: e });
  }
  // Flakes only see tracked files: add (not commit) them, the operator commits with their identity.
  await run("git", ["-C", dir, "add", "--", ...files]);
  return "initialised";
}

/**
 * Stages files the tool wrote into an existing flake (secrets, keys, lockdown.nix, host.json) in
 * its git index. Nix evaluates a flake in a git repository from TRACKED files only: an untracked
 * secrets/module.nix or lockdown.nix would be silently ignored by nixos-anywhere and by the
 * operator's next `nixos-rebuild --flake` (reopening port 22). Does nothing outside a git repository.
 */
export async function stageInFlakeGit(
  dir: string,
  paths: string[],
  warn?: WriteFlakeOptions["warn"],
): Promise<boolean> {
  if (!existsSync(join(dir, ".git"))) return false;
  const present = paths.filter((p) => existsSync(join(dir, p)));
  if (!present.length) return false;
  try {
    await run("git", ["-C", dir, "add", "--all", "--", ...present]);
    return true;
  } catch (e) {
    warn?.(
      `could not stage ${present.join(", ")} in ${dir}'s git: ${(e as Error).message.split("\n")[0]}`,
      `run \`git -C ${dir} add ${present.join(" ")}\`: Nix flakes only see files that git tracks`,
    );
    return false;
  }
}
