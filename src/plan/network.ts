// The INSTALLED system's network, from what the target runs now. Installs by other tools end
// unreachable mostly here: the provider hands out a static /32 with an on-link gateway (Hetzner
// 172.31.1.1, OVH), or a static IPv6 /64 routed via fe80::1, and the new system only does DHCP.
// Rule: per interface (matched by MAC), keep DHCP where the target used DHCP, and write the exact
// static addresses and routes where it did not, gateways outside the prefix marked on-link.
// Boot waits only for the interface that carries the default route (requiredForOnline); when that
// is unknown every planned interface is marked and network.nix lets any one of them suffice.
import type { Address, Facts, NetInterface, Route } from "../facts/types";
import { inPrefix, isLinkLocal, isLoopback } from "../util/ip";
import type { NetInterfacePlan, NetworkPlan } from "./types";

/** Used only when the network is static and no usable resolver was captured (Quad9, Cloudflare). */
export const FALLBACK_DNS = ["9.9.9.9", "1.1.1.1", "2620:fe::fe", "2606:4700:4700::1111"];

/** The unit name used when no MAC is known: mac "" then means "every ethernet interface" (networkd Type=ether). */
export const ALL_ETHERNET = "ethernet";

const CONFIGURABLE_KINDS: ReadonlyArray<NetInterface["kind"]> = ["ethernet", "other"];

export function planNetwork(facts: Facts, notes: string[] = []): NetworkPlan {
  // The interface the default route leaves by is the way back in after the reboot: it is carried
  // over even when sysfs shows no device behind it (a veth, some paravirtual NICs).
  const gatewayDevs = [facts.network.defaultGateway4?.dev, facts.network.defaultGateway6?.dev];
  const plannable = (i: NetInterface) =>
    CONFIGURABLE_KINDS.includes(i.kind) || (i.kind === "virtual" && gatewayDevs.includes(i.name));
  const candidates = facts.network.interfaces.filter((i) => i.mac && plannable(i) && i.mac !== "00:00:00:00:00:00");
  const withGlobal = candidates.filter((i) => i.addresses.some(isGlobal));
  // Bonds, bridges and VLANs are not generated (yet): say so loudly rather than drop them quietly.
  for (const i of facts.network.interfaces.filter(
    (x) => !plannable(x) && x.kind !== "loopback" && x.addresses.some(isGlobal),
  )) {
    notes.push(
      `network: ${i.name} (${i.kind}) holds ${i.addresses
        .filter(isGlobal)
        .map((a) => `${a.address}/${a.prefix}`)
        .join(
          ", ",
        )}, but bonds, bridges and VLANs are not carried over; describe it in hosts/<host>/network.nix before installing, or the machine may not answer after the reboot`,
    );
  }
  let interfaces: NetInterfacePlan[];
  if (withGlobal.length > 0) {
    interfaces = withGlobal.map((i) => planInterface(i, facts));
  } else {
    // A facter report (or a probe on a box with no address yet) records no addresses: DHCP on every
    // wired interface is the only honest default, and the operator is told so.
    interfaces = candidates
      .filter((i) => i.kind === "ethernet")
      .map((i) => ({
        name: i.name,
        mac: i.mac!,
        dhcp4: true,
        ipv6AcceptRA: true,
        addresses: [],
        routes: [],
        requiredForOnline: true,
      }));
    if (interfaces.length === 0) {
      // No MACs either (nixos-facter reports record none): one unit for every wired interface,
      // matched by type, since kernel names may differ under the new system.
      interfaces = [
        {
          name: ALL_ETHERNET,
          mac: "",
          dhcp4: true,
          ipv6AcceptRA: true,
          addresses: [],
          routes: [],
          requiredForOnline: true,
        },
      ];
    }
    notes.push(
      `network: ${facts.network.interfaces.some((x) => x.addresses.some(isGlobal)) ? "no address on an interface that is carried over" : "no addresses were captured"}, so the new system uses DHCP on ${interfaces[0]!.mac ? interfaces.map((i) => i.name).join(", ") : "every wired interface"}; ${facts.source === "probe" ? "if this provider assigns static addresses, write them in hosts/<host>/host.json (network) before installing" : "if this provider assigns static addresses, plan from `nixnode-install detect` facts instead"}`,
    );
  }
  markDefaultRouteCarriers(interfaces, facts);
  const anyStatic = interfaces.some((i) => i.addresses.length > 0);
  let dns = facts.network.dns.filter((s) => !isLoopback(s) && !isLinkLocal(s));
  if (dns.length < facts.network.dns.length)
    notes.push(
      "network: the local resolver stub (127.0.0.53 or similar) is not carried over; its upstream servers are used when known",
    );
  if (dns.length === 0 && anyStatic) {
    dns = FALLBACK_DNS;
    notes.push(
      `network: static addresses but no usable DNS server was captured; using ${FALLBACK_DNS.join(", ")} (change in host.json network.dns)`,
    );
  }
  return { interfaces, dns };
}

