// The lockdown phase (LOCKDOWN.md): preconditions, preflight, the fallback session, two supervised
// stages ([22, P] then [P]), the check that 22 is closed, and the hand-off. Exported for the
// install (its final phase) and the `lockdown` command. Exit 0 only when the final state is
// confirmed; every failure leaves a way in and says which.
import { relative } from "node:path";
import { stageInFlakeGit } from "../generate/write-flake";
import { CancelledError, OperationError } from "../errors";
import { hostKeyFailureOf } from "../remote/ssh-errors";
import { stageHostData, type LockdownStage } from "./host-stages";
import { stagedTarball, writeHostData } from "./flake-files";
import { prepareLockdown } from "./prepare";
import {
  recordKnownHost,
  renderRecoveryNotes,
  sshConfigBlock,
  writeLockdownState,
  writeRecoveryNotes,
} from "./hand-off";
import { judgePreflight, parsePreflight } from "./preflight";
import { preflightScript } from "./remote-commands";
import { runSupervisedStage } from "./supervised-stage";
import type { LockdownDeps, LockdownResult, RemoteSession, StageTiming } from "./types";

export type { LockdownConnector, LockdownDeps, LockdownResult, RemoteSession } from "./types";
export { DEFAULT_CONFIRM_TIMEOUT_SEC, prepareLockdown, type PreparedLockdown } from "./prepare";

export async function runLockdown(d: LockdownDeps): Promise<LockdownResult> {
  const started = Date.now();
  // the `lockdown` command prepared (checked) everything before connecting; others let us do it here
  const prepared = d.prepared ?? prepareLockdown(d);
  const { port, pinned, confirmTimeoutSec } = prepared;
  const f = prepared.flake;
  const file = f.file;
  const progress = (message: string) => d.out.step("lockdown", "start", message);
  const log = (line: string) => d.log.write(`lockdown: ${line}`);
  const owned: RemoteSession[] = [];

  try {
    // Precondition: a key-only login works NOW, on a new connection. It stays open as the fallback.
    progress(`checking that a key-only login works on a new connection (port ${d.currentPort})`);
    let fallback: RemoteSession;
    try {
      fallback = await d.connector.openKeySession(d.currentPort);
    } catch (e) {
      // a host key that is not the pinned one: abort as the SSH layer said, never work around it
      if (hostKeyFailureOf(e)) throw e;
      throw new OperationError(
        `no key-only login works on port ${d.currentPort} (${(e as Error).message}); password login stays on and nothing was changed on the target`,
        {
          hint: `authorise one of your keys (ssh-copy-id -p ${d.currentPort} ${d.connector.user}@${d.connector.host}) and list it in ${file} ssh.authorizedKeys, or pass the right key with -i`,
        },
      );
    }
    owned.push(fallback);

    progress("preflight: generation, your address, the new port, running switches");
    const pre = await d.primary.run(`${preflightScript(port)}\necho "boot_id=$(cat /proc/sys/kernel/random/boot_id)"`, {
      timeoutMs: 30_000,
    });
    const preflight = parsePreflight(pre.stdout, port);
    const bootId = /boot_id=(\S+)/.exec(pre.stdout)?.[1] ?? "";
    const warnings = judgePreflight(preflight, port, { sshAlreadyOnPort: f.host.ssh.ports.includes(port) });
    for (const w of warnings) d.out.warn(w);
    log(`preflight: ${JSON.stringify(preflight)}`);

    const stages: LockdownStage[] =
      f.host.lockdown.stage === "final" && f.host.ssh.ports.length === 1 && f.host.ssh.ports[0] === port
        ? []
        : f.host.lockdown.stage === "dual-port"
          ? ["final"]
          : ["dual-port", "final"];
    const generations = { before: preflight.generation, dualPort: null as number | null, final: null as number | null };
    const timings: StageTiming[] = [];
    let current = f.host;
    let oldToplevel = preflight.bootToplevel;
    let oldGeneration = preflight.generation;
    let lastSession: RemoteSession = fallback;
    for (const stage of stages) {
      const next = stageHostData(current, stage, {
        port,
        operatorAddress: preflight.operatorAddress,
        extraIgnoreIP: prepared.extraIgnoreIP,
      });
      const tarball = await stagedTarball(f, next);
      const sessions = [d.primary, fallback];
      try {
        const outcome = await runSupervisedStage({
          sessions,
          connector: d.connector,
          hostname: f.hostname,
          tarball,
          stage,
          port,
          oldPorts: current.ssh.ports,
          oldToplevel,
          oldGeneration,
          bootId,
          confirmTimeoutSec,
          rebootAfterSec: d.rebootAfterSec ?? confirmTimeoutSec + 600,
          signal: d.signal,
          progress,
          log,
        });
        lastSession = sessions[sessions.length - 1] ?? fallback;
        writeHostData(f, next); // confirmed and the boot default: now the flake says so
        // tracked, or the operator's next `nixos-rebuild --flake` would not see lockdown.nix
        await stageInFlakeGit(f.flakeDir, [relative(f.flakeDir, f.hostDir)], (m, h) => d.out.warn(m, h));
        timings.push(outcome.timing);
        oldToplevel = outcome.toplevel;
        oldGeneration = outcome.generation;
        if (stage === "dual-port") generations.dualPort = outcome.generation;
        else generations.final = outcome.generation;
        d.out.step(
          "lockdown",
          "done",
          `${stage === "dual-port" ? "stage 1" : "stage 2"} confirmed on port ${port} and made the boot default (generation ${outcome.generation ?? "?"})`,
        );
      } catch (e) {
        if (d.signal?.aborted && e instanceof OperationError)
          throw new CancelledError(`Interrupted. ${e.message}`, { details: e.details });
        throw e;
      } finally {
        for (const s of sessions) if (s !== d.primary && !owned.includes(s)) owned.push(s);
      }
      current = next;
    }

    if (stages.length === 0) progress(`already locked down on port ${port}; checking that it still holds`);
    const closed = await d.connector.probe(22, 3000);
    if (closed === "open") {
      throw new OperationError(`port ${port} works with your key, but port 22 still accepts connections from here`, {
        hint: "check that nothing else (a second sshd, a port forward) listens on 22; the lockdown configuration itself is active and confirmed",
      });
    }
    d.out.step("lockdown", "done", `port 22 no longer answers (${closed})`);

    const result: LockdownResult = {
      host: d.connector.host,
      port,
      generations,
      timings,
      totalMs: Date.now() - started,
      warnings,
    };
    if (d.knownHostsFile) {
      const r = await recordKnownHost(lastSession, d.knownHostsFile, d.connector.host, port, pinned);
      d.out.info(
        r === "added"
          ? `known_hosts: added [${d.connector.host}]:${port} (${d.knownHostsFile})`
          : `known_hosts already has [${d.connector.host}]:${port}`,
      );
    }
    if (stages.length) {
      writeRecoveryNotes(f.flakeDir, renderRecoveryNotes(result, f.hostname, d.connector.user));
      writeLockdownState(f.flakeDir, {
        stage: "final",
        port,
        generations,
        confirmedAt: new Date().toISOString(),
        operatorAddress: preflight.operatorAddress,
      });
    }
    if (d.sshConfigBlock)
      d.out.text(
        `\nAdd this to ~/.ssh/config:\n\n${sshConfigBlock(f.hostname, d.connector.host, port, d.connector.user)}\n`,
      );
    return result;
  } finally {
    for (const s of owned) await s.close().catch(() => undefined);
  }
}
