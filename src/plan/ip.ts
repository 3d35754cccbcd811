// IP address arithmetic the planner needs: is a gateway inside an interface's prefix (if not, the
// route must be marked on-link), and is a fail2ban ignore entry an address or a CIDR.
import { isIP } from "node:net";

/** The address as a big integer, with its family; null when it is not an IP address. */
export function ipToBigInt(ip: string): { family: 4 | 6; value: bigint } | null {
  const bare = ip.replace(/%.*$/, ""); // drop a zone index: fe80::1%eth0
  const fam = isIP(bare);
  if (fam === 4) {
    return { family: 4, value: bare.split(".").reduce((acc, o) => (acc << 8n) + BigInt(Number(o)), 0n) };
  }
  if (fam === 6) {
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
  return null;
}

/** True when `ip` lies inside `network/prefix` (same family). */
export function inPrefix(ip: string, network: string, prefix: number): boolean {
  const a = ipToBigInt(ip);
  const n = ipToBigInt(network);
  if (!a || !n || a.family !== n.family) return false;
  const bits = a.family === 4 ? 32 : 128;
  if (prefix <= 0) return true;
  const shift = BigInt(bits - prefix);
  return a.value >> shift === n.value >> shift;
}

/** "203.0.113.7", "2001:db8::/32", "10.0.0.0/8" -> the parts; null when malformed. */
export function parseIpOrCidr(s: string): { address: string; family: 4 | 6; prefix: number | null } | null {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(s.trim());
  if (!m) return null;
  const family = isIP(m[1]!);
  if (family !== 4 && family !== 6) return null;
  const prefix = m[2] === undefined ? null : Number(m[2]);
  if (prefix !== null && prefix > (family === 4 ? 32 : 128)) return null;
  return { address: m[1]!, family, prefix };
}

export function isLinkLocal(ip: string): boolean {
  return inPrefix(ip, "fe80::", 10) || inPrefix(ip, "169.254.0.0", 16);
}

export function isLoopback(ip: string): boolean {
  return inPrefix(ip, "127.0.0.0", 8) || ip === "::1";
}
