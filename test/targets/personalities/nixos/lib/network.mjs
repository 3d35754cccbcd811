// The nixos personality's network: host.json's network.interfaces applied FOR REAL to the target's
// eth0, as network.nix's systemd-networkd units would (exact static addresses and routes, on-link
// gateways). What it models: the interface matched by eth0's MAC or a catch-all (mac "");
// the addresses and routes listed, of the address families listed; `dhcp4` = the harness's own
// address and default route stand in for the lease (recorded the first time, before any change).
// Not modelled: DNS, IPv6 RAs, wait-online, several interfaces. No matching interface = the lease.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DIR, readText, run } from "./common.mjs";
import { desiredNetwork, family } from "./desired-network.mjs";

const IF = "eth0";
const BASELINE = join(DIR, "network-baseline.json");
const ip = (...a) => run("ip", a);

function current() {
  const addrs = ip("-o", "addr", "show", "dev", IF, "scope", "global")
    .stdout.split("\n")
    .map((l) => /\sinet6?\s+(\S+)/.exec(l)?.[1])
    .filter(Boolean);
  const defaults = [4, 6].flatMap((f) =>
    ip(`-${f}`, "-o", "route", "show", "default", "dev", IF)
      .stdout.split("\n")
      .map((l) => /\bvia\s+(\S+)/.exec(l)?.[1])
      .filter(Boolean)
      .map((gateway) => ({ destination: f === 4 ? "0.0.0.0/0" : "::/0", gateway, onLink: false })),
  );
  return { addresses: addrs, routes: defaults };
}

/** The harness's address and default route: what "DHCP" hands out here. */
function baseline() {
  if (!existsSync(BASELINE)) writeFileSync(BASELINE, JSON.stringify(current()));
  return JSON.parse(readFileSync(BASELINE, "utf8"));
}

/** Makes eth0 carry exactly the desired addresses and default routes (of the families involved). */
export function applyNetwork(host) {
  const lease = baseline();
  const mac = readText(`/sys/class/net/${IF}/address`).trim();
  const want = desiredNetwork(host, lease, mac);
  // only the families the configuration lists: an IPv4-only config leaves the harness's IPv6 alone
  const fams = new Set(want.addresses.map((a) => family(a)));
  ip("link", "set", IF, "up");
  const have = current();
  for (const a of want.addresses)
    if (!have.addresses.includes(a))
      ip(...(family(a) === 6 ? ["-6"] : []), "addr", "add", a, "dev", IF, ...(family(a) === 6 ? ["nodad"] : []));
  const problems = [];
  for (const r of want.routes) {
    const f = family(r.gateway);
    const dest = /^(0\.0\.0\.0|::)\/0$/.test(r.destination) ? "default" : r.destination;
    const res = ip(`-${f}`, "route", "replace", dest, "via", r.gateway, "dev", IF, ...(r.onLink ? ["onlink"] : []));
    // networkd logs a route it cannot add and keeps going; so does this
    if (res.code !== 0) problems.push(`route ${dest} via ${r.gateway}: ${res.stderr.trim()}`);
  }
  const gateways = new Set(want.routes.map((r) => r.gateway));
  for (const r of current().routes)
    if (fams.has(family(r.gateway)) && !gateways.has(r.gateway))
      ip(`-${family(r.gateway)}`, "route", "del", "default", "via", r.gateway, "dev", IF);
  for (const a of have.addresses)
    if (fams.has(family(a)) && !want.addresses.includes(a)) ip("addr", "del", a, "dev", IF);
  if (problems.length) process.stderr.write(`systemd-networkd (test stand-in): ${problems.join("; ")}\n`);
}
