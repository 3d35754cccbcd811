// Runtime validation of the Facts schema (src/facts/types.ts). Facts arrive from files the
// operator hands us (--facts), from the probe's parsed output and from bundled examples; a wrong
// value here would later pick the wrong disk or write an unreachable network config, so every
// field is checked and every error names its path: `facts.disks[0].sizeBytes: "big" is not ...`.
import { badField } from "../errors";
import { arr, bool, describe, int, isObject, noUnknownKeys, obj, oneOf, str } from "../util/fields";
import type { Address, Disk, Facts, NetInterface, Network, Partition, Route } from "./types";
import { FACTS_SCHEMA_VERSION } from "./types";

const ARCHES = ["x86_64", "aarch64", "i686", "armv7l", "riscv64", "other"] as const;
const VIRT = [
  "none", "kvm", "qemu", "xen", "xen-pv", "vmware", "hyperv", "virtualbox", "bhyve", "other-vm",
  "lxc", "openvz", "docker", "podman", "systemd-nspawn", "wsl", "other-container", "unknown",
] as const;
const TRANSPORTS = ["nvme", "sata", "virtio", "scsi", "usb", "mmc", "xen", "unknown"] as const;
const IF_KINDS = ["ethernet", "wlan", "bond", "bridge", "vlan", "loopback", "virtual", "other"] as const;
const SCOPES = ["global", "link", "host", "site"] as const;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const DEV_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** Validates parsed JSON as Facts and returns a clean copy (unknown keys are refused, not kept). */
export function validateFacts(json: unknown): Facts {
  const f = obj(json, "facts");
  noUnknownKeys(f, "facts", FACT_KEYS);
  if (f.schema !== FACTS_SCHEMA_VERSION) {
    throw badField("facts.schema", `${describe(f.schema)} is not a supported schema version`, `this version of nixnode-install reads schema ${FACTS_SCHEMA_VERSION}; re-run detect to produce current facts`);
  }
  const disks = arr(f.disks, "facts.disks").map((d, i) => disk(d, `facts.disks[${i}]`));
  unique(disks.map((d) => d.name), (i) => `facts.disks[${i}].name`, "disk name");
  return {
    schema: FACTS_SCHEMA_VERSION,
    source: oneOf(f.source, "facts.source", ["probe", "facter", "example"] as const),
    hostname: nullable(f.hostname, "facts.hostname", (v, p) => str(v, p, { pattern: /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, what: "a hostname" })),
    os: os(f.os),
    arch: oneOf(f.arch, "facts.arch", ARCHES),
    virtualisation: oneOf(f.virtualisation, "facts.virtualisation", VIRT),
    firmware: firmware(f.firmware),
    memory: memory(f.memory),
    cpu: cpu(f.cpu),
    disks,
    network: network(f.network),
    initrdModules: moduleList(f.initrdModules, "facts.initrdModules"),
    kernelModules: moduleList(f.kernelModules, "facts.kernelModules"),
    provider: provider(f.provider),
    operatorAddress: nullable(f.operatorAddress, "facts.operatorAddress", ip),
    access: access(f.access),
    tools: tools(f.tools),
    bootId: nullable(f.bootId, "facts.bootId", (v, p) => str(v, p, { nonEmpty: true })),
    warnings: arr(f.warnings, "facts.warnings").map((w, i) => str(w, `facts.warnings[${i}]`)),
  };
}

const FACT_KEYS = [
  "schema", "source", "hostname", "os", "arch", "virtualisation", "firmware", "memory", "cpu", "disks", "network",
  "initrdModules", "kernelModules", "provider", "operatorAddress", "access", "tools", "bootId", "warnings",
] as const;

type Check<T> = (v: unknown, field: string) => T;

function nullable<T>(v: unknown, field: string, check: Check<T>): T | null {
  if (v === null) return null;
  if (v === undefined) throw badField(field, "is missing", `write ${field}: null when the value is unknown`);
  return check(v, field);
}

function section(v: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
  const o = obj(v, field);
  noUnknownKeys(o, field, keys);
  return o;
}

/** Byte counts and other non-negative integers; JSON numbers are exact up to 2^53. */
function count(v: unknown, field: string, what = "a whole number"): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw badField(field, `${describe(v)} is not ${what} (0 or more)`);
  return v;
}

function unique(values: string[], fieldAt: (i: number) => string, what: string): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v)) throw badField(fieldAt(i), `${JSON.stringify(v)} appears twice`, `each ${what} must be listed once`);
    seen.add(v);
  });
}

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