/**
 * Only the interface(s) that carry the default route are required for online: the captured default
 * gateway's device, or a planned default route. When none can be told apart, all stay required
 * (network.nix then lets any one of them suffice).
 */
function markDefaultRouteCarriers(interfaces: NetInterfacePlan[], facts: Facts): void {
  const gwDevs = [facts.network.defaultGateway4?.dev, facts.network.defaultGateway6?.dev].filter(Boolean);
  const carries = (i: NetInterfacePlan) =>
    gwDevs.includes(i.name) || i.routes.some((r) => r.destination === "0.0.0.0/0" || r.destination === "::/0");
  if (!interfaces.some(carries)) return;
  for (const i of interfaces) i.requiredForOnline = carries(i);
}

function isGlobal(a: Address): boolean {
  return a.scope === "global" && !isLinkLocal(a.address);
}

function planInterface(iface: NetInterface, facts: Facts): NetInterfacePlan {
  const globals = iface.addresses.filter(isGlobal);
  const v4 = globals.filter((a) => a.family === 4);
  const v6 = globals.filter((a) => a.family === 6);
  // DHCP for IPv4 where any v4 address was dynamic; a static v4 next to it (rare) is kept too.
  const dhcp4 = v4.some((a) => a.dynamic) || (v4.length === 0 && facts.network.dhcp4);
  const staticV4 = v4.filter((a) => !a.dynamic);
  const staticV6 = v6.filter((a) => !a.dynamic);
  const addresses = [...staticV4, ...staticV6].map((a) => `${a.address}/${a.prefix}`);
  const routes: NetInterfacePlan["routes"] = [];
  const ownRoutes = facts.network.routes.filter((r) => r.dev === iface.name && r.gateway);
  for (const fam of [4, 6] as const) {
    const statics = fam === 4 ? staticV4 : staticV6;
    if (statics.length === 0) continue; // DHCP / router advertisements bring their own routes
    for (const r of ownRoutes.filter((x) => x.family === fam && isStaticRoute(x))) {
      routes.push({
        destination: r.destination === "default" ? (fam === 4 ? "0.0.0.0/0" : "::/0") : r.destination,
        gateway: r.gateway!,
        onLink: r.onLink || !statics.some((a) => inPrefix(r.gateway!, a.address, a.prefix)),
      });
    }
    const gw = fam === 4 ? facts.network.defaultGateway4 : facts.network.defaultGateway6;
    const hasDefault = routes.some((r) => r.destination === (fam === 4 ? "0.0.0.0/0" : "::/0"));
    if (gw && gw.dev === iface.name && !hasDefault) {
      routes.push({
        destination: fam === 4 ? "0.0.0.0/0" : "::/0",
        gateway: gw.address,
        onLink: gw.onLink || !statics.some((a) => inPrefix(gw.address, a.address, a.prefix)),
      });
    }
  }
  return {
    name: iface.name,
    mac: iface.mac!,
    dhcp4,
    ipv6AcceptRA: staticV6.length === 0,
    addresses,
    routes,
    requiredForOnline: true,
  };
}

/** Routes the installed system must recreate: not kernel prefix routes, not DHCP/RA-learned ones. */
function isStaticRoute(r: Route): boolean {
  return r.protocol !== "kernel" && r.protocol !== "dhcp" && r.protocol !== "ra" && r.gateway !== null;
}
