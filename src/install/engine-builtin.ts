// Engine 2: no Nix on the operator's machine (most `npx` users). The tool itself downloads the
// nixos-images kexec installer of the planned release ON THE TARGET, checks its SHA-256 there before
// unpacking it, starts it under setsid, waits for the machine to go down and come back as the installer
// (same host key: the installer keeps it), uploads the flake, and EVALUATES the whole system and builds
// the disko script before any disk is touched: an evaluation error reboots the target back into its old
// OS (the installer lives in RAM) and stops with the disks untouched. Only then disko, nixos-install
// (building on the target), the host key, and the reboot.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OperationError } from "../errors";
import type { Facts } from "../facts/types";
import type { Log } from "../ui/log";
import { shellQuote } from "../util/shell-quote";
import {
  isIpv6Only,
  KEXEC_SCRIPT_EXIT,
  kexecStartScript,
  resolveKexecImage,
  unverifiedWarning,
  type KexecImage,
} from "./kexec-image";
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
  /** --kexec-sha256; absent: the digest published on the GitHub release is fetched. */
  kexecSha256?: string | null;
  /** The operator's environment: the kexec image's base URLs can be overridden there (tests, mirrors). */
  env?: NodeJS.ProcessEnv;
  /** Shown to the operator (and a --json warning event): an unverified kexec image. */
  warn?(message: string): void;
  fetch?: typeof fetch;
}

/** nix's argv that evaluates the complete system without building it: its .drv path, or Nix's error. */
export function evalSystemArgs(flakeDir: string, hostName: string): string[] {
  return [
    "--extra-experimental-features",
    "nix-command flakes",
    "eval",
    "--raw",
    `${flakeDir}#nixosConfigurations."${hostName}".config.system.build.toplevel.drvPath`,
  ];
}

/** The same as a target-side command (REMOTE_FLAKE_DIR and host names are checked, never operator text). */
export function evalSystemCommand(flakeDir: string, hostName: string): string {
  return `${NIX} eval --raw ${shellQuote(`${flakeDir}#nixosConfigurations."${hostName}".config.system.build.toplevel.drvPath`)}`;
}

/** The lines of Nix's output worth showing: from the first `error:` on (file and option live there). */
export function nixErrorLines(output: string, max = 14): string[] {
  const lines = output.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
  const at = lines.findIndex((l) => /\berror:/.test(l));
  return (at >= 0 ? lines.slice(at) : lines.slice(-max))
    .filter((l) => l.trim())
    .slice(0, max)
    .map((l) => `| ${l.trimEnd()}`);
}

/**
 * A tarball of the flake (without .git) made by the operator's own tar. In a fleet another host's
 * lockdown may be renaming its own files into the flake meanwhile: "file changed as we read it" is
 * answered by packing again a moment later (as src/lockdown/flake-files.ts does).
 */
export function tarFlake(flakeDir: string): Buffer {
  const pack = () =>
    spawnSync("tar", ["-C", flakeDir, "--exclude=./.git", "-cf", "-", "."], { maxBuffer: 256 * 1024 * 1024 });
  let r = pack();
  for (
    let attempt = 1;
    attempt < 5 && r.status !== 0 && /file changed as we read it/.test(String(r.stderr));
    attempt++
  ) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300 * attempt);
    r = pack();
  }
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
    i.onStep("looking up the kexec installer's SHA-256");
    const image = await resolveKexecImage({
      arch: i.facts.arch,
      release: i.release,
      ipv6Only: isIpv6Only(i.facts.network),
      sha256: i.kexecSha256,
      env: i.env ?? {},
      fetch: i.fetch,
      signal: i.signal,
    });
    logImage(i, image);
    i.onStep(`downloading ${image.assetName} (${image.tag}) on the target`);
    const out = await startKexec(i, s, image);
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
  if (needsFlake) {
    // Everything that can fail on the flake itself fails HERE, while the disks still hold the old system.
    const beforeDisko = i.phases.includes("disko");
    i.onStep("evaluating the system (nothing is written to disk)");
    await evaluateOrStop(i, s, evalSystemCommand(REMOTE_FLAKE_DIR, i.hostName), "evaluating the system", beforeDisko);
  }
  if (i.phases.includes("disko")) {
    i.onStep("building the disko script on the target");
    const built = await evaluateOrStop(
      i,
      s,
      `${NIX} build --no-link --print-out-paths ${shellQuote(`${REMOTE_FLAKE_DIR}#nixosConfigurations."${i.hostName}".config.system.build.diskoScript`)}`,
      "building the disk layout",
      true,
    );
    const script = built.trim().split("\n").pop()!;
    if (!script.startsWith("/")) throw new OperationError(`building the disk layout printed no store path: ${script}`);
    i.onPhase("disko");
    i.onStep("formatting the disks with disko");
    await run(shellQuote(script), "disko (partitioning and formatting)");
  }
  if (i.phases.includes("install")) {
    i.onPhase("install");
    i.onStep("copying the host key");
    await run("mkdir -p /mnt/etc/ssh && chmod 755 /mnt/etc/ssh", "preparing /mnt/etc/ssh");
    const ssh = join(i.extraFilesDir, "etc", "ssh");
    await s.upload("/mnt/etc/ssh/ssh_host_ed25519_key", readFileSync(join(ssh, "ssh_host_ed25519_key")), 0o600);
    await s.upload("/mnt/etc/ssh/ssh_host_ed25519_key.pub", readFileSync(join(ssh, "ssh_host_ed25519_key.pub")), 0o644);
    i.onStep("nixos-install (building on the target)");
    await run(`nixos-install --no-root-passwd --no-channel-copy --flake ${shellQuote(flakeRef)}`, "nixos-install");
  }
  if (i.phases.includes("reboot")) {
    i.onPhase("reboot");
    i.onStep("rebooting into the installed system");
    await run("setsid sh -c 'sleep 2; reboot' </dev/null >/dev/null 2>&1 &", "scheduling the reboot");
  }
  await s.close().catch(() => undefined);
}

