// Whether a disk may be erased for the stick. A refusal names the device and the reason; --force
// overrides only "not removable" and "mounted" (a USB-SATA enclosure may not report removable; a
// desktop may automount the old stick). The running system and a too-small disk are never overridden.
import type { DiskFacts } from "./block-devices";
import { humanBytes } from "./human-size";

export interface Refusal {
  reason: string;
  /** True when --force lets the write go ahead anyway. */
  forceable: boolean;
}

export function refusals(disk: DiskFacts, imageBytes: number): Refusal[] {
  const out: Refusal[] = [];
  if (disk.runningSystem) out.push({ reason: `it holds the running system (${disk.runningSystem})`, forceable: false });
  if (disk.sizeBytes < imageBytes)
    out.push({
      reason: `it is smaller than the image (${humanBytes(disk.sizeBytes)} < ${humanBytes(imageBytes)})`,
      forceable: false,
    });
  if (!disk.removable)
    out.push({
      reason: "it is not a removable disk (sysfs removable=0, lsblk RM/HOTPLUG off, transport not usb)",
      forceable: true,
    });
  if (disk.mountpoints.length && !disk.runningSystem)
    out.push({
      reason: `it holds a mounted filesystem (${disk.mountpoints.join(", ")}); unmount it first`,
      forceable: true,
    });
  return out;
}

/** The refusals left after --force. */
export function blocking(all: Refusal[], force: boolean): Refusal[] {
  return all.filter((r) => !(force && r.forceable));
}
