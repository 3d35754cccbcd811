// The run log: everything verbose (child process output, SSH diagnostics) goes to a file whose path
// is printed, never to the terminal. Every line passes through redact() first: registered secrets
// (passwords, key material) are replaced, and private-key blocks are cut out whatever their source.
import { appendFileSync, mkdirSync, openSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

export function createLog(dir: string | null = join(tmpdir(), "nixnode-install")): Log {
  const secrets = new Set<string>();
  let path: string | null = null;
  if (dir) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    path = join(dir, `run-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}.log`);
    closeSync(openSync(path, "a", 0o600));
  }
  return {
    path,
    write(line) {
      if (path) appendFileSync(path, redact(line.endsWith("\n") ? line : line + "\n", secrets));
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
