// nixnode.json: the operator's answers. Every field is optional in the file (defaults come from the
// facts, see defaults.ts); every field that IS present is checked here, and a bad one is refused
// with its path and the fix, before anything is written anywhere.
import { readFile } from "node:fs/promises";
import { UserError, badField } from "../errors";
import { arr, bool, describe, int, lockdownPort, noUnknownKeys, obj, oneOf, port, str } from "../util/fields";
import { parseIpOrCidr } from "../util/ip";
import { findRelease, NIXOS_RELEASES, DEFAULT_NIXOS_RELEASE } from "./releases";
import { findDuplicateKey } from "./duplicate-keys";
import { parsePublicKey } from "./ssh-public-key";
import { parseTimezone } from "./timezone";
import { DISK_LAYOUTS, PROFILES, type NodeConfig } from "./types";

export type DataDisk = NonNullable<NodeConfig["disk"]["data"]>;

/** nixnode.json as written by the operator: any subset of NodeConfig. */
export interface PartialConfig {
  hostname?: string;
  nixos?: string;
  timezone?: string;
  profile?: NodeConfig["profile"];
  disk?: Partial<Omit<NodeConfig["disk"], "data">> & { data?: DataDisk | null };
  ssh?: Partial<NodeConfig["ssh"]>;
  fail2ban?: Partial<NodeConfig["fail2ban"]>;
  install?: Partial<NodeConfig["install"]>;
  lockdown?: Partial<NodeConfig["lockdown"]>;
}

const TOP_KEYS = [
  "hostname",
  "nixos",
  "timezone",
  "profile",
  "disk",
  "ssh",
  "fail2ban",
  "install",
  "lockdown",
] as const;
const FILESYSTEMS = ["ext4", "xfs", "btrfs"] as const;
const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const RESERVED_USERS = [
  "root",
  "nobody",
  "daemon",
  "bin",
  "sys",
  "sshd",
  "messagebus",
  "systemd-network",
  "systemd-resolve",
  "bitcoin",
  "clightning",
  "nixbld",
  "operator",
];
const RESERVED_MOUNTS = [
  "/",
  "/boot",
  "/nix",
  "/nix/store",
  "/etc",
  "/home",
  "/root",
  "/var",
  "/tmp",
  "/usr",
  "/run",
  "/proc",
  "/sys",
  "/dev",
];

/** Runs a field check and gives its refusal a fix when the generic validator had none. */
function hinted<T>(check: () => T, hint: string): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof UserError && !e.hint) throw new UserError(e.message, { field: e.field, hint, cause: e.cause });
    throw e;
  }
}

export function parseHostname(v: unknown, field: string): string {
  const s = hinted(() => str(v, field), 'write the name in quotes, such as "btc-node-1"');
  if (s.length > 63)
    throw badField(field, `${describe(s)} is longer than 63 characters`, "use a short name such as btc-node-1");
  if (HOSTNAME.test(s.toLowerCase()) && s !== s.toLowerCase()) {
    throw badField(field, `${describe(s)} has capital letters`, `write it in lowercase: "${s.toLowerCase()}"`);
  }
  if (!HOSTNAME.test(s)) {
    throw badField(
      field,
      `${describe(s)} is not a valid host name`,
      "use letters a-z, digits and '-', not starting or ending with '-' (one DNS label, no dots)",
    );
  }
  return s;
}

/** A release from the table in releases.ts; anything else is refused with the ones that exist. */
export function parseNixosRelease(v: unknown, field: string): string {
  const known = NIXOS_RELEASES.map((r) => r.version);
  const s = hinted(() => str(v, field), `write the release in quotes, such as "${DEFAULT_NIXOS_RELEASE}"`);
  if (!findRelease(s))
    throw badField(
      field,
      `${describe(s)} is not a NixOS release this tool knows (known: ${known.join(", ")})`,
      `use "${DEFAULT_NIXOS_RELEASE}", the current stable release, or leave "${field}" out for it`,
    );
  return s;
}

/** "auto" | "none" | "512M" | "4G": refuses a unit-less or absurd size. */
export function parseSwap(v: unknown, field: string): string {
  const s = hinted(() => str(v, field), 'write "auto", "none" or a size such as "4G", in quotes');
  if (s === "auto" || s === "none") return s;
  const m = /^(\d+)([MG])$/.exec(s);
  const mib = m ? Number(m[1]) * (m[2] === "G" ? 1024 : 1) : NaN;
  if (!m || mib < 256 || mib > 256 * 1024) {
    throw badField(
      field,
      `${describe(s)} is not a swap size`,
      'use "auto" (sized from RAM), "none", or a size from "256M" to "256G" such as "4G"',
    );
  }
  return s;
}

