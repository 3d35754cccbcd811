// The nixos-anywhere engine (the operator has nixos-anywhere, or Nix to run it), with the argv from
// nixos-anywhere-args.ts; its full output goes to the run log, its `### step ###` lines drive the
// task list and the state file, and its `aborted:` line becomes the failure message.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CancelledError, OperationError } from "../errors";
import type { Log } from "../ui/log";
import type { InstallPhase } from "./phases";
import { parseAbortLine, parseProgressLine } from "./progress-lines";

export interface NixosAnywhereRun {
  command: string;
  /** Prepended to argv (e.g. ["run", "github:nix-community/nixos-anywhere/1.13.0", "--"] for nix). */
  prefixArgs: string[];
  args: string[];
  env: NodeJS.ProcessEnv;
  log: Log;
  signal: AbortSignal;
  /** Called when a phase begins (in order) and for each step line. */
  onPhase(phase: InstallPhase): void;
  onStep(step: string): void;
  /** A stderr line that must stop the run at once (e.g. a refused host key, which 1.13 retries forever). */
  stopOn?(line: string): OperationError | null;
}

export interface NixosAnywhereFailure {
  /** The phase that was running, null before kexec started. */
  phase: InstallPhase | null;
  error: OperationError | CancelledError;
}

/** Resolves when nixos-anywhere exits 0; rejects with the phase it was in and a clear error. */
export function runNixosAnywhere(r: NixosAnywhereRun): Promise<void> {
  return new Promise((resolve, reject) => {
    r.log.write(`running: ${[r.command, ...r.prefixArgs, ...r.args].join(" ")}`);
    const child = spawn(r.command, [...r.prefixArgs, ...r.args], { env: r.env, stdio: ["ignore", "pipe", "pipe"] });
    let phase: InstallPhase | null = null;
    let abortReason: string | null = null;
    let stopped: OperationError | null = null;
    const tail: string[] = [];
    const onAbort = () => child.kill("SIGTERM");
    r.signal.addEventListener("abort", onAbort, { once: true });
    createInterface({ input: child.stdout }).on("line", (line) => {
      r.log.write(`nixos-anywhere: ${line}`);
      const p = parseProgressLine(line);
      if (!p) return;
      if (p.phase && p.phase !== phase) {
        phase = p.phase;
        r.onPhase(p.phase);
      }
      r.onStep(p.step);
    });
    createInterface({ input: child.stderr }).on("line", (line) => {
      r.log.write(`nixos-anywhere[stderr]: ${line}`);
      abortReason = parseAbortLine(line) ?? abortReason;
      const stop = stopped ? null : (r.stopOn?.(line) ?? null);
      if (stop) {
        stopped = stop;
        r.log.write(`stopping nixos-anywhere: ${stop.message}`);
        child.kill("SIGTERM");
      }
      tail.push(line);
      if (tail.length > 8) tail.shift();
    });
    child.on("error", (e) => {
      r.signal.removeEventListener("abort", onAbort);
      reject({
        phase,
        error: new OperationError(`could not start ${r.command}: ${e.message}`, {
          hint: "install nixos-anywhere, or use --engine builtin",
        }),
      } satisfies NixosAnywhereFailure);
    });
    child.on("close", (code, sig) => {
      r.signal.removeEventListener("abort", onAbort);
      if (stopped) return reject({ phase, error: stopped } satisfies NixosAnywhereFailure);
      if (r.signal.aborted)
        return reject({
          phase,
          error: new CancelledError("Interrupted during the install."),
        } satisfies NixosAnywhereFailure);
      if (code === 0) return resolve();
      const message = abortReason
        ? `nixos-anywhere refused: ${abortReason}`
        : `nixos-anywhere failed (exit ${code ?? sig})${phase ? ` during ${phase}` : ""}`;
      reject({
        phase,
        error: new OperationError(message, { details: abortReason ? [] : tail.map((l) => `| ${l}`) }),
      } satisfies NixosAnywhereFailure);
    });
  });
}
