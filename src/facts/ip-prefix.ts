// Address arithmetic the facts need: is a gateway inside one of the interface's prefixes (then it
// is an ordinary gateway) or only reachable on-link (Hetzner's 172.31.1.1 beside a /32, fe80::1)?
import { isIpv4, isIpv6 } from "./validate";

function v4ToBigInt(a: string): bigint {
  return a.split(".").reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n);
}

function v6ToBigInt(a: string): bigint {
  let s = a;
  const v4 = s.match(/(\d+\.\d+\.\d+\.\d+)$/)?.[1];
  if (v4) {
    const n = v4ToBigInt(v4);
    s = s.slice(0, -v4.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = "", tail] = s.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** True when `address` lies inside `network/prefix` (same family required). */
export function inPrefix(address: string, network: string, prefix: number): boolean {
  const family = isIpv4(address) ? 4 : isIpv6(address) ? 6 : 0;
  const netFamily = isIpv4(network) ? 4 : isIpv6(network) ? 6 : 0;
  if (family === 0 || family !== netFamily) return false;
  const bits = family === 4 ? 32 : 128;
  const toInt = family === 4 ? v4ToBigInt : v6ToBigInt;
  const shift = BigInt(bits - prefix);
  return toInt(address) >> shift === toInt(network) >> shift;
}

export function isLinkLocal6(address: string): boolean {
  return isIpv6(address) && inPrefix(address, "fe80::", 10);
}

/** A gateway is on-link when no address on its interface has a prefix that contains it. */
export function gatewayIsOnLink(gateway: string, addresses: Array<{ address: string; prefix: number }>): boolean {
  if (isLinkLocal6(gateway)) return true;
  return !addresses.some((a) => inPrefix(gateway, a.address, a.prefix));
}
