// Runtime validation of the Facts schema (src/facts/types.ts). Facts arrive from files the
// operator hands us (--facts), from the probe's parsed output and from bundled examples; a wrong
// value here would later pick the wrong disk or write an unreachable network config, so every
// field is checked and every error names its path: `facts.disks[0].sizeBytes: "big" is not ...`.
import { badField } from "../errors";
import { arr, bool, describe, int, isObject, noUnknownKeys, obj, oneOf, str } from "../util/fields";
import type { Disk, Facts, Partition } from "./types";
import { FACTS_SCHEMA_VERSION } from "./types";
import { count, DEV_NAME, ip, nullable, section, unique } from "./validate-helpers";
import { validateNetwork } from "./validate-network";

export { isIpv4, isIpv6 } from "../util/ip";

const ARCHES = ["x86_64", "aarch64", "i686", "armv7l", "riscv64", "other"] as const;
const VIRT = [
  "none",
  "kvm",
  "qemu",
  "xen",
  "xen-pv",
  "vmware",
  "hyperv",
  "virtualbox",
  "bhyve",
  "other-vm",
  "lxc",
  "openvz",
  "docker",
  "podman",
  "systemd-nspawn",
  "wsl",
  "other-container",
  "unknown",
] as const;
const TRANSPORTS = ["nvme", "sata", "virtio", "scsi", "usb", "mmc", "xen", "unknown"] as const;

