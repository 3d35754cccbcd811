// detect: ONE command on the target (the probe, fed on stdin) and pure parsing on our side. It
// changes nothing on the target. nixos-anywhere logs in for every fact; we use one round trip.
import { OperationError } from "../errors";
import type { Facts } from "../facts/types";
import type { Target } from "../remote/types";
import type { Log } from "../ui/log";
import { parseProbeOutput } from "./parse-probe";
import { PROBE_COMMAND, PROBE_HEADER, PROBE_SCRIPT } from "./probe-script";

export interface DetectOptions {
  signal?: AbortSignal;
  /** Bounded: the probe usually takes well under a second; a hung target must not hang us. */
  timeoutMs?: number;
  log?: Log;
}

export const PROBE_TIMEOUT_MS = 60_000;

/** Runs the probe and returns its raw output (what test/fixtures/probe holds). */
export async function runProbe(target: Target, opts: DetectOptions = {}): Promise<string> {
  const r = await target.run(PROBE_COMMAND, {
    stdin: PROBE_SCRIPT,
    timeoutMs: opts.timeoutMs ?? PROBE_TIMEOUT_MS,
    signal: opts.signal,
  });
  opts.log?.write(
    `probe on ${target.description}: exit ${r.code ?? r.signal}, ${r.stdout.length} bytes\n${r.stdout}\n--- stderr ---\n${r.stderr}`,
  );
  if (!r.stdout.includes(PROBE_HEADER)) {
    throw new OperationError(
      `detecting ${target.description} failed: the probe did not run (exit ${r.code ?? `signal ${r.signal}`})`,
      {
        details: r.stderr.trim() ? r.stderr.trim().split("\n").slice(-5) : ["no output on stderr"],
        hint: "the probe needs a POSIX sh on the target; when logging in as a non-root user, passwordless sudo (sudo -n) is needed",
      },
    );
  }
  return r.stdout;
}

/** The target's Facts, from a single run of the probe. */
export async function detectFacts(target: Target, opts: DetectOptions = {}): Promise<Facts> {
  return parseProbeOutput(await runProbe(target, opts));
}
