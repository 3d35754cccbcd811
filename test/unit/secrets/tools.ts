// Test helpers: a private scratch dir, and the reference tools (age, ssh-keygen) run with argument
// arrays. Passphrase prompts of `age -p` need a terminal: they are driven through util-linux
// `script`, which gives age a pty and forwards our stdin to it.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", 'command -v "$1"', "sh", cmd]).status === 0;
}
export const HAVE_AGE = has("age") && has("age-keygen");
export const HAVE_SSH_KEYGEN = has("ssh-keygen");
export const HAVE_SCRIPT = has("script");

export function scratch(): { dir: string; path: (p: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "nixnode-test-secrets-"));
  return { dir, path: (p) => join(dir, p), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function run(cmd: string, args: string[], input?: string | Uint8Array): Buffer {
  return execFileSync(cmd, args, { input, stdio: ["pipe", "pipe", "pipe"] });
}

export function tryRun(
  cmd: string,
  args: string[],
  input?: string | Uint8Array,
): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(cmd, args, { input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Runs argv under a pty (script -qec) with `typed` as keyboard input. Paths here are test-made. */
export function runWithTty(argv: string[], typed: string): { status: number | null; output: string } {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const r = spawnSync("script", ["-qec", quoted, "/dev/null"], { input: typed });
  return { status: r.status, output: r.stdout.toString() + r.stderr.toString() };
}

export function sshKeygen(
  path: string,
  type: "ed25519" | "rsa",
  opts: { passphrase?: string; pem?: boolean; comment?: string } = {},
): void {
  const args = ["-q", "-t", type, "-N", opts.passphrase ?? "", "-C", opts.comment ?? `test-${type}`, "-f", path];
  if (type === "rsa") args.push("-b", "2048");
  if (opts.pem) args.push("-m", "PEM");
  run("ssh-keygen", args);
}
