// The bad-input promise, row by row, through the built CLI (test/helpers/cli.ts): exit 2, the field
// or flag named with a fix, and NOTHING changed: the working folder (where --out/--flake/--save
// point), HOME, TMPDIR (content hashes before and after) and the target, which is a loopback
// listener that records every connection: a row whose problem is local must not reach it at all.
// Hostile strings (shell, Nix, quotes, newlines, RTL and zero-width characters) go into every
// free-text field. The last block proves that what is ACCEPTED of them lands only inside strings:
// every generated .nix still parses, and Nix reads the value back unchanged.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";

const base = mkdtempSync(join(tmpdir(), "nn-badinput-"));
chmodSync(base, 0o755);
afterAll(() => rmSync(base, { recursive: true, force: true }));

const keygen = (dir: string, name: string, comment: string) => {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", join(dir, name)]);
  return readFileSync(join(dir, `${name}.pub`), "utf8").trim();
};
const keysDir = join(base, "keys");
mkdirSync(keysDir);
const KEY = keygen(keysDir, "op", "op@laptop");
const KEY_BLOB = KEY.split(" ").slice(0, 2).join(" ");

/** Content hash of a tree: paths, types, modes, file contents and link targets. */
function snapshot(dir: string): string {
  const h = createHash("sha256");
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      h.update(`${rel}/${name}\0${st.mode}\0`);
      if (st.isSymbolicLink()) h.update(`->${readlinkSync(p)}\0`);
      else if (st.isDirectory()) walk(p, `${rel}/${name}`);
      else if (st.isFile()) h.update(readFileSync(p));
    }
  };
  walk(dir, "");
  return h.digest("hex");
}

interface Sandbox {
  work: string;
  home: string;
  tmp: string;
  dest: string;
  /** a nixnode.json in work with these top-level fields over a valid base */
  config(over: Record<string, unknown>): string;
}

let n = 0;
async function sandbox(): Promise<Sandbox & { server: Server; connections: () => number }> {
  const root = join(base, `row-${n++}`);
  const work = join(root, "work");
  const home = join(root, "home");
  const tmp = join(root, "tmp");
  for (const d of [work, join(home, ".ssh"), tmp]) mkdirSync(d, { recursive: true });
  writeFileSync(join(home, ".ssh", "id_ed25519"), readFileSync(join(keysDir, "op")), { mode: 0o600 });
  writeFileSync(join(home, ".ssh", "id_ed25519.pub"), KEY + "\n");
  writeFileSync(join(home, ".ssh", "known_hosts"), "");
  writeFileSync(join(work, "afile"), "not a folder\n");
  symlinkSync(join(root, "nowhere"), join(work, "dangling"));
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    work,
    home,
    tmp,
    dest: `root@127.0.0.1:${port}`,
    server,
    connections: () => connections,
    config(over) {
      const file = join(work, `config-${n++}.json`);
      writeFileSync(file, JSON.stringify({ hostname: "n1", ssh: { authorizedKeys: [KEY] }, ...over }));
      return file;
    },
  };
}

const RTL = "\u202E";
const ZW = "\u200B";
type Row = {
  /** what is wrong, in words */
  name: string;
  field: string;
  args: (s: Sandbox) => string[];
  setup?: (s: Sandbox) => void;
  /** run as nobody (65534): permission problems are invisible to root */
  asNobody?: boolean;
};

const sshConfig = (s: Sandbox, text: string) => {
  writeFileSync(join(s.work, "ssh_config"), `Host *\n${text}\n`);
  return join(s.work, "ssh_config");
};
const plan = (s: Sandbox, ...extra: string[]) => [
  "plan",
  "--example",
  "hetzner-cloud",
  "--out",
  join(s.work, "out"),
  "--yes",
  ...extra,
];
const planWith = (s: Sandbox, over: Record<string, unknown>) => plan(s, "--config", s.config(over));
/** A real flake (made once by `plan`), copied into the row's working folder: its snapshot covers it. */
const FLAKE = join(base, "flake-template");
const withFlake = (s: Sandbox) => cpSync(FLAKE, join(s.work, "flake"), { recursive: true });
const lockdown = (s: Sandbox, ...extra: string[]) => ["lockdown", s.dest, "--flake", join(s.work, "flake"), ...extra];
const install = (s: Sandbox, ...extra: string[]) => [s.dest, "--yes", "--config", s.config({}), ...extra];