function logImage(i: BuiltinEngineInput, image: KexecImage): void {
  if (image.sha256) i.log.write(`kexec image ${image.url}: expecting sha256 ${image.sha256} (${image.digestSource})`);
  else {
    const w = unverifiedWarning(image);
    i.log.write(`warning: ${w}`);
    i.warn?.(w);
  }
}

/** Downloads, checks and starts the installer on the target; a hash mismatch stops here, before kexec. */
async function startKexec(i: BuiltinEngineInput, s: InstallSession, image: KexecImage): Promise<string> {
  const script = kexecStartScript(image);
  i.log.write(`target$ ${script}`);
  const r = await s.run(script, { timeoutMs: 15 * 60_000, signal: i.signal });
  i.log.write(`${r.stdout}${r.stderr}`.trimEnd());
  if (r.code === 0) return r.stdout;
  const tail = `${r.stdout}\n${r.stderr}`
    .trim()
    .split("\n")
    .slice(-8)
    .map((l) => `| ${l}`);
  if (r.code === KEXEC_SCRIPT_EXIT.mismatch)
    throw new OperationError(
      "the kexec installer downloaded on the target does not have the expected SHA-256: nothing was changed on the target (no kexec, the disks are untouched)",
      {
        details: [`${image.url}`, `expected sha256 ${image.sha256} (${image.digestSource})`, ...tail],
        hint: "the download was altered or the digest is wrong; run again, or check --kexec-sha256",
      },
    );
  throw new OperationError(`starting the kexec installer failed on the target (exit ${r.code})`, { details: tail });
}

/**
 * Runs a command that only reads the flake (eval, building the disko script). On failure before disko,
 * the installer (RAM only) is rebooted so the target comes back as its old system, and the error says
 * the disks were not touched, with Nix's own message (file and option).
 */
async function evaluateOrStop(
  i: BuiltinEngineInput,
  s: InstallSession,
  cmd: string,
  what: string,
  rebootBack: boolean,
): Promise<string> {
  i.log.write(`target$ ${cmd}`);
  const r = await s.run(cmd, { timeoutMs: 60 * 60_000, signal: i.signal });
  i.log.write(`${r.stdout}${r.stderr}`.trimEnd());
  if (r.code === 0) return r.stdout;
  const nix = nixErrorLines(`${r.stderr}\n${r.stdout}`);
  if (!rebootBack)
    throw new OperationError(`${what} failed on the target (exit ${r.code}): the flake does not evaluate`, {
      details: nix,
      hint: "fix the flake (nixnode-install check --flake DIR shows the same error), then run the same command again",
    });
  i.onStep("rebooting the target back into its previous system");
  const back = await s.run("setsid sh -c 'sleep 2; reboot' </dev/null >/dev/null 2>&1 &", {
    timeoutMs: 30_000,
    signal: i.signal,
  });
  const rebooting = back.code === 0;
  i.log.write(rebooting ? "scheduled a reboot back into the previous system" : `reboot failed: ${back.stderr}`);
  await s.close().catch(() => undefined);
  throw new OperationError(
    `${what} failed: the system does not evaluate, so nothing was installed and the disks were not touched`,
    {
      details: [
        ...nix,
        rebooting
          ? "The target is rebooting out of the NixOS installer (it ran in RAM) back into its previous system."
          : "Rebooting the installer failed: reboot the target from the provider's console to get its previous system back.",
      ],
      hint: "fix the flake (nixnode-install check --flake DIR shows the same error), then run the same command again",
    },
  );
}
