// One guarded switch (issue 13): read what the node runs now, say what changes in words, refuse
// what would lock the operator out, then activate under the lockdown's supervisor (the same
// runSupervisedStage, no copy) and confirm over NEW connections to where the NEW configuration says
// the node answers. host.json's confirmed copy and known_hosts change only after confirmation.
import { CancelledError, OperationError, UserError } from "../errors";
import { hostKeyFailureOf } from "../remote/ssh-errors";
import { recordKnownHost } from "../lockdown/hand-off";
import { tarFlake, type FlakeHost } from "../lockdown/flake-files";
import { judgePreflight } from "../lockdown/preflight";
import { buildCommand, launchSupervisorCommand, unpackFlakeCommand, STATE_ROOT } from "../lockdown/remote-commands";
import { runSupervisedStage } from "../lockdown/supervised-stage";
import type { LockdownConnector, RemoteSession, StageTiming } from "../lockdown/types";
import type { Log } from "../ui/log";
import type { Output } from "../ui/output";
import { summarizeChanges, type ChangeSummary } from "./change-summary";
import { CONFIRMED_HOST_JSON, parseTargetState, recordConfirmedCommand, targetStateScript } from "./target-state";

export interface SwitchDeps {
  primary: RemoteSession;
  currentPort: number;
  connector: LockdownConnector;
  flake: FlakeHost;
  pinned: string;
  /** The keys this run logs in with: the public line (the .pub file) and the private key file. */
  operatorKeys: Array<{ publicKey: string; privatePath: string }>;
  /** A NEW login with exactly this private key on `port`: proves another key really works. */
  proveKeyLogin(privatePath: string, port: number): Promise<boolean>;
  confirmTimeoutSec: number;
  dryRun: boolean;
  knownHostsFile: string | null;
  out: Output;
  log: Log;
  signal?: AbortSignal;
  rebootAfterSec?: number;
}

export interface SwitchResult {
  host: string;
  port: number;
  summary: ChangeSummary;
  dryRun: boolean;
  generation: number | null;
  timing: StageTiming | null;
  failedBefore: string[];
  warnings: string[];
}

const keyBody = (l: string) => l.trim().split(/\s+/).slice(0, 2).join(" ");

