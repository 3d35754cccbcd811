// One writer at a time per flake: two `secrets` commands (or a wizard and a `secrets add`) that
// interleave lose a secret from secrets.nix, or both generate a host key and orphan each other's
// secrets. The lock is a file made with O_EXCL holding who took it; a holder that died on this
// machine is detected by its pid and the lock is taken over, so a crash never blocks the flake.
import { closeSync, linkSync, lstatSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { UserError, badField } from "../errors";

export const FLAKE_LOCK = ".nixnode-secrets.lock";

interface Holder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/** True while a live process on this machine (or any process elsewhere) holds the flake's lock. */
export function flakeLockBusy(dir: string): boolean {
  const h = readHolder(join(dir, FLAKE_LOCK));
  return h !== null && (h.host !== hostname() || isAlive(h.pid));
}

export interface FlakeLockOptions {
  /** How long to wait for another holder before giving up (default 15 s). */
  waitMs?: number;
}

const held = new Map<string, number>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(path: string): Holder | null {
  try {
    const h = JSON.parse(readFileSync(path, "utf8")) as Holder;
    return typeof h.pid === "number" && typeof h.host === "string" ? h : null;
  } catch {
    return null;
  }
}

function tryCreate(path: string, command: string): boolean {
  let fd: number;
  try {
    // "wx" = O_CREAT|O_EXCL: fails on anything already there, a symlink included
    fd = openSync(path, "wx", 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    throw e;
  }
  try {
    const h: Holder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
    writeSync(fd, `${JSON.stringify(h)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * A lock left by a process that no longer runs on this machine, or an empty file older than a few
 * seconds (a holder killed between creating and writing it). Taken over by renaming it away first,
 * so that of two processes finding the same stale lock only one removes it.
 */
function breakIfStale(path: string): boolean {
  const h = readHolder(path);
  let stale = false;
  if (h) stale = h.host === hostname() && !isAlive(h.pid);
  else {
    try {
      stale = Date.now() - lstatSync(path).mtimeMs > 5_000;
    } catch {
      return true; // gone meanwhile: just retry
    }
  }
  if (!stale) return false;
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return true; // someone else took it over first: retry
  }
  const moved = readHolder(aside);
  if (h && moved && (moved.pid !== h.pid || moved.since !== h.since)) {
    // A live holder took the lock between our read and the rename: give it back.
    try {
      linkSync(aside, path);
    } catch {
      /* the path is taken again: the live holder's file stays aside only until it releases */
    }
  }
  rmSync(aside, { force: true });
  return true;
}

function describeHolder(h: Holder | null, path: string): string {
  if (!h) return `another nixnode-install run holds ${path}`;
  return `\`${h.command}\` (pid ${h.pid} on ${h.host}, since ${h.since}) is changing this flake`;
}

async function acquire(dir: string, command: string, waitMs: number): Promise<() => void> {
  const path = join(dir, FLAKE_LOCK);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      if (tryCreate(path, command)) break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR")
        throw badField(
          "--flake",
          `${dir} is not a folder`,
          "give the node's flake directory (the one with nixnode.json)",
        );
      throw badField(
        "--flake",
        `cannot write in ${dir} (${code ?? (e as Error).message})`,
        "run as a user who may change the flake",
      );
    }
    if (breakIfStale(path)) continue;
    if (Date.now() >= deadline) {
      const h = readHolder(path);
      throw new UserError(`--flake: ${describeHolder(h, path)}; nothing was changed`, {
        field: "--flake",
        hint:
          h && h.host === hostname()
            ? "wait for it to finish (or end it), then run this again"
            : `wait for it to finish; if no such run exists any more, delete ${path}`,
      });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const release = () => {
    const h = readHolder(path);
    if (h && h.pid === process.pid && h.host === hostname()) rmSync(path, { force: true });
    process.off("exit", release);
  };
  process.on("exit", release);
  return release;
}

/**
 * Runs `fn` holding the flake's lock. Re-entrant within one process (a command that calls a helper
 * which also locks). Waits for another holder up to `waitMs`, then refuses naming it (exit 2).
 */
export async function withFlakeLock<T>(
  flakeDir: string,
  command: string,
  fn: () => Promise<T>,
  opts: FlakeLockOptions = {},
): Promise<T> {
  const dir = resolve(flakeDir);
  const depth = held.get(dir) ?? 0;
  const release = depth === 0 ? await acquire(dir, command, opts.waitMs ?? 15_000) : null;
  held.set(dir, depth + 1);
  try {
    return await fn();
  } finally {
    const d = (held.get(dir) ?? 1) - 1;
    if (d === 0) {
      held.delete(dir);
      release?.();
    } else held.set(dir, d);
  }
}
