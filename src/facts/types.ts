// Facts: everything detection reports about a target machine. Produced by the probe (src/detect),
// by importing a nixos-facter report (src/facts/facter.ts), or from a bundled example machine.
// Consumed by preflight, the planner and the renderers. Validated at runtime by validateFacts().
// Sizes are bytes; unknown values are null (never guessed).

export const FACTS_SCHEMA_VERSION = 1 as const;

export type Arch = "x86_64" | "aarch64" | "i686" | "armv7l" | "riscv64" | "other";

export type Virtualisation =
  | "none"
  | "kvm"
  | "qemu"
  | "xen"
  | "xen-pv"
  | "vmware"
  | "hyperv"
  | "virtualbox"
  | "bhyve"
  | "other-vm"
  // containers: cannot kexec, cannot repartition
  | "lxc"
  | "openvz"
  | "docker"
  | "podman"
  | "systemd-nspawn"
  | "wsl"
  | "other-container"
  | "unknown";

export const CONTAINER_KINDS: readonly Virtualisation[] = [
  "lxc",
  "openvz",
  "docker",
  "podman",
  "systemd-nspawn",
  "wsl",
  "other-container",
];

export type DiskTransport = "nvme" | "sata" | "virtio" | "scsi" | "usb" | "mmc" | "xen" | "unknown";

export interface Partition {
  name: string; // "sda1", "nvme0n1p2"
  path: string; // "/dev/sda1"
  sizeBytes: number;
  fstype: string | null;
  label: string | null;
  uuid: string | null;
  mountpoints: string[];
}

export interface Disk {
  name: string; // "sda", "nvme0n1", "vda"
  path: string; // "/dev/sda"
  sizeBytes: number;
  model: string | null;
  serial: string | null;
  /** Stable names, full paths, best first: "/dev/disk/by-id/nvme-SAMSUNG_..." (wwn-/nvme-eui. last). */
  byId: string[];
  /** by-path names, used when no by-id exists (virtio disks without serial). */
  byPath: string[];
  transport: DiskTransport;
  rotational: boolean;
  removable: boolean;
  readOnly: boolean;
  partitions: Partition[];
  /** Mountpoints on the disk itself or on any of its partitions (including via LVM/md/crypt holders). */
  mountpoints: string[];
  /** This disk holds the running system's "/" (possibly through LVM, md or LUKS). */
  holdsRoot: boolean;
}

export interface Address {
  family: 4 | 6;
  address: string;
  prefix: number;
  scope: "global" | "link" | "host" | "site";
  /** Assigned by DHCP / SLAAC (has a finite lifetime or the "dynamic" flag). */
  dynamic: boolean;
}

export interface NetInterface {
  name: string;
  mac: string | null; // lower-case aa:bb:..
  driver: string | null;
  state: "up" | "down" | "unknown";
  mtu: number | null;
  /** ethernet, wlan, bond, bridge, vlan, loopback, virtual... */
  kind: "ethernet" | "wlan" | "bond" | "bridge" | "vlan" | "loopback" | "virtual" | "other";
  addresses: Address[];
}

export interface Route {
  family: 4 | 6;
  /** "default" or a CIDR such as "10.0.0.0/24" */
  destination: string;
  gateway: string | null;
  dev: string;
  /** The gateway is reachable only on-link (not inside any address's prefix), e.g. 172.31.1.1 on a /32 or fe80::1. */
  onLink: boolean;
  protocol: string | null; // "dhcp", "ra", "static", "kernel", "boot"
  metric: number | null;
}

export interface Network {
  interfaces: NetInterface[];
  routes: Route[];
  defaultGateway4: { address: string; dev: string; onLink: boolean } | null;
  defaultGateway6: { address: string; dev: string; onLink: boolean } | null;
  dns: string[];
  /** How the target got its addresses: true when a DHCP client held the IPv4 lease. */
  dhcp4: boolean;
}

export interface Facts {
  schema: typeof FACTS_SCHEMA_VERSION;
  /** Where these facts came from. */
  source: "probe" | "facter" | "example";
  hostname: string | null;
  os: {
    id: string | null; // "ubuntu", "debian", "nixos"
    versionId: string | null; // "24.04"
    prettyName: string | null;
    isNixos: boolean;
    /** A NixOS installer (ISO or the kexec image): nixos-install exists and / is a tmpfs. */
    isNixosInstaller: boolean;
    kernel: string | null; // uname -r
  };
  arch: Arch;
  virtualisation: Virtualisation;
  firmware: {
    mode: "uefi" | "bios" | "unknown";
    /** null = could not be read (no efivars, or a facter report). */
    secureBoot: boolean | null;
    /** Kernel lockdown: "none", "integrity", "confidentiality", or null when unknown. kexec fails unless "none". */
    kernelLockdown: "none" | "integrity" | "confidentiality" | null;
    vendor: string | null; // "SeaBIOS", "EDK II"
  };
  memory: { totalBytes: number; swapBytes: number | null };
  cpu: { vendor: "intel" | "amd" | "arm" | "other"; model: string | null; cores: number | null };
  disks: Disk[];
  network: Network;
  /** Kernel modules the initrd needs for the storage and network hardware (virtio_pci, nvme, ahci...). */
  initrdModules: string[];
  /** Other kernel modules worth loading ("kvm-intel", "kvm-amd"). */
  kernelModules: string[];
  provider: { vendor: string | null; product: string | null; hint: string | null };
  /** The operator's address as the TARGET sees it (from $SSH_CONNECTION), so NAT is handled. */
  operatorAddress: string | null;
  /** How we are logged in. */
  access: { user: string | null; isRoot: boolean; sudo: "root" | "passwordless" | "password" | "none" | "unknown" };
  /** Tools nixos-anywhere / the kexec path need on the target. */
  tools: { tar: boolean; cpio: boolean; setsid: boolean; curl: boolean; wget: boolean; kexec: boolean };
  /** /proc/sys/kernel/random/boot_id: a change proves a reboot happened. */
  bootId: string | null;
  /** Errors the probe met while gathering (a missing command, an unreadable file). Informational. */
  warnings: string[];
}
