// Answers + facts -> the one validated InstallPlan every later phase works from. Pure: no I/O.
// A machine that cannot be installed is refused here, before anything is generated.
import { preflight, type PreflightVerdict } from "../detect/preflight";
import { UserError, badField } from "../errors";
import type { Facts } from "../facts/types";
import { swapMiBForRam } from "../generate/disk-config";
import { planBitcoinStorage } from "./bitcoin-storage";
import { findDisk } from "./defaults";
import { planNetwork } from "./network";
import { PROFILE_HEALTH_CHECKS, healthFor } from "./health-checks";
import type { DiskDevicePlan, DiskPlan, HostData, InstallPlan, NodeConfig } from "./types";

/** fail2ban: 5 failures before a ban (NixOS defaults to 3), a first ban of 10 minutes that grows on repeat (bantime-increment). */
export const FAIL2BAN_MAXRETRY = 5;
export const FAIL2BAN_BANTIME = "10m";
/** Ports each profile's services need open to the world (sshd's ports are added from ssh.ports). */
export const PROFILE_OPEN_TCP: Record<NodeConfig["profile"], number[]> = {
  base: [],
  "nix-bitcoin": [8333],
  "peer-observer": [8333],
};

/** peer-observer's admin when none was named: infra-library turns root logins off and requires one. */
export const PEER_OBSERVER_ADMIN = "admin";

export function buildPlan(
  answers: NodeConfig,
  facts: Facts,
  opts: { facterReport?: unknown; local?: boolean } = {},
): InstallPlan {
  const verdict = refuseUninstallable(facts, opts.local);
  const notes = verdict.checks
    .filter((c) => c.status === "warn")
    .map((c) => `preflight ${c.id}: ${c.message}${c.fix ? ` (${c.fix})` : ""}`);
  let config = answers;
  if (config.profile === "peer-observer" && config.ssh.adminUser === null) {
    config = { ...config, ssh: { ...config.ssh, adminUser: PEER_OBSERVER_ADMIN } };
    notes.push(
      `ssh.adminUser: "${PEER_OBSERVER_ADMIN}" (peer-observer's infra-library turns root logins off and needs an admin user; set ssh.adminUser in nixnode.json to choose another name)`,
    );
  }
  const system = systemFor(facts);
  const disk = planDisk(config, facts);
  const network = planNetwork(facts, notes);
  const host = hostDataFor(config, facts, network, disk, system);
  const hardware: InstallPlan["hardware"] = opts.facterReport
    ? { kind: "facter", report: opts.facterReport }
    : {
        kind: "modules",
        initrdModules: facts.initrdModules,
        kernelModules: facts.kernelModules,
        cpuVendor: facts.cpu.vendor,
        guest: guestOf(facts),
      };
  if (disk.bootMode === "unknown") notes.push("boot mode unknown: the hybrid BIOS+UEFI layout boots either way");
  if (config.profile === "nix-bitcoin") {
    notes.push(
      `profile nix-bitcoin: nixpkgs follows nix-bitcoin's pinned nixpkgs (nixos ${config.nixos} only sets system.stateVersion); nix-bitcoin's upstream was archived in 2026, see flake.nix`,
    );
  }
  const bitcoin = planBitcoinStorage(config.profile, disk);
  if (bitcoin) notes.push(`bitcoin: ${bitcoin.summary}`);
  return { config, facts, disk, network, host, hardware, bitcoin, notes };
}

/** The preflight verdict, or a UserError naming the first failed check (exit 2: nothing was touched). */
export function refuseUninstallable(facts: Facts, local?: boolean): PreflightVerdict {
  const verdict = preflight(facts, { local });
  const failed = verdict.checks.filter((c) => c.status === "fail");
  if (failed.length > 0) {
    throw new UserError(
      `preflight.${failed[0]!.id}: this machine cannot be installed: ${failed.map((c) => `${c.id}: ${c.message}`).join("; ")}`,
      {
        field: `preflight.${failed[0]!.id}`,
        hint: failed[0]!.fix ?? "see `nixnode-install detect` for the full verdict",
        details: failed.slice(1).map((c) => `${c.id}: ${c.fix ?? c.message}`),
      },
    );
  }
  return verdict;
}

