// hosts/<host>/host.json: the ONE place that finds a flake's host, reads and validates EVERY field
// of its host.json, and writes it back. The install and the lockdown both ask this module, so a
// value that reaches a .nix file or a remote command has passed the same checks as nixnode.json,
// and a refusal names the file and the field (`hosts/node1/host.json: lockdown.port: ...`, exit 2).
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { UserError, badField } from "../errors";
import { parseAuthorizedKeys, parseHostname, parseIgnoreIP } from "../plan/config";
import { PROFILES, type HostData } from "../plan/types";
import { arr, bool, describe, int, isObject, noUnknownKeys, obj, oneOf, port as portField, str } from "../util/fields";
import { isIpv4, isIpv6, parseIpOrCidr } from "../util/ip";
import { writeAtomic } from "../util/write-atomic";

export const SYSTEMS = ["x86_64-linux", "aarch64-linux"] as const;
export const ROOT_LOGIN = ["yes", "prohibit-password", "no"] as const;
export const LOCKDOWN_STAGES = ["none", "dual-port", "final"] as const;
export const BOOT_MODES = ["uefi", "bios", "unknown"] as const;

const STATE_VERSION = /^\d{2}\.(05|11)$/;
// tz database names (UTC, Europe/Berlin, America/Argentina/Buenos_Aires, Etc/GMT+5, EST5EDT); which
// ones exist is nixnode.json's check (plan), here only the shape a name can have.
const TIMEZONE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;
const USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const BANTIME = /^\d{1,9}[smhdw]?$/;
/** Linux interface names: at most 15 bytes, no slash, space or colon; kept to a safe alphabet. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

export interface FlakeHostFile {
  flakeDir: string;
  hostname: string;
  hostDir: string;
  path: string;
  /** Relative path as the operator sees it, the prefix of every refusal: hosts/<name>/host.json */
  file: string;
}

