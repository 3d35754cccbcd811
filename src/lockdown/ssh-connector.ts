// The lockdown's view of SSH, built on src/remote: NEW key-only connections that accept only the
// pinned host key, auth-method queries, and a plain TCP probe (to tell "refused" from "never
// answered", which point at different fixes). `route` lets a caller reach a port through
// something in between (the benchmark's latency proxy); by default it is the port itself.
// `forHost` is the same connector for another address of the node (a changed static address).
import net from "node:net";
import { connectSsh, listAuthMethods, type ConnectOptions } from "../remote/ssh-target";
import type { LockdownConnector, PortProbe, RemoteSession } from "./types";

export interface KeyConnectorOptions {
  base: ConnectOptions;
  pinnedHostKey: string;
  /** Per new connection: TCP + handshake (default 8 s) */
  connectTimeoutMs?: number;
  /** `host`: the address asked for (base.host, or another one through forHost). */
  route?(port: number, host: string): { host: string; port: number };
}

export function keyOnlyConnector(o: KeyConnectorOptions): LockdownConnector {
  const route = (port: number) => (o.route ? o.route(port, o.base.host) : { host: o.base.host, port });
  const opts = (port: number): ConnectOptions => {
    const r = route(port);
    // keys only: no password, no prompt for one; the host key must be the pinned one
    return {
      ...o.base,
      host: r.host,
      port: r.port,
      password: undefined,
      askPassword: undefined,
      pinnedHostKey: o.pinnedHostKey,
      acceptNewHostKey: false,
      confirmHostKey: undefined,
      connectTimeoutMs: o.connectTimeoutMs ?? 8000,
      authTimeoutMs: 15_000,
      // lifelines must outlive short outages; a dead link is still noticed within ~30 s
      keepaliveIntervalMs: 3000,
      keepaliveCountMax: 10,
    };
  };
  return {
    host: o.base.host,
    user: o.base.user ?? "root",
    openKeySession: async (port: number): Promise<RemoteSession> => connectSsh(opts(port)),
    authMethods: (port: number) => listAuthMethods(opts(port)),
    probe: (port: number, timeoutMs: number) => probeTcp(route(port), timeoutMs, o.base.localAddress),
    forHost: (host: string) => keyOnlyConnector({ ...o, base: { ...o.base, host } }),
  };
}

export function probeTcp(
  to: { host: string; port: number },
  timeoutMs: number,
  localAddress?: string,
): Promise<PortProbe> {
  return new Promise((resolve) => {
    const s = net.connect({ host: to.host, port: to.port, localAddress });
    const done = (r: PortProbe) => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    s.once("connect", () => done("open"));
    s.once("error", (e: NodeJS.ErrnoException) =>
      done(e.code === "ECONNREFUSED" ? "refused" : e.code === "ETIMEDOUT" ? "timeout" : "unreachable"),
    );
  });
}