export function parseIgnoreIP(v: unknown, field: string): string {
  const s = hinted(() => str(v, field), 'write an address such as "203.0.113.7" in quotes');
  if (!parseIpOrCidr(s))
    throw badField(
      field,
      `${describe(s)} is not an IP address or CIDR`,
      'write an address such as "203.0.113.7" or a network such as "198.51.100.0/24"',
    );
  return s.trim();
}

function parseDevice(v: unknown, field: string): string {
  const s = hinted(() => str(v, field, { nonEmpty: true }), "write /dev/sda, /dev/nvme0n1 or /dev/disk/by-id/...");
  if (!s.startsWith("/dev/"))
    throw badField(field, `${describe(s)} is not a device path`, "write /dev/sda, /dev/nvme0n1 or /dev/disk/by-id/...");
  return s;
}

function parseDataDisk(v: unknown, field: string): DataDisk | null {
  if (v === null) return null;
  const o = obj(v, field);
  noUnknownKeys(o, field, ["device", "mountpoint", "filesystem"]);
  const mountpoint =
    o.mountpoint === undefined
      ? "/data"
      : hinted(
          () =>
            str(o.mountpoint, `${field}.mountpoint`, {
              pattern: /^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/,
              what: "an absolute path such as /data",
            }),
          'use a folder of its own, such as "/data"',
        );
  if (RESERVED_MOUNTS.includes(mountpoint.replace(/\/+$/, "")))
    throw badField(
      `${field}.mountpoint`,
      `${mountpoint} belongs to the system disk`,
      "mount the data disk somewhere of its own, such as /data",
    );
  return {
    device: parseDevice(o.device, `${field}.device`),
    mountpoint,
    filesystem:
      o.filesystem === undefined
        ? "ext4"
        : hinted(
            () => oneOf(o.filesystem, `${field}.filesystem`, FILESYSTEMS),
            "ext4 is the safe default for a blockchain disk",
          ),
  };
}

export function parseAuthorizedKeys(v: unknown, field: string): string[] {
  const seen = new Map<string, number>();
  return arr(v, field).map((k, i) => {
    const key = parsePublicKey(k, `${field}[${i}]`);
    const first = seen.get(key.fingerprint);
    if (first !== undefined)
      throw badField(
        `${field}[${i}]`,
        `is the same key as ${field}[${first}] (${key.fingerprint})`,
        "list each key once",
      );
    seen.set(key.fingerprint, i);
    return key.line;
  });
}

function section(
  o: Record<string, unknown>,
  key: string,
  known: readonly string[],
): Record<string, unknown> | undefined {
  if (o[key] === undefined) return undefined;
  const s = obj(o[key], key);
  noUnknownKeys(s, key, known);
  return s;
}

