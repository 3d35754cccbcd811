// `ls -l /dev/disk/by-id` (or by-path) -> kernel name -> stable paths, best first. Pure.
// Kernel names (sda, vda, nvme0n1) can change across a kexec or a reboot; by-id names carry the
// model and serial, so the disk that gets wiped is the disk the operator chose.

/** Kernel name ("sda") -> full link paths ("/dev/disk/by-id/ata-..."), best first. */
export type DiskLinks = Map<string, string[]>;

const LINK_LINE = /\s(\S+) -> (\S+)\s*$/;

/**
 * Rank of a by-id name: model+serial names first (what a person recognises), then vendor-specific
 * ones, and the opaque WWN / EUI names last. Links to device-mapper or LVM objects are not disks.
 */
export function byIdRank(name: string): number | null {
  if (/^(dm-|lvm-|md-|raid-|bcache-)/.test(name)) return null;
  if (/^nvme-(eui\.|nvme\.)/.test(name)) return 8;
  if (name.startsWith("wwn-")) return 9;
  if (name.startsWith("nvme-")) return 0;
  if (name.startsWith("ata-")) return 1;
  if (name.startsWith("virtio-")) return 2;
  if (name.startsWith("scsi-0") || name.startsWith("scsi-S")) return 3;
  if (name.startsWith("usb-") || name.startsWith("mmc-")) return 4;
  if (/^scsi-[123]/.test(name)) return 7; // NAA/EUI-64 identifiers: stable but opaque
  return 5;
}

export function parseDiskLinks(listing: string, dir: "by-id" | "by-path"): DiskLinks {
  const found = new Map<string, Array<{ name: string; rank: number }>>();
  for (const line of listing.split("\n")) {
    if (!line.startsWith("l")) continue; // only symlinks: skips "total 0" and directories
    const m = LINK_LINE.exec(line);
    if (!m) continue;
    const name = m[1]!;
    const kernel = m[2]!.split("/").pop()!;
    const rank = dir === "by-id" ? byIdRank(name) : 0;
    if (rank === null) continue;
    const list = found.get(kernel) ?? [];
    list.push({ name, rank });
    found.set(kernel, list);
  }
  const out: DiskLinks = new Map();
  for (const [kernel, list] of found) {
    // Within a rank the shorter name wins: nvme-MODEL_SERIAL before nvme-MODEL_SERIAL_1.
    list.sort((a, b) => a.rank - b.rank || a.name.length - b.name.length || a.name.localeCompare(b.name));
    out.set(
      kernel,
      list.map((l) => `/dev/disk/${dir}/${l.name}`),
    );
  }
  return out;
}
