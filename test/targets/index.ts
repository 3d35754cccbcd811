// Throwaway SSH targets: a real sshd in its own network, mount and UTS namespaces, looking like a
// fresh server from the network. See test/targets/README.md for the folder layout and scripts.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { claimSlot, STATE_ROOT, type Slot } from "./address-slots";
import { cleanupStale } from "./cleanup-stale";
import { startLatencyProxy } from "./latency-proxy";
import { destroySync, registerLive, type LiveTarget } from "./live-targets";
import { mustRun, runCommand, type CommandResult } from "./run-command";
import { renderReboot, renderStartSshd, withPorts } from "./target-scripts";
import { makeFaults } from "./target-faults";
import { createNetwork, hashPassword, prepareDir, shadowWithRoot, shellQuote, startHolder } from "./target-namespaces";

export { shellQuote } from "./target-namespaces";

export type { CommandResult } from "./run-command";

export interface TargetOptions {
  /** default ubuntu-vps; "nixos" loads test/targets/personalities/nixos/setup (H6) */
  personality?: "ubuntu-vps" | "nixos";
  /** default a random one, exposed as target.rootPassword */
  rootPassword?: string;
  /** root's authorized_keys lines */
  authorizedKeys?: string[];
  hostKeyType?: "ed25519";
  /** default yes (a fresh VPS) */
  permitRootLogin?: "yes" | "prohibit-password" | "no";
  /** default true */
  passwordAuthentication?: boolean;
  /** default false: wrong passwords are answered at once instead of after PAM's 2-5 s delay */
  usePam?: boolean;
  /** MemTotal of the target's /proc/meminfo (bind-mounted fake; other lines are the host's) */
  memoryMiB?: number;
  /** what `systemd-detect-virt` prints inside the target (a shim in /usr/local/sbin) */
  virt?: string;
  /** absolute path inside the target -> content; /proc/... files are bind-mounted over, others written (under /etc, /root, /home, /var/log, /run, /usr/local/sbin) */
  extraFiles?: Record<string, string>;
  /** default the target's name */
  hostname?: string;
  /** default [22] */
  ports?: number[];
  /** also give the target an IPv6 address (a ULA /64 per target): target.address6 */
  ipv6?: boolean;
  /** passed as the second argument of the personality's setupPersonality (e.g. nixos: { hostJson }) */
  personalityOptions?: Record<string, unknown>;
}

/** What a personality's setupPersonality(t) receives. */
export interface PersonalityContext {
  name: string;
  dir: string;
  /** bound over /usr/local/sbin inside the target: first on sshd's PATH */
  shimDir: string;
  /** dir/reboot.d: executables run in order by dir/reboot (restore the boot-default state) */
  rebootDir: string;
  hostKeyPath: string;
  /** the live sshd_config (a symlink to dir/etc-ssh/sshd_config = /etc/ssh/sshd_config inside) */
  sshdConfigPath: string;
  address: string;
  operatorAddress: string;
  holderPid: number;
  exec(cmd: string, opts?: { input?: string }): Promise<CommandResult>;
  /** Writes a file inside the target (private paths only, see writeTargetFile). */
  writeFile(pathInTarget: string, content: string, mode?: number): Promise<void>;
}

export interface TestTarget {
  name: string;
  ns: string;
  /** the target's private state folder on the host */
  dir: string;
  address: string;
  operatorAddress: string;
  /** with ipv6: true, the target's and the operator side's IPv6 addresses */
  address6?: string;
  operatorAddress6?: string;
  port: number;
  rootPassword: string;
  holderPid: number;
  shimDir: string;
  /** the host side of the veth (tc/iptables on the operator's side) */
  hostInterface: string;
  hostKeyPath: string;
  hostKeyFingerprint(): Promise<string>;
  exec(cmd: string, opts?: { input?: string }): Promise<CommandResult>;
  writeFile(pathInTarget: string, content: string, mode?: number): Promise<void>;
  sshdLog(): Promise<string>;
  restartSshd(opts?: { port?: number; ports?: number[] }): Promise<void>;
  killSshd(): Promise<void>;
  simulateReboot(beforeStart?: () => Promise<void>): Promise<void>;
  bootId(): Promise<string>;
  faults: {
    blockPort(port: number): Promise<void>;
    unblockPort(port: number): Promise<void>;
    blackholeAll(): Promise<void>;
    restoreAll(): Promise<void>;
    linkDown(): Promise<void>;
    linkUp(): Promise<void>;
    bandwidth(rate: string): Promise<void>;
    clearBandwidth(): Promise<void>;
  };
  addClientAddress(): Promise<string>;
  /** A second /30 on the same veth for a NEW target address: the host side gets `gateway`; the target gets nothing until it configures `address` itself. */
  addTargetSubnet(): Promise<{ address: string; gateway: string; prefix: 30 }>;
  latencyProxy(oneWayDelayMs: number): Promise<{ host: "127.0.0.1"; port: number; close(): Promise<void> }>;
  stop(): Promise<void>;
}

