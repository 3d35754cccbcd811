// `lsblk -J` output -> Disk[]. Pure. Copes with every lsblk JSON dialect seen in the wild:
// util-linux < 2.37 ("mountpoint" scalar) and >= 2.37 ("mountpoints" list with nulls), booleans as
// true/false or "0"/"1", sizes in bytes (-b, number or string) or human-readable ("28.5G").
import type { Disk, DiskTransport, Partition } from "../facts/types";
import { isObject } from "../util/fields";
import type { DiskLinks } from "./parse-disk-links";

type Node = Record<string, unknown>;

/** Kernel block devices that are never installation targets. */
const NOT_A_DISK = /^(loop|ram|zram|nbd|fd|sr|md|dm-)\d*/;

export interface LsblkOptions {
  byId?: DiskLinks;
  byPath?: DiskLinks;
  /** The source of "/" from findmnt (e.g. /dev/mapper/vg-root), for lsblk versions that did not report mounts. */
  rootSource?: string | null;
}

export function parseLsblkJson(json: unknown, opts: LsblkOptions = {}): { disks: Disk[]; warnings: string[] } {
  const warnings: string[] = [];
  if (!isObject(json) || !Array.isArray(json.blockdevices)) {
    return { disks: [], warnings: ["disks: lsblk output has no blockdevices list"] };
  }
  const disks: Disk[] = [];
  for (const raw of json.blockdevices) {
    if (!isObject(raw)) continue;
    const name = text(raw.name) ?? text(raw.kname);
    // Captures made with a column list without TYPE: a top-level device is a disk unless its name says otherwise.
    if (!name || (text(raw.type) ?? "disk") !== "disk" || NOT_A_DISK.test(name)) continue;
    const sizeBytes = parseSize(raw.size);
    if (sizeBytes === null) warnings.push(`disks: ${name} has no size in the lsblk output`);
    const children = nodes(raw.children);
    const isPart = (c: Node) => (text(c.type) ?? (text(c.name)?.startsWith(name) ? "part" : null)) === "part";
    const partitions: Partition[] = children.filter(isPart).map((c) => partition(c));
    const mountpoints = unique(subtree(raw).flatMap(mounts));
    const sources = subtree(raw).flatMap((n) => [
      text(n.path),
      text(n.name) ? `/dev/${text(n.name)}` : null,
      text(n.name) ? `/dev/mapper/${text(n.name)}` : null,
    ]);
    disks.push({
      name,
      path: text(raw.path) ?? `/dev/${name}`,
      sizeBytes: sizeBytes ?? 0,
      model: text(raw.model),
      serial: text(raw.serial),
      byId: opts.byId?.get(name) ?? [],
      byPath: opts.byPath?.get(name) ?? [],
      transport: transport(name, text(raw.tran)),
      rotational: flag(raw.rota),
      removable: flag(raw.rm),
      readOnly: flag(raw.ro),
      partitions,
      mountpoints,
      holdsRoot: mountpoints.includes("/") || (!!opts.rootSource && sources.includes(opts.rootSource)),
    });
  }
  return { disks, warnings };
}

function partition(n: Node): Partition {
  const name = text(n.name) ?? "?";
  return {
    name,
    path: text(n.path) ?? `/dev/${name}`,
    sizeBytes: parseSize(n.size) ?? 0,
    fstype: text(n.fstype),
    label: text(n.label),
    uuid: text(n.uuid),
    // Mounts through holders (LVM, LUKS, md) count for the partition that carries them.
    mountpoints: unique(subtree(n).flatMap(mounts)),
  };
}

function nodes(v: unknown): Node[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function subtree(n: Node): Node[] {
  return [n, ...nodes(n.children).flatMap(subtree)];
}

function mounts(n: Node): string[] {
  const list = Array.isArray(n.mountpoints) ? n.mountpoints : [n.mountpoint];
  return list.filter((m): m is string => typeof m === "string" && m !== "");
}

function text(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const t = v.trim();
  return t === "" ? null : t;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** lsblk booleans: true/false, 1/0, "1"/"0", "true"/"false". */
export function flag(v: unknown): boolean {
  return v === true || v === 1 || v === "1" || v === "true";
}

const UNITS: Record<string, number> = { B: 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };

/** Bytes from 274877906944, "274877906944" or lsblk's human form "28.5G" (binary units). */
export function parseSize(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return Math.round(v);
  if (typeof v !== "string") return null;
  const m = /^\s*(\d+(?:[.,]\d+)?)\s*([BKMGTPE])?(?:i?B)?\s*$/i.exec(v);
  if (!m) return null;
  const exp = UNITS[(m[2] ?? "B").toUpperCase()]!;
  return Math.round(Number(m[1]!.replace(",", ".")) * 1024 ** exp);
}

function transport(name: string, tran: string | null): DiskTransport {
  const t = tran?.toLowerCase() ?? null;
  if (t === "nvme" || name.startsWith("nvme")) return "nvme";
  if (t === "usb") return "usb";
  if (t === "sata" || t === "ata") return "sata";
  if (t === "virtio" || /^vd[a-z]+$/.test(name)) return "virtio";
  if (t === "mmc" || name.startsWith("mmcblk")) return "mmc";
  if (/^xvd[a-z]+$/.test(name)) return "xen";
  if (t === "sas" || t === "scsi" || t === "iscsi" || t === "fc" || t === "spi") return "scsi";
  return "unknown";
}
