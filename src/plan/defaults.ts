// Answers the facts can give, and the merge of those defaults with the operator's answers into a
// complete NodeConfig. Anything the facts cannot answer (the operator's keys) is an error naming the
// missing answer: non-interactive runs never guess who may log in.
import { UserError, badField } from "../errors";
import type { Disk, Facts } from "../facts/types";
import { checkDataDiskFacts } from "../generate/disk-config";
import { diskLayout, layoutsFor } from "../generate/disk-layouts";
import type { PartialConfig } from "./config";
import { DEFAULT_NIXOS_RELEASE } from "./releases";
import type { NodeConfig } from "./types";

/** The final SSH port after lockdown when the operator picks none. Off 22 to cut log noise from scanners. */
export const DEFAULT_SSH_PORT = 2222;
/** The current stable release (one table: releases.ts). */
export const DEFAULT_NIXOS = DEFAULT_NIXOS_RELEASE;
const MIN_DISK_BYTES = 8 * 1024 ** 3;
/** Two disks count as a mirror pair when their sizes differ by at most this fraction. */
const MIRROR_TOLERANCE = 0.02;
/** Ports the profiles' services use: the SSH port must not collide with them. */
const PROFILE_PORTS: Record<NodeConfig["profile"], number[]> = {
  base: [],
  "nix-bitcoin": [8332, 8333, 9735, 50001],
  // infra-library: NATS (+ monitoring), peer-observer tools and extractor, exporters, nginx on WireGuard
  "peer-observer": [4222, 8222, 8282, 8283, 8284, 8332, 8333, 9100, 9256, 9586, 18282, 28213, 38821, 51820],
};

/** Disks a system could be installed on: real, writable, big enough. */
export function installableDisks(facts: Facts): Disk[] {
  return facts.disks.filter(
    (d) => !d.readOnly && !d.removable && d.sizeBytes >= MIN_DISK_BYTES && !/^(zram|loop|ram|sr|fd)\d/.test(d.name),
  );
}

const TRANSPORT_RANK: Record<Disk["transport"], number> = {
  nvme: 0,
  virtio: 1,
  scsi: 2,
  sata: 3,
  xen: 4,
  unknown: 5,
  mmc: 6,
  usb: 7,
};

/**
 * The system disk when the operator names none: the disk holding / (a VPS's only disk); otherwise the
 * fastest-looking one (SSD before HDD, NVMe first), the smaller of equals (leaving a big disk for data),
 * then kernel name order — deterministic, and reported in the plan's notes.
 */
export function preferredSystemDisk(facts: Facts): Disk | null {
  const disks = installableDisks(facts);
  const root = disks.find((d) => d.holdsRoot);
  if (root) return root;
  return (
    [...disks].sort(
      (a, b) =>
        Number(a.rotational) - Number(b.rotational) ||
        TRANSPORT_RANK[a.transport] - TRANSPORT_RANK[b.transport] ||
        a.sizeBytes - b.sizeBytes ||
        a.name.localeCompare(b.name),
    )[0] ?? null
  );
}

/** Pairs of installable disks of (nearly) equal size: candidates for a mirror layout. */
export function mirrorCandidates(facts: Facts): Array<[Disk, Disk]> {
  const disks = installableDisks(facts);
  const pairs: Array<[Disk, Disk]> = [];
  for (let i = 0; i < disks.length; i++) {
    for (let j = i + 1; j < disks.length; j++) {
      if (similarSize(disks[i]!, disks[j]!)) pairs.push([disks[i]!, disks[j]!]);
    }
  }
  return pairs;
}

function similarSize(a: Disk, b: Disk): boolean {
  return Math.abs(a.sizeBytes - b.sizeBytes) <= MIRROR_TOLERANCE * Math.max(a.sizeBytes, b.sizeBytes);
}

/** The stable path for a disk: by-id first, by-path when no by-id exists, the kernel name last. */
export function stablePath(d: Disk): string {
  return d.byId[0] ?? d.byPath[0] ?? d.path;
}

/** The facts' host name when it is usable as ours ("localhost" and FQDN tails are not). */
export function hostnameFromFacts(facts: Facts): string | null {
  const h = facts.hostname?.split(".")[0]?.toLowerCase();
  if (!h || h === "localhost" || !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(h)) return null;
  return h;
}

