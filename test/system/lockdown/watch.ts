// Follows the target-side supervisor through the target's own namespaces (never the network), so
// a test can strike at a precise moment: e.g. right after the switch, inside the window.
import type { TestTarget } from "../../targets";

export async function waitForSupervisor(
  t: TestTarget,
  stage: "dual-port" | "final",
  event: string,
  maxMs = 120_000,
): Promise<string> {
  const until = Date.now() + maxMs;
  for (;;) {
    const r = await t.exec(`cat /run/nixnode-lockdown/${stage}/state 2>/dev/null || true`);
    if (new RegExp(`^\\d+ ${event}\\b`, "m").test(r.stdout)) return r.stdout;
    if (Date.now() > until) throw new Error(`supervisor ${stage} never reached "${event}"; state so far:\n${r.stdout}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
