// One supervised stage (LOCKDOWN.md steps 3-5): the build on the target (buildOnTarget, separate so
// one build serves a change summary and the activation), the activation handed to the supervisor
// under systemd-run, confirmation over NEW connections only (to where the new configuration answers),
// an optional health check over that connection, then the acknowledgement and the boot default.
// src/switch/guarded-switch.ts runs these stages for lockdown and switch alike. On any failure the target returns to the recorded toplevel (by our nack, by its own
// timer, or by a reboot) and this throws an OperationError saying what was observed and what is
// active now.
import { CancelledError, OperationError } from "../errors";
import supervisorScript from "./supervisor.sh?raw";
import { confirmNewConfig, type ConfirmFailure, type Confirmation } from "./confirm";
import {
  STATE_ROOT,
  ackCommand,
  buildCommand,
  cancelRebootCommand,
  generationNumber,
  launchSupervisorCommand,
  nackCommand,
  persistCommand,
  readStateCommand,
  switchLogCommand,
  unpackFlakeCommand,
} from "./remote-commands";
import { isTerminal, parseSupervisorState, type SupervisorState } from "./supervisor-state";
import type { LockdownConnector, RemoteSession, StageTiming } from "./types";

/** What the health hook (src/switch/health.ts) reports about the switched system. */
export interface HealthVerdict {
  ok: boolean;
  observed: string;
  details: string[];
  warnings: string[];
}
/** Called over the confirmation session after the new configuration is confirmed, before the ack. */
export type HealthCheck = (
  session: RemoteSession,
  ctx: { failedBefore: string[]; stage: string },
) => Promise<HealthVerdict>;

export interface StageContext {
  sessions: RemoteSession[]; // primary first, then the fallback: whichever still answers
  /** Where the lifelines and the "what works now" logins go (the address connected to). */
  connector: LockdownConnector;
  /** Where the NEW configuration answers: confirmation goes there (default: connector). */
  confirmVia?: LockdownConnector;
  /** The toplevel built for this stage (buildOnTarget). */
  toplevel: string;
  /** Supervisor state folder on the target (remote-commands STAGES). */
  slot: "dual-port" | "final";
  /** "lockdown stage 1", "switch": names the stage in rollbacks. */
  name: string;
  /** Progress prefix, e.g. "stage 1 (ports 22 and 2222, key-only)". */
  label: string;
  /** The command to run again after a fix ("lockdown", "switch"): hints name it. */
  command: string;
  port: number;
  /** Where sshd listens in the configuration we would return to (for "what works now"). */
  oldPorts: number[];
  oldToplevel: string;
  oldGeneration: number | null;
  bootId: string;
  confirmTimeoutSec: number;
  rebootAfterSec: number;
  healthCheck?: HealthCheck;
  /** Units failed before the switch: the health check reports them, it does not blame the switch. */
  failedBefore?: string[];
  /** The part of the window kept for the health check (default 40% of it when there is a check). */
  healthBudgetMs?: number;
  signal?: AbortSignal;
  progress(message: string): void;
  warn(message: string): void;
  log(line: string): void;
}

export interface StageOutcome {
  toplevel: string;
  generation: number | null;
  timing: StageTiming;
}

/** Why a stage is rolled back; the hint is chosen from this, never from the message text. */
export type StageFailure =
  ConfirmFailure | { kind: "switch-failed" } | { kind: "self-rollback" } | { kind: "ack" } | { kind: "health" };

const SWITCH_BUDGET_MS = 300_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a command on the first session that answers; a dead session is skipped. */
export async function onAnySession(
  ctx: { sessions: RemoteSession[]; log(line: string): void },
  command: string,
  opts: { stdin?: Buffer | string; timeoutMs?: number } = {},
) {
  let last: unknown = null;
  for (const s of ctx.sessions) {
    try {
      return await s.run(command, {
        timeoutMs: opts.timeoutMs ?? 15_000,
        ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
      });
    } catch (e) {
      last = e;
      ctx.log(`session failed: ${(e as Error).message}`);
    }
  }
  throw last ?? new Error("no session");
}

async function readState(ctx: StageContext): Promise<SupervisorState & { bootId: string }> {
  const r = await onAnySession(
    ctx,
    `${readStateCommand(ctx.slot)}; echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"`,
    { timeoutMs: 5000 },
  );
  return { ...parseSupervisorState(r.stdout), bootId: /boot_id=(\S+)/.exec(r.stdout)?.[1] ?? "" };
}

