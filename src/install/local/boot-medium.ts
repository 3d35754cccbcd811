// The disk the running NixOS installer was booted from. The official ISO (nixpkgs
// nixos/modules/installer/cd-dvd/iso-image.nix) mounts its boot medium at /iso (device /dev/root,
// found by the volume label) and its store from /iso/nix-store.squashfs at /nix/.ro-store, so the
// device under /iso is the USB stick. Installing over it would erase the system doing the install.
import { UserError } from "../../errors";
import type { Facts } from "../../facts/types";
import { shellQuote } from "../../util/shell-quote";
import type { InstallSession } from "../types";

/** Prints /dev/<disk> for the whole disk behind /iso (a partition's parent), or nothing. */
export const BOOT_MEDIUM_SCRIPT = [
  "mm=$(awk '$5==\"/iso\"{print $3; exit}' /proc/self/mountinfo)",
  '[ -n "$mm" ] || exit 0',
  'p=$(readlink -f "/sys/dev/block/$mm") || exit 0',
  '[ -e "$p/partition" ] && p=$(dirname "$p")',
  'echo "/dev/$(basename "$p")"',
].join("\n");

export async function findBootMedium(target: Pick<InstallSession, "run">): Promise<string | null> {
  const r = await target.run(BOOT_MEDIUM_SCRIPT, { timeoutMs: 10_000 });
  const dev = r.stdout.trim();
  return r.code === 0 && /^\/dev\/[A-Za-z0-9._-]+$/.test(dev) ? dev : null;
}

/** The facts without the boot medium, so that the wizard and the planner never offer it. */
export function withoutBootMedium(facts: Facts, bootDisk: string | null): Facts {
  if (!bootDisk) return facts;
  return { ...facts, disks: facts.disks.filter((d) => d.path !== bootDisk) };
}

/** The whole disk (/dev/sdb) a named path (/dev/disk/by-id/..., /dev/sdb1) is on; the path itself when unknown. */
export async function wholeDiskOf(target: Pick<InstallSession, "run">, path: string): Promise<string> {
  const r = await target.run(
    [
      `p=$(readlink -f ${shellQuote(path)}) || exit 0`,
      's=$(readlink -f "/sys/class/block/$(basename "$p")") || exit 0',
      '[ -e "$s/partition" ] && s=$(dirname "$s")',
      'echo "/dev/$(basename "$s")"',
    ].join("\n"),
    { timeoutMs: 10_000 },
  );
  const dev = r.stdout.trim();
  return r.code === 0 && /^\/dev\/[A-Za-z0-9._-]+$/.test(dev) ? dev : path;
}

/** Refuses a disk the operator named (--config disk.devices, disk.data.device) that is the boot medium. */
export async function refuseBootMedium(
  target: Pick<InstallSession, "run">,
  named: { field: string; path: string }[],
  bootDisk: string | null,
): Promise<void> {
  if (!bootDisk) return;
  for (const n of named) {
    if ((await wholeDiskOf(target, n.path)) !== bootDisk) continue;
    throw new UserError(`${n.field}: ${n.path} is the USB stick this installer runs from (${bootDisk})`, {
      field: n.field,
      hint: "name the machine's own disk instead (lsblk lists them); the boot medium is never erased",
    });
  }
}

/** Filesystems the operator mounted under /media or /run/media (a second USB stick), boot medium excluded. */
export async function mountedSticks(target: Pick<InstallSession, "run">, bootDisk: string | null): Promise<string[]> {
  const r = await target.run("findmnt -rn -o TARGET,SOURCE", { timeoutMs: 10_000 });
  if (r.code !== 0) return [];
  const out: string[] = [];
  for (const line of r.stdout.split("\n")) {
    const [mp, source] = line.trim().split(/\s+/);
    if (!mp || !source || !/^\/(run\/)?media\/[A-Za-z0-9._/+-]+$/.test(mp)) continue;
    if (bootDisk && (await wholeDiskOf(target, source)) === bootDisk) continue;
    out.push(mp);
  }
  return out;
}
