// What an earlier switch left on the target decides what this one does first (issue 13, resumable):
// a supervisor still in its window -> refused with what runs and the time left; the last run rolled
// back -> said, then a normal switch; acknowledged but never made the boot default (the tool died
// between the acknowledgement and the persist) -> re-confirmed on a NEW connection and finished,
// without building again. The decision is pure (decidePreviousRun, from the supervisor's state
// files); settlePreviousRun carries it out with a bounded number of bounded remote commands.
import { OperationError } from "../errors";
import { parseHostJson } from "../flake/host-file";
import { recordKnownHost } from "../lockdown/hand-off";
import { confirmNewConfig } from "../lockdown/confirm";
import { REMOTE_FLAKE_DIR, cancelRebootCommand, generationNumber, persistCommand } from "../lockdown/remote-commands";
import { parseSupervisorState } from "../lockdown/supervisor-state";
import { shellQuote } from "../util/shell-quote";
import { summarizeChanges } from "./change-summary";
import type { SwitchDeps, SwitchResult } from "./run-switch";
import { CONFIRMED_HOST_JSON, recordConfirmedCommand, type SupervisorRecord, type TargetState } from "./target-state";

/** The stage a switch runs as (its supervisor unit and state folder are the lockdown's stage 2 names). */
export const SWITCH_STAGE = "final";
/** How long the re-confirmation of an acknowledged run may take (new connections, retried). */
export const RECONFIRM_BUDGET_MS = 30_000;

export type PreviousRun =
  | { kind: "none" }
  | {
      kind: "running";
      stage: string;
      phase: string;
      /** Epoch seconds (target clock) the supervisor started. */
      since: number | null;
      /** Epoch seconds the window ends (null while it is still switching). */
      windowEnd: number | null;
      secondsLeft: number | null;
    }
  | { kind: "rolled-back"; stage: string; at: number | null; reason: string }
  | { kind: "unfinished"; stage: string; toplevel: string; acknowledgedAt: number | null }
  | { kind: "stopped"; stage: string; phase: string };

const firstEpoch = (state: string, event: string): number | null => {
  const m = new RegExp(`^(\\d+) ${event}\\b`, "m").exec(state);
  return m ? Number(m[1]) : null;
};
const lastEpoch = (state: string, event: string): number | null => {
  const all = [...state.matchAll(new RegExp(`^(\\d+) ${event}\\b`, "gm"))];
  return all.length ? Number(all[all.length - 1]![1]) : null;
};

/**
 * From the supervisors' records (TargetState.runs), the target's clock and its toplevels. A live
 * supervisor anywhere wins (refuse); then the switch's own stage decides.
 */
export function decidePreviousRun(input: {
  runs: SupervisorRecord[];
  now: number | null;
  currentToplevel: string;
  bootToplevel: string;
}): PreviousRun {
  const live = input.runs.find((r) => r.alive);
  if (live) {
    const s = parseSupervisorState(live.state);
    const windowEnd = s.deadline;
    return {
      kind: "running",
      stage: live.stage,
      phase: s.phase,
      since: firstEpoch(live.state, "switching"),
      windowEnd,
      secondsLeft: windowEnd !== null && input.now !== null ? Math.max(0, windowEnd - input.now) : null,
    };
  }
  const mine = input.runs.find((r) => r.stage === SWITCH_STAGE);
  if (!mine) return { kind: "none" };
  const s = parseSupervisorState(mine.state);
  if (s.phase === "rolled-back")
    return {
      kind: "rolled-back",
      stage: mine.stage,
      at: lastEpoch(mine.state, "rolled-back"),
      reason: s.reason ?? "no reason recorded",
    };
  if (s.phase === "acknowledged") {
    const toplevel = /^\d+ switching (\/\S+)$/m.exec(mine.state)?.[1] ?? "";
    // acknowledged and still running, but the boot default is another system: the persist never ran
    if (toplevel && toplevel === input.currentToplevel && toplevel !== input.bootToplevel)
      return { kind: "unfinished", stage: mine.stage, toplevel, acknowledgedAt: lastEpoch(mine.state, "acknowledged") };
    return { kind: "none" };
  }
  if (s.phase === "not-started") return { kind: "none" };
  // a supervisor that died mid-way (killed, out of memory): the reboot timer armed with it remains
  return { kind: "stopped", stage: mine.stage, phase: s.phase };
}

const clock = (epoch: number | null) =>
  epoch === null ? "an unknown time" : `${new Date(epoch * 1000).toISOString().slice(11, 19)} UTC`;

/** The refusal for a supervisor still in its window: what runs, since when, when it ends. */
export function runningMessage(p: Extract<PreviousRun, { kind: "running" }>): string {
  const window =
    p.windowEnd === null
      ? "it is still activating"
      : `its window ends at ${clock(p.windowEnd)}${p.secondsLeft !== null ? ` (${p.secondsLeft}s left)` : ""}`;
  return `another switch is in its confirmation window on the target (supervisor ${p.stage}, ${p.phase}, started at ${clock(p.since)}; ${window}); nothing was changed`;
}

/**
 * Carries out the decision right after the target state is read. Returns a result when this run is
 * complete (an unfinished switch was finished and the flake asks for nothing more), else null, and
 * then `state` describes the node as it is now (a finished switch updates it in place).
 */