export function defaultsFromFacts(facts: Facts): Partial<NodeConfig> {
  const disk = preferredSystemDisk(facts);
  return {
    hostname: hostnameFromFacts(facts) ?? "nixnode",
    nixos: DEFAULT_NIXOS,
    timezone: "UTC",
    profile: "base",
    disk: { layout: "ext4", devices: disk ? [stablePath(disk)] : [], swap: "auto", data: null },
    ssh: { port: DEFAULT_SSH_PORT, authorizedKeys: [], adminUser: null },
    fail2ban: { enable: true, ignoreIP: [] },
    install: { copyFlakeToEtc: true, rebootTimeoutSec: 600 },
    lockdown: { confirmTimeoutSec: 120 },
  };
}

/** Finds the disk a path names: /dev/sda, /dev/disk/by-id/..., /dev/disk/by-path/... */
export function findDisk(facts: Facts, path: string): Disk | undefined {
  return facts.disks.find((d) => d.path === path || d.byId.includes(path) || d.byPath.includes(path));
}

function resolveDevice(facts: Facts, path: string, field: string): Disk {
  const part = facts.disks.flatMap((x) => x.partitions).find((p) => p.path === path);
  if (part) throw badField(field, `${path} is a partition`, "name the whole disk; the layout partitions it");
  const d = findDisk(facts, path);
  if (!d) {
    const list = facts.disks.map((x) => `${x.path} ${gib(x.sizeBytes)}`).join(", ") || "none found";
    throw badField(
      field,
      `${path} is not a disk on this machine (disks: ${list})`,
      "name one of the disks listed, preferably by /dev/disk/by-id",
    );
  }
  if (d.readOnly) throw badField(field, `${path} is read-only`, "pick a writable disk");
  if (d.sizeBytes < MIN_DISK_BYTES)
    throw badField(field, `${path} has only ${gib(d.sizeBytes)}; at least 8 GiB is needed`, "pick a bigger disk");
  return d;
}

export function gib(bytes: number): string {
  return bytes >= 1024 ** 4 ? `${(bytes / 1024 ** 4).toFixed(1)}T` : `${(bytes / 1024 ** 3).toFixed(1)}G`;
}

export interface ResolveOptions {
  interactive: false;
  /** Plan without any operator key (a bundled example, for inspection only): a note instead of an error. */
  allowNoKeys?: boolean;
}

/**
 * Merges answers over the facts' defaults and checks what only makes sense together (disks against
 * the machine, the data disk against the system disks, the port against the profile's services).
 * Device paths come back as stable paths (by-id where one exists). Notes say what was chosen for the
 * operator.
 */
