// The operator's answers (nixnode.json), and the validated InstallPlan built from answers + facts.
// Contract between plan/ (validation, defaults), wizard/ (questions), generate/ (renderers),
// install/ and lockdown/ (which update host.json). Documented for users in docs/config.md.
import type { Facts } from "../facts/types";
import type { BitcoinStorage } from "./bitcoin-storage";

export const PROFILES = ["base", "nix-bitcoin", "peer-observer"] as const;
export type Profile = (typeof PROFILES)[number];

// the layouts are the entries of the one registry (generate/disk-layouts.ts)
export { DISK_LAYOUTS, type DiskLayout } from "../generate/disk-layouts";
import type { DiskLayout } from "../generate/disk-layouts";

/** nixnode.json: every answer. Re-running with --config reproduces the plan. */
export interface NodeConfig {
  hostname: string;
  /** NixOS release for nixpkgs and system.stateVersion, e.g. "25.11". */
  nixos: string;
  timezone: string;
  profile: Profile;
  disk: {
    layout: DiskLayout;
    /** System disk(s): /dev/disk/by-id/... (or /dev/NAME, resolved to by-id through the facts). 2 for mirrors. */
    devices: string[];
    /** Swap: "auto" (sized from RAM), "none", or a size like "4G". */
    swap: string;
    /** A separate data disk (e.g. the blockchain) that a reinstall never reformats. */
    data: { device: string; mountpoint: string; filesystem: "ext4" | "xfs" | "btrfs" } | null;
  };
  ssh: {
    /** The final SSH port after lockdown. */
    port: number;
    /** Operator public keys (OpenSSH one-line format). At least one is required to install. */
    authorizedKeys: string[];
    /** null: root logs in with keys (prohibit-password). A name: an admin user with the same keys and sudo. */
    adminUser: string | null;
  };
  fail2ban: { enable: boolean; ignoreIP: string[] };
  /** Optional knobs with defaults. */
  install: { copyFlakeToEtc: boolean; rebootTimeoutSec: number };
  lockdown: { confirmTimeoutSec: number };
}

/** The disks the layout is rendered with, resolved against the facts. */
export interface DiskDevicePlan {
  /** The path written into disk-config.nix: /dev/disk/by-id/... when one exists. */
  path: string;
  /** The current kernel name, for showing the operator (/dev/sda). */
  kernelPath: string;
  sizeBytes: number;
  model: string | null;
}

export interface DiskPlan {
  layout: DiskLayout;
  system: DiskDevicePlan[];
  /** Swap size in MiB (0 = none). */
  swapMiB: number;
  data: (DiskDevicePlan & { mountpoint: string; filesystem: "ext4" | "xfs" | "btrfs" }) | null;
  bootMode: "uefi" | "bios" | "unknown";
}

/** One interface of the INSTALLED system's network, matched by MAC. */
export interface NetInterfacePlan {
  /** Name used for the networkd unit (the current kernel name). */
  name: string;
  mac: string;
  dhcp4: boolean;
  /** Accept router advertisements / DHCPv6 (true unless a static IPv6 was captured). */
  ipv6AcceptRA: boolean;
  /** Static addresses to keep, CIDR: "203.0.113.7/32", "2001:db8::1/64". */
  addresses: string[];
  /** Static routes. onLink: the gateway is reachable without being inside a prefix (Hetzner, OVH). */
  routes: Array<{ destination: string; gateway: string; onLink: boolean }>;
  /** Boot waits for this interface (networkd RequiredForOnline): the one carrying the default route. */
  requiredForOnline: boolean;
}

export interface NetworkPlan {
  interfaces: NetInterfacePlan[];
  dns: string[];
}

/**
 * hosts/<host>/host.json: the data the tool manages and the static .nix modules read with
 * builtins.fromJSON. install/ and lockdown/ update it; tests check this same data.
 */
export interface HostData {
  schema: 1;
  hostname: string;
  system: "x86_64-linux" | "aarch64-linux";
  stateVersion: string;
  timezone: string;
  profile: Profile;
  ssh: {
    /** Ports sshd listens on NOW (22 until lockdown; [22, P] in stage 1; [P] after). */
    ports: number[];
    passwordAuthentication: boolean;
    permitRootLogin: "yes" | "prohibit-password" | "no";
    authorizedKeys: string[];
    adminUser: string | null;
    /** SHA256:... of the pre-generated ed25519 host key (null until the install generates it). */
    hostKeyFingerprint: string | null;
  };
  firewall: { enable: boolean; allowedTCPPorts: number[]; allowedUDPPorts: number[] };
  fail2ban: { enable: boolean; ignoreIP: string[]; maxretry: number; bantime: string };
  lockdown: { stage: "none" | "dual-port" | "final"; port: number };
  network: NetworkPlan;
  boot: { mode: "uefi" | "bios" | "unknown" };
  /** What `switch` checks before it acknowledges a new configuration (docs/switch.md "Health checks"). */
  health?: { checks: HealthCheckSpec[] };
}

/** One declared health check; `name` labels it in messages (default: what it checks). */
export type HealthCheckSpec = { name?: string; timeoutSec?: number } & (
  | { kind: "tcp"; address: string; port: number }
  | { kind: "unit"; unit: string }
  | { kind: "interface"; interface: string }
  | { kind: "http"; url: string; status: number }
);

export interface InstallPlan {
  config: NodeConfig;
  facts: Facts;
  disk: DiskPlan;
  network: NetworkPlan;
  host: HostData;
  /** Hardware: from a facter report (hardware.facter.reportPath) or from facts. */
  hardware:
    | { kind: "facter"; report: unknown }
    | {
        kind: "modules";
        initrdModules: string[];
        kernelModules: string[];
        cpuVendor: Facts["cpu"]["vendor"];
        guest: "qemu" | "hyperv" | "vmware" | "xen" | "none";
      };
  /** Bitcoin profiles: where the chain lives and whether it prunes (src/plan/bitcoin-storage.ts); null otherwise. */
  bitcoin: BitcoinStorage | null;
  /** Notes for the operator (defaults chosen, things to check). */
  notes: string[];
}
