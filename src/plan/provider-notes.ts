// What the provider table (facts/providers.ts) means for this plan: the provider's own firewall,
// which lockdown's new port must get through, and IPv6 that the provider routes but the capture
// did not show. Notes only: nothing here changes the plan.
import { providerById } from "../facts/providers";
import type { InstallPlan } from "./types";

export function providerNotes(plan: Pick<InstallPlan, "facts" | "network" | "config">): string[] {
  const p = providerById(plan.facts.provider.hint);
  if (!p) return [];
  const notes: string[] = [];
  if (p.quirks.firewallPanel)
    notes.push(
      `provider ${p.name}: if its firewall is on (${p.quirks.firewallPanel}), let TCP port ${plan.config.ssh.port} in before lockdown, or lockdown's check of the new port fails and it stays on port 22`,
    );
  const hasIpv6 = plan.network.interfaces.some((i) => i.addresses.some((a) => a.includes(":")));
  if (p.quirks.ipv6 && !hasIpv6)
    notes.push(
      `provider ${p.name}: IPv6 comes as ${p.quirks.ipv6}; none was captured, so the new system has no static IPv6 (add the address and route in hosts/${plan.config.hostname}/host.json "network" to use it)`,
    );
  return notes;
}
