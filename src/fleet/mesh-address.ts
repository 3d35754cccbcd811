// The mesh's addresses: one IPv4 /24 (or larger), host i gets the network's (i+1)th address. An
// index, once given, is recorded in fleet/fleet.json and kept, so adding or reordering hosts never
// renumbers a host that already has one.
import { badField } from "../errors";
import { describe } from "../util/fields";
import { isIpv4 } from "../util/ip";

export interface MeshSubnet {
  cidr: string;
  /** The network address as a number. */
  base: number;
  prefix: number;
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

export function parseMeshSubnet(v: unknown, field: string): MeshSubnet {
  const m = typeof v === "string" ? /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(v.trim()) : null;
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || !isIpv4(m[1]!) || prefix < 16 || prefix > 24)
    throw badField(
      field,
      `${describe(v)} is not an IPv4 network from /16 to /24`,
      'use a private network such as "10.44.0.0/24"',
    );
  const base = ipv4ToInt(m[1]!);
  if (base % 2 ** (32 - prefix) !== 0)
    throw badField(
      field,
      `${describe(v)} has host bits set`,
      `write the network address, such as "${intToIpv4(base - (base % 2 ** (32 - prefix)))}/${prefix}"`,
    );
  return { cidr: `${m[1]}/${prefix}`, base, prefix };
}

/** The index (1 = first host address) of `ip` in the subnet, or null when it is not a host address there. */
export function meshAddress(subnet: MeshSubnet, ip: string): number | null {
  if (!isIpv4(ip)) return null;
  const i = ipv4ToInt(ip) - subnet.base;
  return i >= 1 && i < 2 ** (32 - subnet.prefix) - 1 ? i : null;
}

export function meshIpAt(subnet: MeshSubnet, index: number): string {
  return intToIpv4(subnet.base + index);
}

/**
 * Mesh addresses for `names` (host order): an explicit one wins, then the one recorded last time,
 * then the lowest free index. Refuses a full subnet naming the first host that did not fit.
 */
export function assignMeshIps(
  subnet: MeshSubnet,
  hosts: Array<{ name: string; meshIp: string | null }>,
  recorded: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const taken = new Set<number>();
  for (const h of hosts) {
    const ip =
      h.meshIp ?? (recorded[h.name] && meshAddress(subnet, recorded[h.name]!) !== null ? recorded[h.name]! : null);
    if (ip === null) continue;
    const i = meshAddress(subnet, ip)!;
    if (taken.has(i)) {
      const other = Object.keys(out).find((n) => out[n] === ip);
      throw badField(
        `hosts.${h.name}.meshIp`,
        `${ip} is already ${other}'s mesh address`,
        "give each host its own mesh address, or leave meshIp out",
      );
    }
    taken.add(i);
    out[h.name] = ip;
  }
  const size = 2 ** (32 - subnet.prefix) - 2;
  let next = 1;
  for (const h of hosts) {
    if (out[h.name]) continue;
    while (taken.has(next)) next++;
    if (next > size)
      throw badField(`hosts.${h.name}.meshIp`, `mesh.subnet ${subnet.cidr} is full`, "use a larger mesh.subnet");
    taken.add(next);
    out[h.name] = meshIpAt(subnet, next);
  }
  return out;
}