/** A fleet flake's data (fleet/fleet.json) naming host n1 at the row's loopback listener. */
const fleetFlake = (s: Sandbox) => {
  mkdirSync(join(s.work, "fleet", "fleet"), { recursive: true });
  writeFileSync(join(s.work, "fleet", "flake.nix"), "{ outputs = _: { }; }\n");
  const [, hostPort] = s.dest.split("@");
  const [host, port] = hostPort!.split(":");
  const deployment = { targetHost: host, targetPort: Number(port), targetUser: "root", buildOnTarget: false, tags: [] };
  writeFileSync(
    join(s.work, "fleet", "fleet", "fleet.json"),
    JSON.stringify({ schema: 1, hosts: { n1: { name: "n1", role: "collector", address: host, deployment } } }),
  );
};

const ROWS: Row[] = [
  // the command line itself
  { name: "a mistyped command", field: "command", args: (s) => ["detcet", s.dest] },
  { name: "another mistyped command", field: "command", args: (s) => ["lockdwon", s.dest] },
  // --log-dir (every command)
  {
    name: "--log-dir is a file",
    field: "--log-dir",
    args: (s) => ["detect", s.dest, "--log-dir", join(s.work, "afile")],
  },
  {
    name: "--log-dir is a dangling symlink",
    field: "--log-dir",
    args: (s) => ["detect", s.dest, "--log-dir", join(s.work, "dangling")],
  },
  {
    name: "--log-dir inside /proc",
    field: "--log-dir",
    args: (s) => ["detect", s.dest, "--log-dir", "/proc/nixnode-logs"],
  },
  {
    name: "--log-dir under a file",
    field: "--log-dir",
    args: (s) => ["detect", s.dest, "--log-dir", join(s.work, "afile", "logs")],
  },
  { name: "--log-dir is empty", field: "--log-dir", args: (s) => ["detect", s.dest, "--log-dir", ""] },
  {
    name: "--log-dir with a newline",
    field: "--log-dir",
    args: (s) => ["detect", s.dest, "--log-dir", join(s.work, "a\nb")],
  },
  {
    name: "--log-dir without write permission",
    field: "--log-dir",
    asNobody: true,
    setup: (s) => mkdirSync(join(s.work, "locked"), { mode: 0o755 }),
    args: (s) => ["detect", s.dest, "--log-dir", join(s.work, "locked", "logs")],
  },
  // ssh flags: checked before the first packet
  {
    name: "--ssh-config is a dangling symlink",
    field: "--ssh-config",
    args: (s) => ["detect", s.dest, "--ssh-config", join(s.work, "dangling")],
  },
  { name: "--ssh-config is a folder", field: "--ssh-config", args: (s) => ["detect", s.dest, "--ssh-config", s.work] },
  {
    name: "--ssh-config inside /proc",
    field: "--ssh-config",
    args: (s) => ["detect", s.dest, "--ssh-config", "/proc/self/status"],
  },
  {
    name: "ssh config Port 833w",
    field: "--ssh-config",
    args: (s) => ["detect", s.dest, "--ssh-config", sshConfig(s, "  Port 833w")],
  },
  {
    name: "ssh config Port 0",
    field: "--ssh-config",
    args: (s) => ["detect", "n1", "--ssh-config", sshConfig(s, "  Port 0")],
  },
  {
    name: "ssh config HostName with $()",
    field: "--ssh-config",
    args: (s) => ["detect", "n1", "--ssh-config", sshConfig(s, '  HostName "$(touch /tmp/pwned)"')],
  },
  {
    name: "ssh config HostName with ;",
    field: "--ssh-config",
    args: (s) => ["detect", "n1", "--ssh-config", sshConfig(s, "  HostName 127.0.0.1;id")],
  },
  {
    name: "ssh config HostName with backticks",
    field: "--ssh-config",
    args: (s) => ["detect", "n1", "--ssh-config", sshConfig(s, "  HostName `id`.example.org")],
  },
  {
    name: "ssh config HostName with zero-width space",
    field: "--ssh-config",
    args: (s) => ["detect", "n1", "--ssh-config", sshConfig(s, `  HostName exa${ZW}mple.org`)],
  },
  {
    name: "ssh config User with ;",
    field: "--ssh-config",
    args: (s) => ["detect", "n1", "--ssh-config", sshConfig(s, "  User root;id")],
  },
  {
    name: "--known-hosts is a folder",
    field: "--known-hosts",
    args: (s) => ["detect", s.dest, "--known-hosts", s.work],
  },
  {
    name: "--known-hosts is a dangling symlink",
    field: "--known-hosts",
    args: (s) => ["detect", s.dest, "--known-hosts", join(s.work, "dangling")],
  },
  {
    name: "--known-hosts under a file",
    field: "--known-hosts",
    args: (s) => ["detect", s.dest, "--known-hosts", join(s.work, "afile", "kh")],
  },
  {
    name: "--known-hosts inside /proc",
    field: "--known-hosts",
    args: (s) => ["detect", s.dest, "--known-hosts", "/proc/self/environ"],
  },
  {
    name: "--known-hosts not writable",
    field: "--known-hosts",
    asNobody: true,
    setup: (s) => writeFileSync(join(s.work, "kh-root"), "", { mode: 0o644 }),
    args: (s) => ["detect", s.dest, "--known-hosts", join(s.work, "kh-root")],
  },
  { name: "-i is a public key", field: "--identity", args: (s) => ["detect", s.dest, "-i", join(keysDir, "op.pub")] },
  {
    name: "-i is not a key at all",
    field: "--identity",
    setup: (s) => writeFileSync(join(s.work, "notakey"), "hunter2-secret-looking\n"),
    args: (s) => ["detect", s.dest, "-i", join(s.work, "notakey")],
  },
  { name: "-i is a folder", field: "--identity", args: (s) => ["detect", s.dest, "-i", s.work] },
  {
    name: "-i is a dangling symlink",
    field: "--identity",
    args: (s) => ["detect", s.dest, "-i", join(s.work, "dangling")],
  },
  {
    name: "-i not readable",
    field: "--identity",
    asNobody: true,
    setup: (s) => writeFileSync(join(s.work, "rootkey"), readFileSync(join(keysDir, "op")), { mode: 0o600 }),
    args: (s) => ["detect", s.dest, "-i", join(s.work, "rootkey")],
  },
  {
    name: "--password-file is a folder",
    field: "--password-file",
    args: (s) => ["detect", s.dest, "--password-file", s.work],
  },
  {
    name: "--host-key with shell characters",
    field: "--host-key",
    args: (s) => ["detect", s.dest, "--host-key", "SHA256:$(id);`id`"],
  },
  {
    name: "--connect-timeout with shell characters",
    field: "--connect-timeout",
    args: (s) => ["detect", s.dest, "--connect-timeout", "5;reboot"],
  },
  // the destination
  { name: "target with ;", field: "target", args: () => ["detect", "root@127.0.0.1;id"] },
  { name: "target user with $()", field: "target", args: () => ["detect", "$(id)@127.0.0.1"] },
  { name: "target with backticks", field: "target", args: () => ["detect", "root@`id`"] },
  { name: "target with an RTL override", field: "target", args: () => ["detect", `root@exa${RTL}elpm.org`] },
  { name: "target with a zero-width space", field: "target", args: () => ["detect", `root@exa${ZW}mple.org`] },
  { name: "target with a newline", field: "target", args: () => ["detect", "root@a\nb"] },
  { name: "target with Nix interpolation", field: "target", args: () => ["detect", "root@${builtins.abort}"] },
  // detect --save
  {
    name: "detect --save inside /proc",
    field: "--save",
    args: (s) => ["detect", s.dest, "--save", "/proc/facts.json"],
  },
  {
    name: "detect --save is a dangling symlink",
    field: "--save",
    args: (s) => ["detect", s.dest, "--save", join(s.work, "dangling")],
  },
  {
    name: "detect --save under a file",
    field: "--save",
    args: (s) => ["detect", s.dest, "--save", join(s.work, "afile", "f.json")],
  },
  {
    name: "detect --save in a folder without write permission",
    field: "--save",
    asNobody: true,
    setup: (s) => mkdirSync(join(s.work, "locked"), { mode: 0o755 }),
    args: (s) => ["detect", s.dest, "--save", join(s.work, "locked", "f.json")],
  },
  // plan: paths
  {
    name: "plan --out is a dangling symlink",
    field: "--out",
    args: (s) => ["plan", "--example", "hetzner-cloud", "--yes", "--out", join(s.work, "dangling")],
  },
  {
    name: "plan --out inside /proc",
    field: "--out",
    args: () => ["plan", "--example", "hetzner-cloud", "--yes", "--out", "/proc/my-node"],
  },
  {
    name: "plan --out under a file",
    field: "--out",
    args: (s) => ["plan", "--example", "hetzner-cloud", "--yes", "--out", join(s.work, "afile", "node")],
  },
  {
    name: "plan --out without write permission",
    field: "--out",
    asNobody: true,
    setup: (s) => mkdirSync(join(s.work, "locked"), { mode: 0o755 }),
    args: (s) => [
      "plan",
      "--example",
      "hetzner-cloud",
      "--yes",
      "--ssh-key",
      KEY,
      "--out",
      join(s.work, "locked", "node"),
    ],
  },
  {
    name: "plan --config is a dangling symlink",
    field: "--config",
    args: (s) => plan(s, "--config", join(s.work, "dangling")),
  },
  { name: "plan --config is a folder", field: "--config", args: (s) => plan(s, "--config", s.work) },
  {
    name: "plan --example with a path",
    field: "--example",
    args: (s) => ["plan", "--example", "../../etc/passwd", "--out", join(s.work, "out")],
  },
  // plan: hostile strings in every free-text field of nixnode.json
  { name: "hostname with ;", field: "hostname", args: (s) => planWith(s, { hostname: "n1;reboot" }) },
  { name: "hostname with $()", field: "hostname", args: (s) => planWith(s, { hostname: "$(id)" }) },
  { name: "hostname with backticks", field: "hostname", args: (s) => planWith(s, { hostname: "`id`" }) },
  {
    name: "hostname with Nix interpolation",
    field: "hostname",
    args: (s) => planWith(s, { hostname: '${builtins.abort "x"}' }),
  },
  { name: "hostname with a double quote", field: "hostname", args: (s) => planWith(s, { hostname: 'n1"; }' }) },
  { name: "hostname with ''", field: "hostname", args: (s) => planWith(s, { hostname: "n1''" }) },
  { name: "hostname with a newline", field: "hostname", args: (s) => planWith(s, { hostname: "n1\nn2" }) },
  { name: "hostname with an RTL override", field: "hostname", args: (s) => planWith(s, { hostname: `n1${RTL}x` }) },
  { name: "hostname with a zero-width space", field: "hostname", args: (s) => planWith(s, { hostname: `n${ZW}1` }) },
  { name: "timezone with ;", field: "timezone", args: (s) => planWith(s, { timezone: "Europe/Berlin;id" }) },
  {
    name: "timezone with Nix interpolation",
    field: "timezone",
    args: (s) => planWith(s, { timezone: '${builtins.abort "x"}' }),
  },
  { name: "timezone with '' and a quote", field: "timezone", args: (s) => planWith(s, { timezone: "UTC''\"" }) },
  { name: "timezone with a newline", field: "timezone", args: (s) => planWith(s, { timezone: "UTC\nEurope/Berlin" }) },
  {
    name: "timezone with a zero-width space",
    field: "timezone",
    args: (s) => planWith(s, { timezone: `Europe/Ber${ZW}lin` }),
  },
  {
    name: "ssh.port 22 as the lockdown port",
    field: "ssh.port",
    args: (s) => planWith(s, { ssh: { port: 22, authorizedKeys: [KEY] } }),
  },
  {
    name: "ssh.port with shell characters",
    field: "ssh.port",
    args: (s) => planWith(s, { ssh: { port: "2222;id", authorizedKeys: [KEY] } }),
  },
  {
    name: "ssh.adminUser with ;",
    field: "ssh.adminUser",
    args: (s) => planWith(s, { ssh: { adminUser: "ops;id", authorizedKeys: [KEY] } }),
  },
  {
    name: "ssh.adminUser with Nix interpolation",
    field: "ssh.adminUser",
    args: (s) => planWith(s, { ssh: { adminUser: "${x}", authorizedKeys: [KEY] } }),
  },
  {
    name: "ssh.adminUser with a newline",
    field: "ssh.adminUser",
    args: (s) => planWith(s, { ssh: { adminUser: "ops\nroot", authorizedKeys: [KEY] } }),
  },
  {
    name: "an authorized key with a newline and a second key",
    field: "ssh.authorizedKeys[0]",
    args: (s) => planWith(s, { ssh: { authorizedKeys: [`${KEY}\n${KEY_BLOB} evil`] } }),
  },
  {
    name: "an authorized key whose type is a shell command",
    field: "ssh.authorizedKeys[0]",
    args: (s) => planWith(s, { ssh: { authorizedKeys: ["$(id) AAAA x"] } }),
  },
  {
    name: "fail2ban.ignoreIP 999.999.999.999/999",
    field: "fail2ban.ignoreIP[0]",
    args: (s) => planWith(s, { fail2ban: { ignoreIP: ["999.999.999.999/999"] } }),
  },
  {
    name: "fail2ban.ignoreIP with ;",
    field: "fail2ban.ignoreIP[0]",
    args: (s) => planWith(s, { fail2ban: { ignoreIP: ["10.0.0.1;reboot"] } }),
  },
  {
    name: "fail2ban.ignoreIP with a quote",
    field: "fail2ban.ignoreIP[1]",
    args: (s) => planWith(s, { fail2ban: { ignoreIP: ["10.0.0.1", '10.0.0.2"; }'] } }),
  },
  {
    name: "fail2ban.ignoreIP with a zone index",
    field: "fail2ban.ignoreIP[0]",
    args: (s) => planWith(s, { fail2ban: { ignoreIP: ["fe80::1%eth0"] } }),
  },
  {
    name: "fail2ban.ignoreIP /033",
    field: "fail2ban.ignoreIP[0]",
    args: (s) => planWith(s, { fail2ban: { ignoreIP: ["10.0.0.0/033"] } }),
  },
  {
    name: "disk.devices with ;",
    field: "disk.devices[0]",
    args: (s) => planWith(s, { disk: { devices: ["/dev/sda; rm -rf /"] } }),
  },
  {
    name: "disk.devices with $()",
    field: "disk.devices[0]",
    args: (s) => planWith(s, { disk: { devices: ["/dev/disk/by-id/$(id)"] } }),
  },
  {
    name: "disk.devices with Nix interpolation",
    field: "disk.devices[0]",
    args: (s) => planWith(s, { disk: { devices: ["/dev/${x}"] } }),
  },
  {
    name: "disk.data.mountpoint with a quote",
    field: "disk.data.mountpoint",
    args: (s) => planWith(s, { disk: { data: { device: "/dev/sdb", mountpoint: '/data"; x' } } }),
  },
  { name: "profile with ;", field: "profile", args: (s) => planWith(s, { profile: "base;id" }) },
  { name: "nixos with ;", field: "nixos", args: (s) => planWith(s, { nixos: "25.11;id" }) },
  { name: "--ssh-key with $()", field: "--ssh-key", args: (s) => plan(s, "--ssh-key", "$(touch /tmp/pwned)") },
  // install: every local input before the first packet
  { name: "install --flake is a file", field: "--flake", args: (s) => install(s, "--flake", join(s.work, "afile")) },
  {
    name: "install --flake is a dangling symlink",
    field: "--flake",
    args: (s) => install(s, "--flake", join(s.work, "dangling")),
  },
  { name: "install --flake inside /proc", field: "--flake", args: (s) => install(s, "--flake", "/proc/my-node") },
  {
    name: "install --config is a dangling symlink",
    field: "--config",
    args: (s) => [s.dest, "--yes", "--config", join(s.work, "dangling")],
  },
  {
    name: "install --config hostname with $()",
    field: "hostname",
    args: (s) => [s.dest, "--yes", "--config", s.config({ hostname: "$(id)" })],
  },
  {
    name: "install --config ssh.port 22",
    field: "ssh.port",
    args: (s) => [s.dest, "--yes", "--config", s.config({ ssh: { port: 22, authorizedKeys: [KEY] } })],
  },
  { name: "install --engine with ;", field: "--engine", args: (s) => install(s, "--engine", "builtin;id") },
  {
    name: "install --reboot-timeout with ;",
    field: "--reboot-timeout",
    args: (s) => install(s, "--reboot-timeout", "600;id"),
  },
  { name: "install --phases with ;", field: "--phases", args: (s) => install(s, "--phases", "kexec;reboot") },
  // lockdown
  {
    name: "lockdown --ignore-ip 999.999.999.999/999",
    field: "--ignore-ip",
    setup: withFlake,
    args: (s) => lockdown(s, "--ignore-ip", "999.999.999.999/999"),
  },
  {
    name: "lockdown --ignore-ip with ;",
    field: "--ignore-ip",
    setup: withFlake,
    args: (s) => lockdown(s, "--ignore-ip", "10.0.0.1;reboot"),
  },
  {
    name: "lockdown --ignore-ip with a zone index",
    field: "--ignore-ip",
    setup: withFlake,
    args: (s) => lockdown(s, "--ignore-ip", "fe80::1%eth0"),
  },
  {
    name: "lockdown --port with $(id)",
    field: "--port",
    setup: withFlake,
    args: (s) => lockdown(s, "--port", "2222$(id)"),
  },
  {
    name: "lockdown --local --port with $(id)",
    field: "--port",
    setup: withFlake,
    args: (s) => ["lockdown", "--local", "--flake", join(s.work, "flake"), "--port", "2222$(id)", "--yes"],
  },
  {
    name: "lockdown --local --port 22",
    field: "--port",
    setup: withFlake,
    args: (s) => ["lockdown", "--local", "--flake", join(s.work, "flake"), "--port", "22", "--yes"],
  },
  { name: "lockdown --local with a target", field: "--local", args: (s) => ["lockdown", "--local", s.dest, "--yes"] },
  { name: "lockdown --yes without --local", field: "--yes", setup: withFlake, args: (s) => lockdown(s, "--yes") },
  {
    name: "lockdown --confirm-timeout with ;",
    field: "--confirm-timeout",
    args: (s) => ["lockdown", s.dest, "--confirm-timeout", "60;id"],
  },
  {
    name: "lockdown --flake is a file",
    field: "--flake",
    args: (s) => ["lockdown", s.dest, "--flake", join(s.work, "afile")],
  },
  {
    name: "lockdown --flake is a dangling symlink",
    field: "--flake",
    args: (s) => ["lockdown", s.dest, "--flake", join(s.work, "dangling")],
  },
  {
    name: "lockdown --flake inside /proc",
    field: "--flake",
    args: (s) => ["lockdown", s.dest, "--flake", "/proc/self"],
  },
  {
    name: "lockdown --host with a path",
    field: "--host",
    setup: withFlake,
    args: (s) => lockdown(s, "--host", "../n1"),
  },
  // switch: host.json's health.checks is read before any packet (the flag --keep-on-failed-checks takes no value)
  {
    name: "switch with a shell command as health.checks[0].unit in host.json",
    field: "health.checks[0].unit",
    setup: (s) => {
      withFlake(s);
      const f = join(s.work, "flake", "hosts", "nixnode", "host.json");
      const h = JSON.parse(readFileSync(f, "utf8"));
      h.health = { checks: [{ kind: "unit", unit: "nats; touch /tmp/nn-pwned" }] };
      writeFileSync(f, JSON.stringify(h, null, 2) + "\n");
    },
    args: (s) => ["switch", s.dest, "--flake", join(s.work, "flake"), "--keep-on-failed-checks"],
  },
  // switch --build-on: the value, and `local` where this machine cannot build the node's system
  {
    name: "switch --build-on somewhere",
    field: "--build-on",
    setup: withFlake,
    args: (s) => ["switch", s.dest, "--flake", join(s.work, "flake"), "--build-on", "somewhere"],
  },
  {
    name: "switch --build-on local for an aarch64-linux node (this machine cannot build it)",
    field: "--build-on",
    setup: (s) => {
      withFlake(s);
      const f = join(s.work, "flake", "hosts", "nixnode", "host.json");
      writeFileSync(
        f,
        JSON.stringify({ ...JSON.parse(readFileSync(f, "utf8")), system: "aarch64-linux" }, null, 2) + "\n",
      );
    },
    args: (s) => [
      "switch",
      s.dest,
      "--flake",
      join(s.work, "flake"),
      "--host-key",
      `SHA256:${"A".repeat(43)}`,
      "--build-on",
      "local",
    ],
  },
  // fleet switch: its flags and --hosts are checked before any packet
  { name: "fleet switch --canary not a number", field: "--canary", args: () => ["fleet", "switch", "--canary", "one"] },
  { name: "fleet switch --parallel 0", field: "--parallel", args: () => ["fleet", "switch", "--parallel", "0"] },
  {
    name: "fleet switch --confirm-timeout 2",
    field: "--confirm-timeout",
    args: () => ["fleet", "switch", "--confirm-timeout", "2"],
  },
  {
    name: "fleet switch --hosts naming a host the fleet does not have",
    field: "--hosts",
    setup: fleetFlake,
    args: (s) => [
      "fleet",
      "switch",
      "--flake",
      join(s.work, "fleet"),
      "--hosts",
      "n1,n9",
      "-i",
      join(s.home, ".ssh", "id_ed25519"),
    ],
  },
  {
    name: "fleet switch --canary more than the hosts selected",
    field: "--canary",
    setup: fleetFlake,
    args: (s) => ["fleet", "switch", "--flake", join(s.work, "fleet"), "--canary", "3"],
  },
  // fleet install: its flags and --hosts are checked before any packet
  { name: "fleet install --parallel 0", field: "--parallel", args: () => ["fleet", "install", "--parallel", "0"] },
  {
    name: "fleet install --parallel many",
    field: "--parallel",
    args: () => ["fleet", "install", "--parallel", "many"],
  },
  {
    name: "fleet install --hosts naming hosts the fleet does not have",
    field: "--hosts",
    setup: fleetFlake,
    args: (s) => ["fleet", "install", "--flake", join(s.work, "fleet"), "--hosts", "n1,n8,n9", "--yes"],
  },
  {
    name: "fleet install --host-key (one key cannot pin many hosts)",
    field: "--host-key",
    setup: fleetFlake,
    args: (s) => [
      "fleet",
      "install",
      "--flake",
      join(s.work, "fleet"),
      "--yes",
      "--host-key",
      "SHA256:" + "A".repeat(43),
    ],
  },
  {
    name: "fleet install without --yes and no terminal",
    field: "--yes",
    setup: fleetFlake,
    args: (s) => ["fleet", "install", "--flake", join(s.work, "fleet")],
  },
  // secrets
  {
    name: "secrets add NAME with ;",
    field: "NAME",
    setup: withFlake,
    args: (s) => ["secrets", "add", "a;b", "--generate", "hex32", "--flake", join(s.work, "flake")],
  },
  {
    name: "secrets add NAME with Nix interpolation",
    field: "NAME",
    setup: withFlake,
    args: (s) => ["secrets", "add", "${x}", "--generate", "hex32", "--flake", join(s.work, "flake")],
  },
  {
    name: "secrets --flake is a dangling symlink",
    field: "--flake",
    args: (s) => ["secrets", "list", "--flake", join(s.work, "dangling")],
  },
  { name: "secrets --flake inside /proc", field: "--flake", args: (s) => ["secrets", "list", "--flake", "/proc/self"] },
];

