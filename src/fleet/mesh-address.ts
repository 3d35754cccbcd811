// The mesh's addresses: an IPv4 network from /16 to /24, or an IPv6 /64 inside the unique local
// range fd00::/8 (RFC 4193: private like 10/8, never routed on the internet). Host i gets the
// network's (i+1)th address. An index, once given, is recorded in fleet/fleet.json and kept, so
// adding or reordering hosts never renumbers a host that already has one.
import { badField } from "../errors";
import { describe } from "../util/fields";
import { ipToBigInt, isIpv4, isIpv6 } from "../util/ip";

export interface MeshSubnet {
  cidr: string;
  family: 4 | 6;
  /** The network address as a number. */
  base: bigint;
  prefix: number;
}

const bits = (s: MeshSubnet) => (s.family === 4 ? 32 : 128);
/** How many host indexes there are: IPv4 leaves out the broadcast address, IPv6 has none. */
const lastIndex = (s: MeshSubnet) => 2n ** BigInt(bits(s) - s.prefix) - (s.family === 4 ? 2n : 1n);

function intToIpv4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((sh) => String((n >> sh) & 255n)).join(".");
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (2+) of zero groups as "::". */
export function formatIpv6(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

const textOf = (family: 4 | 6, n: bigint) => (family === 4 ? intToIpv4(n) : formatIpv6(n));

export function parseMeshSubnet(v: unknown, field: string): MeshSubnet {
  const m = typeof v === "string" ? /^([^/\s]+)\/(\d{1,3})$/.exec(v.trim()) : null;
  const prefix = m ? Number(m[2]) : NaN;
  if (m && isIpv6(m[1]!)) {
    const base = ipToBigInt(m[1]!)!.value;
    if (prefix !== 64)
      throw badField(
        field,
        `${describe(v)}: an IPv6 mesh is exactly one /64`,
        'use a /64 of your own unique local range, such as "fd8a:41c2:7e10:1::/64"',
      );
    if (base >> 120n !== 0xfdn)
      throw badField(
        field,
        `${describe(v)} is not a unique local address (fd00::/8)`,
        'pick a random /64 in fd00::/8 (RFC 4193), such as "fd8a:41c2:7e10:1::/64"; the mesh must never use routed addresses',
      );
    if (base % 2n ** 64n !== 0n)
      throw badField(
        field,
        `${describe(v)} has host bits set`,
        `write the network address, such as "${formatIpv6(base - (base % 2n ** 64n))}/64"`,
      );
    return { cidr: `${formatIpv6(base)}/64`, family: 6, base, prefix };
  }
  if (!m || !isIpv4(m[1]!) || prefix < 16 || prefix > 24)
    throw badField(
      field,
      `${describe(v)} is not an IPv4 network from /16 to /24 or an IPv6 /64`,
      'use a private network such as "10.44.0.0/24", or a unique local IPv6 /64 such as "fd8a:41c2:7e10:1::/64"',
    );
  const base = ipToBigInt(m[1]!)!.value;
  const size = 2n ** BigInt(32 - prefix);
  if (base % size !== 0n)
    throw badField(
      field,
      `${describe(v)} has host bits set`,
      `write the network address, such as "${intToIpv4(base - (base % size))}/${prefix}"`,
    );
  return { cidr: `${m[1]}/${prefix}`, family: 4, base, prefix };
}

/** The index (1 = first host address) of `ip` in the subnet, or null when it is not a host address there. */
export function meshAddress(subnet: MeshSubnet, ip: string): bigint | null {
  if (subnet.family === 4 ? !isIpv4(ip) : !isIpv6(ip)) return null;
  const i = ipToBigInt(ip)!.value - subnet.base;
  return i >= 1n && i <= lastIndex(subnet) ? i : null;
}

export function meshIpAt(subnet: MeshSubnet, index: bigint): string {
  return textOf(subnet.family, subnet.base + index);
}

/** The address in its one canonical text (so fd00:0::1 and fd00::1 are seen as the same address). */
export function canonicalMeshIp(subnet: MeshSubnet, ip: string): string {
  const i = meshAddress(subnet, ip);
  return i === null ? ip : meshIpAt(subnet, i);
}

/** The mesh address as written before ":port" (Prometheus targets, listen addresses): IPv6 in brackets. */
export function meshHostPort(ip: string): string {
  return isIpv6(ip) ? `[${ip}]` : ip;
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
  const taken = new Map<bigint, string>();
  for (const h of hosts) {
    const ip =
      h.meshIp ?? (recorded[h.name] && meshAddress(subnet, recorded[h.name]!) !== null ? recorded[h.name]! : null);
    if (ip === null) continue;
    const i = meshAddress(subnet, ip)!;
    const other = taken.get(i);
    if (other !== undefined)
      throw badField(
        `hosts.${h.name}.meshIp`,
        `${ip} is already ${other}'s mesh address`,
        "give each host its own mesh address, or leave meshIp out",
      );
    taken.set(i, h.name);
    out[h.name] = meshIpAt(subnet, i);
  }
  let next = 1n;
  for (const h of hosts) {
    if (out[h.name]) continue;
    while (taken.has(next)) next++;
    if (next > lastIndex(subnet))
      throw badField(`hosts.${h.name}.meshIp`, `mesh.subnet ${subnet.cidr} is full`, "use a larger mesh.subnet");
    taken.set(next, h.name);
    out[h.name] = meshIpAt(subnet, next);
  }
  return out;
}
