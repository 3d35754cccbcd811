// ONE authenticated ssh2 connection per SshTarget; every run/upload is a channel on it. The host
// key is checked before anything else is sent; a key that differs from the known one always aborts.
import net from "node:net";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import { CancelledError, OperationError } from "../errors";
import type { Log } from "../ui/log";
import { formatDestination } from "./destination";
import { fingerprintSha256, keyTypeOf, knownKeyTypes, readKnownHosts, type HostKey } from "./known-hosts";
import { decideHostKey, hostKeyAlgorithms, type HostKeyQuestion } from "./host-key-decision";

export type { HostKeyQuestion } from "./host-key-decision";
import { describeAuthFailure, describeConnectError, type AuthTrace } from "./ssh-errors";
import { makeAuthHandler } from "./auth-handler";
import type { RunOptions, RunResult, Target } from "./types";
import { runOnChannel, uploadCommand, wrapForSudo } from "./ssh-exec";

export interface ConnectOptions {
  host: string;
  /** default 22 */
  port?: number;
  /** default root */
  user?: string;
  /** SSH_AUTH_SOCK; the agent's keys are tried first */
  agentSocket?: string;
  /** private key files, tried in order after the agent */
  identityFiles?: string[];
  /** asked for an encrypted key file's passphrase; undefined = skip that key */
  askPassphrase?(file: string): Promise<string | undefined>;
  /** a password already obtained (--password-file, NIXNODE_SSH_PASSWORD) */
  password?: string;
  /** asked only when the server still wants a password after the keys; undefined = give up */
  askPassword?(): Promise<string | undefined>;
  /** known_hosts files to check; the first is where an accepted key is added */
  knownHostsFiles?: string[];
  /** `SHA256:...`: only this host key is accepted (known_hosts is then not consulted) */
  pinnedHostKey?: string;
  /** accept and remember a key for a host that has none on record (never a changed one) */
  acceptNewHostKey?: boolean;
  /** interactive: show the fingerprint and ask; without it an unknown key is refused */
  confirmHostKey?(q: HostKeyQuestion): Promise<boolean>;
  /** TCP connect + SSH handshake (default 15 s) */
  connectTimeoutMs?: number;
  /** authentication, not counting time spent in prompts (default 30 s) */
  authTimeoutMs?: number;
  /** default 5 s x 6: a dead link is noticed within 30 s, a 10 s outage is survived */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** bind the client to this local address (tests; multi-homed operators) */
  localAddress?: string;
  /** Ctrl-C: stop connecting (CancelledError); nothing was changed on the server */
  signal?: AbortSignal;
  log?: Log;
}

export interface SshTarget extends Target {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly hostKeyFingerprint: string;
  readonly hostKey: HostKey;
  /** the IP address the connection went to */
  readonly remoteAddress: string;
  /** the method that authenticated: agent, publickey, password */
  readonly authMethod: string;
  /** false once the connection is gone (reboot, network loss, close()) */
  readonly connected: boolean;
  /** commands are wrapped in `sudo -n sh -c` (login user is not root) */
  readonly viaSudo: boolean;
}

interface Session {
  client: Client;
  hostKey: HostKey;
  remoteAddress: string;
  trace: AuthTrace;
}

const DEFAULT_CONNECT_TIMEOUT = 15_000;
const DEFAULT_AUTH_TIMEOUT = 30_000;

/**
 * Opens the TCP connection and the SSH transport, checks the host key, then runs `auth`
 * (the ssh2 authHandler) until ready. Errors come out as OperationError/CancelledError.
 */