export async function settlePreviousRun(state: TargetState, d: SwitchDeps): Promise<SwitchResult | null> {
  const p = decidePreviousRun({
    runs: state.runs,
    now: state.now,
    currentToplevel: state.preflight.currentToplevel,
    bootToplevel: state.preflight.bootToplevel,
  });
  if (p.kind === "none") return null;
  if (p.kind === "running") {
    const wait = p.secondsLeft !== null ? `about ${p.secondsLeft + 5}s` : "until its window ends";
    throw new OperationError(runningMessage(p), {
      hint: `wait ${wait} (it confirms or rolls back by itself), then run switch again; cat /run/nixnode-lockdown/${p.stage}/state on the node shows it`,
    });
  }
  if (p.kind === "rolled-back") {
    d.out.info(`the last switch was rolled back at ${clock(p.at)} (${p.reason}); going ahead with this one`);
    return null;
  }
  if (p.kind === "stopped") {
    d.out.warn(
      `the last switch's supervisor stopped without finishing (${p.phase}); its reboot timer may still return the node to the boot default; this switch re-arms it`,
    );
    return null;
  }
  return finishUnfinished(state, d, p);
}

async function finishUnfinished(
  state: TargetState,
  d: SwitchDeps,
  p: Extract<PreviousRun, { kind: "unfinished" }>,
): Promise<SwitchResult | null> {
  const started = Date.now();
  d.out.step(
    "resume",
    "start",
    `the last switch was confirmed and acknowledged at ${clock(p.acknowledgedAt)} but never made the boot default; re-confirming it instead of building again`,
    { data: { host: d.connector.host, toplevel: p.toplevel } },
  );
  // what that switch applied: the flake it unpacked (the confirmed record is still the older one)
  const unpacked = `${REMOTE_FLAKE_DIR}/hosts/${d.flake.hostname}/host.json`;
  const r = await d.primary.run(`cat ${shellQuote(unpacked)}`, { timeoutMs: 15_000 });
  if (r.code !== 0)
    throw new OperationError(`could not read ${unpacked} on the target (${r.stderr.trim()}); nothing was changed`, {
      hint: "run switch again; if it repeats, reboot the node (it returns to the boot default) and switch again",
    });
  const applied = parseHostJson(r.stdout, `${unpacked} (on the target)`);
  const port = applied.ssh.ports[0] ?? d.currentPort;
  if (d.dryRun) {
    d.out.info(
      `dry run: a switch would re-confirm on port ${port} and make ${p.toplevel} the boot default first; nothing was changed`,
    );
    return null;
  }
  const confirmation = await confirmNewConfig(d.connector, port, {
    budgetMs: RECONFIRM_BUDGET_MS,
    signal: d.signal,
    log: (l) => d.log.write(`switch: resume: ${l}`),
  });
  if (!confirmation.ok)
    throw new OperationError(
      `the last switch is running but could not be re-confirmed (${confirmation.observed}); it was not made the boot default`,
      {
        hint: "a reboot returns the node to the boot default (the reboot timer does it by itself); then run switch again",
      },
    );
  const s = confirmation.session;
  try {
    const cancel = await s.run(cancelRebootCommand(), { timeoutMs: 15_000 });
    if (!cancel.stdout.includes("cancelled")) d.log.write(`switch: resume: reboot timer: ${cancel.stdout.trim()}`);
    const persist = await s.run(persistCommand(p.toplevel), { timeoutMs: 120_000 });
    if (persist.code !== 0)
      throw new OperationError(`making the last switch the boot default failed: ${persist.stderr.trim()}`, {
        hint: "run switch again; a reboot returns the node to the previous boot default",
      });
    const generation = generationNumber(persist.stdout.trim().split("\n").pop() ?? "");
    const rec = await s.run(recordConfirmedCommand(), {
      stdin: JSON.stringify(applied, null, 2) + "\n",
      timeoutMs: 15_000,
    });
    const warnings = rec.stdout.includes("recorded")
      ? []
      : [`could not record the confirmed host.json on the target: ${rec.stderr.trim()}`];
    if (d.knownHostsFile && port !== d.currentPort)
      await recordKnownHost(s, d.knownHostsFile, d.connector.host, port, d.pinned);
    d.out.step("resume", "done", `finished the last switch: generation ${generation ?? "?"} is the boot default`, {
      elapsedMs: Date.now() - started,
      data: { host: d.connector.host, port, generation },
    });
    const old = state.host;
    // the node now runs, boots and records `applied`: the rest of this run starts from there
    state.preflight.bootToplevel = p.toplevel;
    state.preflight.generation = generation;
    state.host = applied;
    state.hostFrom = CONFIRMED_HOST_JSON;
    if (JSON.stringify(applied) !== JSON.stringify(d.flake.host)) return null;
    return {
      host: d.connector.host,
      port,
      summary: summarizeChanges(old, applied, { operatorPort: d.currentPort, operatorKey: null }),
      dryRun: false,
      generation,
      timing: null,
      failedBefore: state.failed,
      warnings,
    };
  } finally {
    await s.close().catch(() => undefined);
  }
}
