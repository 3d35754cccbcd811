// A changed static address is switched in two stages, as the lockdown does with ports: stage 1
// keeps the old addresses AND adds the new ones (with the new routes) and is confirmed over a new
// connection to a NEW address; stage 2 drops the old addresses and is confirmed there again. Pure:
// the stages' host data and where each one is confirmed.
import type { HostData } from "../plan/types";
import { isIpv4, isIpv6 } from "../util/ip";

export interface AddressPlan {
  /** Stage 1: old and new addresses on each interface, the new routes. */
  both: HostData;
  /** The new address the confirmations go to. */
  confirmAddress: string;
}

const bare = (cidr: string) => cidr.replace(/\/\d+$/, "");
const uniq = <T>(xs: T[]) => [...new Set(xs)];

/**
 * Null when one stage is enough: the addresses do not change, or the address the operator connects
 * to stays. Otherwise the two-stage plan, confirmed on a new address of the same family as the one
 * in use (an IPv4 operator may not reach a new IPv6 address).
 */
export function planAddressChange(old: HostData, next: HostData, connectedTo: string): AddressPlan | null {
  const oldAddrs = old.network.interfaces.flatMap((i) => i.addresses);
  const newAddrs = next.network.interfaces.flatMap((i) => i.addresses);
  const added = newAddrs.filter((a) => !oldAddrs.includes(a)).map(bare);
  if (added.length === 0 || newAddrs.map(bare).includes(connectedTo)) return null;
  // a host name (not an address) says nothing about the family: any new address will do
  const sameFamily = isIpv6(connectedTo) ? added.filter(isIpv6) : isIpv4(connectedTo) ? added.filter(isIpv4) : added;
  const confirmAddress = sameFamily[0] ?? added[0]!;
  const interfaces = next.network.interfaces.map((i) => {
    const before = old.network.interfaces.find((o) => o.name === i.name);
    // a DHCP lease the old configuration used is kept too until stage 2
    return {
      ...i,
      dhcp4: i.dhcp4 || (before?.dhcp4 ?? false),
      addresses: uniq([...(before?.addresses ?? []), ...i.addresses]),
    };
  });
  // an interface the new configuration no longer lists keeps its old addresses until stage 2
  for (const o of old.network.interfaces)
    if (!interfaces.some((i) => i.name === o.name)) interfaces.push({ ...o, routes: [] });
  return { both: { ...next, network: { ...next.network, interfaces } }, confirmAddress };
}
