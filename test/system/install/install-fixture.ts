// A throwaway target plus an operator's side (HOME with a key, a known_hosts, a nixnode.json) and
// the environment that puts the nixos-anywhere stand-in on PATH, for driving `install` end to end.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { runCli, type CliResult } from "../../helpers/cli";
import { runInProcess } from "./run-in-process";
import { addKexecPersonality, startKexecMirror, type KexecMirror } from "../../targets/standins/kexec-personality";
import { startTarget, type TargetOptions, type TestTarget } from "../../targets/index";

export const STANDIN_BIN = fileURLToPath(new URL("../../targets/standins/bin", import.meta.url));
/** The operator's `nix` in tests: the stand-in (never the real Nix, which would fetch flake inputs). */
export const STANDIN_NIX_BIN = fileURLToPath(new URL("../../targets/standins/installer/operator-bin", import.meta.url));

export interface InstallFixture {
  target: TestTarget;
  key: KeyPair;
  work: string;
  home: string;
  knownHosts: string;
  configFile: string;
  flakeDir: string;
  originalFingerprint: string;
  env: Record<string, string>;
  /** Built-in engine: the URLs the target's curl/wget were asked for (the kexec stand-ins log them). */
  downloadsLog: string | null;
  /** Built-in engine: the target's stand-in system disk (its bytes change only when disko runs). */
  diskImage: string | null;
  /** The suite's stand-in for GitHub's releases API and downloads (the kexec image and its digest). */
  kexecMirror: KexecMirror;
  /** In this process (main() from the sources); `child: true` runs the built CLI as a child process. */
  install(
    extra?: string[],
    opts?: { env?: Record<string, string>; timeoutMs?: number; child?: boolean; lockdown?: boolean },
  ): Promise<CliResult>;
  cleanup(): Promise<void>;
}

export async function installFixture(
  o: {
    target?: TargetOptions;
    engine?: "nixos-anywhere" | "builtin";
    hostname?: string;
    config?: Record<string, unknown>;
    /** Built-in engine: the target's system disk is a real loop device instead of a file. */
    loopDisk?: boolean;
  } = {},
): Promise<InstallFixture> {
  const work = mkdtempSync(join(tmpdir(), "nn-install-"));
  const home = join(work, "home");
  mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
  const key = await makeKeyPair(join(home, ".ssh"));
  // the operator's own log folder (the tool refuses one it does not own or cannot read)
  mkdirSync(join(work, "logs"), { mode: 0o700 });
  // a VM, 4 GiB: the suite's own machine may be a container, which the preflight rightly refuses
  const target = await startTarget({ virt: "kvm", memoryMiB: 4096, authorizedKeys: [key.publicKey], ...o.target });
  // Ubuntu cloud images ship cpio; this machine may not (the preflight checks it)
  if (!existsSync("/usr/bin/cpio"))
    await target.writeFile("/usr/local/sbin/cpio", "#!/bin/sh\necho 'cpio (test stand-in)'\n", 0o755);
  const hostname = o.hostname ?? "node1";
  const configFile = join(work, "nixnode.json");
  writeFileSync(
    configFile,
    JSON.stringify({ hostname, ssh: { authorizedKeys: [key.publicKey] }, ...o.config }, null, 2),
  );
  const knownHosts = join(home, ".ssh", "known_hosts");
  const originalFingerprint = await target.hostKeyFingerprint();
  const engine = o.engine ?? "nixos-anywhere";
  // the built-in engine downloads on the target: its curl/wget MUST be the stand-ins (no network)
  const kexec = engine === "builtin" ? addKexecPersonality(target, undefined, { loopDisk: o.loopDisk }) : null;
  const downloadsLog = kexec?.downloadsLog ?? null;
  // both engines ask for the kexec image's digest and download it: from the suite's mirror, never GitHub
  const tarball = kexec?.tarball ?? join(work, "kexec-installer.tar.gz");
  if (!kexec) writeFileSync(tarball, "stand-in kexec tarball (nixos-anywhere's stand-in does not unpack it)\n");
  const kexecMirror = await startKexecMirror(tarball, { downloadsFrom: kexec ? target.operatorAddress : undefined });
  const env: Record<string, string> = {
    ...kexecMirror.env,
    HOME: home,
    SSH_AUTH_SOCK: "",
    PATH: `${engine === "nixos-anywhere" ? `${STANDIN_BIN}:` : ""}${STANDIN_NIX_BIN}:${process.env.PATH}`,
    NIXNODE_STANDIN_NIX_LOG: join(work, "operator-nix.log"),
    NIXNODE_STANDIN_TARGETS: target.dir,
  };
  const f: InstallFixture = {
    target,
    key,
    work,
    home,
    knownHosts,
    configFile,
    env,
    originalFingerprint,
    downloadsLog,
    diskImage: kexec?.diskImage ?? null,
    kexecMirror,
    flakeDir: join(work, hostname),
    install(extra = [], io = {}) {
      const args = [
        "install",
        `root@${target.address}`,
        "--config",
        configFile,
        "--yes",
        "--json",
        "-i",
        key.privatePath,
        "--host-key",
        originalFingerprint,
        "--known-hosts",
        knownHosts,
        ...(io.lockdown ? [] : ["--no-lockdown"]),
        "--engine",
        engine,
        "--log-dir",
        join(work, "logs"),
        ...extra,
      ];
      if (io.child) return runCli(args, { cwd: work, env: { ...env, ...io.env }, timeoutMs: io.timeoutMs ?? 110_000 });
      return runInProcess(args, { cwd: work, env: { ...env, ...io.env } });
    },
    async cleanup() {
      await kexecMirror.close();
      await target.stop();
      kexec?.releaseDisk();
      rmSync(work, { recursive: true, force: true });
    },
  };
  return f;
}

/** `ssh` as the operator would run it afterwards: strict host key checking against our known_hosts only. */
export function strictSshArgs(f: InstallFixture, command: string): string[] {
  return [
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${f.knownHosts}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "IdentitiesOnly=yes",
    "-i",
    f.key.privatePath,
    "-o",
    "ConnectTimeout=10",
    `root@${f.target.address}`,
    command,
  ];
}