function ip(v: unknown, field: string): string {
  const s = str(v, field);
  if (!isIpv4(s) && !isIpv6(s)) throw badField(field, `${describe(v)} is not an IPv4 or IPv6 address`);
  return s;
}

function ipOf(family: 4 | 6, v: unknown, field: string): string {
  const s = str(v, field);
  if (family === 4 ? !isIpv4(s) : !isIpv6(s)) throw badField(field, `${describe(v)} is not an IPv${family} address`, `the entry says family ${family}`);
  return s;
}

function os(v: unknown): Facts["os"] {
  const o = section(v, "facts.os", ["id", "versionId", "prettyName", "isNixos", "isNixosInstaller", "kernel"]);
  const s = (k: string) => nullable(o[k], `facts.os.${k}`, (x, p) => str(x, p));
  return {
    id: s("id"), versionId: s("versionId"), prettyName: s("prettyName"),
    isNixos: bool(o.isNixos, "facts.os.isNixos"),
    isNixosInstaller: bool(o.isNixosInstaller, "facts.os.isNixosInstaller"),
    kernel: s("kernel"),
  };
}

function firmware(v: unknown): Facts["firmware"] {
  const o = section(v, "facts.firmware", ["mode", "secureBoot", "kernelLockdown", "vendor"]);
  return {
    mode: oneOf(o.mode, "facts.firmware.mode", ["uefi", "bios", "unknown"] as const),
    secureBoot: nullable(o.secureBoot, "facts.firmware.secureBoot", bool),
    kernelLockdown: nullable(o.kernelLockdown, "facts.firmware.kernelLockdown", (x, p) => oneOf(x, p, ["none", "integrity", "confidentiality"] as const)),
    vendor: nullable(o.vendor, "facts.firmware.vendor", (x, p) => str(x, p)),
  };
}

function memory(v: unknown): Facts["memory"] {
  const o = section(v, "facts.memory", ["totalBytes", "swapBytes"]);
  const totalBytes = count(o.totalBytes, "facts.memory.totalBytes", "a whole number of bytes");
  if (totalBytes === 0) throw badField("facts.memory.totalBytes", "0 is not a memory size", "write the machine's RAM in bytes, e.g. 4294967296 for 4 GiB");
  return { totalBytes, swapBytes: nullable(o.swapBytes, "facts.memory.swapBytes", (x, p) => count(x, p, "a whole number of bytes")) };
}

function cpu(v: unknown): Facts["cpu"] {
  const o = section(v, "facts.cpu", ["vendor", "model", "cores"]);
  return {
    vendor: oneOf(o.vendor, "facts.cpu.vendor", ["intel", "amd", "arm", "other"] as const),
    model: nullable(o.model, "facts.cpu.model", (x, p) => str(x, p)),
    cores: nullable(o.cores, "facts.cpu.cores", (x, p) => int(x, p, 1, 65536)),
  };
}

function devPath(v: unknown, field: string, prefix: string): string {
  return str(v, field, { pattern: new RegExp(`^${prefix.replace(/\//g, "\\/")}[^\\s/][^\\s]*$`), what: `a path under ${prefix}` });
}

function mountpoints(v: unknown, field: string): string[] {
  return arr(v, field).map((m, i) => str(m, `${field}[${i}]`, { pattern: /^(\/\S*|\[SWAP\])$/, what: "an absolute mountpoint or [SWAP]" }));
}

function partition(v: unknown, field: string): Partition {
  const o = section(v, field, ["name", "path", "sizeBytes", "fstype", "label", "uuid", "mountpoints"]);
  const s = (k: string) => nullable(o[k], `${field}.${k}`, (x, p) => str(x, p));
  return {
    name: str(o.name, `${field}.name`, { pattern: DEV_NAME, what: "a device name like sda1" }),
    path: devPath(o.path, `${field}.path`, "/dev/"),
    sizeBytes: count(o.sizeBytes, `${field}.sizeBytes`),
    fstype: s("fstype"), label: s("label"), uuid: s("uuid"),
    mountpoints: mountpoints(o.mountpoints, `${field}.mountpoints`),
  };
}

