// The network part of validateFacts: interfaces, addresses (family-checked, prefix in range),
// routes and default gateways whose device must be one of the listed interfaces.
import { badField } from "../errors";
import { arr, bool, describe, int, oneOf, str } from "../util/fields";
import { isIpv4, isIpv6 } from "../util/ip";
import type { Address, NetInterface, Network, Route } from "./types";
import { count, DEV_NAME, ip, ipOf, nullable, section, unique } from "./validate-helpers";

const IF_KINDS = ["ethernet", "wlan", "bond", "bridge", "vlan", "loopback", "virtual", "other"] as const;
const SCOPES = ["global", "link", "host", "site"] as const;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function address(v: unknown, field: string): Address {
  const o = section(v, field, ["family", "address", "prefix", "scope", "dynamic"]);
  const family = family46(o.family, `${field}.family`);
  return {
    family,
    address: ipOf(family, o.address, `${field}.address`),
    prefix: int(o.prefix, `${field}.prefix`, 0, family === 4 ? 32 : 128, "a prefix length"),
    scope: oneOf(o.scope, `${field}.scope`, SCOPES),
    dynamic: bool(o.dynamic, `${field}.dynamic`),
  };
}

function family46(v: unknown, field: string): 4 | 6 {
  if (v !== 4 && v !== 6) throw badField(field, `${describe(v)} is not 4 or 6`);
  return v;
}

function netInterface(v: unknown, field: string): NetInterface {
  const o = section(v, field, ["name", "mac", "driver", "state", "mtu", "kind", "addresses"]);
  return {
    name: str(o.name, `${field}.name`, { pattern: DEV_NAME, what: "an interface name like eth0" }),
    mac: nullable(o.mac, `${field}.mac`, (x, p) =>
      str(x, p, { pattern: MAC, what: "a lower-case MAC address like 96:00:01:aa:bb:cc" }),
    ),
    driver: nullable(o.driver, `${field}.driver`, (x, p) => str(x, p)),
    state: oneOf(o.state, `${field}.state`, ["up", "down", "unknown"] as const),
    mtu: nullable(o.mtu, `${field}.mtu`, (x, p) => int(x, p, 68, 65536, "an MTU")),
    kind: oneOf(o.kind, `${field}.kind`, IF_KINDS),
    addresses: arr(o.addresses, `${field}.addresses`).map((a, i) => address(a, `${field}.addresses[${i}]`)),
  };
}

function route(v: unknown, field: string, devs: Set<string>): Route {
  const o = section(v, field, ["family", "destination", "gateway", "dev", "onLink", "protocol", "metric"]);
  const family = family46(o.family, `${field}.family`);
  const destination = str(o.destination, `${field}.destination`);
  if (destination !== "default") {
    const [addr, prefix, extra] = destination.split("/");
    const max = family === 4 ? 32 : 128;
    const okAddr = addr !== undefined && (family === 4 ? isIpv4(addr) : isIpv6(addr));
    const okPrefix = prefix !== undefined && /^\d{1,3}$/.test(prefix) && Number(prefix) <= max;
    if (!okAddr || !okPrefix || extra !== undefined) {
      throw badField(
        `${field}.destination`,
        `${describe(destination)} is not "default" or an IPv${family} CIDR`,
        family === 4 ? 'write e.g. "10.0.0.0/24"' : 'write e.g. "2001:db8::/64"',
      );
    }
  }
  return {
    family,
    destination,
    gateway: nullable(o.gateway, `${field}.gateway`, (x, p) => ipOf(family, x, p)),
    dev: linkedDev(o.dev, `${field}.dev`, devs),
    onLink: bool(o.onLink, `${field}.onLink`),
    protocol: nullable(o.protocol, `${field}.protocol`, (x, p) => str(x, p)),
    metric: nullable(o.metric, `${field}.metric`, (x, p) => count(x, p)),
  };
}

function linkedDev(v: unknown, field: string, devs: Set<string>): string {
  const dev = str(v, field, { nonEmpty: true });
  if (!devs.has(dev))
    throw badField(
      field,
      `${describe(dev)} is not one of the listed interfaces`,
      `list it in facts.network.interfaces or fix the name (known: ${[...devs].join(", ") || "none"})`,
    );
  return dev;
}

function gateway(v: unknown, field: string, family: 4 | 6, devs: Set<string>): Network["defaultGateway4"] {
  return nullable(v, field, (x, p) => {
    const o = section(x, p, ["address", "dev", "onLink"]);
    return {
      address: ipOf(family, o.address, `${p}.address`),
      dev: linkedDev(o.dev, `${p}.dev`, devs),
      onLink: bool(o.onLink, `${p}.onLink`),
    };
  });
}

export function validateNetwork(v: unknown): Network {
  const o = section(v, "facts.network", ["interfaces", "routes", "defaultGateway4", "defaultGateway6", "dns", "dhcp4"]);
  const interfaces = arr(o.interfaces, "facts.network.interfaces").map((x, i) =>
    netInterface(x, `facts.network.interfaces[${i}]`),
  );
  unique(
    interfaces.map((x) => x.name),
    (i) => `facts.network.interfaces[${i}].name`,
    "interface",
  );
  const devs = new Set(interfaces.map((x) => x.name));
  return {
    interfaces,
    routes: arr(o.routes, "facts.network.routes").map((x, i) => route(x, `facts.network.routes[${i}]`, devs)),
    defaultGateway4: gateway(o.defaultGateway4, "facts.network.defaultGateway4", 4, devs),
    defaultGateway6: gateway(o.defaultGateway6, "facts.network.defaultGateway6", 6, devs),
    dns: arr(o.dns, "facts.network.dns").map((x, i) => ip(x, `facts.network.dns[${i}]`)),
    dhcp4: bool(o.dhcp4, "facts.network.dhcp4"),
  };
}
