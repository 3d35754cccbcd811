// The probe's whole output -> Facts, validated against the schema. Pure: the same text always
// gives the same Facts, so captured outputs (test/fixtures/probe) replay real machines.
import { FACTS_SCHEMA_VERSION, type Disk, type Facts, type NetInterface } from "../facts/types";
import { validateFacts } from "../facts/validate";
import { ipToBigInt as parseIp, isLoopback } from "../util/ip";
import { parseDiskLinks } from "./parse-disk-links";
import {
  archFrom,
  cpuFrom,
  initrdModulesFrom,
  kernelModulesFrom,
  providerFrom,
  virtualisationFrom,
} from "./parse-hardware";
import {
  defaultGateway,
  markOnLink,
  parseIpAddrJson,
  parseIpAddrText,
  parseIpRouteJson,
  parseIpRouteText,
  type NetDevInfo,
} from "./parse-ip";
import { parseLsblkJson } from "./parse-lsblk";
import { keyValues, parseSections } from "./parse-sections";

export function parseProbeOutput(text: string): Facts {
  const { sections: s, complete } = parseSections(text);
  const warnings = (s.get("warnings") ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  if (!complete) warnings.push("probe: the output ended early; facts after the last complete section are missing");
  const sys = keyValues(s.get("system"));
  const fw = keyValues(s.get("firmware"));
  const osr = osRelease(s.get("os-release") ?? "");
  const none = (v: string | undefined) => (v ? v : null);
  const dmi = (k: string) => none(fw.get(`dmi_${k}`));
  const arch = archFrom(sys.get("arch"));
  // cpu_hypervisor_flag and nproc moved into "cpuinfo" (one pass over /proc/cpuinfo); older captures have them elsewhere.
  const cpuKv = keyValues(s.get("cpuinfo"));
  const virtKv = keyValues(s.get("virt"));
  if (!virtKv.has("cpu_hypervisor_flag") && cpuKv.has("cpu_hypervisor_flag"))
    virtKv.set("cpu_hypervisor_flag", cpuKv.get("cpu_hypervisor_flag")!);
  const virtualisation = virtualisationFrom(virtKv, dmi("product_name"), dmi("sys_vendor"));

  const [rootSource, rootFs] = (s.get("root-mount") ?? "").trim().split(/\s+/);
  // findmnt shows a btrfs subvolume as /dev/sda2[/@]: the device is what holds /
  const disks = parseDisks(s, rootSource ? rootSource.replace(/\[.*\]$/, "") : null, warnings);
  const network = parseNetwork(s, warnings);
  const tool = (n: string) => sys.get(`tool_${n}`) === "yes";

  const mem = s.get("meminfo") ?? "";
  const kb = (k: string) => {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(mem);
    return m ? Number(m[1]) * 1024 : null;
  };
  const uid = sys.get("uid");
  const sudoUser = none(sys.get("sudo_user"));
  const isRoot = uid === "0";
  const sudo = sys.get("sudo");
  const sb = fw.get("secureboot");
  const lockdown = /\[(none|integrity|confidentiality)\]/.exec(fw.get("lockdown") ?? "")?.[1] as
    Facts["firmware"]["kernelLockdown"] | undefined;
  const operator = (sys.get("ssh_connection") ?? "").split(/\s+/)[0] ?? "";

  const facts: Facts = {
    schema: FACTS_SCHEMA_VERSION,
    source: "probe",
    hostname: none(sys.get("hostname")),
    os: {
      id: osr.ID ?? null,
      versionId: osr.VERSION_ID ?? null,
      prettyName: osr.PRETTY_NAME ?? null,
      isNixos: osr.ID === "nixos",
      isNixosInstaller:
        osr.ID === "nixos" &&
        (osr.VARIANT_ID === "installer" || (tool("nixos-install") && (rootFs === "tmpfs" || rootFs === "rootfs"))),
      kernel: none(sys.get("kernel")),
    },
    arch,
    virtualisation,
    firmware: {
      mode: fw.get("efi") === "yes" ? "uefi" : fw.get("efi") === "no" ? "bios" : "unknown",
      secureBoot: sb === "1" ? true : sb === "0" ? false : null,
      kernelLockdown: lockdown ?? null,
      vendor: dmi("bios_vendor"),
    },
    memory: { totalBytes: kb("MemTotal") ?? 0, swapBytes: kb("SwapTotal") },
    cpu: cpuFrom(s.get("cpuinfo") ?? "", arch, sys.get("nproc") ?? cpuKv.get("nproc")),
    disks,
    network,
    initrdModules: initrdModulesFrom(
      s.get("hardware") ?? "",
      disks,
      virtualisation,
      (s.get("sysblock") ?? "").split("\n").map((l) => l.split("\t")[0]!),
    ),
    kernelModules: kernelModulesFrom(cpuKv.get("virt_flag")),
    provider: providerFrom(
      dmi("sys_vendor"),
      dmi("product_name"),
      [dmi("bios_vendor"), dmi("board_vendor"), dmi("chassis_vendor")],
      virtualisation,
      disks.map((d) => d.model ?? ""),
    ),
    operatorAddress: parseIp(operator) ? operator : null,
    access: {
      user: sudoUser ?? none(sys.get("user")),
      isRoot,
      // Root reached through `sudo -n` means passwordless sudo works for the login user.
      sudo: isRoot
        ? sudoUser
          ? "passwordless"
          : "root"
        : sudo === "passwordless" || sudo === "password" || sudo === "none"
          ? sudo
          : "unknown",
    },
    tools: {
      tar: tool("tar"),
      cpio: tool("cpio"),
      setsid: tool("setsid"),
      curl: tool("curl"),
      wget: tool("wget"),
      kexec: tool("kexec"),
    },
    bootId: none(sys.get("boot_id")),
    warnings,
  };
  if (!facts.memory.totalBytes) warnings.push("memory: MemTotal missing from /proc/meminfo");
  return validateFacts(facts);
}

function osRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  return out;
}

