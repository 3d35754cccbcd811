// `ip -j addr` / `ip -j route` (and their text forms, for iproute2 without -j) -> interfaces and
// routes. Pure. The text parsers turn text into the JSON shape first so one mapper serves both.
import type { Address, NetInterface, Route } from "../facts/types";
import { isObject } from "../util/fields";
import { inPrefix, isLinkLocal6 } from "../util/ip";

type Obj = Record<string, unknown>;
const FOREVER = 4294967295;

/** What sysfs adds about an interface (probe section "netdev"). */
export interface NetDevInfo {
  driver: string | null;
  kind: NetInterface["kind"] | null;
}

export function parseIpAddrJson(json: unknown, devs: Map<string, NetDevInfo> = new Map()): NetInterface[] {
  if (!Array.isArray(json)) return [];
  return json.filter(isObject).map((l) => {
    const name = String(l.ifname ?? "?");
    const flags = Array.isArray(l.flags) ? l.flags.map(String) : [];
    const linkType = typeof l.link_type === "string" ? l.link_type : null;
    const mac =
      typeof l.address === "string" && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(l.address) && linkType !== "loopback"
        ? l.address.toLowerCase()
        : null;
    const op = String(l.operstate ?? "").toUpperCase();
    const dev = devs.get(name);
    return {
      name,
      mac,
      driver: dev?.driver ?? null,
      state:
        op === "UP"
          ? "up"
          : op === "DOWN" || op === "LOWERLAYERDOWN"
            ? "down"
            : flags.includes("LOWER_UP") && op !== "UNKNOWN"
              ? "up"
              : "unknown",
      mtu: typeof l.mtu === "number" ? l.mtu : null,
      kind:
        linkType === "loopback" || flags.includes("LOOPBACK")
          ? "loopback"
          : (dev?.kind ?? (linkType === "ether" ? "ethernet" : "other")),
      addresses: (Array.isArray(l.addr_info) ? l.addr_info.filter(isObject) : []).flatMap(address),
    } satisfies NetInterface;
  });
}

function address(a: Obj): Address[] {
  const family = a.family === "inet" ? 4 : a.family === "inet6" ? 6 : null;
  if (!family || typeof a.local !== "string" || typeof a.prefixlen !== "number") return [];
  const scope = a.scope === "link" || a.scope === "host" || a.scope === "site" ? a.scope : "global";
  const finite = typeof a.valid_life_time === "number" && a.valid_life_time < FOREVER;
  return [{ family, address: a.local, prefix: a.prefixlen, scope, dynamic: a.dynamic === true || finite }];
}

/** Text `ip addr` -> the `ip -j addr` shape. */
export function parseIpAddrText(text: string): Obj[] {
  const links: Obj[] = [];
  let cur: Obj | null = null;
  for (const line of text.split("\n")) {
    const head = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>(.*)$/.exec(line);
    if (head) {
      const rest = head[3]!;
      cur = {
        ifname: head[1],
        flags: head[2]!.split(",").filter(Boolean),
        mtu: Number(/\bmtu (\d+)/.exec(rest)?.[1] ?? NaN) || undefined,
        operstate: /\bstate (\S+)/.exec(rest)?.[1],
        addr_info: [] as Obj[],
      };
      links.push(cur);
      continue;
    }
    if (!cur) continue;
    const link = /^\s+link\/(\S+)(?:\s+(\S+))?/.exec(line);
    if (link) {
      cur.link_type = link[1];
      cur.address = link[2];
      continue;
    }
    const inet = /^\s+(inet6?)\s+([^/\s]+)\/(\d+)(.*)$/.exec(line);
    if (inet) {
      const rest = inet[4]!;
      (cur.addr_info as Obj[]).push({
        family: inet[1],
        local: inet[2],
        prefixlen: Number(inet[3]),
        scope: /\bscope (\S+)/.exec(rest)?.[1] ?? "global",
        dynamic: /\bdynamic\b/.test(rest) || undefined,
      });
      continue;
    }
    const lft = /^\s+valid_lft (\S+)/.exec(line);
    const infos = cur.addr_info as Obj[];
    if (lft && infos.length)
      infos[infos.length - 1]!.valid_life_time = lft[1] === "forever" ? FOREVER : parseInt(lft[1]!, 10);
  }
  return links;
}

/** Text `ip route` -> the `ip -j route` shape (main table unicast routes keep their fields). */
export function parseIpRouteText(text: string): Obj[] {
  const out: Obj[] = [];
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (!words.length) continue;
    const r: Obj = { flags: [] as string[] };
    let i = 0;
    if (
      [
        "local",
        "broadcast",
        "unreachable",
        "blackhole",
        "prohibit",
        "throw",
        "anycast",
        "multicast",
        "unicast",
      ].includes(words[0]!)
    )
      r.type = words[i++];
    r.dst = words[i++];
    for (; i < words.length; i++) {
      const w = words[i]!;
      const next = words[i + 1];
      if (w === "via") r.gateway = words[++i];
      else if (w === "dev") r.dev = words[++i];
      else if (w === "proto") r.protocol = words[++i];
      else if (w === "metric") r.metric = Number(words[++i]);
      else if (w === "table") r.table = words[++i];
      else if (w === "onlink") (r.flags as string[]).push("onlink");
      else if (next !== undefined && ["src", "scope", "pref", "expires", "mtu"].includes(w)) i++;
    }
    out.push(r);
  }
  return out;
}

/** Routes of the main table that send traffic somewhere (no local/broadcast/blackhole entries). */
export function parseIpRouteJson(json: unknown, family: 4 | 6): Route[] {
  if (!Array.isArray(json)) return [];
  const routes: Route[] = [];
  for (const r of json.filter(isObject)) {
    if (r.type !== undefined && r.type !== "unicast") continue;
    if (r.table !== undefined && r.table !== "main") continue;
    if (typeof r.dst !== "string" || typeof r.dev !== "string") continue;
    const dst = r.dst === "default" || r.dst.includes("/") ? r.dst : `${r.dst}/${family === 4 ? 32 : 128}`;
    routes.push({
      family,
      destination: dst,
      gateway: typeof r.gateway === "string" ? r.gateway : null,
      dev: r.dev,
      onLink: Array.isArray(r.flags) && r.flags.includes("onlink"),
      protocol: typeof r.protocol === "string" ? r.protocol : null,
      metric: typeof r.metric === "number" ? r.metric : null,
    });
  }
  return routes;
}

/**
 * A gateway is on-link when the kernel says so, when it is an IPv6 link-local address, or when no
 * address on its interface has a prefix containing it (Hetzner: 172.31.1.1 next to a /32). A
 * config that omits this leaves the installed machine without a default route.
 */
export function markOnLink(routes: Route[], interfaces: NetInterface[]): Route[] {
  return routes.map((r) => {
    if (!r.gateway || r.onLink) return r;
    const gw = r.gateway;
    if (r.family === 6 && isLinkLocal6(gw)) return { ...r, onLink: true };
    const iface = interfaces.find((i) => i.name === r.dev);
    const covered = (iface?.addresses ?? []).some((a) => a.family === r.family && inPrefix(gw, a.address, a.prefix));
    return covered ? r : { ...r, onLink: true };
  });
}

/** The default route with the lowest metric, or null. */
export function defaultGateway(
  routes: Route[],
  family: 4 | 6,
): { address: string; dev: string; onLink: boolean } | null {
  const d = routes
    .filter((r) => r.family === family && r.destination === "default" && r.gateway)
    .sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0];
  return d ? { address: d.gateway!, dev: d.dev, onLink: d.onLink } : null;
}