function disk(v: unknown, field: string): Disk {
  const o = section(v, field, DISK_KEYS);
  const sizeBytes = count(o.sizeBytes, `${field}.sizeBytes`);
  return {
    name: str(o.name, `${field}.name`, { pattern: DEV_NAME, what: "a device name like sda or nvme0n1" }),
    path: devPath(o.path, `${field}.path`, "/dev/"),
    sizeBytes,
    model: nullable(o.model, `${field}.model`, (x, p) => str(x, p)),
    serial: nullable(o.serial, `${field}.serial`, (x, p) => str(x, p)),
    byId: arr(o.byId, `${field}.byId`).map((x, i) => devPath(x, `${field}.byId[${i}]`, "/dev/disk/by-id/")),
    byPath: arr(o.byPath, `${field}.byPath`).map((x, i) => devPath(x, `${field}.byPath[${i}]`, "/dev/disk/by-path/")),
    transport: oneOf(o.transport, `${field}.transport`, TRANSPORTS),
    rotational: bool(o.rotational, `${field}.rotational`),
    removable: bool(o.removable, `${field}.removable`),
    readOnly: bool(o.readOnly, `${field}.readOnly`),
    partitions: arr(o.partitions, `${field}.partitions`).map((p, i) => partition(p, `${field}.partitions[${i}]`)),
    mountpoints: mountpoints(o.mountpoints, `${field}.mountpoints`),
    holdsRoot: bool(o.holdsRoot, `${field}.holdsRoot`),
  };
}

const DISK_KEYS = [
  "name", "path", "sizeBytes", "model", "serial", "byId", "byPath", "transport", "rotational", "removable", "readOnly",
  "partitions", "mountpoints", "holdsRoot",
] as const;

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
    mac: nullable(o.mac, `${field}.mac`, (x, p) => str(x, p, { pattern: MAC, what: "a lower-case MAC address like 96:00:01:aa:bb:cc" })),
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
      throw badField(`${field}.destination`, `${describe(destination)} is not "default" or an IPv${family} CIDR`, family === 4 ? 'write e.g. "10.0.0.0/24"' : 'write e.g. "2001:db8::/64"');
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
  if (!devs.has(dev)) throw badField(field, `${describe(dev)} is not one of the listed interfaces`, `list it in facts.network.interfaces or fix the name (known: ${[...devs].join(", ") || "none"})`);
  return dev;
}

function gateway(v: unknown, field: string, family: 4 | 6, devs: Set<string>): Network["defaultGateway4"] {
  return nullable(v, field, (x, p) => {
    const o = section(x, p, ["address", "dev", "onLink"]);
    return { address: ipOf(family, o.address, `${p}.address`), dev: linkedDev(o.dev, `${p}.dev`, devs), onLink: bool(o.onLink, `${p}.onLink`) };
  });
}

function network(v: unknown): Network {
  const o = section(v, "facts.network", ["interfaces", "routes", "defaultGateway4", "defaultGateway6", "dns", "dhcp4"]);
  const interfaces = arr(o.interfaces, "facts.network.interfaces").map((x, i) => netInterface(x, `facts.network.interfaces[${i}]`));
  unique(interfaces.map((x) => x.name), (i) => `facts.network.interfaces[${i}].name`, "interface");
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

function moduleList(v: unknown, field: string): string[] {
  return arr(v, field).map((m, i) => str(m, `${field}[${i}]`, { pattern: /^[A-Za-z0-9_-]+$/, what: "a kernel module name like virtio_pci" }));
}

function provider(v: unknown): Facts["provider"] {
  const o = section(v, "facts.provider", ["vendor", "product", "hint"]);
  const s = (k: string) => nullable(o[k], `facts.provider.${k}`, (x, p) => str(x, p));
  return { vendor: s("vendor"), product: s("product"), hint: s("hint") };
}

function access(v: unknown): Facts["access"] {
  const o = section(v, "facts.access", ["user", "isRoot", "sudo"]);
  return {
    user: nullable(o.user, "facts.access.user", (x, p) => str(x, p, { nonEmpty: true })),
    isRoot: bool(o.isRoot, "facts.access.isRoot"),
    sudo: oneOf(o.sudo, "facts.access.sudo", ["root", "passwordless", "password", "none", "unknown"] as const),
  };
}

function tools(v: unknown): Facts["tools"] {
  const keys = ["tar", "cpio", "setsid", "curl", "wget", "kexec"] as const;
  const o = section(v, "facts.tools", keys);
  const t = {} as Facts["tools"];
  for (const k of keys) t[k] = bool(o[k], `facts.tools.${k}`);
  return t;
}

/** True when the value looks like the tool's own Facts JSON rather than some other document. */
export function looksLikeFacts(v: unknown): boolean {
  return isObject(v) && "schema" in v && ("disks" in v || "arch" in v);
}
