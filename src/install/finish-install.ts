// The end of the install: wait for the PINNED key (handshakes only), one verifying login, the
// known_hosts entry, the optional copy of the flake to /etc/nixos, and state.json marked verified.
import { hostKeyFiles } from "../secrets/host-key";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CancelledError, OperationError } from "../errors";
import { writeInstallState } from "./install-state";
import type { PhaseProgress } from "./phase-progress";
import { INSTALL_PHASES, targetStateDuring, type InstallPhase } from "./phases";
import type { FlakeInfo, InstallDeps, InstallSession, InstallStateDraft } from "./types";
import { copyFlakeToEtc, verifyInstalled } from "./verify-step";
import { waitForPinnedHostKey } from "./wait-for-pinned-host-key";

export const PHASE_TITLES: Record<InstallPhase | "verify", string> = {
  kexec: "kexec into the NixOS installer",
  disko: "partition and format the disks",
  install: "install NixOS",
  reboot: "reboot into NixOS",
  verify: "verify the new system with its pinned host key",
};

interface FinishInput {
  session: InstallSession | null;
  flake: FlakeInfo;
  state: InstallStateDraft;
  progress: PhaseProgress;
  warnings: string[];
}

/** Waits for the pinned key (unless a verified session is handed in), verifies, trusts, copies. */
export async function finishAndVerify(
  d: Pick<
    InstallDeps,
    | "destination"
    | "rebootTimeoutMs"
    | "signal"
    | "probeHostKey"
    | "log"
    | "connect"
    | "trustHostKey"
    | "copyFlakeToEtc"
  >,
  f: FinishInput,
): Promise<void> {
  const pinned = f.flake.host.ssh.hostKeyFingerprint!;
  f.progress.start("verify", PHASE_TITLES.verify);
  let session = f.session;
  try {
    if (!session) {
      const wait = await waitForPinnedHostKey({
        host: d.destination.host,
        port: d.destination.port,
        pinned,
        previous: f.state.previousHostKey ? [f.state.previousHostKey] : [],
        timeoutMs: d.rebootTimeoutMs ?? (f.flake.plan?.config.install.rebootTimeoutSec ?? 600) * 1000,
        signal: d.signal,
        timeoutHints: timeoutHints(f.flake),
        probe: d.probeHostKey,
      });
      d.log.write(`pinned host key answered after ${wait.elapsedMs} ms (${wait.attempts} attempts)`);
      session = await d.connect({ purpose: "verify", pinnedHostKey: pinned });
    }
    const verdict = await verifyInstalled(session, f.flake, f.state.bootIdBefore);
    f.warnings.push(...verdict.warnings);
    if (verdict.problems.length) {
      throw new OperationError(`the installed system is not the planned one`, {
        details: verdict.problems,
        hint: "check it from the provider's console; re-running the install starts over from the installer",
      });
    }
    const known = await d.trustHostKey(readPub(f.flake));
    d.log.write(`known_hosts updated: ${known}`);
    if (d.copyFlakeToEtc || f.flake.plan?.config.install.copyFlakeToEtc) {
      await copyFlakeToEtc(session, f.flake.dir);
      d.log.write("the flake was copied to /etc/nixos on the target");
    }
    f.progress.done("verify", `${f.flake.hostName} runs NixOS ${f.flake.host.stateVersion}`);
    await f.progress.close();
    writeInstallState(f.flake.dir, { ...f.state, phasesDone: [...INSTALL_PHASES], phaseRunning: null, verified: true });
  } catch (e) {
    f.progress.fail("verify", (e as Error).message);
    await f.progress.close();
    if (e instanceof CancelledError)
      throw new CancelledError("Interrupted while waiting for the installed system.", {
        details: [targetStateDuring("verify")],
        hint: "run the same command again to resume",
      });
    throw e;
  } finally {
    await session?.close().catch(() => undefined);
  }
}

function readPub(flake: FlakeInfo): string {
  // the public key line written next to the encrypted private key
  return readFileSync(join(flake.dir, hostKeyFiles(flake.dir, flake.hostName).pub), "utf8").trim();
}

function timeoutHints(flake: FlakeInfo): string[] {
  const net = flake.host.network;
  const lines = ["What to do:", "- open the provider's rescue or VNC console and look at the boot messages;"];
  if (net?.interfaces?.length) {
    lines.push("- the network the installed system was configured with (hosts/" + flake.hostName + "/network.nix):");
    for (const i of net.interfaces)
      lines.push(
        `    ${i.name} (${i.mac}): ${i.dhcp4 ? "DHCP" : "static"} ${i.addresses.join(", ")} ${i.routes.map((r) => `via ${r.gateway}${r.onLink ? " (on-link)" : ""}`).join(", ")}`,
      );
  }
  lines.push("- when it answers again, run the same command: it verifies and continues with lockdown.");
  return lines;
}
