// A guarded switch is an ordered list of stages; this is the ONE function that runs them, for the
// lockdown (ports [22, P] then [P]) and for `switch` (one stage, or two for a changed static
// address). It owns the fallback session, builds and activates each stage under the target-side
// supervisor (src/lockdown/supervised-stage.ts), confirms over NEW connections to where that stage
// says the node answers, records the confirmed state after each stage (the caller says how) and
// known_hosts only after confirmation. A failed stage leaves the previous confirmed one active.
import { CancelledError, OperationError } from "../errors";
import { recordKnownHost } from "../lockdown/hand-off";
import { buildOnTarget, runSupervisedStage, type HealthCheck, type StageOutcome } from "../lockdown/supervised-stage";
import type { LockdownConnector, RemoteSession } from "../lockdown/types";
import type { HostData } from "../plan/types";
import { hostKeyFailureOf } from "../remote/ssh-errors";
import type { Output } from "../ui/output";

export type { HealthCheck, HealthVerdict } from "../lockdown/supervised-stage";

export interface GuardedStage {
  /** The host data this stage activates. */
  host: HostData;
  /** The flake as the target builds it for this stage (not called when `toplevel` is given). */
  tarball(): Promise<Buffer>;
  /** Built already (switch builds before its summary): the stage activates exactly this. */
  toplevel?: string;
  /** Where the NEW configuration answers: the confirmation's new connections go there. */
  confirm: { address: string; port: number };
  /** The supervisor's state folder on the target. */
  slot: "dual-port" | "final";
  /** "stage 1" or "" (a one-stage switch): names the stage in messages. */
  name: string;
  /** Progress prefix, e.g. "stage 1 (ports 22 and 2222, key-only)". */
  label: string;
  /** Record [address]:port in known_hosts once this stage is confirmed. */
  knownHost?: boolean;
  /** Confirmed and the boot default: record it (the flake's host.json, the target's copy). */
  confirmed?(outcome: StageOutcome, session: RemoteSession): Promise<void>;
}

export interface GuardedRun {
  command: "lockdown" | "switch";
  primary: RemoteSession;
  connector: LockdownConnector;
  currentPort: number;
  /** A key-only session opened by the caller already (lockdown checks that first); else opened here. */
  fallback?: RemoteSession;
  /** Where sshd listens now: what a rollback of the first stage returns to. */
  oldPorts: number[];
  hostname: string;
  pinned: string;
  bootId: string;
  oldToplevel: string;
  oldGeneration: number | null;
  confirmTimeoutSec: number;
  rebootAfterSec: number;
  knownHostsFile: string | null;
  healthCheck?: HealthCheck;
  failedBefore?: string[];
  healthBudgetMs?: number;
  out: Output;
  log(line: string): void;
  signal?: AbortSignal;
  stages: GuardedStage[];
  /** Over the last confirmed session (the fallback when no stage ran), before the sessions close. */
  handOff?(session: RemoteSession): Promise<void>;
}

/** A fresh key-only login on the port in use: the lifeline kept open for the whole run. */
export async function openFallback(
  connector: LockdownConnector,
  port: number,
  progress: (m: string) => void,
  failure: { nothingChanged: string; hint?: string },
): Promise<RemoteSession> {
  progress(`checking that a key-only login works on a new connection (port ${port})`);
  try {
    return await connector.openKeySession(port);
  } catch (e) {
    // a host key that is not the pinned one: abort as the SSH layer said, never work around it
    if (hostKeyFailureOf(e)) throw e;
    throw new OperationError(
      `no key-only login works on port ${port} (${(e as Error).message}); ${failure.nothingChanged}`,
      failure.hint ? { hint: failure.hint } : {},
    );
  }
}

/** known_hosts gets [host]:port for the pinned key, read over a session that proved it. */
export async function recordEndpoint(
  session: RemoteSession,
  file: string,
  at: { host: string; port: number },
  pinned: string,
  out: Output,
): Promise<void> {
  const k = await recordKnownHost(session, file, at.host, at.port, pinned);
  out.info(
    k === "added"
      ? `known_hosts: added [${at.host}]:${at.port} (${file})`
      : `known_hosts already has [${at.host}]:${at.port}`,
  );
}

