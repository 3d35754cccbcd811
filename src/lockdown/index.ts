// The lockdown phase (LOCKDOWN.md): preconditions, preflight, the fallback session, then a guarded
// switch of two stages ([22, P] then [P], run by src/switch/guarded-switch.ts like any switch), the
// check that 22 is closed, and the hand-off. Exported for the
// install (its final phase) and the `lockdown` command. Exit 0 only when the final state is
// confirmed; every failure leaves a way in and says which.
import { relative } from "node:path";
import { stageInFlakeGit } from "../generate/write-flake";
import { OperationError } from "../errors";
import { openFallback, recordEndpoint, runGuardedStages, type GuardedStage } from "../switch/guarded-switch";
import { stageHostData, type LockdownStage } from "./host-stages";
import { stagedTarball, writeHostData } from "./flake-files";
import { prepareLockdown } from "./prepare";
import { recordHandOff, renderRecoveryNotes, sshConfigBlock } from "./hand-off";
import { judgePreflight, parsePreflight } from "./preflight";
import { preflightScript } from "./remote-commands";
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
    const fallback = await openFallback(d.connector, d.currentPort, progress, {
      nothingChanged: "password login stays on and nothing was changed on the target",
      hint: `authorise one of your keys (ssh-copy-id -p ${d.currentPort} ${d.connector.user}@${d.connector.host}) and list it in ${file} ssh.authorizedKeys, or pass the right key with -i`,
    });
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

    const names: LockdownStage[] =
      f.host.lockdown.stage === "final" && f.host.ssh.ports.length === 1 && f.host.ssh.ports[0] === port
        ? []
        : f.host.lockdown.stage === "dual-port"
          ? ["final"]
          : ["dual-port", "final"];
    const generations = { before: preflight.generation, dualPort: null as number | null, final: null as number | null };
    const timings: StageTiming[] = [];
    let current = f.host;
    const stages: GuardedStage[] = names.map((stage) => {
      const next = stageHostData(current, stage, {
        port,
        operatorAddress: preflight.operatorAddress,
        extraIgnoreIP: prepared.extraIgnoreIP,
      });
      current = next;
      return {
        host: next,
        tarball: () => stagedTarball(f, next),
        confirm: { address: d.connector.host, port },
        slot: stage,
        name: stage === "dual-port" ? "stage 1" : "stage 2",
        label: stage === "dual-port" ? `stage 1 (ports 22 and ${port}, key-only)` : `stage 2 (port ${port} only)`,
        async confirmed(outcome) {
          writeHostData(f, next); // confirmed and the boot default: now the flake says so
          // tracked, or the operator's next `nixos-rebuild --flake` would not see lockdown.nix
          await stageInFlakeGit(f.flakeDir, [relative(f.flakeDir, f.hostDir)], (m, h) => d.out.warn(m, h));
          timings.push(outcome.timing);
          if (stage === "dual-port") generations.dualPort = outcome.generation;
          else generations.final = outcome.generation;
        },
      };
    });

    let result: LockdownResult | null = null;
    await runGuardedStages({
      command: "lockdown",
      primary: d.primary,
      connector: d.connector,
      currentPort: d.currentPort,
      fallback,
      oldPorts: f.host.ssh.ports,
      hostname: f.hostname,
      pinned,
      bootId,
      oldToplevel: preflight.bootToplevel,
      oldGeneration: preflight.generation,
      confirmTimeoutSec,
      rebootAfterSec: d.rebootAfterSec ?? confirmTimeoutSec + 600,
      knownHostsFile: d.knownHostsFile,
      out: d.out,
      log,
      signal: d.signal,
      stages,
      handOff: async (session) => {
        if (stages.length === 0) progress(`already locked down on port ${port}; checking that it still holds`);
        const closed = await d.connector.probe(22, 3000);
        if (closed === "open") {
          throw new OperationError(
            `port ${port} works with your key, but port 22 still accepts connections from here`,
            {
              hint: "check that nothing else (a second sshd, a port forward) listens on 22; the lockdown configuration itself is active and confirmed",
            },
          );
        }
        d.out.step("lockdown", "done", `port 22 no longer answers (${closed})`);
        result = {
          host: d.connector.host,
          port,
          generations,
          timings,
          totalMs: Date.now() - started,
          warnings,
        };
        if (d.knownHostsFile)
          await recordEndpoint(session, d.knownHostsFile, { host: d.connector.host, port }, pinned, d.out);
      },
    });
    if (!result) throw new OperationError("lockdown ended without its hand-off"); // handOff always runs
    if (stages.length) {
      await recordHandOff(
        f.flakeDir,
        f.hostname,
        renderRecoveryNotes(result, f.hostname, d.connector.user, pinned),
        {
          stage: "final",
          port,
          hostKeyFingerprint: pinned,
          generations,
          confirmedAt: new Date().toISOString(),
          operatorAddress: preflight.operatorAddress,
        },
        (m, h) => d.out.warn(m, h),
      );
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