function systemFor(facts: Facts): HostData["system"] {
  if (facts.arch === "x86_64") return "x86_64-linux";
  if (facts.arch === "aarch64") return "aarch64-linux";
  throw badField(
    "facts.arch",
    `"${facts.arch}" is not supported`,
    "NixOS installs here on x86_64 and aarch64 machines",
  );
}

function devicePlan(facts: Facts, path: string, field: string): DiskDevicePlan {
  const d = findDisk(facts, path);
  if (!d)
    throw badField(
      field,
      `${path} is not a disk on this machine`,
      "name one of the disks that `nixnode-install detect` lists",
    );
  return { path, kernelPath: d.path, sizeBytes: d.sizeBytes, model: d.model };
}

export function swapMiB(swap: string, ramBytes: number, diskBytes?: number): number {
  if (swap === "none") return 0;
  if (swap === "auto") return swapMiBForRam(ramBytes, diskBytes);
  const m = /^(\d+)([MG])$/.exec(swap);
  if (!m) throw badField("disk.swap", `"${swap}" is not a swap size`, 'use "auto", "none" or a size such as "4G"');
  return Number(m[1]) * (m[2] === "G" ? 1024 : 1);
}

function planDisk(config: NodeConfig, facts: Facts): DiskPlan {
  const system = config.disk.devices.map((p, i) => devicePlan(facts, p, `disk.devices[${i}]`));
  const data = config.disk.data
    ? {
        ...devicePlan(facts, config.disk.data.device, "disk.data.device"),
        mountpoint: config.disk.data.mountpoint,
        filesystem: config.disk.data.filesystem,
      }
    : null;
  const smallest = Math.min(...system.map((d) => d.sizeBytes));
  const swap = swapMiB(config.disk.swap, facts.memory.totalBytes, smallest);
  // The system needs room for the store after ESP and swap: refuse a swap that eats the disk.
  if (swap * 1024 ** 2 > smallest / 2)
    throw badField(
      "disk.swap",
      `${config.disk.swap} of swap would take more than half of the ${Math.round(smallest / 1024 ** 3)} GiB system disk`,
      'use "auto" or a smaller size',
    );
  return { layout: config.disk.layout, system, swapMiB: swap, data, bootMode: facts.firmware.mode };
}

function guestOf(facts: Facts): "qemu" | "hyperv" | "vmware" | "xen" | "none" {
  switch (facts.virtualisation) {
    case "kvm":
    case "qemu":
      return "qemu";
    case "hyperv":
      return "hyperv";
    case "vmware":
      return "vmware";
    case "xen":
    case "xen-pv":
      return "xen";
    default:
      return "none";
  }
}

/** host.json as the install leaves it: port 22 with passwords still on until lockdown confirms keys. */
function hostDataFor(
  config: NodeConfig,
  facts: Facts,
  network: InstallPlan["network"],
  disk: DiskPlan,
  system: HostData["system"],
): HostData {
  const sshPorts = [22];
  const ignoreIP = [...config.fail2ban.ignoreIP];
  // The operator's address as the target sees it: fail2ban must never ban the person installing.
  if (facts.operatorAddress && !ignoreIP.includes(facts.operatorAddress)) ignoreIP.push(facts.operatorAddress);
  return {
    schema: 1,
    hostname: config.hostname,
    system,
    stateVersion: config.nixos,
    timezone: config.timezone,
    profile: config.profile,
    ssh: {
      ports: sshPorts,
      passwordAuthentication: true,
      permitRootLogin: "prohibit-password",
      authorizedKeys: config.ssh.authorizedKeys,
      adminUser: config.ssh.adminUser,
      hostKeyFingerprint: null,
    },
    firewall: {
      enable: true,
      allowedTCPPorts: [...new Set([...PROFILE_OPEN_TCP[config.profile], ...sshPorts])],
      allowedUDPPorts: [],
    },
    fail2ban: { enable: config.fail2ban.enable, ignoreIP, maxretry: FAIL2BAN_MAXRETRY, bantime: FAIL2BAN_BANTIME },
    lockdown: { stage: "none", port: config.ssh.port },
    network,
    boot: { mode: disk.bootMode },
    ...healthFor(PROFILE_HEALTH_CHECKS[config.profile]),
  };
}