function openSession(
  opts: ConnectOptions,
  auth: (trace: AuthTrace, pause: <T>(p: Promise<T>) => Promise<T>) => ConnectConfig["authHandler"],
): Promise<Session> {
  const port = opts.port ?? 22;
  const user = opts.user ?? "root";
  const where = formatDestination({ user, host: opts.host, port });
  const log = opts.log;
  const trace: AuthTrace = {
    user,
    where,
    tried: [],
    offered: null,
    keyAcceptedThenRefused: false,
    passwordTried: false,
    hadCredentials: false,
  };
  return new Promise<Session>((resolve, reject) => {
    let settled = false;
    let failure: Error | undefined;
    let hostKey: HostKey | undefined;
    let timer: NodeJS.Timeout | undefined;
    const client = new Client();
    const sock = net.connect({ host: opts.host, port, localAddress: opts.localAddress });
    const onAbort = () =>
      finish(new CancelledError(`${where}: cancelled while connecting. Nothing was changed on the server.`));
    const finish = (err: Error | undefined, s?: Session) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (err) {
        client.destroy();
        sock.destroy();
        reject(err);
      } else resolve(s!);
    };
    const arm = (ms: number, what: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(new OperationError(`${where}: ${what}`, { hint: timeoutHint(what) })), ms);
    };
    const pause = async <T>(p: Promise<T>): Promise<T> => {
      clearTimeout(timer);
      try {
        return await p;
      } finally {
        if (!settled) arm(opts.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT, "no answer during authentication");
      }
    };
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const connectMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT;
    arm(connectMs, `no answer within ${Math.round(connectMs / 1000)} s (connecting)`);
    sock.once("error", (e) =>
      finish(failure ?? describeConnectError(e as NodeJS.ErrnoException, opts.host, port, where)),
    );

    client.on("error", (e: Error & { level?: string }) => {
      log?.write(`ssh ${where}: ${e.level ?? "error"}: ${e.message}`);
      if (failure) return finish(failure);
      if (e.level === "client-authentication") return finish(describeAuthFailure(trace));
      if (e.level === "client-socket")
        return finish(describeConnectError(e as NodeJS.ErrnoException, opts.host, port, where));
      finish(new OperationError(`${where}: the SSH connection failed: ${e.message}`, { cause: e }));
    });
    client.on("close", () =>
      finish(
        failure ??
          new OperationError(`${where}: the server closed the connection before login completed`, {
            hint: "the server may limit connections (MaxStartups, fail2ban) or be restarting; try again in a minute",
          }),
      ),
    );
    client.on("ready", () => {
      clearTimeout(timer);
      finish(undefined, { client, hostKey: hostKey!, remoteAddress: sock.remoteAddress ?? opts.host, trace });
    });

    const knownFiles = opts.knownHostsFiles ?? [];
    const entries = opts.pinnedHostKey ? [] : readKnownHosts(knownFiles);
    const preferred = knownKeyTypes(entries, opts.host, port);
    const hostVerifier = (blob: Buffer, verify: (ok: boolean) => void) => {
      // a re-key later in the session presents the key again: the accepted one passes silently
      if (hostKey) {
        const same = hostKey.blob.equals(blob);
        if (!same)
          log?.write(
            `ssh ${where}: the host key changed during the session (${fingerprintSha256(blob)}); disconnecting`,
          );
        return verify(same);
      }
      const key = { type: keyTypeOf(blob), blob };
      hostKey = key;
      decideHostKey(opts, key, entries, port, where, pause)
        .then(() => {
          arm(opts.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT, "no answer during authentication");
          verify(true);
        })
        .catch((e: Error) => {
          failure = e;
          verify(false);
          finish(e);
        });
    };

    sock.once("connect", () => {
      client.connect({
        sock,
        username: user,
        readyTimeout: 0, // our own timers: prompts must not count against the server's silence
        keepaliveInterval: opts.keepaliveIntervalMs ?? 5000,
        keepaliveCountMax: opts.keepaliveCountMax ?? 6,
        hostVerifier: hostVerifier as unknown as ConnectConfig["hostVerifier"],
        algorithms: preferred.length ? { serverHostKey: hostKeyAlgorithms(preferred) } : undefined,
        authHandler: auth(trace, pause),
        debug: (msg: string) => {
          if (msg.includes("USERAUTH_PK_OK")) trace.keyAcceptedThenRefused = true;
          if (msg.includes("USERAUTH_SUCCESS")) trace.keyAcceptedThenRefused = false;
          if (/auth|Agent|handshake|DISCONNECT/i.test(msg)) log?.write(`ssh ${where}: ${msg}`);
        },
      });
    });
  });
}

