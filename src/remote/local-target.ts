// This machine as a Target (--local on a USB-booted installer): commands run through sh, as the
// current user (root when it matters; the caller checks).
import { spawn } from "node:child_process";
import { CancelledError, OperationError } from "../errors";
import type { RunOptions, RunResult, Target } from "./types";
import { uploadCommand } from "./ssh-exec";

export class LocalTarget implements Target {
  readonly description = "this machine";

  run(command: string, o: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      if (o.signal?.aborted) return reject(new CancelledError("cancelled before running the command"));
      const child = spawn("sh", ["-c", command], { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      let settled = false;
      const settle = (err?: Error, result?: RunResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        o.signal?.removeEventListener("abort", onAbort);
        if (err) {
          child.kill("SIGTERM");
          reject(err);
        } else resolve(result!);
      };
      const onAbort = () => settle(new CancelledError("cancelled while a local command was running"));
      o.signal?.addEventListener("abort", onAbort, { once: true });
      const timer =
        o.timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                settle(
                  new OperationError(`a local command did not finish within ${Math.round(o.timeoutMs! / 1000)} s`),
                ),
              o.timeoutMs,
            );
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        o.onStdout?.(d);
      });
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        o.onStderr?.(d);
      });
      child.on("error", (e) => settle(new OperationError(`cannot run sh: ${e.message}`, { cause: e })));
      child.on("close", (code, signal) => settle(undefined, { code, signal, stdout, stderr }));
      child.stdin.on("error", () => undefined);
      child.stdin.end(o.stdin ?? "");
    });
  }

  async upload(path: string, data: string | Buffer, mode: number): Promise<void> {
    const r = await this.run(uploadCommand(path, mode), { stdin: data });
    if (r.code !== 0) throw new OperationError(`could not write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  async close(): Promise<void> {}
}