/** Validates parsed JSON as Facts and returns a clean copy (unknown keys are refused, not kept). */
export function validateFacts(json: unknown): Facts {
  const f = obj(json, "facts");
  noUnknownKeys(f, "facts", FACT_KEYS);
  if (f.schema !== FACTS_SCHEMA_VERSION) {
    throw badField(
      "facts.schema",
      `${describe(f.schema)} is not a supported schema version`,
      `this version of nixnode-install reads schema ${FACTS_SCHEMA_VERSION}; re-run detect to produce current facts`,
    );
  }
  const disks = arr(f.disks, "facts.disks").map((d, i) => disk(d, `facts.disks[${i}]`));
  unique(
    disks.map((d) => d.name),
    (i) => `facts.disks[${i}].name`,
    "disk name",
  );
  checkDisksAgree(disks);
  return {
    schema: FACTS_SCHEMA_VERSION,
    source: oneOf(f.source, "facts.source", ["probe", "facter", "example"] as const),
    // The CURRENT hostname, whatever the old OS allowed (underscores too); the new one is checked by the planner.
    hostname: nullable(f.hostname, "facts.hostname", (v, p) =>
      str(v, p, { pattern: /^\S{1,253}$/, what: "a hostname (no spaces)" }),
    ),
    os: os(f.os),
    arch: oneOf(f.arch, "facts.arch", ARCHES),
    virtualisation: oneOf(f.virtualisation, "facts.virtualisation", VIRT),
    firmware: firmware(f.firmware),
    memory: memory(f.memory),
    cpu: cpu(f.cpu),
    disks,
    network: validateNetwork(f.network),
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
  "schema",
  "source",
  "hostname",
  "os",
  "arch",
  "virtualisation",
  "firmware",
  "memory",
  "cpu",
  "disks",
  "network",
  "initrdModules",
  "kernelModules",
  "provider",
  "operatorAddress",
  "access",
  "tools",
  "bootId",
  "warnings",
] as const;

function os(v: unknown): Facts["os"] {
  const o = section(v, "facts.os", ["id", "versionId", "prettyName", "isNixos", "isNixosInstaller", "kernel"]);
  const s = (k: string) => nullable(o[k], `facts.os.${k}`, (x, p) => str(x, p));
  return {
    id: s("id"),
    versionId: s("versionId"),
    prettyName: s("prettyName"),
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
    kernelLockdown: nullable(o.kernelLockdown, "facts.firmware.kernelLockdown", (x, p) =>
      oneOf(x, p, ["none", "integrity", "confidentiality"] as const),
    ),
    vendor: nullable(o.vendor, "facts.firmware.vendor", (x, p) => str(x, p)),
  };
}

function memory(v: unknown): Facts["memory"] {
  const o = section(v, "facts.memory", ["totalBytes", "swapBytes"]);
  const totalBytes = count(o.totalBytes, "facts.memory.totalBytes", "a whole number of bytes");
  if (totalBytes === 0)
    throw badField(
      "facts.memory.totalBytes",
      "0 is not a memory size",
      "write the machine's RAM in bytes, e.g. 4294967296 for 4 GiB",
    );
  return {
    totalBytes,
    swapBytes: nullable(o.swapBytes, "facts.memory.swapBytes", (x, p) => count(x, p, "a whole number of bytes")),
  };
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
  return str(v, field, {
    pattern: new RegExp(`^${prefix.replace(/\//g, "\\/")}[^\\s/][^\\s]*$`),
    what: `a path under ${prefix}`,
  });
}

function mountpoints(v: unknown, field: string): string[] {
  return arr(v, field).map((m, i) =>
    str(m, `${field}[${i}]`, { pattern: /^(\/.*|\[SWAP\])$/, what: "an absolute mountpoint or [SWAP]" }),
  );
}

function partition(v: unknown, field: string): Partition {
  const o = section(v, field, ["name", "path", "sizeBytes", "fstype", "label", "uuid", "mountpoints"]);
  const s = (k: string) => nullable(o[k], `${field}.${k}`, (x, p) => str(x, p));
  return {
    name: str(o.name, `${field}.name`, { pattern: DEV_NAME, what: "a device name like sda1" }),
    path: devPath(o.path, `${field}.path`, "/dev/"),
    sizeBytes: count(o.sizeBytes, `${field}.sizeBytes`),
    fstype: s("fstype"),
    label: s("label"),
    uuid: s("uuid"),
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

/** Filesystem types of a partition that belongs to an array spanning disks. */
const MULTI_DISK_MEMBER = /^(linux_raid_member|zfs_member|LVM2_member|btrfs|crypto_LUKS)$/;

/** The kernel name a /dev path stands for ("cciss!c0d0" is /dev/cciss/c0d0). */
function devPathOf(name: string): string {
  return `/dev/${name.replace(/!/g, "/")}`;
}

/**
 * What the planner relies on across disks: each disk's path is its own name (the disk the layout
 * erases is the one the operator was shown), and only one disk holds the running system's /.
 */
function checkDisksAgree(disks: Disk[]): void {
  disks.forEach((d, i) => {
    if (d.path !== devPathOf(d.name))
      throw badField(
        `facts.disks[${i}].path`,
        `${d.path} is not the disk named "${d.name}" (that would be ${devPathOf(d.name)})`,
        "the facts were edited or mixed from two machines; write them again with `nixnode-install detect root@HOST --save facts.json`",
      );
  });
  // Several disks hold / when / is on RAID (md, ZFS, LVM, btrfs) across them: then every one of them
  // carries a member of that array, and no partition of theirs is mounted at / itself. Anything
  // else that names two root disks contradicts itself, and the planner cannot tell which disk is meant.
  const roots = disks.flatMap((d, i) => (d.holdsRoot ? [i] : []));
  if (roots.length < 2) return;
  const direct = (d: Disk) => d.partitions.some((p) => p.mountpoints.includes("/"));
  const member = (d: Disk) =>
    d.partitions.length === 0 || d.partitions.some((p) => MULTI_DISK_MEMBER.test(p.fstype ?? ""));
  const bad = roots.find((i) => direct(disks[i]!) || !member(disks[i]!));
  if (bad === undefined) return;
  const blamed = bad === roots[0] ? roots[1]! : bad;
  const [a, b] = [disks[roots[0]!]!, disks[roots[1]!]!];
  throw badField(
    `facts.disks[${blamed}].holdsRoot`,
    `both ${a.path} and ${b.path} are said to hold /, but ${disks[bad]!.path} ${direct(disks[bad]!) ? "has / on a partition of its own" : "carries no RAID, ZFS or LVM member"}: a running system has one root unless it is on RAID across disks`,
    "set holdsRoot only on the disk that holds /, or write the facts again with `nixnode-install detect root@HOST --save facts.json`",
  );
}

const DISK_KEYS = [
  "name",
  "path",
  "sizeBytes",
  "model",
  "serial",
  "byId",
  "byPath",
  "transport",
  "rotational",
  "removable",
  "readOnly",
  "partitions",
  "mountpoints",
  "holdsRoot",
] as const;

function moduleList(v: unknown, field: string): string[] {
  return arr(v, field).map((m, i) =>
    str(m, `${field}[${i}]`, { pattern: /^[A-Za-z0-9_-]+$/, what: "a kernel module name like virtio_pci" }),
  );
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
