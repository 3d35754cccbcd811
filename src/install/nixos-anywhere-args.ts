// The argv for nixos-anywhere 1.13 (../shared/research/nixos-anywhere.md), built from the plan and
// the facts. Pure. Every flag emitted here is one 1.13 accepts, in a combination it accepts:
// -p always travels with --post-kexec-ssh-port (#515), --force-kexec is never emitted (1.13 shifts
// twice and swallows the next argument), and no secret ever appears: only a key FILE path.
import { InternalError } from "../errors";
import type { Facts } from "../facts/types";
import { INSTALL_PHASES, type InstallPhase } from "./phases";

export interface NixosAnywhereArgsInput {
  /** The flake directory (absolute path) and the nixosConfigurations name. */
  flakeDir: string;
  hostName: string;
  /** Where to connect: user, host (IPv6 without brackets), port. */
  user: string;
  host: string;
  port: number;
  /** The operator's private key FILE for the first login; null: nixos-anywhere uses the agent / ssh-copy-id. */
  identityFile: string | null;
  /** The 0600 staging folder holding etc/ssh/ssh_host_ed25519_key(.pub). */
  extraFilesDir: string;
  /** Where nixos-facter's report goes when the flake has no hardware description yet; null: it has one. */
  generateFacterReportTo: string | null;
  /** Facts about the target: arch and RAM decide --build-on and --no-disko-deps. */
  facts: Pick<Facts, "arch" | "memory">;
  /** The operator's machine: process.platform / process.arch. */
  operator: { platform: string; arch: string };
  /** Phases to run; all four (or undefined) emits no --phases. */
  phases?: readonly InstallPhase[];
  /** A password login: the password goes in $SSHPASS (env), never in argv. */
  usePasswordFromEnv?: boolean;
  /** The installer's sshd port after kexec (the nixos-images installer listens on 22). */
  postKexecPort?: number;
  /**
   * The kexec tarball of the planned release, downloaded and checked on this machine (kexec-preflight):
   * 1.13 uploads a local file, so what boots is what was checked. Without it 1.13 boots its own default
   * (nixos-25.05, past end of support), so a run with the kexec phase always passes one.
   */
  kexecFile?: string | null;
}

/** Below this much RAM, uploading disko's tools into the installer's tmpfs risks an OOM (#348, #609). */
export const SMALL_RAM_BYTES = 2 * 1024 ** 3;

const NODE_ARCH: Record<string, Facts["arch"]> = { x64: "x86_64", arm64: "aarch64" };

/** The operator's machine cannot build for the target: not Linux (macOS), or another CPU architecture. */
export function mustBuildOnTarget(operator: { platform: string; arch: string }, targetArch: Facts["arch"]): boolean {
  return operator.platform !== "linux" || NODE_ARCH[operator.arch] !== targetArch;
}

/** nixos-anywhere's host argument: user@host; IPv6 literals without brackets (it passes them to ssh). */
export function sshDestination(user: string, host: string): string {
  return `${user}@${host.replace(/^\[(.*)\]$/, "$1")}`;
}

export function buildNixosAnywhereArgs(i: NixosAnywhereArgsInput): string[] {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(i.hostName))
    throw new InternalError(`not a nixosConfigurations name: ${JSON.stringify(i.hostName)}`);
  if (i.flakeDir.includes("#")) throw new InternalError(`a flake path cannot contain '#': ${i.flakeDir}`);
  const args: string[] = ["--flake", `${i.flakeDir}#${i.hostName}`];
  if (i.identityFile) args.push("-i", i.identityFile);
  const postKexec = i.postKexecPort ?? 22;
  // --post-kexec-ssh-port only takes effect by rewriting a -p entry, so they go together or not at all.
  if (i.port !== 22 || postKexec !== 22) args.push("-p", String(i.port), "--post-kexec-ssh-port", String(postKexec));
  args.push("--extra-files", i.extraFilesDir);
  if (i.kexecFile) args.push("--kexec", i.kexecFile);
  if (i.generateFacterReportTo) args.push("--generate-hardware-config", "nixos-facter", i.generateFacterReportTo);
  if (mustBuildOnTarget(i.operator, i.facts.arch)) args.push("--build-on", "remote");
  if (i.facts.memory.totalBytes < SMALL_RAM_BYTES) args.push("--no-disko-deps");
  if (i.phases) {
    if (i.phases.length === 0) throw new InternalError("no phases left to run");
    const ordered = INSTALL_PHASES.filter((p) => i.phases!.includes(p));
    if (ordered.length !== INSTALL_PHASES.length) args.push("--phases", ordered.join(","));
  }
  if (i.usePasswordFromEnv) args.push("--env-password");
  // exactly one host, last, so that no flag can take it as its value
  args.push(sshDestination(i.user, i.host));
  return args;
}