export async function runSwitch(d: SwitchDeps): Promise<SwitchResult> {
  const progress = (m: string) => d.out.step("switch", "start", m);
  const log = (l: string) => d.log.write(`switch: ${l}`);
  const next = d.flake.host;
  const owned: RemoteSession[] = [];
  try {
    const guessPort = next.ssh.ports[0] ?? d.currentPort;
    progress("reading what the node runs now");
    const r = await d.primary.run(targetStateScript(d.flake.hostname, guessPort), { timeoutMs: 30_000 });
    const state = parseTargetState(r.stdout, guessPort);
    // the key in use: one of ours that the node authorises now
    const oldBodies = state.host.ssh.authorizedKeys.map(keyBody);
    const newBodies = next.ssh.authorizedKeys.map(keyBody);
    const ours = d.operatorKeys.filter((k) => oldBodies.includes(keyBody(k.publicKey)));
    const kept = ours.filter((k) => newBodies.includes(keyBody(k.publicKey)));
    let otherKeyProven = false;
    if (ours.length && ours.length !== kept.length) {
      // a key we log in with goes: another one that stays must log in for real, now
      for (const k of kept) {
        if (await d.proveKeyLogin(k.privatePath, d.currentPort)) {
          otherKeyProven = true;
          d.out.info(`a new login with ${k.privatePath} (kept in ssh.authorizedKeys) works`);
          break;
        }
      }
    }
    const removedInUse = ours.find((k) => !newBodies.includes(keyBody(k.publicKey)));
    const summary = summarizeChanges(
      state.host,
      next,
      {
        operatorPort: d.currentPort,
        operatorKey: removedInUse?.publicKey ?? ours[0]?.publicKey ?? null,
        otherKeyProven,
      },
      { before: state.active, after: null },
    );
    const summaryText = summary.lines.length
      ? summary.lines.map((l) => `  ${l}`).join("\n")
      : "  nothing the tool manages changes (host.json is the same); the system itself is rebuilt";
    d.out.text(`Changes (from ${state.hostFrom} on the target to ${d.flake.file}):\n${summaryText}\n`);
    if (state.failed.length)
      d.out.warn(`units already failed before the switch (not blamed on it): ${state.failed.join(", ")}`);
    if (summary.refusals.length)
      throw new UserError(`refused before activation: ${summary.refusals[0]}`, {
        field: d.flake.file,
        details: summary.refusals.slice(1),
        hint: `fix ${d.flake.file} and run switch again; nothing was changed on the target`,
      });
    const warnings = judgePreflight(state.preflight, summary.confirmPort, {
      sshAlreadyOnPort: state.host.ssh.ports.includes(summary.confirmPort),
    });
    for (const w of warnings) d.out.warn(w);

    if (d.dryRun) {
      const commands = [
        `${unpackFlakeCommand()}   # stdin: the flake ${d.flake.flakeDir} as tar`,
        buildCommand(d.flake.hostname),
        launchSupervisorCommand({
          stage: "final",
          newToplevel: "<the built toplevel>",
          oldToplevel: state.preflight.bootToplevel,
          confirmTimeoutSec: d.confirmTimeoutSec,
          rebootAfterSec: d.rebootAfterSec ?? d.confirmTimeoutSec + 600,
          scriptPath: `${STATE_ROOT}/supervisor.sh`,
        }),
        `# then: a new key-only login on port ${summary.confirmPort} confirms, or the target rolls back by itself`,
      ];
      d.out.text(`Dry run: nothing was changed. The commands a switch runs on the target:\n${commands.join("\n")}\n`);
      return {
        host: d.connector.host,
        port: summary.confirmPort,
        summary,
        dryRun: true,
        generation: state.preflight.generation,
        timing: null,
        failedBefore: state.failed,
        warnings,
      };
    }

    if (state.hostFrom !== CONFIRMED_HOST_JSON) {
      // The unpacked flake is about to be replaced by an unconfirmed one: keep what the node runs
      // now as the record, or a rolled-back switch would be taken for the current configuration.
      const rec = await d.primary.run(recordConfirmedCommand(), {
        stdin: JSON.stringify(state.host, null, 2) + "\n",
        timeoutMs: 15_000,
      });
      if (!rec.stdout.includes("recorded"))
        throw new OperationError(
          `could not record the current host.json on the target (${rec.stderr.trim()}); nothing was changed`,
          { hint: "check free space and permissions in /var/lib/nixnode-install on the target" },
        );
    }
    progress(`checking that a key-only login works on a new connection (port ${d.currentPort})`);
    let fallback: RemoteSession;
    try {
      fallback = await d.connector.openKeySession(d.currentPort);
    } catch (e) {
      if (hostKeyFailureOf(e)) throw e;
      throw new OperationError(
        `no key-only login works on port ${d.currentPort} (${(e as Error).message}); nothing was changed`,
      );
    }
    owned.push(fallback);
    const sessions = [d.primary, fallback];
    let outcome;
    try {
      outcome = await runSupervisedStage({
        sessions,
        connector: d.connector,
        hostname: d.flake.hostname,
        tarball: await tarFlake(d.flake.flakeDir),
        stage: "final",
        port: summary.confirmPort,
        oldPorts: state.host.ssh.ports,
        oldToplevel: state.preflight.bootToplevel,
        oldGeneration: state.preflight.generation,
        bootId: state.bootId,
        confirmTimeoutSec: d.confirmTimeoutSec,
        rebootAfterSec: d.rebootAfterSec ?? d.confirmTimeoutSec + 600,
        signal: d.signal,
        progress,
        log,
      });
    } catch (e) {
      if (d.signal?.aborted && e instanceof OperationError)
        throw new CancelledError(`Interrupted. ${e.message}`, { details: e.details });
      throw e;
    } finally {
      for (const s of sessions) if (s !== d.primary && !owned.includes(s)) owned.push(s);
    }
    const confirmed = sessions[sessions.length - 1]!;
    d.out.step(
      "switch",
      "done",
      `confirmed on port ${summary.confirmPort} and made the boot default (generation ${outcome.generation ?? "?"})`,
    );
    const rec = await confirmed.run(recordConfirmedCommand(), {
      stdin: JSON.stringify(next, null, 2) + "\n",
      timeoutMs: 15_000,
    });
    if (!rec.stdout.includes("recorded"))
      warnings.push(`could not record the confirmed host.json on the target: ${rec.stderr.trim()}`);
    if (d.knownHostsFile && summary.confirmPort !== d.currentPort) {
      const k = await recordKnownHost(confirmed, d.knownHostsFile, d.connector.host, summary.confirmPort, d.pinned);
      d.out.info(
        k === "added"
          ? `known_hosts: added [${d.connector.host}]:${summary.confirmPort} (${d.knownHostsFile})`
          : `known_hosts already has [${d.connector.host}]:${summary.confirmPort}`,
      );
    }
    return {
      host: d.connector.host,
      port: summary.confirmPort,
      summary,
      dryRun: false,
      generation: outcome.generation,
      timing: outcome.timing,
      failedBefore: state.failed,
      warnings,
    };
  } finally {
    for (const s of owned) await s.close().catch(() => undefined);
  }
}
