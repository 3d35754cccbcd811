// IP address syntax and the arithmetic detection, facts and planning share: is a gateway inside one
// of its interface's prefixes (an ordinary gateway) or reachable only on-link (Hetzner's 172.31.1.1
// beside a /32, fe80::1)? The installed system needs an explicit on-link route for the latter.
import { isIP } from "node:net";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Strict dotted quad (no leading zeros, no zone). */
export function isIpv4(v: string): boolean {
  return IPV4.test(v);
}

/** IPv6 text without a zone index (fe80::1%eth0 is not an address, it is an address on a link). */
export function isIpv6(v: string): boolean {
  return !v.includes("%") && isIP(v) === 6;
}

/** The address as a big integer, with its family; null when it is not an IP address. A zone index is ignored. */
export function ipToBigInt(ip: string): { family: 4 | 6; value: bigint } | null {
  const bare = ip.replace(/%.*$/, "");
  const fam = isIP(bare);
  if (fam === 4) return { family: 4, value: bare.split(".").reduce((acc, o) => (acc << 8n) + BigInt(Number(o)), 0n) };
  if (fam !== 6) return null;
  let text = bare;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4tail) {
    const n = ipToBigInt(v4tail[1]!)!.value;
    text = text.slice(0, -v4tail[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n) };
}

/** True when `ip` lies inside `network/prefix` (same family). */
export function inPrefix(ip: string, network: string, prefix: number): boolean {
  const a = ipToBigInt(ip);
  const n = ipToBigInt(network);
  if (!a || !n || a.family !== n.family) return false;
  const bits = a.family === 4 ? 32 : 128;
  if (prefix <= 0) return true;
  if (prefix > bits) return false;
  const shift = BigInt(bits - prefix);
  return a.value >> shift === n.value >> shift;
}

/**
 * "203.0.113.7", "2001:db8::/32", "10.0.0.0/8" -> the parts; null when malformed. Strict: a dotted
 * quad without leading zeros, IPv6 without a zone index, a prefix length without leading zeros and
 * within the family's bits (999.999.999.999/999, 10.0.0.0/033 and fe80::1%eth0 are refused).
 */
export function parseIpOrCidr(s: string): { address: string; family: 4 | 6; prefix: number | null } | null {
  const m = /^([^/\s]+)(?:\/(0|[1-9]\d{0,2}))?$/.exec(s.trim());
  if (!m) return null;
  const family = isIpv4(m[1]!) ? 4 : isIpv6(m[1]!) ? 6 : null;
  if (family === null) return null;
  const prefix = m[2] === undefined ? null : Number(m[2]);
  if (prefix !== null && prefix > (family === 4 ? 32 : 128)) return null;
  return { address: m[1]!, family, prefix };
}

export function isLinkLocal6(ip: string): boolean {
  return inPrefix(ip, "fe80::", 10);
}

/** fe80::/10 or 169.254.0.0/16. */
export function isLinkLocal(ip: string): boolean {
  return isLinkLocal6(ip) || inPrefix(ip, "169.254.0.0", 16);
}

export function isLoopback(ip: string): boolean {
  return inPrefix(ip, "127.0.0.0", 8) || inPrefix(ip, "::1", 128);
}

/** A gateway is on-link when no address on its interface has a prefix that contains it. */
export function gatewayIsOnLink(gateway: string, addresses: Array<{ address: string; prefix: number }>): boolean {
  if (isLinkLocal6(gateway)) return true;
  return !addresses.some((a) => inPrefix(gateway, a.address, a.prefix));
}
