// Child processes for the harness: argument arrays only, output captured, never a shell string
// assembled from input (the one `sh -c` is exec(), whose command text the test itself wrote).
import { spawn, spawnSync } from "node:child_process";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCommand(
  file: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], env: opts.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on("error", () => undefined); // the command may exit without reading its input
    child.stdin.end(opts.input ?? "");
  });
}

/** Like runCommand, but a non-zero exit is an error that names the command and its stderr. */
export async function mustRun(file: string, args: string[], opts: { input?: string } = {}): Promise<string> {
  const r = await runCommand(file, args, opts);
  if (r.code !== 0)
    throw new Error(`${file} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Synchronous variant for exit handlers (no event loop left there). Errors are returned, not thrown. */
export function runSync(file: string, args: string[]): CommandResult {
  const r = spawnSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? String(r.error ?? "") };
}