/**
 * Unpacks the flake on the target and builds the host's toplevel there; activates nothing. Split
 * from the stage so one build serves the change summary (its unit list) and the activation.
 */
export async function buildOnTarget(
  ctx: { sessions: RemoteSession[]; log(line: string): void },
  hostname: string,
  tarball: Buffer,
  command: string,
): Promise<string> {
  const unpack = await onAnySession(ctx, unpackFlakeCommand(), { stdin: tarball, timeoutMs: 120_000 });
  if (unpack.code !== 0)
    throw new OperationError(`could not unpack the flake on the target: ${unpack.stderr.trim()}`, {
      hint: "check free space in /var/lib on the target",
    });
  const build = await onAnySession(ctx, buildCommand(hostname), { timeoutMs: 3_600_000 });
  const toplevel = build.stdout.trim().split("\n").pop() ?? "";
  if (build.code === null) {
    throw new OperationError("lost the connection to the target while it was building; nothing was activated", {
      details: [build.stderr.trim().split("\n").pop() ?? ""].filter(Boolean),
      hint: `check that the target is up (it may have rebooted), then run ${command} again`,
    });
  }
  if (build.code !== 0 || !toplevel.startsWith("/nix/store/")) {
    throw new OperationError(
      `the configuration did not build on the target (exit ${build.code}); nothing was activated, the target is unchanged`,
      {
        details: build.stderr.trim().split("\n").slice(-8),
        hint: `fix the error shown (hosts/<host>/*.nix or host.json), then run ${command} again`,
      },
    );
  }
  ctx.log(`built ${toplevel}`);
  return toplevel;
}

