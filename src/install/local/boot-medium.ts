// The disk the running NixOS installer was booted from. The official ISO (nixpkgs
// nixos/modules/installer/cd-dvd/iso-image.nix, 26.05: lib.isoFileSystems."/iso") mounts its boot
// medium at /iso (device /dev/root, or /dev/disk/by-label/<volumeID> with the systemd initrd) and its
// store from /iso/nix-store.squashfs, so the device under /iso is the USB stick. Installing over it
// would erase the system doing the install.
// The stick is identified by its device number (MAJ:MIN), not its name: /proc/self/mountinfo gives
// the number of what is mounted at /iso, and lsblk reports the same number next to the name the probe
// (also lsblk) shows, whatever the kernel, udev or a /dev/disk link calls it. Names are the fallback.
import { UserError } from "../../errors";
import type { Facts } from "../../facts/types";
import { isObject } from "../../util/fields";
import { shellQuote } from "../../util/shell-quote";
import type { InstallSession } from "../types";

/** A whole disk as the kernel numbers and names it (/sys/dev/block/MAJ:MIN). */
export interface DiskId {
  majMin: string;
  kname: string;
}

/** sh function: `disk_of SYSPATH` prints "MAJ:MIN KNAME" of the whole disk (a partition's parent). */
const DISK_OF = [
  "disk_of() {",
  '  s=$(readlink -f "$1") || return 0',
  '  [ -e "$s/partition" ] && s=$(dirname "$s")',
  '  [ -r "$s/dev" ] && echo "$(cat "$s/dev") $(basename "$s")"',
  "}",
].join("\n");

/** The whole disk under /iso ("boot MAJ:MIN KNAME"); then lsblk's disks with their MAJ:MIN (JSON). */
export const BOOT_MEDIUM_SCRIPT = [
  DISK_OF,
  "mm=$(awk '$5==\"/iso\"{print $3; exit}' /proc/self/mountinfo)",
  '[ -n "$mm" ] || exit 0',
  'echo "boot $(disk_of "/sys/dev/block/$mm")"',
  "lsblk -J -o NAME,KNAME,MAJ:MIN,PATH,TYPE 2>/dev/null || lsblk -J -o NAME,MAJ:MIN,TYPE 2>/dev/null || true",
].join("\n");

const MAJ_MIN = /^\d+:\d+$/;
const KNAME = /^[A-Za-z0-9._-]+$/;

/** "boot 8:16 sdb" (or "named 8:16 sdb") -> the id; null for anything else. */
export function parseDiskId(line: string | undefined, tag: string): DiskId | null {
  const [t, majMin, kname] = (line ?? "").trim().split(/\s+/);
  return t === tag && majMin && MAJ_MIN.test(majMin) && kname && KNAME.test(kname) ? { majMin, kname } : null;
}

/**
 * The path lsblk (and so the probe) gives the boot disk: the top-level device with the boot medium's
 * MAJ:MIN, or whose partition has it; else the one named like the kernel names it; else /dev/KNAME.
 */
export function bootDiskPath(lsblk: unknown, boot: DiskId): string {
  const top = isObject(lsblk) && Array.isArray(lsblk.blockdevices) ? lsblk.blockdevices.filter(isObject) : [];
  const str = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : null);
  const pathOf = (n: Record<string, unknown>) => str(n.path) ?? (str(n.name) ? `/dev/${str(n.name)}` : null);
  const subtree = (n: Record<string, unknown>): Record<string, unknown>[] => [
    n,
    ...(Array.isArray(n.children) ? n.children.filter(isObject).flatMap(subtree) : []),
  ];
  const byNumber = top.find((n) => subtree(n).some((x) => str(x["maj:min"]) === boot.majMin));
  const byName = top.find((n) => (str(n.kname) ?? str(n.name)) === boot.kname);
  const found = byNumber ?? byName;
  const path = found ? pathOf(found) : null;
  return path && /^\/dev\/[A-Za-z0-9._/:-]+$/.test(path) ? path : `/dev/${boot.kname}`;
}

async function readBootMedium(target: Pick<InstallSession, "run">): Promise<(DiskId & { path: string }) | null> {
  const r = await target.run(BOOT_MEDIUM_SCRIPT, { timeoutMs: 10_000 });
  if (r.code !== 0) return null;
  const nl = r.stdout.indexOf("\n");
  const boot = parseDiskId(nl < 0 ? r.stdout : r.stdout.slice(0, nl), "boot");
  if (!boot) return null;
  let lsblk: unknown = null;
  try {
    lsblk = JSON.parse(r.stdout.slice(nl + 1));
  } catch {
    // no lsblk (or no JSON from it): the kernel's name is all there is
  }
  return { ...boot, path: bootDiskPath(lsblk, boot) };
}

