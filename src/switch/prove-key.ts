// Proves that one particular key logs in: a NEW connection that offers only that key (no agent,
// no password) and accepts only the pinned host key. Used before a switch removes the key the
// operator is using.
import type { ConnectOptions } from "../remote/ssh-target";
import { keyOnlyConnector } from "../lockdown/ssh-connector";

export async function proveKeyLogin(
  base: ConnectOptions,
  pinnedHostKey: string,
  privatePath: string,
  port: number,
  log: (line: string) => void,
): Promise<boolean> {
  const c = keyOnlyConnector({
    base: { ...base, identityFiles: [privatePath], agentSocket: undefined },
    pinnedHostKey,
  });
  try {
    const s = await c.openKeySession(port);
    const r = await s.run("echo proven", { timeoutMs: 10_000 });
    await s.close().catch(() => undefined);
    return r.stdout.includes("proven");
  } catch (e) {
    log(`switch: a login with ${privatePath} on ${port} failed: ${(e as Error).message}`);
    return false;
  }
}