const NOBODY = 65534;

describe(`bad input: exit 2, the field named, nothing changed, no packet (${ROWS.length} rows)`, () => {
  const outcomes: string[] = [];
  beforeAll(async () => {
    const r = await runCli(["plan", "--example", "hetzner-cloud", "--yes", "--ssh-key", KEY, "--out", FLAKE], {
      env: { HOME: base },
    });
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => {
    if (process.env.NIXNODE_TABLE) writeFileSync(process.env.NIXNODE_TABLE, outcomes.join("\n") + "\n");
  });
  it.concurrent.each(ROWS.map((r) => [r.name, r] as const))("%s", async (_name, row) => {
    const s = await sandbox();
    try {
      row.setup?.(s);
      if (row.asNobody) {
        for (const d of [s.work, s.home, s.tmp, join(s.home, ".ssh")]) chownSync(d, NOBODY, NOBODY);
        for (const f of ["id_ed25519", "id_ed25519.pub", "known_hosts"])
          chownSync(join(s.home, ".ssh", f), NOBODY, NOBODY);
        chmodSync(join(s.work, ".."), 0o755);
      }
      const args = row.args(s);
      const before = [s.work, s.home, s.tmp].map(snapshot);
      const r = await runCli(args, {
        cwd: s.work,
        env: { HOME: s.home, TMPDIR: s.tmp, SSH_AUTH_SOCK: "", NIXNODE_SSH_PASSWORD: undefined },
        ...(row.asNobody ? { uid: NOBODY, gid: NOBODY } : {}),
      });
      const firstLine = r.stderr.split("\n")[0] ?? "";
      outcomes.push(
        `| ${row.name} | \`${JSON.stringify(args.slice(0, 6)).slice(0, 90)}\` | ${row.field} | ${r.code} | ${firstLine.slice(0, 110)} |`,
      );
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
      expect(firstLine).toContain(row.field);
      expect(r.stderr).toMatch(/\nfix: \S/);
      expect(r.stderr).not.toContain("hunter2-secret-looking"); // a file given as a key is never echoed
      expect([s.work, s.home, s.tmp].map(snapshot)).toEqual(before);
      expect(s.connections()).toBe(0);
    } finally {
      s.server.close();
    }
  });
});

describe("hostile strings that are ACCEPTED land only inside Nix strings or JSON data", () => {
  const comments = [
    "a;$(touch /tmp/pwned)`id`",
    '${builtins.abort "x"}',
    "''${x}'' \"q\" \\",
    `rtl${RTL}evil zero${ZW}width`,
  ];
  let out: string;
  beforeAll(async () => {
    const s = await sandbox();
    s.server.close();
    out = join(s.work, "out");
    const keys = comments.map(
      (c, i) => `${keygen(keysDir, `hostile-${i}`, "x").split(" ").slice(0, 2).join(" ")} ${c}`,
    );
    const r = await runCli(
      [
        "plan",
        "--example",
        "hetzner-cloud",
        "--yes",
        "--out",
        out,
        "--config",
        s.config({ ssh: { authorizedKeys: keys } }),
      ],
      { cwd: s.work, env: { HOME: s.home, TMPDIR: s.tmp } },
    );
    expect(r.code, r.stderr).toBe(0);
  });

  it("every generated .nix file still parses (nix-instantiate --parse)", () => {
    const nixFiles: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.name === ".git") continue;
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith(".nix")) nixFiles.push(join(d, e.name));
      }
    };
    walk(out);
    expect(nixFiles.length).toBeGreaterThan(3);
    for (const f of nixFiles) execFileSync("nix-instantiate", ["--parse", f], { stdio: ["ignore", "ignore", "pipe"] });
  });

  it("Nix reads every key back exactly as given, comment included (host.json through builtins.fromJSON)", () => {
    const hostJson = join(out, "hosts", "n1", "host.json");
    const expr = `(builtins.fromJSON (builtins.readFile ${JSON.stringify(hostJson)})).ssh.authorizedKeys`;
    const evaluated = JSON.parse(
      execFileSync("nix-instantiate", ["--eval", "--strict", "--json", "-E", expr], { encoding: "utf8" }),
    ) as string[];
    expect(evaluated.map((k) => k.split(" ").slice(2).join(" "))).toEqual(comments);
  });
});