export function resolveConfig(
  partial: PartialConfig,
  facts: Facts,
  opts: ResolveOptions = { interactive: false },
  notes: string[] = [],
): NodeConfig {
  const d = defaultsFromFacts(facts) as NodeConfig;
  const layout = partial.disk?.layout ?? d.disk.layout;
  const mirror = diskLayout(layout).disks === 2;
  const quoted = (ls: string[]) => ls.map((l) => `"${l}"`).join(" or ");
  let devices = partial.disk?.devices;
  if (!devices) {
    if (mirror) {
      const pair = mirrorCandidates(facts)[0];
      if (!pair)
        throw badField(
          "disk.devices",
          `layout "${layout}" needs two disks of similar size and none were found (disks: ${facts.disks.map((x) => `${x.path} ${gib(x.sizeBytes)}`).join(", ") || "none"})`,
          `choose ${quoted(layoutsFor(1))}, or list two disks in disk.devices`,
        );
      devices = pair.map(stablePath);
      notes.push(`mirror disks chosen: ${pair.map((x) => `${x.path} (${gib(x.sizeBytes)})`).join(" + ")}`);
    } else {
      if (d.disk.devices.length === 0)
        throw badField(
          "disk.devices",
          "missing, and no disk of at least 8 GiB was found on this machine",
          'name the system disk in disk.devices, e.g. ["/dev/sda"]',
        );
      devices = d.disk.devices;
      const chosen = findDisk(facts, devices[0]!)!;
      const others = installableDisks(facts).filter((x) => x !== chosen);
      notes.push(
        `system disk chosen: ${chosen.path} (${gib(chosen.sizeBytes)}${chosen.holdsRoot ? ", holds the current /" : ""})${others.length ? `; also present: ${others.map((x) => `${x.path} ${gib(x.sizeBytes)}`).join(", ")}` : ""}`,
      );
    }
  }
  if (mirror && devices.length !== 2)
    throw badField(
      "disk.devices",
      `layout "${layout}" needs exactly 2 disks, ${devices.length} given`,
      "list two disks of similar size",
    );
  if (!mirror && devices.length !== 1)
    throw badField(
      "disk.devices",
      `layout "${layout}" uses 1 disk, ${devices.length} given`,
      `list one disk, or choose ${quoted(layoutsFor(2))} for two`,
    );
  const disks = devices.map((p, i) => resolveDevice(facts, p, `disk.devices[${i}]`));
  if (disks.length === 2) {
    if (disks[0] === disks[1])
      throw badField(
        "disk.devices[1]",
        `${devices[1]} is the same disk as disk.devices[0]`,
        "a mirror needs two different disks",
      );
    if (!similarSize(disks[0]!, disks[1]!))
      throw badField(
        "disk.devices",
        `the mirror disks differ in size (${gib(disks[0]!.sizeBytes)} and ${gib(disks[1]!.sizeBytes)})`,
        "pick two disks of the same size",
      );
  }
  let data = partial.disk?.data ?? null;
  if (data) {
    const dd = resolveDevice(facts, data.device, "disk.data.device");
    if (disks.includes(dd))
      throw badField(
        "disk.data.device",
        `${data.device} is also a system disk`,
        "the data disk must be a separate disk that the install does not repartition",
      );
    // a partitioned data disk would be neither formatted nor mounted by disko: the install would
    // stop after the system disk was already erased, so refuse it now
    checkDataDiskFacts(dd);
    data = { ...data, device: stablePath(dd) };
  }

  const profile = partial.profile ?? d.profile;
  const sshPort = partial.ssh?.port ?? d.ssh.port;
  if (PROFILE_PORTS[profile].includes(sshPort)) {
    throw badField(
      "ssh.port",
      `${sshPort} is used by the ${profile} profile's services`,
      `pick another port, e.g. ${DEFAULT_SSH_PORT}`,
    );
  }
  const keys = partial.ssh?.authorizedKeys ?? [];
  if (keys.length === 0 && opts.allowNoKeys) {
    notes.push(
      "ssh.authorizedKeys: none given; this flake is for looking at only, and the install refuses it until a key is added",
    );
  } else if (keys.length === 0) {
    throw new UserError("ssh.authorizedKeys: missing; without a key nobody can log in to the new system", {
      field: "ssh.authorizedKeys",
      hint: 'add your public key to nixnode.json: "ssh": { "authorizedKeys": ["ssh-ed25519 AAAA... you@laptop"] } (cat ~/.ssh/id_ed25519.pub)',
    });
  }
  const hostname = partial.hostname ?? d.hostname;
  if (!partial.hostname && !hostnameFromFacts(facts))
    notes.push(`host name: the facts carry no usable host name, so "${hostname}" (set "hostname" in nixnode.json)`);
  return {
    hostname,
    nixos: partial.nixos ?? d.nixos,
    timezone: partial.timezone ?? d.timezone,
    profile,
    disk: { layout, devices: disks.map(stablePath), swap: partial.disk?.swap ?? d.disk.swap, data },
    ssh: {
      port: sshPort,
      authorizedKeys: keys,
      adminUser: partial.ssh?.adminUser === undefined ? d.ssh.adminUser : partial.ssh.adminUser,
    },
    fail2ban: {
      enable: partial.fail2ban?.enable ?? d.fail2ban.enable,
      ignoreIP: partial.fail2ban?.ignoreIP ?? d.fail2ban.ignoreIP,
    },
    install: { ...d.install, ...partial.install },
    lockdown: { ...d.lockdown, ...partial.lockdown },
  };
}