/** The boot disk's path as the probe lists it (/dev/sdb), or null when nothing is mounted at /iso. */
export async function findBootMedium(target: Pick<InstallSession, "run">): Promise<string | null> {
  return (await readBootMedium(target))?.path ?? null;
}

/** The facts without the boot medium, so that the wizard and the planner never offer it. */
export function withoutBootMedium(facts: Facts, bootDisk: string | null): Facts {
  if (!bootDisk) return facts;
  return { ...facts, disks: facts.disks.filter((d) => d.path !== bootDisk) };
}

/**
 * Whether a path the operator named is on the boot disk: the same device number (a /dev/disk/by-id
 * link, a partition, the kernel's own name all resolve to it), else the same name as lsblk's.
 */
export function isBootMedium(named: { path: string; id: DiskId | null }, boot: DiskId & { path: string }): boolean {
  if (named.id && boot.majMin) return named.id.majMin === boot.majMin;
  return named.path === boot.path || named.path === `/dev/${boot.kname}`;
}

/** For each path: the whole disk it is on, by device number (null when it is no block device here). */
async function diskIdsOf(target: Pick<InstallSession, "run">, paths: string[]): Promise<(DiskId | null)[]> {
  if (paths.length === 0) return [];
  const r = await target.run(
    [
      DISK_OF,
      `for p in ${paths.map(shellQuote).join(" ")}; do`,
      '  d=$(readlink -f -- "$p" 2>/dev/null)',
      '  if [ -n "$d" ] && [ -b "$d" ] && set -- $(stat -L -c "%t %T" -- "$d" 2>/dev/null) && [ $# -eq 2 ]; then',
      '    echo "named $(disk_of "/sys/dev/block/$((0x$1)):$((0x$2))")"',
      "  else echo none; fi",
      "done",
    ].join("\n"),
    { timeoutMs: 10_000 },
  );
  const lines = r.code === 0 ? r.stdout.split("\n") : [];
  return paths.map((_, i) => parseDiskId(lines[i], "named"));
}

/** Refuses a disk the operator named (--config disk.devices, disk.data.device) that is the boot medium. */
export async function refuseBootMedium(
  target: Pick<InstallSession, "run">,
  named: { field: string; path: string }[],
  bootDisk: string | null,
): Promise<void> {
  if (!bootDisk || named.length === 0) return;
  const boot = (await readBootMedium(target)) ?? {
    majMin: "",
    kname: bootDisk.replace(/^\/dev\//, ""),
    path: bootDisk,
  };
  const ids = await diskIdsOf(
    target,
    named.map((n) => n.path),
  );
  named.forEach((n, i) => {
    if (!isBootMedium({ path: n.path, id: ids[i] ?? null }, boot)) return;
    throw new UserError(`${n.field}: ${n.path} is the USB stick this installer runs from (${boot.path})`, {
      field: n.field,
      hint: "name the machine's own disk instead (lsblk lists them); the boot medium is never erased",
    });
  });
}

/** Filesystems the operator mounted under /media or /run/media (a second USB stick), boot medium excluded. */
export async function mountedSticks(target: Pick<InstallSession, "run">, bootDisk: string | null): Promise<string[]> {
  const r = await target.run("findmnt -rn -o TARGET,SOURCE", { timeoutMs: 10_000 });
  if (r.code !== 0) return [];
  const found: { mp: string; source: string }[] = [];
  for (const line of r.stdout.split("\n")) {
    const [mp, source] = line.trim().split(/\s+/);
    if (!mp || !source || !/^\/(run\/)?media\/[A-Za-z0-9._/+-]+$/.test(mp)) continue;
    found.push({ mp, source });
  }
  if (!bootDisk || found.length === 0) return found.map((f) => f.mp);
  const boot = await readBootMedium(target);
  if (!boot) return found.map((f) => f.mp);
  const ids = await diskIdsOf(
    target,
    found.map((f) => f.source),
  );
  return found.filter((f, i) => !isBootMedium({ path: f.source, id: ids[i] ?? null }, boot)).map((f) => f.mp);
}