export async function runSupervisedStage(ctx: StageContext): Promise<StageOutcome> {
  const { label, toplevel } = ctx;
  await onAnySession(ctx, `mkdir -p ${STATE_ROOT}`);
  try {
    await ctx.sessions[0]!.upload(`${STATE_ROOT}/supervisor.sh`, supervisorScript, 0o755);
  } catch {
    await ctx.sessions[1]?.upload(`${STATE_ROOT}/supervisor.sh`, supervisorScript, 0o755).catch((e: Error) => {
      throw new OperationError(
        `could not copy the activation supervisor to the target: ${e.message}; nothing was activated`,
      );
    });
  }
  if (ctx.signal?.aborted)
    throw new CancelledError("Interrupted before activation. Nothing was changed on the target.");

  ctx.progress(
    `${label}: activating under a supervisor that rolls back unless confirmed within ${ctx.confirmTimeoutSec}s`,
  );
  const launchedAt = Date.now();
  const launch = await onAnySession(
    ctx,
    launchSupervisorCommand({
      stage: ctx.slot,
      newToplevel: toplevel,
      oldToplevel: ctx.oldToplevel,
      confirmTimeoutSec: ctx.confirmTimeoutSec,
      rebootAfterSec: ctx.rebootAfterSec,
      scriptPath: `${STATE_ROOT}/supervisor.sh`,
    }),
  );
  if (launch.code !== 0 || !launch.stdout.includes("launched")) {
    throw new OperationError(
      `could not start the activation supervisor on the target: ${launch.stderr.trim() || launch.stdout.trim()}`,
      {
        hint: "nothing was activated; check that systemd-run works on the target (systemctl is-system-running)",
      },
    );
  }

  // Wait for the switch to end (or fail). Sessions survive an sshd restart (KillMode=process).
  let st: SupervisorState = parseSupervisorState("");
  for (;;) {
    try {
      st = await readState(ctx);
    } catch (e) {
      ctx.log(`reading supervisor state: ${(e as Error).message}`);
      break; // every session is gone: go straight to confirmation, which uses new connections
    }
    if (st.phase !== "switching" && st.phase !== "not-started") break;
    if (Date.now() - launchedAt > SWITCH_BUDGET_MS) break;
    if (st.phase === "not-started" && Date.now() - launchedAt > 20_000) {
      throw new OperationError(
        "the activation supervisor never started on the target (no state after 20 s); nothing was activated",
        {
          hint: `check systemd-run on the target: systemctl status nixnode-lockdown-${ctx.slot}; the reboot timer ${"nixnode-lockdown-reboot"} is still armed: cancel it with systemctl stop nixnode-lockdown-reboot.timer`,
        },
      );
    }
    await sleep(250);
  }
  const switchedAt = Date.now();
  if (st.switchExitCode === null && (st.phase === "rolling-back" || st.phase === "rolled-back")) {
    throw await failAndRestore(
      ctx,
      `the target rolled back by itself before a confirmation was possible (${st.reason ?? "no reason given"})`,
      [],
      { kind: "self-rollback" },
    );
  }
  if (st.phase === "switch-failed" || st.phase === "rolling-back" || st.phase === "rolled-back") {
    const log = await onAnySession(ctx, switchLogCommand(ctx.slot)).then(
      (r) => r.stdout.trim(),
      () => "",
    );
    const observed = `switch-to-configuration test failed on the target (exit ${st.switchExitCode ?? "?"})${log ? `: ${log.split("\n").pop()}` : ""}`;
    throw await failAndRestore(ctx, observed, log ? log.split("\n") : [], { kind: "switch-failed" });
  }

  const via = ctx.confirmVia ?? ctx.connector;
  const where = via.host === ctx.connector.host ? `port ${ctx.port}` : `${via.host} port ${ctx.port}`;
  ctx.progress(`${label}: confirming with a new key-only login on ${where}`);
  const windowMs = ctx.confirmTimeoutSec * 1000;
  // The window (counted from the end of the switch) must hold the confirmation, the health checks
  // and the acknowledgement: the checks get their share first, the confirmation 60% of the rest.
  const healthMs = ctx.healthCheck ? (ctx.healthBudgetMs ?? Math.floor(windowMs * 0.4)) : 0;
  const confirmBudgetMs = Math.max(1000, Math.min(30_000, Math.floor((windowMs - healthMs) * 0.6)));
  const confirmation: Confirmation = await confirmNewConfig(via, ctx.port, {
    budgetMs: confirmBudgetMs,
    signal: ctx.signal,
    log: ctx.log,
  });
  if (!confirmation.ok) throw await failAndRestore(ctx, confirmation.observed, [], confirmation.failure);
  const confirmedAt = Date.now();

  if (ctx.healthCheck) {
    ctx.progress(`${label}: checking the switched system's health`);
    const verdict = await withinBudget(
      ctx.healthCheck(confirmation.session, { failedBefore: ctx.failedBefore ?? [], stage: ctx.name }),
      healthMs,
    ).catch((e: Error): HealthVerdict => ({
      ok: false,
      observed: `the health checks failed: ${e.message}`,
      details: [],
      warnings: [],
    }));
    for (const w of verdict.warnings) ctx.warn(w);
    if (!verdict.ok) {
      await confirmation.session.close().catch(() => undefined);
      throw await failAndRestore(ctx, verdict.observed, verdict.details, { kind: "health" });
    }
  }

  // The acknowledgement goes over the NEW connection that just proved the configuration.
  const ackedAt = Date.now();
  try {
    const r = await confirmation.session.run(ackCommand(ctx.slot), { timeoutMs: 10_000 });
    if (!r.stdout.includes("acked")) throw new Error(r.stderr.trim() || "no answer");
    for (let i = 0; i < 40; i++) {
      const s = parseSupervisorState(
        (await confirmation.session.run(readStateCommand(ctx.slot), { timeoutMs: 10_000 })).stdout,
      );
      if (s.phase === "acknowledged") break;
      if (isTerminal(s) || s.phase === "rolling-back")
        throw new Error(`the supervisor ${s.phase} (${s.reason ?? ""}) before it saw the acknowledgement`);
      await sleep(150);
    }
    const cancel = await confirmation.session.run(cancelRebootCommand(), { timeoutMs: 15_000 });
    if (!cancel.stdout.includes("cancelled")) ctx.log(`reboot timer: ${cancel.stdout} ${cancel.stderr}`);
    const persist = await confirmation.session.run(persistCommand(toplevel), { timeoutMs: 120_000 });
    if (persist.code !== 0) throw new Error(`making it the boot default failed: ${persist.stderr.trim()}`);
    const generation = generationNumber(persist.stdout.trim().split("\n").pop() ?? "");
    ctx.sessions.push(confirmation.session);
    return {
      toplevel,
      generation,
      timing: {
        stage: ctx.slot,
        activationMs: switchedAt - launchedAt,
        confirmationMs: confirmedAt - switchedAt,
        acknowledgementMs: Date.now() - ackedAt,
      },
    };
  } catch (e) {
    await confirmation.session.close().catch(() => undefined);
    throw await failAndRestore(
      ctx,
      `the configuration worked on ${where}, but acknowledging it failed: ${(e as Error).message}`,
      [],
      { kind: "ack" },
    );
  }
}

/**
 * Asks the supervisor to roll back now, waits (bounded) until it did or its own deadline passed,
 * then proves a way in still works and returns the error that tells the operator all of it.
 */