function parseDisks(s: Map<string, string>, rootSource: string | null, warnings: string[]): Disk[] {
  const byId = parseDiskLinks(s.get("by-id") ?? "", "by-id");
  const byPath = parseDiskLinks(s.get("by-path") ?? "", "by-path");
  const raw = (s.get("lsblk") ?? "").trim();
  if (raw) {
    try {
      const r = parseLsblkJson(JSON.parse(raw), { byId, byPath, rootSource });
      warnings.push(...r.warnings);
      if (r.disks.length > 0) return r.disks;
      // lsblk without udev data (containers, some rescue systems) lists nothing: /sys/block still knows.
      warnings.push("disks: lsblk listed no disks; using /sys/block");
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      warnings.push(`disks: lsblk output is not JSON (${e.message}); using /sys/block`);
    }
  }
  // No usable lsblk: /sys/block gives sizes and flags, without partitions or mounts.
  const rows = (s.get("sysblock") ?? "").split("\n").filter(Boolean);
  return rows
    .map((line) => {
      const [name, ...kvs] = line.split("\t");
      const f = Object.fromEntries(kvs.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
      const r = parseLsblkJson(
        {
          blockdevices: [
            {
              name,
              type: "disk",
              size: Number(f.size ?? 0) * 512,
              rota: f.rota,
              rm: f.rm,
              ro: f.ro,
              model: f.model,
              serial: f.serial,
            },
          ],
        },
        { byId, byPath, rootSource },
      );
      const d = r.disks[0];
      // /sys/block lists no partitions: / on /dev/vda1 or /dev/nvme0n1p2 still belongs to the disk
      if (d && rootSource && new RegExp(`^/dev/${d.name}p?\\d+$`).test(rootSource)) d.holdsRoot = true;
      return d;
    })
    .filter((d): d is Disk => !!d);
}

function parseNetwork(s: Map<string, string>, warnings: string[]): Facts["network"] {
  const devs = new Map<string, NetDevInfo>();
  for (const line of (s.get("netdev") ?? "").split("\n")) {
    const [name, ...kvs] = line.trim().split(" ");
    if (!name) continue;
    const f = Object.fromEntries(kvs.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    const kind = f.kind as NetInterface["kind"] | undefined;
    devs.set(name, { driver: f.module || f.driver || null, kind: kind ? kind : f.driver ? "ethernet" : null });
  }
  const jsonOrText = (name: string, text: (t: string) => unknown[]): unknown => {
    const body = (s.get(name) ?? "").trim();
    if (!body) return [];
    if (body.startsWith("@@text")) return text(body.slice("@@text".length));
    try {
      return JSON.parse(body);
    } catch {
      warnings.push(`network: ${name} output is not JSON; read as text`);
      return text(body);
    }
  };
  const interfaces = parseIpAddrJson(jsonOrText("ip-addr", parseIpAddrText), devs);
  const routes = markOnLink(
    [
      ...parseIpRouteJson(jsonOrText("ip-route4", parseIpRouteText), 4),
      ...parseIpRouteJson(jsonOrText("ip-route6", parseIpRouteText), 6),
    ],
    interfaces,
  );
  const defaultGateway4 = defaultGateway(routes, 4);
  const dhcp4 =
    interfaces.some((i) => i.addresses.some((a) => a.family === 4 && a.scope === "global" && a.dynamic)) ||
    routes.some((r) => r.family === 4 && r.destination === "default" && r.protocol === "dhcp");
  return { interfaces, routes, defaultGateway4, defaultGateway6: defaultGateway(routes, 6), dns: dnsServers(s), dhcp4 };
}

/** Upstream resolvers: a local stub (systemd-resolved's 127.0.0.53) is replaced by what it forwards to. */
export function dnsServers(s: Map<string, string>): string[] {
  const nameservers = (t: string | undefined) => [...(t ?? "").matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
  // resolvectl dns: "Global: 1.1.1.1" / "Link 2 (eth0): 9.9.9.9 2620:fe::fe"
  const fromResolvectl = (s.get("resolvectl") ?? "")
    .split(/\s+/)
    .map((w) => w.split("%")[0]!)
    .filter((w) => parseIp(w));
  const candidates = [...nameservers(s.get("resolv")), ...nameservers(s.get("resolv-upstream")), ...fromResolvectl];
  return [...new Set(candidates.filter((a) => parseIp(a) && !isLoopback(a)))];
}