export async function runGuardedStages(g: GuardedRun): Promise<StageOutcome[]> {
  const progress = (m: string) => g.out.step(g.command, "start", m);
  const owned: RemoteSession[] = [];
  try {
    const fallback =
      g.fallback ??
      (await openFallback(g.connector, g.currentPort, progress, { nothingChanged: "nothing was changed" }));
    if (!g.fallback) owned.push(fallback);
    const outcomes: StageOutcome[] = [];
    // newest first: after an address change the old address's sessions may be gone
    const confirmedSessions: RemoteSession[] = [];
    let at = { connector: g.connector, ports: g.oldPorts };
    let oldToplevel = g.oldToplevel;
    let oldGeneration = g.oldGeneration;
    for (const stage of g.stages) {
      const sessions = [...confirmedSessions, g.primary, fallback];
      const via =
        stage.confirm.address === g.connector.host ? g.connector : forHost(g.connector, stage.confirm.address);
      // --json: a start and a done/fail event per stage, no text (docs/switch.md "--json events")
      const started = Date.now();
      const ev = {
        stage: stage.slot,
        name: stage.name || g.command,
        host: stage.confirm.address,
        port: stage.confirm.port,
      };
      g.out.step(g.command, "start", undefined, { task: "stage", data: ev });
      try {
        let toplevel = stage.toplevel;
        if (!toplevel) {
          progress(`${stage.label}: uploading and building the configuration on the target`);
          toplevel = await buildOnTarget({ sessions, log: g.log }, g.hostname, await stage.tarball(), g.command);
        }
        const outcome = await runSupervisedStage({
          sessions,
          connector: at.connector,
          confirmVia: via,
          toplevel,
          slot: stage.slot,
          name: [g.command, stage.name].filter(Boolean).join(" "),
          label: stage.label,
          command: g.command,
          port: stage.confirm.port,
          oldPorts: at.ports,
          oldToplevel,
          oldGeneration,
          bootId: g.bootId,
          confirmTimeoutSec: g.confirmTimeoutSec,
          rebootAfterSec: g.rebootAfterSec,
          healthCheck: g.healthCheck,
          failedBefore: g.failedBefore,
          healthBudgetMs: g.healthBudgetMs,
          signal: g.signal,
          progress,
          warn: (m) => g.out.warn(m),
          log: g.log,
        });
        const session = sessions[sessions.length - 1]!; // the confirmation's new connection
        owned.push(session);
        confirmedSessions.unshift(session);
        outcomes.push(outcome);
        await stage.confirmed?.(outcome, session);
        const where =
          via === g.connector ? `port ${stage.confirm.port}` : `${stage.confirm.address} port ${stage.confirm.port}`;
        g.out.step(
          g.command,
          "done",
          `${stage.name ? `${stage.name} ` : ""}confirmed on ${where} and made the boot default (generation ${outcome.generation ?? "?"})`,
          {
            task: "stage",
            data: {
              ...ev,
              generation: outcome.generation,
              observed: `confirmed on ${where}`,
              elapsedMs: Date.now() - started,
              timing: outcome.timing,
            },
          },
        );
        if (g.knownHostsFile && stage.knownHost)
          await recordEndpoint(
            session,
            g.knownHostsFile,
            { host: stage.confirm.address, port: stage.confirm.port },
            g.pinned,
            g.out,
          );
        at = { connector: via, ports: stage.host.ssh.ports };
        oldToplevel = outcome.toplevel;
        oldGeneration = outcome.generation;
      } catch (e) {
        g.out.step(g.command, "fail", undefined, {
          task: "stage",
          data: { ...ev, observed: (e as Error).message, elapsedMs: Date.now() - started },
        });
        if (g.signal?.aborted && e instanceof OperationError)
          throw new CancelledError(`Interrupted. ${e.message}`, { details: e.details });
        throw e;
      } finally {
        // sessions the stage opened (a look from the old port after a lost link) close with ours
        for (const s of sessions) if (s !== g.primary && !owned.includes(s)) owned.push(s);
      }
    }
    await g.handOff?.(confirmedSessions[0] ?? fallback);
    return outcomes;
  } finally {
    for (const s of owned) await s.close().catch(() => undefined);
  }
}

function forHost(c: LockdownConnector, host: string): LockdownConnector {
  if (!c.forHost)
    throw new OperationError(`cannot reach ${host}: this connection cannot open sessions to another address`);
  return c.forHost(host);
}
