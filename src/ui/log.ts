// The run log: everything verbose (child process output, SSH diagnostics) goes to a file whose path
// is printed, never to the terminal. Every line passes through redact() first: registered secrets
// (passwords, key material) are replaced, and private-key blocks are cut out whatever their source.
// The folder is the user's own ($TMPDIR/nixnode-install-<uid>, 0700): a folder another local user
// made, or a symlink, is refused, and the file is created with O_EXCL|O_NOFOLLOW and written through
// its descriptor, so a root run can never be made to append its log to someone else's file.
import { chmodSync, constants, lstatSync, mkdirSync, openSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../errors";
import { shellQuote } from "../util/shell-quote";

export interface Log {
  readonly path: string | null;
  write(line: string): void;
  /** Remember a secret so that it never appears in the log, even if a child process echoes it. */
  addSecret(secret: string): void;
}

const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const AGE_SECRET_KEY = /AGE-SECRET-KEY-1[0-9A-Z]+/g;

export function redact(text: string, secrets: Iterable<string>): string {
  let out = text.replace(PRIVATE_KEY_BLOCK, "[redacted private key]").replace(AGE_SECRET_KEY, "[redacted age key]");
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[redacted]");
  return out;
}

/** $TMPDIR/nixnode-install-<uid>: one folder per user, so no user ever writes into another's. */
export function defaultLogDir(): string {
  return join(tmpdir(), `nixnode-install-${process.getuid?.() ?? "user"}`);
}

function refuse(dir: string, why: string, hint: string): UserError {
  return new UserError(`--log-dir: the log folder ${dir} ${why}`, { field: "--log-dir", hint });
}

/**
 * The log folder must be a real folder (not a symlink) owned by the user running the tool. The
 * default one is made 0700; one that another user made first is refused, never used.
 */
export function checkLogFolder(dir: string, isDefault: boolean): void {
  try {
    // the default folder is made by us alone (its parent, $TMPDIR, is shared); a given one may be new
    if (isDefault) mkdirSync(dir, { mode: 0o700 });
    else mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST")
      throw refuse(
        dir,
        `cannot be created (${(e as NodeJS.ErrnoException).code ?? e})`,
        isDefault
          ? "set TMPDIR to a folder you can write to, or give --log-dir DIR"
          : "give --log-dir a folder you can write to",
      );
  }
  let st;
  try {
    st = lstatSync(dir);
  } catch (e) {
    throw refuse(
      dir,
      `cannot be read (${(e as NodeJS.ErrnoException).code ?? e})`,
      "give --log-dir an existing folder of your own",
    );
  }
  const fix = isDefault
    ? `remove it (someone else may have made it to read or redirect your log: rm -r ${shellQuote(dir)}), or give --log-dir a folder of your own`
    : "give --log-dir a folder of your own";
  if (st.isSymbolicLink()) throw refuse(dir, "is a symlink, not a folder", fix);
  if (!st.isDirectory()) throw refuse(dir, "is not a folder", fix);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw refuse(dir, `belongs to uid ${st.uid}, not to you (uid ${uid})`, fix);
  if (isDefault && (st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

/** O_EXCL|O_NOFOLLOW: a file or symlink already at the name is never opened, let alone appended to. */
function openNewLogFile(dir: string): { fd: number; path: string } {
  const stamp = `${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_APPEND;
  for (let i = 0; ; i++) {
    const path = join(dir, `run-${stamp}${i ? `-${i}` : ""}.log`);
    try {
      return { fd: openSync(path, flags, 0o600), path };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST" && i < 20) continue;
      throw refuse(
        dir,
        `cannot hold a new log file (${code ?? e})`,
        "give --log-dir a folder of your own that you can write to",
      );
    }
  }
}

/** `dir` null: no log file (lines are dropped). Default: the user's own folder under $TMPDIR. */
export function createLog(dir: string | null = defaultLogDir()): Log {
  const secrets = new Set<string>();
  let fd: number | null = null;
  let path: string | null = null;
  if (dir) {
    checkLogFolder(dir, dir === defaultLogDir());
    ({ fd, path } = openNewLogFile(dir));
  }
  return {
    path,
    write(line) {
      if (fd !== null) writeSync(fd, redact(line.endsWith("\n") ? line : line + "\n", secrets));
    },
    addSecret(s) {
      secrets.add(s);
    },
  };
}

/** A log that keeps lines in memory: for tests and for commands that run before a log dir exists. */
export function memoryLog(): Log & { lines: string[] } {
  const secrets = new Set<string>();
  const lines: string[] = [];
  return {
    path: null,
    lines,
    write(line) {
      lines.push(redact(line, secrets));
    },
    addSecret(s) {
      secrets.add(s);
    },
  };
}