/** Validates a parsed nixnode.json. `field` prefixes nothing: paths are as the operator sees them. */
export function parseConfig(json: unknown, field = "config"): PartialConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw badField(
      field,
      `${describe(json)} is not a JSON object`,
      'a nixnode.json file looks like { "hostname": "node1", ... }; see docs/config.md',
    );
  const o = json as Record<string, unknown>;
  noUnknownKeys(o, "", TOP_KEYS);
  const c: PartialConfig = {};
  if (o.hostname !== undefined) c.hostname = parseHostname(o.hostname, "hostname");
  if (o.nixos !== undefined) c.nixos = parseNixosRelease(o.nixos, "nixos");
  if (o.timezone !== undefined) c.timezone = parseTimezone(o.timezone, "timezone");
  if (o.profile !== undefined)
    c.profile = hinted(
      () => oneOf(o.profile, "profile", PROFILES),
      "base is a plain server; the others add a Bitcoin node",
    );

  const disk = section(o, "disk", ["layout", "devices", "swap", "data"]);
  if (disk) {
    c.disk = {};
    if (disk.layout !== undefined)
      c.disk.layout = hinted(
        () => oneOf(disk.layout, "disk.layout", DISK_LAYOUTS),
        "see docs/disk-layouts.md for what each layout does",
      );
    if (disk.devices !== undefined) {
      const list = arr(disk.devices, "disk.devices");
      if (list.length === 0 || list.length > 2)
        throw badField("disk.devices", `has ${list.length} entries`, "list one disk, or two for a mirror layout");
      c.disk.devices = list.map((d, i) => parseDevice(d, `disk.devices[${i}]`));
    }
    if (disk.swap !== undefined) c.disk.swap = parseSwap(disk.swap, "disk.swap");
    if (disk.data !== undefined) c.disk.data = parseDataDisk(disk.data, "disk.data");
  }

  const ssh = section(o, "ssh", ["port", "authorizedKeys", "adminUser"]);
  if (ssh) {
    c.ssh = {};
    if (ssh.port !== undefined)
      c.ssh.port = hinted(() => lockdownPort(ssh.port, "ssh.port"), "write a whole number such as 2222");
    if (ssh.authorizedKeys !== undefined)
      c.ssh.authorizedKeys = parseAuthorizedKeys(ssh.authorizedKeys, "ssh.authorizedKeys");
    if (ssh.adminUser !== undefined) {
      if (ssh.adminUser === null) c.ssh.adminUser = null;
      else {
        const u = hinted(
          () =>
            str(ssh.adminUser, "ssh.adminUser", {
              pattern: USERNAME,
              what: "a user name (a-z, 0-9, _ and -, at most 32)",
            }),
          'pick a short lowercase name such as "admin", or null to log in as root with keys',
        );
        if (RESERVED_USERS.includes(u))
          throw badField(
            "ssh.adminUser",
            `"${u}" is a system account`,
            'pick your own name such as "admin", or null to log in as root with keys',
          );
        c.ssh.adminUser = u;
      }
    }
  }

  const f2b = section(o, "fail2ban", ["enable", "ignoreIP"]);
  if (f2b) {
    c.fail2ban = {};
    if (f2b.enable !== undefined)
      c.fail2ban.enable = hinted(() => bool(f2b.enable, "fail2ban.enable"), "write true or false, without quotes");
    if (f2b.ignoreIP !== undefined)
      c.fail2ban.ignoreIP = arr(f2b.ignoreIP, "fail2ban.ignoreIP").map((ip, i) =>
        parseIgnoreIP(ip, `fail2ban.ignoreIP[${i}]`),
      );
  }

  const install = section(o, "install", ["copyFlakeToEtc", "rebootTimeoutSec"]);
  if (install) {
    c.install = {};
    if (install.copyFlakeToEtc !== undefined)
      c.install.copyFlakeToEtc = hinted(
        () => bool(install.copyFlakeToEtc, "install.copyFlakeToEtc"),
        "write true or false, without quotes",
      );
    if (install.rebootTimeoutSec !== undefined)
      c.install.rebootTimeoutSec = hinted(
        () => int(install.rebootTimeoutSec, "install.rebootTimeoutSec", 60, 3600, "a number of seconds"),
        "600 suits most machines; bare metal with slow firmware may need 1200",
      );
  }
  const lockdown = section(o, "lockdown", ["confirmTimeoutSec"]);
  if (lockdown?.confirmTimeoutSec !== undefined) {
    c.lockdown = {
      confirmTimeoutSec: hinted(
        () => int(lockdown.confirmTimeoutSec, "lockdown.confirmTimeoutSec", 30, 1800, "a number of seconds"),
        "120 is the default",
      ),
    };
  } else if (lockdown) c.lockdown = {};
  return c;
}

/** Reads and validates a nixnode.json; every failure names `--config` (or the given flag). */
export async function loadConfigFile(path: string, flag = "--config"): Promise<PartialConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "does not exist"
        : code === "EISDIR"
          ? "is a folder, not a file"
          : code === "EACCES"
            ? "cannot be read (permission denied)"
            : `cannot be read (${code ?? String(e)})`;
    throw new UserError(`${flag}: ${path} ${why}`, {
      field: flag,
      hint: "give the path of a nixnode.json file (see docs/config.md)",
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${flag}: ${path} is not valid JSON: ${(e as Error).message}`, {
      field: flag,
      hint: "fix the JSON syntax (a trailing comma or a missing quote is typical)",
    });
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate)
    throw new UserError(`${flag} ${path}: ${duplicate}: appears twice; JSON keeps only the last one`, {
      field: duplicate,
      hint: `keep one "${duplicate.split(".").pop()}" in that object and delete the other`,
    });
  try {
    return parseConfig(json);
  } catch (e) {
    if (e instanceof UserError)
      throw new UserError(`${flag} ${path}: ${e.message}`, { field: e.field, hint: e.hint, cause: e });
    throw e;
  }
}
