// Disk plans the disko tests render: every layout, with and without swap and a data disk, with
// the kinds of device names real machines have (NVMe and SATA by-id links, a virtio disk that has
// no by-id link and keeps its kernel name).
import type { DiskDevicePlan, DiskPlan } from "../../../src/plan/types";

const TB = 1000 ** 4;
const GB = 1000 ** 3;

export const nvme0: DiskDevicePlan = {
  path: "/dev/disk/by-id/nvme-SAMSUNG_MZVL21T0HCLR-00B00_S676NF0R908202",
  kernelPath: "/dev/nvme0n1",
  sizeBytes: 1_024_209_543_168,
  model: "SAMSUNG MZVL21T0HCLR-00B00",
};
export const nvme1: DiskDevicePlan = {
  path: "/dev/disk/by-id/nvme-SAMSUNG_MZVL21T0HCLR-00B00_S676NF0R908215",
  kernelPath: "/dev/nvme1n1",
  sizeBytes: 1_024_209_543_168,
  model: "SAMSUNG MZVL21T0HCLR-00B00",
};
export const vda: DiskDevicePlan = { path: "/dev/vda", kernelPath: "/dev/vda", sizeBytes: 40 * GB, model: null };
export const sda: DiskDevicePlan = {
  path: "/dev/disk/by-id/ata-ST16000NM001G-2KK103_ZL2F8ABC",
  kernelPath: "/dev/sda",
  sizeBytes: 16 * TB,
  model: "ST16000NM001G-2KK103",
};
export const volume: DiskDevicePlan = {
  path: "/dev/disk/by-id/scsi-0HC_Volume_100200300",
  kernelPath: "/dev/sdb",
  sizeBytes: 1200 * GB,
  model: "Volume",
};

export interface DiskCase {
  name: string;
  plan: DiskPlan;
  system?: "x86_64-linux" | "aarch64-linux";
  /** What real disko must report for the rendered file. */
  disks: Record<string, string>;
  mountpoints: string[];
}

export const DISK_CASES: DiskCase[] = [
  {
    name: "ext4-vps",
    plan: { layout: "ext4", system: [vda], swapMiB: 4096, data: null, bootMode: "bios" },
    disks: { main: "/dev/vda" },
    mountpoints: ["/", "/boot"],
  },
  {
    name: "ext4-nvme-data",
    plan: {
      layout: "ext4",
      system: [nvme0],
      swapMiB: 8192,
      data: { ...sda, mountpoint: "/data", filesystem: "ext4" },
      bootMode: "uefi",
    },
    disks: { main: nvme0.path, data: sda.path },
    mountpoints: ["/", "/boot", "/data"],
  },
  {
    name: "ext4-arm64-noswap",
    plan: {
      layout: "ext4",
      system: [{ ...vda, path: "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_drive-scsi0-0-0-0", kernelPath: "/dev/sda" }],
      swapMiB: 0,
      data: null,
      bootMode: "uefi",
    },
    system: "aarch64-linux",
    disks: { main: "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_drive-scsi0-0-0-0" },
    mountpoints: ["/", "/boot"],
  },
  {
    name: "btrfs-swap",
    plan: { layout: "btrfs", system: [nvme0], swapMiB: 2048, data: null, bootMode: "unknown" },
    disks: { main: nvme0.path },
    mountpoints: ["/", "/.swapvol", "/boot", "/home", "/nix"],
  },
  {
    name: "btrfs-noswap-volume",
    plan: {
      layout: "btrfs",
      system: [vda],
      swapMiB: 0,
      data: { ...volume, mountpoint: "/var/lib/bitcoind", filesystem: "xfs" },
      bootMode: "bios",
    },
    disks: { main: "/dev/vda", data: volume.path },
    mountpoints: ["/", "/boot", "/home", "/nix", "/var/lib/bitcoind"],
  },
  {
    name: "mirror-mdadm",
    plan: { layout: "mirror-mdadm", system: [nvme0, nvme1], swapMiB: 8192, data: null, bootMode: "uefi" },
    disks: { a: nvme0.path, b: nvme1.path },
    mountpoints: ["/", "/boot"],
  },
  {
    name: "mirror-mdadm-noswap-data",
    plan: {
      layout: "mirror-mdadm",
      system: [nvme0, nvme1],
      swapMiB: 0,
      data: { ...sda, mountpoint: "/data", filesystem: "btrfs" },
      bootMode: "bios",
    },
    disks: { a: nvme0.path, b: nvme1.path, data: sda.path },
    mountpoints: ["/", "/boot", "/data"],
  },
  {
    name: "mirror-zfs-data",
    plan: {
      layout: "mirror-zfs",
      system: [nvme0, nvme1],
      swapMiB: 4096,
      data: { ...sda, mountpoint: "/data", filesystem: "xfs" },
      bootMode: "uefi",
    },
    disks: { a: nvme0.path, b: nvme1.path, data: sda.path },
    mountpoints: ["/", "/boot", "/boot-fallback", "/data", "/home", "/nix"],
  },
  {
    name: "mirror-zfs-noswap",
    plan: { layout: "mirror-zfs", system: [nvme0, nvme1], swapMiB: 0, data: null, bootMode: "bios" },
    disks: { a: nvme0.path, b: nvme1.path },
    mountpoints: ["/", "/boot", "/boot-fallback", "/home", "/nix"],
  },
];
