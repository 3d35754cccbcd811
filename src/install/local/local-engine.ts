// The install on the machine itself (booted from the NixOS installer): the same commands the built-in
// engine runs on a target, run locally. The whole system is evaluated and the disko script built
// before any disk is touched; unlike the remote path nothing is rebooted on failure (the operator is
// at the console and the installer keeps running). Then disko, the pinned host key, nixos-install,
// and the flake copied to /mnt/etc/nixos so the new system holds its own configuration.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OperationError } from "../../errors";
import { nixErrorLines } from "../engine-builtin";
import { shellQuote } from "../../util/shell-quote";
import type { InstallPhase } from "../phases";
import type { InstallSession } from "../types";

const NIX = "nix --extra-experimental-features 'nix-command flakes'";

export interface LocalEngineInput {
  target: Pick<InstallSession, "run" | "upload">;
  flakeDir: string;
  hostName: string;
  /** The staged host key (etc/ssh/ssh_host_ed25519_key[.pub] under it). */
  extraFilesDir: string;
  phases: InstallPhase[];
  signal?: AbortSignal;
  log: { write(s: string): void };
  onPhase(p: InstallPhase): void;
  onStep(s: string): void;
}

function attr(flakeDir: string, hostName: string, path: string): string {
  return shellQuote(`${flakeDir}#nixosConfigurations."${hostName}".config.system.build.${path}`);
}

export function localEvalCommand(flakeDir: string, hostName: string): string {
  return `${NIX} eval --raw ${attr(flakeDir, hostName, "toplevel.drvPath")}`;
}

export function localDiskoBuildCommand(flakeDir: string, hostName: string): string {
  return `${NIX} build --no-link --print-out-paths ${attr(flakeDir, hostName, "diskoScript")}`;
}

export function localInstallCommand(flakeDir: string, hostName: string): string {
  return `nixos-install --no-root-passwd --no-channel-copy --flake ${shellQuote(`${flakeDir}#${hostName}`)}`;
}

export const PREPARE_MNT_SSH = "mkdir -p /mnt/etc/ssh && chmod 755 /mnt/etc/ssh";

export function copyFlakeToMntCommand(flakeDir: string): string {
  return `mkdir -p /mnt/etc/nixos && cp -a ${shellQuote(`${flakeDir}/.`)} /mnt/etc/nixos/ && chmod 700 /mnt/etc/nixos`;
}

/** What runLocalEngine runs, in order, for `install --local --dry-run` (the disko script only exists after its build). */
export function localEngineCommands(flakeDir: string, hostName: string): string[] {
  return [
    localEvalCommand(flakeDir, hostName),
    localDiskoBuildCommand(flakeDir, hostName),
    "<the disko script just built> (partitions and formats the disks, mounts them at /mnt)",
    PREPARE_MNT_SSH,
    "write the pinned host key to /mnt/etc/ssh/ssh_host_ed25519_key (0600) and its .pub (0644)",
    localInstallCommand(flakeDir, hostName),
    copyFlakeToMntCommand(flakeDir),
  ];
}

export async function runLocalEngine(i: LocalEngineInput): Promise<void> {
  const run = async (cmd: string, what: string, flakeError = false) => {
    i.log.write(`local$ ${cmd}`);
    const r = await i.target.run(cmd, { timeoutMs: 4 * 60 * 60_000, signal: i.signal });
    i.log.write(`${r.stdout}${r.stderr}`.trimEnd());
    if (r.code === 0) return r.stdout;
    const tail = `${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-8);
    throw new OperationError(
      flakeError
        ? `${what} failed: the system does not evaluate, so nothing was installed and the disks were not touched`
        : `${what} failed (exit ${r.code})`,
      {
        details: flakeError ? nixErrorLines(`${r.stderr}\n${r.stdout}`) : tail.map((l) => `| ${l}`),
        hint: flakeError
          ? `fix the flake in ${i.flakeDir} (nixnode-install check --flake ${i.flakeDir} shows the same error), then run the same command again`
          : "fix the cause above, then run the same command again",
      },
    );
  };
  const q = shellQuote;
  if (i.phases.includes("disko") || i.phases.includes("install")) {
    i.onStep("evaluating the system (nothing is written to disk)");
    await run(localEvalCommand(i.flakeDir, i.hostName), "evaluating the system", true);
  }
  if (i.phases.includes("disko")) {
    i.onStep("building the disko script");
    const out = await run(localDiskoBuildCommand(i.flakeDir, i.hostName), "building the disk layout", true);
    const script = out.trim().split("\n").pop() ?? "";
    if (!/^\/[A-Za-z0-9._/+-]+$/.test(script))
      throw new OperationError(`building the disk layout printed no store path: ${script.slice(0, 200)}`);
    i.onPhase("disko");
    i.onStep("formatting the disks with disko");
    await run(q(script), "disko (partitioning and formatting)");
  }
  if (i.phases.includes("install")) {
    i.onPhase("install");
    i.onStep("copying the pinned host key");
    await run(PREPARE_MNT_SSH, "preparing /mnt/etc/ssh");
    const ssh = join(i.extraFilesDir, "etc", "ssh");
    await i.target.upload("/mnt/etc/ssh/ssh_host_ed25519_key", readFileSync(join(ssh, "ssh_host_ed25519_key")), 0o600);
    await i.target.upload(
      "/mnt/etc/ssh/ssh_host_ed25519_key.pub",
      readFileSync(join(ssh, "ssh_host_ed25519_key.pub")),
      0o644,
    );
    i.onStep("nixos-install (building the system)");
    await run(localInstallCommand(i.flakeDir, i.hostName), "nixos-install");
    i.onStep("copying the flake to /mnt/etc/nixos");
    // the flake holds only public data and secrets encrypted to the node and the operators
    await run(copyFlakeToMntCommand(i.flakeDir), "copying the flake to /mnt/etc/nixos");
  }
}
