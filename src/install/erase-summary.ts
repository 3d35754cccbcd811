// What the install will erase, in the operator's terms: disk by-id, model, size, the partitions on
// it now and where they are mounted. Shown before the confirmation. Pure.
import type { Disk, Facts } from "../facts/types";
import type { DiskDevicePlan, DiskPlan } from "../plan/types";

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 || u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

function findDisk(facts: Facts, dev: DiskDevicePlan): Disk | undefined {
  return facts.disks.find(
    (d) => d.path === dev.kernelPath || d.byId.includes(dev.path) || d.byPath.includes(dev.path) || d.path === dev.path,
  );
}

function diskLines(facts: Facts, dev: DiskDevicePlan, role: string): string[] {
  const d = findDisk(facts, dev);
  const lines = [
    `${role}: ${dev.path}`,
    `  ${dev.kernelPath}, ${dev.model ?? d?.model ?? "unknown model"}, ${formatBytes(dev.sizeBytes)}`,
  ];
  if (!d || d.partitions.length === 0) {
    lines.push(`  no partitions${d?.mountpoints.length ? `; mounted at ${d.mountpoints.join(", ")}` : ""}`);
    return lines;
  }
  for (const p of d.partitions) {
    const what = [p.fstype, p.label ? `"${p.label}"` : null].filter(Boolean).join(" ");
    const mounts = p.mountpoints.length ? ` mounted at ${p.mountpoints.join(", ")}` : "";
    lines.push(`  ${p.path}  ${formatBytes(p.sizeBytes)}${what ? `  ${what}` : ""}${mounts}`);
  }
  if (d.holdsRoot) lines.push("  this disk holds the running system's / : everything on it is replaced");
  return lines;
}

/** Lines describing every disk the layout formats. The data disk is listed as kept. */
export function describeErasure(facts: Facts, disk: DiskPlan): string[] {
  const lines = ["These disks will be ERASED:"];
  disk.system.forEach((dev, i) =>
    lines.push(...diskLines(facts, dev, disk.system.length > 1 ? `disk ${i + 1}` : "disk")),
  );
  if (disk.data) lines.push(`Kept (data disk, mounted at ${disk.data.mountpoint}): ${disk.data.path}`);
  return lines;
}