async function failAndRestore(
  ctx: StageContext,
  observed: string,
  details: string[],
  failure: StageFailure,
): Promise<OperationError> {
  ctx.progress(`${observed}; rolling back`);
  await onAnySession(ctx, nackCommand(ctx.slot, observed), { timeoutMs: 5000 }).catch((e) =>
    ctx.log(`nack not delivered: ${(e as Error).message}`),
  );
  const deadline = Date.now() + ctx.confirmTimeoutSec * 1000 + 60_000;
  let st: SupervisorState | null = null;
  let rebooted = false;
  let via: RemoteSession | null = null;
  while (Date.now() < deadline) {
    try {
      const seen = await readState(ctx);
      st = seen;
      if (seen.bootId && seen.bootId !== ctx.bootId) {
        rebooted = true;
        break;
      }
      if (isTerminal(seen) && seen.phase !== "acknowledged") break;
    } catch {
      // the lifelines are gone (link down, reboot): look from a NEW connection on the old port
      via = await openOnAny(ctx.connector, ctx.oldPorts, ctx.log);
      if (via) {
        ctx.sessions.unshift(via);
        continue;
      }
    }
    await sleep(500);
  }
  const works = await openOnAny(ctx.connector, ctx.oldPorts, ctx.log);
  await works?.close().catch(() => undefined);
  const gen = ctx.oldGeneration !== null ? ` (generation ${ctx.oldGeneration})` : "";
  const active = rebooted
    ? `the target rebooted during the confirmation window and came back with the boot default${gen}`
    : st?.phase === "rolled-back"
      ? `the previous configuration${gen} is active again`
      : st?.phase === "rollback-failed"
        ? `the target could NOT switch back (${st.reason ?? "see /run/nixnode-lockdown"}); a reboot in a few minutes returns it to the boot default${gen}`
        : `the target's own timer rolls back to the previous configuration${gen}; its last resort is a reboot into the boot default`;
  // after a failed address change, name the address that still works
  const on = ctx.confirmVia && ctx.confirmVia.host !== ctx.connector.host ? ` on ${ctx.connector.host}` : "";
  const ports = `${ctx.oldPorts.length > 1 ? `ports ${ctx.oldPorts.join(" and ")}` : `port ${ctx.oldPorts[0]}`}${on}`;
  const access = works
    ? `${ports} ${ctx.oldPorts.length > 1 ? "work" : "works"} with your key`
    : `no new login on ${ports} succeeded from here yet`;
  return new OperationError(`${ctx.name} was rolled back: ${observed}; ${active}; ${access}`, {
    details,
    hint: hintFor(failure, ctx.port, ctx.command),
  });
}

export function hintFor(failure: StageFailure, port: number, command = "lockdown"): string {
  switch (failure.kind) {
    case "port":
      if (failure.probe === "timeout")
        return `open TCP port ${port} in your provider's firewall (security group), then run ${command} again${command === "lockdown" ? "; or choose another port with --port" : ""}`;
      if (failure.probe === "refused")
        return `sshd did not listen on the new port; see the switch log on the target (/run/nixnode-lockdown) and run ${command} again`;
      return `your network or the target's link is down; check both, then run ${command} again`;
    case "host-key":
      return failure.hostKey === "changed" || failure.hostKey === "revoked"
        ? "something else answered on that port with a different host key; do not continue until you know why"
        : `the pinned host key was not used for that connection; run ${command} again with the flake that pins this host's key`;
    case "health":
      return `fix what the failing check names (or pass --keep-on-failed-checks to keep a switch whose checks fail), then run ${command} again`;
    case "switch-failed":
      return `fix the failing unit (journalctl -u <unit> on the target), then run ${command} again`;
    case "weak-auth":
      return `the new configuration still allows passwords; check hosts/<host>/*.nix for a PasswordAuthentication override, then run ${command} again`;
    case "interrupted":
      return `run ${command} again when you are ready; your current access is unchanged`;
    default:
      return `run ${command} again once the cause is fixed; your current access is unchanged`;
  }
}

async function openOnAny(
  connector: LockdownConnector,
  ports: number[],
  log: (l: string) => void,
): Promise<RemoteSession | null> {
  for (const p of ports) {
    try {
      return await connector.openKeySession(p);
    } catch (e) {
      log(`login on ${p}: ${(e as Error).message}`);
    }
  }
  return null;
}

/** The health check's own timeouts are per check; this bounds all of them by the window's share. */
function withinBudget<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`they did not finish within ${Math.round(ms / 1000)}s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
