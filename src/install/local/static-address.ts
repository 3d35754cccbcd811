// A machine whose installer got no address (no DHCP on its network): the installed system would come
// up without one and nobody could reach it for the lockdown. The operator at the console gives the
// static address; it is added to the facts as if the installer held it, so the planner writes the same
// static network (addresses, on-link gateway, DNS) it writes for a provider's static machine.
import { UserError } from "../../errors";
import type { Facts } from "../../facts/types";
import { gatewayIsOnLink, isIpv4, parseIpOrCidr } from "../../util/ip";

/** True when no non-loopback interface holds a global address. */
export function hasNoAddress(facts: Facts): boolean {
  return !facts.network.interfaces.some((i) => i.kind !== "loopback" && i.addresses.some((a) => a.scope === "global"));
}

/** "192.0.2.7/24 via 192.0.2.1" -> the facts with that address on the first wired interface. */
export function withStaticAddress(facts: Facts, answer: string, field = "address"): Facts {
  const m = /^\s*(\S+)\s+via\s+(\S+)\s*$/.exec(answer);
  const cidr = m ? parseIpOrCidr(m[1]!) : null;
  const gateway = m?.[2] ?? "";
  if (!m || !cidr || cidr.family !== 4 || cidr.prefix === null || !isIpv4(gateway))
    throw new UserError(`${field}: "${answer.trim().slice(0, 80)}" is not ADDRESS/PREFIX via GATEWAY`, {
      field,
      hint: "e.g. 192.0.2.7/24 via 192.0.2.1 (IPv4), or press Enter for DHCP",
    });
  const nic =
    facts.network.interfaces.find((i) => i.kind === "ethernet") ??
    facts.network.interfaces.find((i) => i.kind !== "loopback");
  if (!nic)
    throw new UserError(`${field}: this machine has no network interface to put ${cidr.address} on`, {
      field,
      hint: "check the network card (ip link); press Enter for DHCP",
    });
  const addr = { address: cidr.address, prefix: cidr.prefix };
  const onLink = gatewayIsOnLink(gateway, [addr]);
  return {
    ...facts,
    network: {
      ...facts.network,
      interfaces: facts.network.interfaces.map((i) =>
        i === nic ? { ...i, addresses: [...i.addresses, { family: 4, ...addr, scope: "global", dynamic: false }] } : i,
      ),
      routes: [
        ...facts.network.routes,
        { family: 4, destination: "default", gateway, dev: nic.name, onLink, protocol: "static", metric: null },
      ],
      defaultGateway4: { address: gateway, dev: nic.name, onLink },
      dhcp4: false,
    },
  };
}
