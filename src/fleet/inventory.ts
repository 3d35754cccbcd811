// fleet.json: the inventory of a fleet, kept BESIDE nixnode.json rather than inside it, because
// nixnode.json stays the answers of one machine (its schema, its strict key check and `plan`
// unchanged), while fleet.json names many machines, their roles and the mesh. Its `defaults` are
// nixnode.json's fields shared by every host; each host's own fields win over them. Every check
// here runs before any file is written, and a refusal names `hosts.<name>.<field>`.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { UserError, badField } from "../errors";
import { findDuplicateKey } from "../plan/duplicate-keys";
import { parseConfig, parseHostname, type PartialConfig } from "../plan/config";
import { bool, describe, isObject, noUnknownKeys, obj, port, str } from "../util/fields";
import { parseIpOrCidr } from "../util/ip";
import { canonicalMeshIp, meshAddress, parseMeshSubnet, type MeshSubnet } from "./mesh-address";

export const ROLES = ["node", "collector"] as const;
export type Role = (typeof ROLES)[number];
export const DEFAULT_MESH_SUBNET = "10.44.0.0/24";
export const DEFAULT_MESH_PORT = 51820;

const TOP_KEYS = ["defaults", "mesh", "hosts"] as const;
const FLEET_HOST_KEYS = ["address", "role", "facts", "example", "meshIp", "buildOnTarget"] as const;
const CONFIG_KEYS = ["nixos", "timezone", "profile", "disk", "ssh", "fail2ban", "install", "lockdown"] as const;
// A DNS name the operator's machine resolves (colmena's targetHost and the WireGuard endpoint).
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export interface FleetHost {
  name: string;
  role: Role;
  /** How the operator's machine and the other hosts reach it (IP or DNS name). */
  address: string;
  facts: { kind: "file"; path: string } | { kind: "example"; name: string };
  /** An explicit mesh address, or null to take the next free one in host order. */
  meshIp: string | null;
  /** null: decided from the facts (little RAM or another architecture than the operator's). */
  buildOnTarget: boolean | null;
  /** defaults + this host's own answers, hostname set. */
  config: PartialConfig;
}

export interface Inventory {
  mesh: { subnet: MeshSubnet; port: number };
  hosts: FleetHost[];
}

/** Re-throws a nixnode.json field refusal with its place in fleet.json in front. */
function under<T>(prefix: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof UserError) {
      const field = e.field ? `${prefix}.${e.field}` : prefix;
      const message =
        e.field && e.message.startsWith(`${e.field}:`) ? e.message.slice(e.field.length + 1) : ` ${e.message}`;
      throw new UserError(`${field}:${message}`, { field, hint: e.hint, details: e.details, cause: e });
    }
    throw e;
  }
}

function mergeConfig(d: PartialConfig, h: PartialConfig, hostname: string): PartialConfig {
  const out: PartialConfig = { ...d, ...h, hostname };
  for (const k of ["disk", "ssh", "fail2ban", "install", "lockdown"] as const) {
    if (d[k] || h[k]) (out as Record<string, unknown>)[k] = { ...d[k], ...h[k] };
  }
  return out;
}

function parseAddress(v: unknown, field: string): string {
  const s = str(v, field, { nonEmpty: true });
  const ip = parseIpOrCidr(s);
  if ((ip && ip.prefix === null) || (!ip && DNS_NAME.test(s))) return s.trim();
  throw badField(
    field,
    `${describe(s)} is not an IP address or a DNS name`,
    'write the address SSH reaches, such as "203.0.113.10" or "node1.example.org"',
  );
}

