// Runs a local program with an argv (never a shell) and collects its output: a missing program,
// a timeout or an abort is an answer (code null), not an exception. What execa would do here, without
// its ~90 KB in the package.
import { spawn } from "node:child_process";

export interface ArgvResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export function runArgv(
  argv: string[],
  o: { env?: NodeJS.ProcessEnv; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ArgvResult> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let done = false;
    const finish = (r: Omit<ArgvResult, "stdout" | "stderr">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, stdout, stderr });
    };
    const child = spawn(argv[0]!, argv.slice(1), {
      env: o.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), o.timeoutMs ?? 60_000);
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", (e) => {
      stderr += `${e.message}\n`;
      finish({ code: null, signal: null });
    });
    child.on("close", (code, sig) => finish({ code, signal: sig }));
  });
}
