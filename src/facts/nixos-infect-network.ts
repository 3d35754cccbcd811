// Reads the networking.nix that nixos-infect writes from a live server's `ip` output (static
// addresses, on-link gateways, nameservers, a MAC-pinned interface name) into the Facts network
// shape. Used to build the bundled Hetzner Cloud example from a real capture; it understands the
// generator's output and its nixfmt-formatted variants, not arbitrary Nix.
import { badField } from "../errors";
import { gatewayIsOnLink, isIpv4, isIpv6, isLinkLocal6 } from "../util/ip";
import type { Address, NetInterface, Network, Route } from "./types";

const ENTRY = /address\s*=\s*"([^"]+)"\s*;\s*prefixLength\s*=\s*(\d+)\s*;/g;

function entries(block: string | undefined): Array<{ address: string; prefix: number }> {
  return [...(block ?? "").matchAll(ENTRY)].map((m) => ({ address: m[1]!, prefix: Number(m[2]) }));
}

function listIn(segment: string, key: string): string | undefined {
  return segment.match(new RegExp(`${key.replace(".", "\\.")}\\s*=\\s*\\[([\\s\\S]*?)\\];`))?.[1];
}

function gatewayOf(
  text: string,
  key: "defaultGateway" | "defaultGateway6",
): { address: string; dev: string | null } | null {
  const plain = text.match(new RegExp(`\\b${key}\\s*=\\s*"([^"]+)"\\s*;`));
  if (plain) return { address: plain[1]!, dev: null };
  const set = text.match(new RegExp(`\\b${key}\\s*=\\s*\\{([\\s\\S]*?)\\}\\s*;`));
  if (!set) return null;
  const address = set[1]!.match(/address\s*=\s*"([^"]+)"/)?.[1];
  return address ? { address, dev: set[1]!.match(/interface\s*=\s*"([^"]+)"/)?.[1] ?? null } : null;
}

export function parseNixosInfectNetwork(text: string, field = "networking.nix"): Network {
  const macs = new Map(
    [...text.matchAll(/ATTR\{address\}=="([0-9a-fA-F:]{17})",\s*NAME="([^"]+)"/g)].map((m) => [
      m[2]!,
      m[1]!.toLowerCase(),
    ]),
  );
  const headers = [...text.matchAll(/(?:interfaces\.)?([A-Za-z][\w-]*)\s*=\s*\{(?=\s*ipv[46]\.)/g)];
  if (headers.length === 0)
    throw badField(
      field,
      "no interface with ipv4/ipv6 addresses found",
      "give a networking.nix written by nixos-infect",
    );
  const interfaces: NetInterface[] = [];
  const routes: Route[] = [];
  headers.forEach((h, i) => {
    const name = h[1]!;
    const segment = text.slice(h.index!, headers[i + 1]?.index ?? text.length);
    const addresses: Address[] = [
      ...entries(listIn(segment, "ipv4.addresses")).map((a) => ({
        family: 4 as const,
        address: a.address,
        prefix: a.prefix,
        scope: "global" as const,
        dynamic: false,
      })),
      ...entries(listIn(segment, "ipv6.addresses")).map((a) => ({
        family: 6 as const,
        address: a.address,
        prefix: a.prefix,
        scope: isLinkLocal6(a.address) ? ("link" as const) : ("global" as const),
        dynamic: false,
      })),
    ];
    for (const [family, key] of [
      [4, "ipv4.routes"],
      [6, "ipv6.routes"],
    ] as const) {
      for (const r of entries(listIn(segment, key))) {
        routes.push({
          family,
          destination: `${r.address}/${r.prefix}`,
          gateway: null,
          dev: name,
          onLink: false,
          protocol: "static",
          metric: null,
        });
      }
    }
    interfaces.push({
      name,
      mac: macs.get(name) ?? null,
      driver: null,
      state: "up",
      mtu: null,
      kind: "ethernet",
      addresses,
    });
  });
  const gw = (key: "defaultGateway" | "defaultGateway6", family: 4 | 6) => {
    const g = gatewayOf(text, key);
    if (!g) return null;
    if (family === 4 ? !isIpv4(g.address) : !isIpv6(g.address))
      throw badField(`${field}: ${key}`, `"${g.address}" is not an IPv${family} address`);
    const dev = g.dev ?? interfaces[0]!.name;
    const onLink = gatewayIsOnLink(g.address, interfaces.find((x) => x.name === dev)?.addresses ?? []);
    routes.push({ family, destination: "default", gateway: g.address, dev, onLink, protocol: "static", metric: null });
    return { address: g.address, dev, onLink };
  };
  const defaultGateway4 = gw("defaultGateway", 4);
  const defaultGateway6 = gw("defaultGateway6", 6);
  const dns = [...(listIn(text, "nameservers") ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  return { interfaces, routes, defaultGateway4, defaultGateway6, dns, dhcp4: false };
}
