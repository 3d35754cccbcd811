// IP address syntax, and the arithmetic the facts need: is a gateway inside one of its
// interface's prefixes (an ordinary gateway) or reachable only on-link (Hetzner's 172.31.1.1
// beside a /32, fe80::1)? The installed system needs an explicit on-link route for the latter.
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv6(v: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(v) || v.split("::").length > 2) return false;
  const [head, tail] = v.includes("::") ? v.split("::") : [v, undefined];
  const groups = [...(head ? head.split(":") : []), ...(tail ? tail.split(":") : [])];
  const last = groups[groups.length - 1] ?? "";
  const v4Tail = IPV4.test(last);
  const hex = v4Tail ? groups.slice(0, -1) : groups;
  if (!hex.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const width = hex.length + (v4Tail ? 2 : 0);
  return tail === undefined ? width === 8 : width < 8;
}

export function isIpv4(v: string): boolean {
  return IPV4.test(v);
}

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