/** Validates a parsed fleet.json. `baseDir`: where relative `facts` paths start (fleet.json's folder). */
export function parseInventory(json: unknown, baseDir: string): Inventory {
  if (!isObject(json))
    throw badField(
      "fleet",
      `${describe(json)} is not a JSON object`,
      'a fleet.json looks like { "hosts": { "node1": { ... } } }; see docs/fleet.md',
    );
  noUnknownKeys(json, "", TOP_KEYS);
  let defaults: PartialConfig = {};
  if (json.defaults !== undefined) {
    const d = obj(json.defaults, "defaults");
    if (d.hostname !== undefined)
      throw badField("defaults.hostname", "a fleet's host names are the keys of hosts", "delete defaults.hostname");
    defaults = under("defaults", () => parseConfig(d));
  }
  const meshJson = json.mesh === undefined ? {} : obj(json.mesh, "mesh");
  noUnknownKeys(meshJson, "mesh", ["subnet", "port"]);
  const subnet = parseMeshSubnet(meshJson.subnet ?? DEFAULT_MESH_SUBNET, "mesh.subnet");
  const meshPort = meshJson.port === undefined ? DEFAULT_MESH_PORT : port(meshJson.port, "mesh.port");

  const hostsJson = obj(json.hosts, "hosts");
  const names = Object.keys(hostsJson);
  if (names.length === 0)
    throw badField(
      "hosts",
      "lists no host",
      'add one, such as "hosts": { "collector1": { "role": "collector", ... } }',
    );
  const hosts: FleetHost[] = [];
  const byAddress = new Map<string, string>();
  const byMeshIp = new Map<string, string>();
  for (const name of names) {
    const f = `hosts.${name}`;
    parseHostname(name, f);
    const h = obj(hostsJson[name], f);
    noUnknownKeys(h, f, [...FLEET_HOST_KEYS, ...CONFIG_KEYS]);
    if (h.address === undefined)
      throw badField(`${f}.address`, "is missing", 'write the address SSH reaches, such as "203.0.113.10"');
    const address = parseAddress(h.address, `${f}.address`);
    const seen = byAddress.get(address.toLowerCase());
    if (seen)
      throw badField(`${f}.address`, `${address} is also hosts.${seen}.address`, "give each host its own address");
    byAddress.set(address.toLowerCase(), name);
    if (h.role === undefined) throw badField(`${f}.role`, "is missing", 'write "node" or "collector"');
    const role = ROLES.includes(h.role as Role)
      ? (h.role as Role)
      : (() => {
          throw badField(
            `${f}.role`,
            `${describe(h.role)} is not a role`,
            'write "node" (a machine the collector scrapes) or "collector" (Prometheus and Grafana)',
          );
        })();
    if (h.facts !== undefined && h.example !== undefined)
      throw badField(
        `${f}.example`,
        "is given together with facts",
        "keep one: facts (a file) or example (a bundled machine)",
      );
    let facts: FleetHost["facts"];
    if (h.facts !== undefined)
      facts = { kind: "file", path: resolve(baseDir, str(h.facts, `${f}.facts`, { nonEmpty: true })) };
    else if (h.example !== undefined)
      facts = { kind: "example", name: str(h.example, `${f}.example`, { nonEmpty: true }) };
    else
      throw badField(
        `${f}.facts`,
        "is missing",
        "give the machine's facts (`detect --json` output or a nixos-facter report), or example: a bundled machine",
      );
    let meshIp: string | null = null;
    if (h.meshIp !== undefined) {
      meshIp = str(h.meshIp, `${f}.meshIp`).trim();
      if (meshAddress(subnet, meshIp) === null)
        throw badField(
          `${f}.meshIp`,
          `${describe(meshIp)} is not a host address in mesh.subnet ${subnet.cidr}`,
          "leave meshIp out to get the next free address",
        );
      // one address written two ways (fd00::2 and fd00:0::2) is still one address
      meshIp = canonicalMeshIp(subnet, meshIp);
      const other = byMeshIp.get(meshIp);
      if (other)
        throw badField(
          `${f}.meshIp`,
          `${meshIp} is also hosts.${other}.meshIp`,
          "give each host its own mesh address, or leave meshIp out",
        );
      byMeshIp.set(meshIp, name);
    }
    const buildOnTarget = h.buildOnTarget === undefined ? null : bool(h.buildOnTarget, `${f}.buildOnTarget`);
    const own: Record<string, unknown> = Object.fromEntries(
      CONFIG_KEYS.filter((k) => h[k] !== undefined).map((k) => [k, h[k]]),
    );
    const config = mergeConfig(
      defaults,
      under(f, () => parseConfig(own)),
      name,
    );
    const profile = config.profile ?? "base";
    if (role === "collector" && profile !== "base")
      throw badField(
        `${f}.profile`,
        `a collector runs Prometheus and Grafana on the base profile, not ${profile}`,
        "delete profile on the collector, or make this host a node",
      );
    if (profile === "peer-observer" && subnet.family === 6)
      throw badField(
        `${f}.profile`,
        `peer-observer nodes need an IPv4 mesh: infra-library's exporters listen on IPv4 only, so the collector could not scrape them over ${subnet.cidr}`,
        'use an IPv4 mesh.subnet such as "10.44.0.0/24" for a fleet with peer-observer nodes',
      );
    if (!config.ssh?.authorizedKeys?.length)
      throw badField(
        `${f}.ssh.authorizedKeys`,
        "no operator key: nobody could log in, and its secrets would be encrypted to no operator",
        "add your public key to defaults.ssh.authorizedKeys (every host) or to this host's ssh.authorizedKeys",
      );
    hosts.push({ name, role, address, facts, meshIp, buildOnTarget, config });
  }
  const collectors = hosts.filter((h) => h.role === "collector");
  if (collectors.length === 0)
    throw badField(
      `hosts.${hosts[0]!.name}.role`,
      "no host has the role collector: nothing would scrape the nodes",
      'set "role": "collector" on the host that should run Prometheus and Grafana',
    );
  if (collectors.length > 1)
    throw badField(
      `hosts.${collectors[1]!.name}.role`,
      `hosts.${collectors[0]!.name} is already the collector`,
      'one collector per fleet: make this host a "node"',
    );
  return { mesh: { subnet, port: meshPort }, hosts };
}

/** Reads and validates fleet.json; a failure names `--inventory` and then the field. */
export async function loadInventoryFile(path: string, flag = "--inventory"): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new UserError(`${flag}: ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      field: flag,
      hint: "give the path of a fleet.json file (see docs/fleet.md)",
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${flag}: ${path} is not valid JSON: ${(e as Error).message}`, {
      field: flag,
      hint: "fix the JSON syntax",
    });
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate)
    throw new UserError(`${duplicate}: appears twice in ${path}; JSON keeps only the last one`, {
      field: duplicate,
      hint:
        duplicate.startsWith("hosts.") && duplicate.split(".").length === 2
          ? "give each host its own name"
          : "keep one and delete the other",
    });
  return parseInventory(json, dirname(resolve(path)));
}