function timeoutHint(what: string): string {
  return what.includes("connecting")
    ? "check the address and that the machine is up; a firewall that silently drops packets looks like this (--connect-timeout sets the wait)"
    : "the server stopped answering while logging in; try again";
}

export async function connectSsh(opts: ConnectOptions): Promise<SshTarget> {
  const user = opts.user ?? "root";
  if (opts.password) opts.log?.addSecret(opts.password);
  let authMethod = "";
  const session = await openSession(opts, (trace, pause) =>
    makeAuthHandler(opts, user, trace, pause, (m) => (authMethod = m)),
  );
  return makeSshTarget(session, opts, user, authMethod);
}

async function makeSshTarget(
  session: Session,
  opts: ConnectOptions,
  user: string,
  authMethod: string,
): Promise<SshTarget> {
  const { client } = session;
  const port = opts.port ?? 22;
  const description = formatDestination({ user, host: opts.host, port });
  let connected = true;
  const channels = new Set<ClientChannel>();
  client.on("close", () => {
    connected = false;
    for (const ch of channels) ch.destroy();
  });
  client.on("error", (e: Error) => opts.log?.write(`ssh ${description}: ${e.message}`));
  const raw = (command: string, o: RunOptions = {}): Promise<RunResult> => {
    if (!connected)
      return Promise.reject(
        new OperationError(`${description}: the connection is closed`, { hint: "reconnect and run the step again" }),
      );
    return runOnChannel(client, command, o, description, channels);
  };
  let viaSudo = false;
  if (user !== "root") {
    const probe = await raw("sudo -n true", { timeoutMs: 15_000 });
    if (probe.code === 127 || /sudo: (command )?not found/.test(probe.stderr)) {
      client.end();
      throw new OperationError(`${description}: ${user} is not root and sudo is not installed`, {
        hint: `log in as root (root@${opts.host}), or install sudo and allow ${user} passwordless sudo (NOPASSWD)`,
      });
    }
    if (probe.code !== 0) {
      client.end();
      throw new OperationError(`${description}: ${user} is not root and cannot use sudo without a password`, {
        hint: `log in as root (root@${opts.host}), or allow passwordless sudo for ${user} (a line "${user} ALL=(ALL) NOPASSWD: ALL" in /etc/sudoers.d/)`,
        details: probe.stderr.trim() ? [probe.stderr.trim()] : [],
      });
    }
    viaSudo = true;
  }
  const run = (command: string, o?: RunOptions) => raw(viaSudo ? wrapForSudo(command) : command, o);
  const fingerprint = fingerprintSha256(session.hostKey.blob);
  return {
    description,
    host: opts.host,
    port,
    user,
    hostKey: session.hostKey,
    hostKeyFingerprint: fingerprint,
    remoteAddress: session.remoteAddress,
    authMethod,
    viaSudo,
    get connected() {
      return connected;
    },
    run,
    async upload(path, data, mode) {
      const r = await run(uploadCommand(path, mode), { stdin: data, timeoutMs: 300_000 });
      if (r.code !== 0)
        throw new OperationError(`${description}: could not write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
    },
    close() {
      if (!connected) return Promise.resolve();
      return new Promise<void>((resolve) => {
        client.once("close", () => resolve());
        client.end();
        setTimeout(() => {
          client.destroy();
          resolve();
        }, 3000).unref();
      });
    },
  };
}

/**
 * Which authentication methods does the server offer this user? Sends only a 'none' request, so
 * no failed attempt is spent (sshd logs none, fail2ban's sshd filter in normal mode counts none).
 * The host key is checked exactly as connectSsh does.
 */
export async function listAuthMethods(opts: ConnectOptions): Promise<string[]> {
  const user = opts.user ?? "root";
  let methods: string[] | undefined;
  const handler = (methodsLeft: string[] | null, _p: unknown, next: (a: unknown) => void) => {
    if (methodsLeft === null) return next({ type: "none", username: user });
    methods = methodsLeft;
    next(false);
  };
  try {
    const s = await openSession(opts, () => handler as unknown as ConnectConfig["authHandler"]);
    s.client.end(); // 'none' succeeded: the server asks for no authentication at all
    return ["none"];
  } catch (e) {
    if (methods) return methods;
    throw e;
  }
}
