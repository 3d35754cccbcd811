// Engine 2: no Nix on the operator's machine (most `npx` users). The tool itself downloads the
// nixos-images kexec installer ON THE TARGET, starts it under setsid, waits for the machine to go
// down and come back as the installer (same host key: the installer keeps it), uploads the flake,
// runs disko and nixos-install there (building on the target), copies the host key, and reboots.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OperationError } from "../errors";
import type { Facts } from "../facts/types";
import type { Log } from "../ui/log";
import { isIpv6Only, kexecStartScript, kexecTarballUrl } from "./kexec-url";
import type { InstallPhase } from "./phases";
import type { Destination, InstallSession } from "./types";
import { parseOsRelease } from "./verify-installed";
import { waitForPinnedHostKey, type ProbeHostKey } from "./wait-for-pinned-host-key";

export const REMOTE_FLAKE_DIR = "/root/nixnode-flake";
const NIX = "nix --extra-experimental-features 'nix-command flakes'";

export interface BuiltinEngineInput {
  /** A session on the target as it is now (the original OS, or already the installer). */
  session: InstallSession;
  inInstaller: boolean;
  connectInstaller(pinnedHostKey: string): Promise<InstallSession>;
  destination: Destination;
  flakeDir: string;
  hostName: string;
  facts: Facts;
  release: string;
  extraFilesDir: string;
  phases: InstallPhase[];
  /** The host key the target presents now; the kexec installer presents the same one. */
  currentHostKey: string;
  log: Log;
  signal: AbortSignal;
  onPhase(phase: InstallPhase): void;
  onStep(step: string): void;
  /** Runs right before the kexec starts (closes the fallback session). */
  beforeKexec(): Promise<void>;
  /** One handshake (no login): the key host:port presents; handed in like every other I/O. */
  probeHostKey: ProbeHostKey;
  /** Bounds for going down and coming back as the installer. */
  kexecTimeoutMs?: number;
}

/** A tarball of the flake (without .git) made by the operator's own tar. */
export function tarFlake(flakeDir: string): Buffer {
  const r = spawnSync("tar", ["-C", flakeDir, "--exclude=./.git", "-cf", "-", "."], { maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0)
    throw new OperationError(`could not pack the flake with tar: ${r.stderr?.toString().trim() || r.error?.message}`);
  return r.stdout;
}

export async function runBuiltinEngine(i: BuiltinEngineInput): Promise<void> {
  let s = i.session;
  const run = async (cmd: string, what: string, timeoutMs = 60 * 60_000) => {
    i.log.write(`target$ ${cmd}`);
    const r = await s.run(cmd, { timeoutMs, signal: i.signal });
    i.log.write(`${r.stdout}${r.stderr}`.trimEnd());
    if (r.code !== 0) {
      const tail = `${r.stdout}\n${r.stderr}`
        .trim()
        .split("\n")
        .slice(-8)
        .map((l) => `| ${l}`);
      throw new OperationError(`${what} failed on the target (exit ${r.code})`, { details: tail });
    }
    return r.stdout;
  };

  if (i.phases.includes("kexec") && !i.inInstaller) {
    i.onPhase("kexec");
    const url = kexecTarballUrl(i.facts.arch, i.release, { ipv6Only: isIpv6Only(i.facts.network) });
    i.onStep(`downloading ${url.split("/").pop()} on the target`);
    const out = await run(kexecStartScript(url), "starting the kexec installer", 15 * 60_000);
    if (!out.includes("nixnode-kexec: started"))
      throw new OperationError("the kexec installer did not start", { details: out.split("\n").slice(-5) });
    await i.beforeKexec();
    await s.close().catch(() => undefined);
    i.onStep("waiting for the target to go down");
    const limit = i.kexecTimeoutMs ?? 5 * 60_000;
    const downBy = Date.now() + limit;
    for (;;) {
      const p = await i.probeHostKey(i.destination.host, i.destination.port, 1000);
      if (p.kind !== "key") break;
      if (Date.now() > downBy)
        throw new OperationError(
          `the target still answers ${Math.round(limit / 1000)} s after kexec was started: kexec did not happen`,
          { hint: "look at /root/kexec/kexec.log on the target" },
        );
      await new Promise((r) => setTimeout(r, 250));
    }
    i.onStep("waiting for the NixOS installer to answer");
    await waitForPinnedHostKey({
      host: i.destination.host,
      port: i.destination.port,
      pinned: i.currentHostKey,
      previous: [],
      timeoutMs: limit,
      signal: i.signal,
      probe: i.probeHostKey,
    });
    s = await i.connectInstaller(i.currentHostKey);
    const os = parseOsRelease(await run("cat /etc/os-release", "reading os-release"));
    if (os.ID !== "nixos")
      throw new OperationError(
        `after kexec the target runs ${os.PRETTY_NAME ?? os.ID ?? "an unknown OS"}, not the NixOS installer`,
        { hint: "the kexec image did not boot; reboot from the provider's console to get the old system back" },
      );
  }

  const needsFlake = i.phases.includes("disko") || i.phases.includes("install");
  const flakeRef = `${REMOTE_FLAKE_DIR}#${i.hostName}`;
  if (needsFlake) {
    i.onStep("uploading the flake");
    await s.upload("/root/nixnode-flake.tar", tarFlake(i.flakeDir), 0o600);
    await run(
      `rm -rf ${REMOTE_FLAKE_DIR} && mkdir -p ${REMOTE_FLAKE_DIR} && tar -xf /root/nixnode-flake.tar -C ${REMOTE_FLAKE_DIR} && rm -f /root/nixnode-flake.tar`,
      "unpacking the flake",
    );
  }
  if (i.phases.includes("disko")) {
    i.onPhase("disko");
    i.onStep("building the disko script on the target");
    const script = (
      await run(
        `${NIX} build --no-link --print-out-paths '${REMOTE_FLAKE_DIR}#nixosConfigurations."${i.hostName}".config.system.build.diskoScript'`,
        "building the disk layout",
      )
    )
      .trim()
      .split("\n")
      .pop()!;
    if (!script.startsWith("/")) throw new OperationError(`building the disk layout printed no store path: ${script}`);
    i.onStep("formatting the disks with disko");
    await run(`'${script.replace(/'/g, "")}'`, "disko (partitioning and formatting)");
  }
  if (i.phases.includes("install")) {
    i.onPhase("install");
    i.onStep("copying the host key");
    await run("mkdir -p /mnt/etc/ssh && chmod 755 /mnt/etc/ssh", "preparing /mnt/etc/ssh");
    const ssh = join(i.extraFilesDir, "etc", "ssh");
    await s.upload("/mnt/etc/ssh/ssh_host_ed25519_key", readFileSync(join(ssh, "ssh_host_ed25519_key")), 0o600);
    await s.upload("/mnt/etc/ssh/ssh_host_ed25519_key.pub", readFileSync(join(ssh, "ssh_host_ed25519_key.pub")), 0o644);
    i.onStep("nixos-install (building on the target)");
    await run(`nixos-install --no-root-passwd --no-channel-copy --flake '${flakeRef}'`, "nixos-install");
  }
  if (i.phases.includes("reboot")) {
    i.onPhase("reboot");
    i.onStep("rebooting into the installed system");
    await run("setsid sh -c 'sleep 2; reboot' </dev/null >/dev/null 2>&1 &", "scheduling the reboot");
  }
  await s.close().catch(() => undefined);
}
