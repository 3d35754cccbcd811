// What the install phase is handed. It reaches SSH, processes, prompts and the clock only through
// these, so the same code runs in the CLI and against throwaway targets in tests.
import type { AgeIdentity } from "../secrets/age";
import type { StagedHostKey } from "./flake-host";
import type { InstallState } from "./install-state";
import type { PhaseProgress } from "./phase-progress";
import type { Facts } from "../facts/types";
import type { HostData, InstallPlan } from "../plan/types";
import type { Log } from "../ui/log";
import type { Output } from "../ui/output";
import type { InstallPhase } from "./phases";
import type { ProbeHostKey } from "./wait-for-pinned-host-key";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One authenticated SSH connection (src/remote's SshTarget satisfies it). */
export interface InstallSession {
  run(
    command: string,
    opts?: { stdin?: string | Buffer; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<RunResult>;
  upload(path: string, data: string | Buffer, mode: number): Promise<void>;
  close(): Promise<void>;
  /** Set by SSH sessions (src/remote SshTarget): the key presented, and where the connection went. */
  readonly hostKeyFingerprint?: string;
  readonly host?: string;
  readonly port?: number;
}

export interface Destination {
  user: string;
  host: string;
  port: number;
}

/** The flake the install uses: generated now, or the operator's existing one (--flake). */
export interface FlakeInfo {
  dir: string;
  hostName: string;
  host: HostData;
  plan: InstallPlan | null;
}

export interface InstallDeps {
  out: Output;
  log: Log;
  signal: AbortSignal;
  /** The environment child processes (nixos-anywhere) get. */
  env: NodeJS.ProcessEnv;
  destination: Destination;
  /** The pinned fingerprint of an earlier run's flake, if one can be found before connecting. */
  knownPinnedHostKey: string | null;
  /** Opens one authenticated session; with pinnedHostKey only that key is accepted. */
  connect(o: {
    pinnedHostKey?: string;
    purpose: "primary" | "fallback" | "installer" | "verify";
  }): Promise<InstallSession>;
  /** One SSH handshake without logging in: the host key host:port presents now. */
  probeHostKey: ProbeHostKey;
  /** One probe round trip on the session (src/detect). */
  detect(session: InstallSession): Promise<Facts>;
  /** Loads or generates (wizard / --config) the flake for these facts. Asks every question here. */
  obtainFlake(facts: Facts): Promise<FlakeInfo>;
  /** Shows what will be erased and asks for the hostname; throws CancelledError when declined. */
  confirmErase(lines: string[], hostname: string): Promise<void>;
  engine: "auto" | "nixos-anywhere" | "builtin";
  /** Finds an executable on the operator's PATH. */
  which(name: string): string | null;
  /** --phases given by the operator (otherwise resume from state). */
  phases: InstallPhase[] | null;
  /** --reboot-timeout; null: the flake's install.rebootTimeoutSec, else 10 minutes. */
  rebootTimeoutMs: number | null;
  /** --copy-flake-to-etc; the flake's install.copyFlakeToEtc answer counts too. */
  copyFlakeToEtc: boolean;
  /** The operator's key file (-i), passed to nixos-anywhere; null when the agent or a password is used. */
  identityFile: string | null;
  /** The operator's private keys as age identities, to reuse a host key stored in the flake. Loaded only when needed. */
  operatorIdentities(): Promise<AgeIdentity[]>;
  /** Public keys the operator can log in with (agent, -i .pub): one must be authorised (#294). */
  operatorPublicKeys: string[];
  /** --kexec-sha256 (checked): the kexec image's digest; absent: the one GitHub publishes for the asset. */
  kexecSha256?: string | null;
  /** Password for nixos-anywhere's ssh-copy-id (goes to $SSHPASS, never argv). */
  password: string | null;
  /** Writes the known_hosts entry for the pinned key. */
  trustHostKey(publicKey: string): Promise<string>;
  /** The lockdown phase (src/lockdown), or null with --no-lockdown. */
  lockdown: ((flake: FlakeInfo) => Promise<void>) | null;
}

export interface InstallOutcome {
  hostName: string;
  flakeDir: string;
  fingerprint: string;
  knownHostsFile: string | null;
  warnings: string[];
  resumedFrom: string | null;
}

/** state.json's install entry as the run keeps it (updatedAt is stamped when written). */
export type InstallStateDraft = Omit<InstallState, "updatedAt">;

/**
 * What the install's steps (src/install/steps, run in order by run-install.ts) read and produce: the
 * deps handed in, then each step's results. A step takes a Pick of the fields it uses and returns the
 * fields it sets; the list's order guarantees that what a step reads was set before it.
 */
export interface InstallContext extends InstallDeps {
  /** The primary session; null once closed or handed to an engine. */
  session: InstallSession | null;
  /** user@host:port, as the run reports it. */
  label: string;
  /** The verified fingerprint the target presented when the run began. */
  presented: string | null;
  /** Its key line ("ssh-ed25519 AAAA...") as seen in the handshake, when it matches `presented`. */
  presentedKey: string | null;
  facts: Facts;
  flake: FlakeInfo;
  state: InstallStateDraft;
  /** "after kexec, disko" etc. when the run continues an earlier one. */
  resumedFrom: string | null;
  /** The phases this run executes: --phases, or what state.json says is left. */
  runPhases: InstallPhase[];
  /** The target already runs the planned system with the pinned key: only verify and hand over. */
  alreadyInstalled: boolean;
  engineName: "nixos-anywhere" | "builtin";
  /** The new host key staged for the engine (removed when the engine step ends). */
  staged: StagedHostKey | null;
  progress: PhaseProgress;
  warnings: string[];
  outcome: InstallOutcome;
}
