// Step: look at the host key (a handshake, no login), connect, and run the detect probe once.
// A target that already runs the installed system presents the pinned key, which known_hosts does
// not have yet: the handshake comes first so that the connection can accept exactly that key.
import type { InstallContext } from "../types";

export function destinationLabel(d: InstallContext["destination"]): string {
  return `${d.user}@${d.host.includes(":") ? `[${d.host}]` : d.host}:${d.port}`;
}

export async function connectTarget(
  ctx: Pick<InstallContext, "probeHostKey" | "destination" | "knownPinnedHostKey" | "connect" | "detect">,
): Promise<Pick<InstallContext, "session" | "destination" | "label" | "presented" | "presentedKey" | "facts">> {
  const now = await ctx.probeHostKey(ctx.destination.host, ctx.destination.port, 10_000);
  const pinnedGuess = now.kind === "key" && now.fingerprint === ctx.knownPinnedHostKey ? now.fingerprint : undefined;
  const session = await ctx.connect({ purpose: "primary", pinnedHostKey: pinnedGuess });
  try {
    // ssh config aliases resolve inside connect: waits and probes use where the connection went
    const destination = {
      ...ctx.destination,
      host: session.host ?? ctx.destination.host,
      port: session.port ?? ctx.destination.port,
    };
    const presented = session.hostKeyFingerprint ?? (now.kind === "key" ? now.fingerprint : null);
    const presentedKey = now.kind === "key" && now.fingerprint === presented && now.publicKey ? now.publicKey : null;
    const facts = await ctx.detect(session);
    return { session, destination, label: destinationLabel(destination), presented, presentedKey, facts };
  } catch (e) {
    await session.close().catch(() => undefined);
    throw e;
  }
}
