// Every disk layout, one entry each (as disko keeps one file per type): its template in disko/, how
// many system disks it takes, how the wizard offers it, how the plan summary draws each disk, and
// what its boot loader needs. Adding a layout is one entry here, one template in disko/ and its
// golden test; planning, the wizard, the summary and boot.nix all read from this table.
import btrfs from "../../disko/btrfs.nix?raw";
import ext4 from "../../disko/ext4.nix?raw";
import mirrorMdadm from "../../disko/mirror-mdadm.nix?raw";
import mirrorZfs from "../../disko/mirror-zfs.nix?raw";

export interface DiskLayoutEntry {
  /** The template's text and its path in the repository (named in the generated file's header). */
  template: { text: string; file: string };
  /** System disks the layout takes: 1, or 2 for a mirror. */
  disks: 1 | 2;
  /** The wizard's choice. */
  title: string;
  summary: string;
  /** Partitions of system disk `index` as the plan summary draws them; `swap` is "4G" or null. */
  parts(index: number, swap: string | null): string[];
  boot: {
    /** One ESP and GRUB per disk (/boot and /boot-fallback) instead of disko's EF02 device list. */
    mirroredBoots: boolean;
    /** An md array exists: always, only for mirrored swap, or never (mdadm needs a monitor target). */
    md: "always" | "with-swap" | "never";
    /** ZFS needs a stable networking.hostId. */
    zfsHostId: boolean;
  };
}

export const DISK_LAYOUT_REGISTRY = {
  ext4: {
    template: { text: ext4, file: "disko/ext4.nix" },
    disks: 1,
    title: "ext4 on one disk",
    summary: "simple and robust; the usual choice for a VPS",
    parts: (_i, swap) => ["512M ESP /boot", ...(swap ? [`${swap} swap`] : []), "rest ext4 /"],
    boot: { mirroredBoots: false, md: "never", zfsHostId: false },
  },
  btrfs: {
    template: { text: btrfs, file: "disko/btrfs.nix" },
    disks: 1,
    title: "btrfs on one disk",
    summary: "subvolumes, compression, snapshots",
    parts: (_i, swap) => [
      "512M ESP /boot",
      `rest btrfs: @root /, @home /home, @nix /nix${swap ? `, @swap ${swap} swapfile` : ""}`,
    ],
    boot: { mirroredBoots: false, md: "never", zfsHostId: false },
  },
  "mirror-mdadm": {
    template: { text: mirrorMdadm, file: "disko/mirror-mdadm.nix" },
    disks: 2,
    title: "mirror of two disks (mdadm RAID1, ext4)",
    summary: "survives one disk failing",
    parts: (_i, swap) => ["512M ESP, RAID1 /boot", ...(swap ? [`${swap} swap, RAID1`] : []), "rest RAID1 ext4 /"],
    boot: { mirroredBoots: false, md: "always", zfsHostId: false },
  },
  "mirror-zfs": {
    template: { text: mirrorZfs, file: "disko/mirror-zfs.nix" },
    disks: 2,
    title: "mirror of two disks (ZFS)",
    summary: "checksums every block; needs more RAM",
    parts: (i, swap) => [
      `512M ESP ${i === 0 ? "/boot" : "/boot-fallback"}`,
      ...(swap ? [`${swap} swap, RAID1`] : []),
      "rest zfs mirror rpool: / /nix /home",
    ],
    boot: { mirroredBoots: true, md: "with-swap", zfsHostId: true },
  },
} as const satisfies Record<string, DiskLayoutEntry>;

export type DiskLayout = keyof typeof DISK_LAYOUT_REGISTRY;
export const DISK_LAYOUTS = Object.keys(DISK_LAYOUT_REGISTRY) as DiskLayout[];

export function diskLayout(name: DiskLayout): DiskLayoutEntry {
  return DISK_LAYOUT_REGISTRY[name];
}

/** Layouts that take this many system disks (the wizard offers mirrors only where a pair exists). */
export function layoutsFor(disks: 1 | 2): DiskLayout[] {
  return DISK_LAYOUTS.filter((l) => DISK_LAYOUT_REGISTRY[l].disks === disks);
}
