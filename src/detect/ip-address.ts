// Just enough IP arithmetic to tell whether a gateway lies inside an address's prefix. Pure.

export interface IpValue {
  family: 4 | 6;
  value: bigint;
}

export function parseIp(s: string): IpValue | null {
  const text = s.split("%")[0]!; // fe80::1%eth0
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split(".").map(Number);
    if (parts.some((p) => p > 255)) return null;
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  if (!text.includes(":") || !/^[0-9a-fA-F:.]+$/.test(text)) return null;
  let groups: string[];
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const expand = (h: string): string[] | null => {
    if (h === "") return [];
    const out: string[] = [];
    for (const g of h.split(":")) {
      if (g.includes(".")) {
        const v4 = parseIp(g); // ::ffff:1.2.3.4
        if (!v4 || v4.family !== 4) return null;
        out.push(((v4.value >> 16n) & 0xffffn).toString(16), (v4.value & 0xffffn).toString(16));
      } else out.push(g);
    }
    return out;
  };
  const head = expand(halves[0]!);
  const tail = halves.length === 2 ? expand(halves[1]!) : [];
  if (!head || !tail) return null;
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return null;
    groups = [...head, ...Array<string>(fill).fill("0"), ...tail];
  } else groups = head;
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** True when `addr` is inside `net/prefix` (same family). */
export function inPrefix(addr: string, net: string, prefix: number): boolean {
  const a = parseIp(addr);
  const n = parseIp(net);
  if (!a || !n || a.family !== n.family) return false;
  const bits = a.family === 4 ? 32 : 128;
  if (prefix <= 0) return true;
  if (prefix > bits) return false;
  const shift = BigInt(bits - prefix);
  return a.value >> shift === n.value >> shift;
}

export function isLinkLocal6(addr: string): boolean {
  const a = parseIp(addr);
  return !!a && a.family === 6 && a.value >> 118n === 0x3fan; // fe80::/10
}

export function isLoopback(addr: string): boolean {
  const a = parseIp(addr);
  if (!a) return false;
  return a.family === 4 ? a.value >> 24n === 127n : a.value === 1n;
}
