// What the lockdown is handed (ARCHITECTURE.md: phases reach SSH, files and the clock only through
// their deps). The CLI builds these from src/remote; the install phase passes its own session;
// tests and the benchmark can route ports through a latency proxy.
import type { Log } from "../ui/log";
import type { PreparedLockdown } from "./prepare";
import type { Output } from "../ui/output";

/** One authenticated SSH connection (structurally the same as src/remote's Target). */
export interface RemoteSession {
  run(
    command: string,
    opts?: { stdin?: string | Buffer; timeoutMs?: number },
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  upload(path: string, data: string | Buffer, mode: number): Promise<void>;
  close(): Promise<void>;
}

export type PortProbe = "open" | "refused" | "timeout" | "unreachable";

export interface LockdownConnector {
  /** The host as the operator wrote it (known_hosts, messages, the ~/.ssh/config block). */
  host: string;
  user: string;
  /** A NEW session on `port` that authenticates with keys only and accepts only the pinned host key. */
  openKeySession(port: number): Promise<RemoteSession>;
  /** Methods the server offers on `port` (an auth 'none' query: no failed attempt is spent). */
  authMethods(port: number): Promise<string[]>;
  /** Does a TCP connection to `port` complete from here? */
  probe(port: number, timeoutMs: number): Promise<PortProbe>;
  /** The same keys and pinned host key for another address of the node (a changed static address). */
  forHost?(host: string): LockdownConnector;
}

export interface LockdownDeps {
  /** The session the command (or the install) already has, on `currentPort`. */
  primary: RemoteSession;
  currentPort: number;
  connector: LockdownConnector;
  flakeDir: string;
  /** hosts/<hostname>; default: the only folder under hosts/. */
  hostname?: string;
  /** The new SSH port; default host.json lockdown.port. */
  port?: number;
  /** Seconds the target waits for the acknowledgement, counted from the end of the switch. */
  confirmTimeoutSec?: number;
  /** Addresses fail2ban must never ban, on top of the operator's own. */
  extraIgnoreIP?: string[];
  /** The pinned host key (SHA256:...); default host.json ssh.hostKeyFingerprint. */
  hostKeyFingerprint?: string;
  /** known_hosts file that gets the [host]:P entry; null = none. */
  knownHostsFile: string | null;
  sshConfigBlock?: boolean;
  out: Output;
  log: Log;
  signal?: AbortSignal;
  /** What prepareLockdown returned for these inputs, when the caller already checked them (once). */
  prepared?: PreparedLockdown;
  /** Last resort reboot after this many seconds; default confirm timeout + 600. */
  rebootAfterSec?: number;
}

export interface StageTiming {
  stage: string;
  /** launch of the supervisor -> the switch ended */
  activationMs: number;
  /** switch ended -> a new key-only login on P proved the config */
  confirmationMs: number;
  /** ack written -> supervisor acknowledged, reboot timer cancelled, boot default set */
  acknowledgementMs: number;
}

export interface LockdownResult {
  host: string;
  port: number;
  generations: { before: number | null; dualPort: number | null; final: number | null };
  timings: StageTiming[];
  totalMs: number;
  warnings: string[];
}
