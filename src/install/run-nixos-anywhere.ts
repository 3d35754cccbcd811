// Engine 1 as the install runs it: the argv from the plan and facts, the password only through
// $SSHPASS, the task list driven by nixos-anywhere's own ### lines.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors";
import type { Facts } from "../facts/types";
import { runNixosAnywhere } from "./engine-nixos-anywhere";
import type { StagedHostKey } from "./flake-host";
import { buildNixosAnywhereArgs } from "./nixos-anywhere-args";
import type { PhaseProgress } from "./phase-progress";
import type { InstallPhase } from "./phases";
import type { FlakeInfo, InstallDeps } from "./types";

export async function runEngine1(
  d: InstallDeps,
  flake: FlakeInfo,
  facts: Facts,
  staged: StagedHostKey | null,
  phases: InstallPhase[],
  enterPhase: (p: InstallPhase) => void,
  progress: PhaseProgress,
  current: () => InstallPhase | null,
) {
  const hostDir = join(flake.dir, "hosts", flake.hostName);
  const hasHardware = ["facter.json", "hardware.nix", "hardware-configuration.nix"].some((f) =>
    existsSync(join(hostDir, f)),
  );
  const args = buildNixosAnywhereArgs({
    flakeDir: flake.dir,
    hostName: flake.hostName,
    user: d.destination.user,
    host: d.destination.host,
    port: d.destination.port,
    identityFile: d.identityFile,
    extraFilesDir: staged?.extraFilesDir ?? emptyExtraFiles(),
    generateFacterReportTo: hasHardware ? null : join(hostDir, "facter.json"),
    facts,
    operator: { platform: process.platform, arch: process.arch },
    phases,
    usePasswordFromEnv: !d.identityFile && d.password !== null,
  });
  const env: NodeJS.ProcessEnv = { ...d.env };
  if (d.password !== null) {
    env.SSHPASS = d.password;
    d.log.addSecret(d.password);
  }
  await runNixosAnywhere({
    command: d.which("nixos-anywhere")!,
    prefixArgs: [],
    args,
    env,
    log: d.log,
    signal: d.signal,
    onPhase: (p) => {
      // phases nixos-anywhere does not announce (e.g. kexec skipped inside an installer) are passed over
      enterPhase(p);
    },
    onStep: (s) => {
      const c = current();
      if (c) progress.detail(c, s);
    },
  });
}

function emptyExtraFiles(): string {
  throw new UserError("--phases: the install phase needs the host key; run it together with the install phase", {
    field: "--phases",
  });
}