const TARGET_ENV = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  USER: "root",
  LOGNAME: "root",
  SHELL: "/bin/sh",
  LANG: "C.UTF-8",
};
/** Paths a target may write without touching the host (overlay or private binds). */
const PRIVATE_PREFIXES = ["/etc/", "/root/", "/home/", "/var/log/", "/run/", "/usr/local/sbin/"];

export function targetsSupported(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== "linux") return { ok: false, reason: "targets need Linux network namespaces" };
  if (process.getuid?.() !== 0) return { ok: false, reason: "targets need root (network namespaces, mounts)" };
  for (const bin of [
    "/usr/sbin/sshd",
    "/usr/bin/ssh-keygen",
    "/usr/bin/nsenter",
    "/usr/bin/unshare",
    "/usr/bin/openssl",
  ]) {
    if (!existsSync(bin))
      return { ok: false, reason: `${bin} is missing (install openssh-server, util-linux, openssl)` };
  }
  if (!["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].some((p) => existsSync(p)))
    return { ok: false, reason: "ip (iproute2) is missing" };
  if (!["/usr/sbin/iptables", "/sbin/iptables"].some((p) => existsSync(p)))
    return { ok: false, reason: "iptables is missing" };
  return { ok: true };
}

export function writeTargetInfo(
  t: Pick<TestTarget, "name" | "ns" | "holderPid" | "address" | "operatorAddress" | "port" | "dir" | "shimDir">,
): void {
  const info = {
    name: t.name,
    ns: t.ns,
    holderPid: t.holderPid,
    address: t.address,
    operatorAddress: t.operatorAddress,
    port: t.port,
    dir: t.dir,
    shimDir: t.shimDir,
  };
  writeFileSync(join(t.dir, "target.json"), JSON.stringify(info, null, 2) + "\n");
}

let staleSwept = false;

export async function startTarget(opts: TargetOptions = {}): Promise<TestTarget> {
  const supported = targetsSupported();
  if (!supported.ok) throw new Error(`cannot start a target: ${supported.reason}`);
  if (!staleSwept) {
    staleSwept = true;
    cleanupStale();
  }
  const slot = claimSlot();
  const name = `nnt-${process.pid}-${slot.index}`;
  const dir = join(STATE_ROOT, name);
  const live: LiveTarget = { ns: name, dir, hostIfs: [slot.hostIf], slots: [slot.index] };
  registerLive(live);
  try {
    return await buildTarget(name, dir, slot, live, opts);
  } catch (e) {
    destroySync(live);
    throw e;
  }
}

async function buildTarget(
  name: string,
  dir: string,
  slot: Slot,
  live: LiveTarget,
  opts: TargetOptions,
): Promise<TestTarget> {
  const rootPassword = opts.rootPassword ?? randomBytes(12).toString("base64url");
  const ports = opts.ports ?? [22];
  prepareDir(dir, opts, ports);
  // independent steps side by side: start-up time is mostly process spawns
  const [hash] = await Promise.all([
    hashPassword(rootPassword),
    mustRun("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      `root@${name}`,
      "-f",
      join(dir, "etc-ssh", "ssh_host_ed25519_key"),
    ]),
    createNetwork(name, slot, opts.ipv6),
  ]);
  writeFileSync(join(dir, "etc-upper", "shadow"), shadowWithRoot(hash), { mode: 0o640 });
  const holderPid = await startHolder(name, dir, opts.hostname ?? name);

  const exec = (cmd: string, o: { input?: string } = {}) =>
    runCommand("nsenter", ["-t", String(holderPid), "-n", "-m", "-u", "--wd=/root", "--", "sh", "-c", cmd], {
      input: o.input,
      env: TARGET_ENV,
    });
  const mustExec = async (cmd: string, input?: string) => {
    const r = await exec(cmd, { input });
    if (r.code !== 0)
      throw new Error(`in target ${name}: \`${cmd}\` exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  };
  const inNet = (file: string, args: string[]) =>
    mustRun("nsenter", ["-t", String(holderPid), "-n", "--", file, ...args]);
  const writeTargetFile = async (path: string, content: string, mode = 0o644) => {
    if (!PRIVATE_PREFIXES.some((p) => path.startsWith(p)) || path.includes("/..")) {
      throw new Error(`writeFile: ${path} is not private to the target (allowed under ${PRIVATE_PREFIXES.join(" ")})`);
    }
    // rm first: a symlink in the host's /etc (os-release!) must not be followed out of the overlay
    const q = shellQuote(path);
    await mustExec(`rm -f ${q} && mkdir -p "$(dirname ${q})" && cat > ${q} && chmod ${mode.toString(8)} ${q}`, content);
  };

  await inNet("iptables-restore", ["--noflush", join(dir, "iptables.rules")]);
  if (opts.memoryMiB !== undefined) {
    const meminfo = readFileSync("/proc/meminfo", "utf8").replace(
      /^MemTotal:.*$/m,
      `MemTotal:       ${opts.memoryMiB * 1024} kB`,
    );
    writeFileSync(join(dir, "meminfo"), meminfo);
    await mustExec(`mount --bind '${dir}/meminfo' /proc/meminfo`);
  }
  let n = 0;
  for (const [path, content] of Object.entries(opts.extraFiles ?? {})) {
    if (path.startsWith("/proc/")) {
      const src = join(dir, `extra-${n++}`);
      writeFileSync(src, content);
      await mustExec(`mount --bind '${src}' '${path}'`);
    } else await writeTargetFile(path, content);
  }

  const shimDir = join(dir, "shims");
  const t: TestTarget = {
    name,
    ns: name,
    dir,
    address: slot.targetAddress,
    operatorAddress: slot.hostAddress,
    address6: opts.ipv6 ? slot.targetAddress6 : undefined,
    operatorAddress6: opts.ipv6 ? slot.hostAddress6 : undefined,
    port: ports[0]!,
    rootPassword,
    holderPid,
    shimDir,
    hostInterface: slot.hostIf,
    hostKeyPath: join(dir, "etc-ssh", "ssh_host_ed25519_key"),
    async hostKeyFingerprint() {
      const out = await mustRun("ssh-keygen", ["-l", "-f", t.hostKeyPath]);
      const m = /SHA256:[A-Za-z0-9+/]+/.exec(out);
      if (!m) throw new Error(`no fingerprint in ssh-keygen output: ${out}`);
      return m[0];
    },
    exec,
    writeFile: writeTargetFile,
    sshdLog: () => readFile(join(dir, "sshd.log"), "utf8").catch(() => ""),
    async restartSshd(o = {}) {
      const next = o.ports ?? (o.port !== undefined ? [o.port] : undefined);
      if (next) {
        const conf = join(dir, "sshd_config");
        await writeFile(conf, withPorts(await readFile(conf, "utf8"), next));
      }
      await mustExec(`'${dir}/start-sshd'`);
      await syncPort();
    },
    async killSshd() {
      await mustExec(`[ -s '${dir}/sshd.pid' ] && kill "$(cat '${dir}/sshd.pid')" && rm -f '${dir}/sshd.pid' || true`);
    },
    async simulateReboot(beforeStart) {
      await rebootPhase("--stop");
      if (beforeStart) await beforeStart();
      await rebootPhase("--start");
      await syncPort();
    },
    bootId: async () => (await readFile(join(dir, "boot_id"), "utf8")).trim(),
    faults: makeFaults(holderPid, slot, opts.ipv6),
    async addClientAddress() {
      // A second operator address on the host side of the same veth: the target answers it through
      // its default route, so it works whatever the host's rp_filter says.
      const extra = claimSlot();
      live.slots.push(extra.index);
      await mustRun("ip", ["addr", "add", `${extra.hostAddress}/32`, "dev", slot.hostIf]);
      return extra.hostAddress;
    },
    async addTargetSubnet() {
      // Another slot's /30: its .1 on the host side of the same veth (a gateway the host answers
      // ARP for), its .2 free for the target to take (a static address change).
      const extra = claimSlot();
      live.slots.push(extra.index);
      await mustRun("ip", ["addr", "add", `${extra.hostAddress}/30`, "dev", slot.hostIf]);
      return { address: extra.targetAddress, gateway: extra.hostAddress, prefix: 30 as const };
    },
    latencyProxy: (delay) => startLatencyProxy({ host: slot.targetAddress, port: t.port }, delay),
    async stop() {
      destroySync(live);
    },
  };
  /** Someone (a personality's shims, a reboot.d hook) may have moved sshd: t.port follows the config. */
  async function syncPort() {
    const m = /^\s*port\s+(\d+)/im.exec(await readFile(join(dir, "sshd_config"), "utf8"));
    const port = m ? Number(m[1]) : 22;
    if (port !== t.port) {
      t.port = port;
      writeTargetInfo(t);
    }
  }
  async function rebootPhase(phase: "--stop" | "--start") {
    const r = await exec(`exec '${dir}/reboot' ${phase}`); // exec: the calling sh would be stopped as part of the target
    if (r.code !== 0) {
      const log = await readFile(join(dir, "reboot.log"), "utf8").catch(() => "");
      throw new Error(`reboot ${phase} of ${name} failed (${r.code}):\n${log.split("\n").slice(-15).join("\n")}`);
    }
  }

  writeFileSync(join(dir, "start-sshd"), renderStartSshd(dir), { mode: 0o755 });
  writeFileSync(
    join(dir, "reboot"),
    renderReboot(dir, holderPid, slot.hostAddress, opts.ipv6 ? slot.hostAddress6 : undefined),
    { mode: 0o755 },
  );
  writeTargetInfo(t);
  if (opts.virt !== undefined)
    writeFileSync(
      join(shimDir, "systemd-detect-virt"),
      `#!/bin/sh\necho '${opts.virt}'\n[ '${opts.virt}' != none ]\n`,
      { mode: 0o755 },
    );
  await setupPersonality(
    opts.personality ?? "ubuntu-vps",
    {
      name,
      dir,
      shimDir,
      rebootDir: join(dir, "reboot.d"),
      hostKeyPath: t.hostKeyPath,
      sshdConfigPath: join(dir, "sshd_config"),
      address: t.address,
      operatorAddress: t.operatorAddress,
      holderPid,
      exec,
      writeFile: writeTargetFile,
    },
    opts.personalityOptions,
  );
  await mustExec(`'${dir}/start-sshd'`);
  return t;
}

type PersonalityModule = {
  setupPersonality?: (t: PersonalityContext, opts?: Record<string, unknown>) => Promise<void>;
};
// Static specifiers, so that a bundled copy of the harness (the signal-cleanup test) carries them.
const PERSONALITIES: Record<string, () => Promise<PersonalityModule>> = {
  "ubuntu-vps": () => import("./personalities/ubuntu-vps/setup"),
  nixos: () => import("./personalities/nixos/setup"),
};

async function setupPersonality(
  personality: string,
  ctx: PersonalityContext,
  opts?: Record<string, unknown>,
): Promise<void> {
  const load = PERSONALITIES[personality];
  if (!load)
    throw new Error(`personality "${personality}" is unknown (known: ${Object.keys(PERSONALITIES).join(", ")})`);
  const mod = await load();
  if (typeof mod.setupPersonality !== "function")
    throw new Error(`personality "${personality}": its setup.ts does not export setupPersonality(t)`);
  await mod.setupPersonality(ctx, opts);
}