export function hostJsonPath(flakeDir: string, hostName: string): string {
  return join(flakeDir, "hosts", hostName, "host.json");
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Which host of the flake: `hostname` when given (--host), else nixnode.json's hostname when that
 * host exists, else the only hosts/<name>/host.json. `field` names the flag that pointed at the flake.
 */
export function locateHostFile(flakeDir: string, opts: { hostname?: string; field?: string } = {}): FlakeHostFile {
  const field = opts.field ?? "--flake";
  if (!isDir(flakeDir) || !existsSync(join(flakeDir, "flake.nix")))
    throw badField(
      field,
      `${flakeDir} has no flake.nix`,
      "point --flake at the folder `nixnode-install plan` or the install generated (it holds flake.nix and hosts/)",
    );
  const hostsDir = join(flakeDir, "hosts");
  const hosts = isDir(hostsDir)
    ? readdirSync(hostsDir)
        .filter((h) => existsSync(hostJsonPath(flakeDir, h)))
        .sort()
    : [];
  let name = opts.hostname;
  if (name !== undefined) {
    parseHostname(name, "--host");
    if (!hosts.includes(name))
      throw badField(
        "--host",
        `${join(hostsDir, name, "host.json")} does not exist`,
        hosts.length
          ? `name one of the flake's hosts: ${hosts.join(", ")}`
          : "name a host that has hosts/<name>/host.json",
      );
  } else {
    name = configuredHost(flakeDir, field, hosts) ?? (hosts.length === 1 ? hosts[0] : undefined);
    if (!name)
      throw new UserError(
        hosts.length
          ? `${field}: the flake has several hosts (${hosts.join(", ")}); which one?`
          : `${field}: ${flakeDir} has no hosts/<name>/host.json`,
        {
          field: hosts.length ? "--host" : field,
          hint: hosts.length ? "name it with --host NAME" : "point --flake at the folder the plan generated",
        },
      );
  }
  return hostFileOf(flakeDir, name);
}

/** nixnode.json's hostname, when it names an existing host (the flake the plan wrote). */
function configuredHost(flakeDir: string, field: string, hosts: string[]): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(flakeDir, "nixnode.json"), "utf8");
  } catch {
    return undefined;
  }
  let cfg: unknown;
  try {
    cfg = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${field}: ${join(flakeDir, "nixnode.json")} is not valid JSON (${(e as Error).message})`, {
      field,
      hint: "fix the JSON or restore the file from git",
    });
  }
  const h = isObject(cfg) ? cfg.hostname : undefined;
  return typeof h === "string" && hosts.includes(h) ? h : undefined;
}

function portList(v: unknown, field: string, opts: { nonEmpty?: boolean } = {}): number[] {
  const list = arr(v, field).map((p, i) => {
    if (typeof p !== "number") throw badField(`${field}[${i}]`, `${describe(p)} is not a port number (1-65535)`);
    return portField(p, `${field}[${i}]`);
  });
  if (opts.nonEmpty && list.length === 0) throw badField(field, "is empty", "list at least one port, such as [ 22 ]");
  list.forEach((p, i) => {
    if (list.indexOf(p) !== i) throw badField(`${field}[${i}]`, `${p} is listed twice`, "list each port once");
  });
  return list;
}

function ipValue(v: unknown, field: string, opts: { cidr: boolean }): string {
  const s = str(v, field);
  const p = parseIpOrCidr(s);
  if (!p || s !== s.trim() || (opts.cidr ? p.prefix === null : p.prefix !== null))
    throw badField(
      field,
      `${describe(s)} is not ${opts.cidr ? "an address with its prefix, such as 203.0.113.7/24" : "an IP address"}`,
      "restore the value the plan wrote, or regenerate the flake",
    );
  return s;
}

function ipList(v: unknown, field: string, opts: { cidr: boolean }): string[] {
  return arr(v, field).map((a, i) => ipValue(a, `${field}[${i}]`, opts));
}

function network(v: unknown): HostData["network"] {
  const n = obj(v, "network");
  arr(n.interfaces, "network.interfaces").forEach((raw, i) => {
    const f = `network.interfaces[${i}]`;
    const it = obj(raw, f);
    str(it.name, `${f}.name`, { pattern: IFNAME, what: "an interface name (letters, digits, _ . -; at most 15)" });
    const mac = str(it.mac, `${f}.mac`);
    if (mac !== "" && !MAC.test(mac))
      throw badField(
        `${f}.mac`,
        `${describe(mac)} is not a MAC address`,
        'write it as "96:00:04:03:57:eb", or "" for any',
      );
    bool(it.dhcp4, `${f}.dhcp4`);
    bool(it.ipv6AcceptRA, `${f}.ipv6AcceptRA`);
    // absent in host.json files written before it existed (network.nix then requires the interface)
    if (it.requiredForOnline !== undefined) bool(it.requiredForOnline, `${f}.requiredForOnline`);
    // absent in host.json files written before it existed (network.nix then requires the interface)
    if (it.requiredForOnline !== undefined) bool(it.requiredForOnline, `${f}.requiredForOnline`);
    ipList(it.addresses, `${f}.addresses`, { cidr: true });
    arr(it.routes, `${f}.routes`).forEach((r, j) => {
      const rf = `${f}.routes[${j}]`;
      const route = obj(r, rf);
      ipValue(route.destination, `${rf}.destination`, { cidr: true });
      const gw = str(route.gateway, `${rf}.gateway`);
      if (!isIpv4(gw) && !isIpv6(gw))
        throw badField(`${rf}.gateway`, `${describe(gw)} is not an IP address`, "restore the value the plan wrote");
      bool(route.onLink, `${rf}.onLink`);
    });
  });
  ipList(n.dns, "network.dns", { cidr: false });
  return v as HostData["network"];
}

/**
 * Every field of a parsed host.json, checked as nixnode.json's are. Field paths are bare
 * (`lockdown.port`); readHostFile prefixes the file. Keys this version does not know are kept
 * as they are (other modules of the flake may read them) but never reach a command.
 */
export function validateHostData(raw: unknown): HostData {
  const h = obj(raw, "host.json");
  if (h.schema !== 1)
    throw badField("schema", `${describe(h.schema)} is not 1`, "regenerate the flake with this version");
  parseHostname(h.hostname, "hostname");
  oneOf(h.system, "system", SYSTEMS);
  str(h.stateVersion, "stateVersion", { pattern: STATE_VERSION, what: 'a NixOS release such as "25.11"' });
  str(h.timezone, "timezone", { pattern: TIMEZONE, what: 'a time zone such as "UTC" or "Europe/Berlin"' });
  oneOf(h.profile, "profile", PROFILES);

  const ssh = obj(h.ssh, "ssh");
  const sshPorts = portList(ssh.ports, "ssh.ports", { nonEmpty: true });
  bool(ssh.passwordAuthentication, "ssh.passwordAuthentication");
  oneOf(ssh.permitRootLogin, "ssh.permitRootLogin", ROOT_LOGIN);
  parseAuthorizedKeys(ssh.authorizedKeys, "ssh.authorizedKeys");
  if (ssh.adminUser !== null) {
    str(ssh.adminUser, "ssh.adminUser", {
      pattern: USERNAME,
      what: "a user name (a-z, 0-9, _ and -, at most 32) or null",
    });
    if (ssh.adminUser === "root")
      throw badField("ssh.adminUser", '"root" is not an admin user', "write null to log in as root with keys");
  }
  if (ssh.hostKeyFingerprint !== null)
    str(ssh.hostKeyFingerprint, "ssh.hostKeyFingerprint", {
      pattern: FINGERPRINT,
      what: "a SHA256:... fingerprint or null",
    });

  const fw = obj(h.firewall, "firewall");
  bool(fw.enable, "firewall.enable");
  portList(fw.allowedTCPPorts, "firewall.allowedTCPPorts");
  portList(fw.allowedUDPPorts, "firewall.allowedUDPPorts");

  const f2b = obj(h.fail2ban, "fail2ban");
  bool(f2b.enable, "fail2ban.enable");
  arr(f2b.ignoreIP, "fail2ban.ignoreIP").forEach((a, i) => {
    const s = parseIgnoreIP(a, `fail2ban.ignoreIP[${i}]`);
    if (s !== a) throw badField(`fail2ban.ignoreIP[${i}]`, `${describe(a)} has spaces around it`, `write "${s}"`);
  });
  int(f2b.maxretry, "fail2ban.maxretry", 1, 1000);
  str(f2b.bantime, "fail2ban.bantime", { pattern: BANTIME, what: 'a duration such as "10m", "1h" or "600"' });

  const l = obj(h.lockdown, "lockdown");
  oneOf(l.stage, "lockdown.stage", LOCKDOWN_STAGES);
  if (typeof l.port !== "number") throw badField("lockdown.port", `${describe(l.port)} is not a port number (1-65535)`);
  const lp = portField(l.port, "lockdown.port");
  if (lp === 22)
    throw badField(
      "lockdown.port",
      "22 is the port the lockdown closes",
      "choose another port such as 2222 (1024-65535 is usual)",
    );
  if (l.stage === "none" && sshPorts.length === 1 && sshPorts[0] !== 22 && sshPorts[0] === lp)
    throw badField(
      "lockdown.port",
      `${lp} is the port sshd already listens on (ssh.ports) before any lockdown`,
      'choose a new port, or set lockdown.stage to "final" if the lockdown already happened',
    );

  network(h.network);
  const boot = obj(h.boot, "boot");
  oneOf(boot.mode, "boot.mode", BOOT_MODES);
  if (h.health !== undefined) healthChecks(h.health);
  return raw as HostData;
}

export const HEALTH_KINDS = ["tcp", "unit", "interface", "http"] as const;
const CHECK_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.,:@()+/-]{0,63}$/;
// systemd unit names: letters, digits, ":_.@-" and "\\" escapes, at most 255, an optional type
// suffix; never a leading "-" (it would read as an option)
const UNIT = /^[A-Za-z0-9_:@\\][A-Za-z0-9_:.@\\-]{0,254}$/;
const HTTP_URL = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?(\/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?$/;
const CHECK_KEYS: Record<(typeof HEALTH_KINDS)[number], string[]> = {
  tcp: ["address", "port"],
  unit: ["unit"],
  interface: ["interface"],
  http: ["url", "status"],
};

/** health.checks (optional): what `switch` checks before it acknowledges (docs/switch.md). */
function healthChecks(v: unknown): void {
  const health = obj(v, "health");
  noUnknownKeys(health, "health", ["checks"]);
  arr(health.checks, "health.checks").forEach((raw, i) => {
    const f = `health.checks[${i}]`;
    const c = obj(raw, f);
    const kind = oneOf(c.kind, `${f}.kind`, HEALTH_KINDS);
    noUnknownKeys(c, f, ["kind", "name", "timeoutSec", ...CHECK_KEYS[kind]]);
    if (c.name !== undefined)
      str(c.name, `${f}.name`, {
        pattern: CHECK_NAME,
        what: "a label of letters, digits, spaces and _ . , : @ ( ) + / - (at most 64)",
      });
    if (c.timeoutSec !== undefined) int(c.timeoutSec, `${f}.timeoutSec`, 1, 300, "a number of seconds");
    if (kind === "tcp") {
      const a = str(c.address, `${f}.address`);
      if (!isIpv4(a) && !isIpv6(a))
        throw badField(
          `${f}.address`,
          `${describe(a)} is not an IP address`,
          'write a literal such as "127.0.0.1" or "::1"',
        );
      if (typeof c.port !== "number") throw badField(`${f}.port`, `${describe(c.port)} is not a port number (1-65535)`);
      portField(c.port, `${f}.port`);
    } else if (kind === "unit") {
      str(c.unit, `${f}.unit`, {
        pattern: UNIT,
        what: 'a systemd unit name such as "nats" or "bitcoind.service"',
      });
    } else if (kind === "interface") {
      const n = str(c.interface, `${f}.interface`, {
        pattern: IFNAME,
        what: "an interface name (letters, digits, _ . -; at most 15)",
      });
      if (n === "." || n === ".." || n.startsWith("-"))
        throw badField(
          `${f}.interface`,
          `${describe(n)} is not an interface name`,
          'write it as ip link shows it, e.g. "wg-fleet"',
        );
    } else {
      const u = str(c.url, `${f}.url`, {
        pattern: HTTP_URL,
        what: "an http:// URL on localhost, 127.0.0.1 or [::1]",
      });
      const m = /:(\d{1,5})(\/|$)/.exec(u.slice("http://".length));
      if (m) portField(Number(m[1]), `${f}.url`);
      int(c.status, `${f}.status`, 100, 599, "an HTTP status code");
    }
  });
}

/** Parses host.json text; every refusal is `<file>: <field>: ...` with exit 2. */
export function parseHostJson(text: string, file: string): HostData {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw badField(
      file,
      `is not valid JSON (${(e as Error).message})`,
      "fix the file, restore it from git, or regenerate it with nixnode-install plan",
    );
  }
  if (!isObject(raw))
    throw badField(
      file,
      `${describe(raw)} is not a JSON object`,
      "restore it from git or regenerate it with nixnode-install plan",
    );
  try {
    return validateHostData(raw);
  } catch (e) {
    if (e instanceof UserError && e.field)
      throw new UserError(`${file}: ${e.message}`, {
        field: `${file}: ${e.field}`,
        hint: e.hint ?? "restore the value the plan wrote (git diff shows what changed), or regenerate the flake",
        cause: e,
      });
    throw e;
  }
}

export interface HostFile extends FlakeHostFile {
  /** host.json exactly as read, before this run touched it. */
  text: string;
  host: HostData;
}

export function readHostFile(flakeDir: string, opts: { hostname?: string; field?: string } = {}): HostFile {
  return readHostFileAt(locateHostFile(flakeDir, opts));
}

/** hosts/<hostName>/host.json of a flake whose host is already known (no flake.nix lookup). */
export function hostFileOf(flakeDir: string, hostName: string): FlakeHostFile {
  return {
    flakeDir,
    hostname: hostName,
    hostDir: join(flakeDir, "hosts", hostName),
    path: hostJsonPath(flakeDir, hostName),
    file: `hosts/${hostName}/host.json`,
  };
}

export function readHostFileAt(at: FlakeHostFile): HostFile {
  let text: string;
  try {
    // a symlink could make the tool rewrite a file outside the flake
    if (lstatSync(at.path).isSymbolicLink() || !statSync(at.path).isFile())
      throw badField(at.file, "is not a regular file", "restore it from git or regenerate the flake");
    text = readFileSync(at.path, "utf8");
  } catch (e) {
    throw badField(
      at.file,
      `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      "check its permissions",
    );
  }
  return { ...at, text, host: parseHostJson(text, at.file) };
}

export function renderHostJson(host: HostData): string {
  return JSON.stringify(host, null, 2) + "\n";
}

/** Validates `host` (a bug upstream must not reach the flake) and replaces host.json atomically. */
export function writeHostFile(at: Pick<FlakeHostFile, "path" | "file">, host: HostData): void {
  parseHostJson(renderHostJson(host), at.file);
  mkdirSync(dirname(at.path), { recursive: true });
  writeAtomic(at.path, renderHostJson(host));
}

/** Puts back exactly the text that was read (the lockdown's staged tarball). */
export function restoreHostFile(at: Pick<FlakeHostFile, "path">, text: string): void {
  writeAtomic(at.path, text);
}
