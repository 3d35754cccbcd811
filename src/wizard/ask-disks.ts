// The disk questions: layout, system disk(s), data disk. Asked only when the machine leaves a
// real choice (one disk on a VPS is no choice: it is used, and the plan's notes say so).
import type { Disk, Facts } from "../facts/types";
import { parseConfig, type PartialConfig } from "../plan/config";
import { gib, installableDisks, mirrorCandidates, preferredSystemDisk, stablePath } from "../plan/defaults";
import { DISK_LAYOUT_REGISTRY, layoutsFor, type DiskLayout } from "../generate/disk-layouts";
import type { Choice, Prompter } from "./prompter";
import { validateWith } from "./validate-answer";

export function describeDisk(d: Disk): string {
  const bits = [
    d.path,
    gib(d.sizeBytes),
    d.model,
    d.transport !== "unknown" ? d.transport : null,
    d.rotational ? "HDD" : null,
    d.holdsRoot ? "holds the current /" : null,
  ];
  return bits.filter(Boolean).join(" · ");
}

export async function askDisks(
  facts: Facts,
  partial: PartialConfig,
  prompter: Prompter,
): Promise<PartialConfig["disk"]> {
  const disk = { ...partial.disk };
  const pairs = mirrorCandidates(facts);
  if (disk.layout === undefined) {
    const offer = (l: DiskLayout): Choice<DiskLayout> => ({
      title: DISK_LAYOUT_REGISTRY[l].title,
      value: l,
      description: DISK_LAYOUT_REGISTRY[l].summary,
    });
    const choices = layoutsFor(1).map(offer);
    if (pairs.length > 0 && disk.devices?.length !== 1) choices.push(...layoutsFor(2).map(offer));
    // Two equal disks and no running system on either (a rescue system): a mirror is what people want.
    const preferMirror = pairs.length > 0 && !facts.disks.some((d) => d.holdsRoot) && disk.devices === undefined;
    disk.layout = await prompter.select({
      message: "Disk layout",
      choices,
      initial: preferMirror ? layoutsFor(1).length : 0,
    });
  }
  const mirror = disk.layout !== undefined && DISK_LAYOUT_REGISTRY[disk.layout].disks === 2;
  if (disk.devices === undefined) {
    if (mirror) {
      if (pairs.length > 1) {
        const pair = await prompter.select({
          message: "Which two disks form the mirror? (both are erased)",
          choices: pairs.map(([a, b]) => ({
            title: `${a.path} + ${b.path}`,
            value: [a, b] as const,
            description: `${describeDisk(a)} | ${describeDisk(b)}`,
          })),
        });
        disk.devices = pair.map(stablePath);
      } else if (pairs.length === 1) disk.devices = pairs[0]!.map(stablePath);
    } else {
      const disks = installableDisks(facts);
      if (disks.length > 1) {
        const preferred = preferredSystemDisk(facts);
        const chosen = await prompter.select({
          message: "System disk (it is erased and NixOS is installed on it)",
          choices: disks.map((d) => ({ title: describeDisk(d), value: d })),
          initial: Math.max(0, disks.indexOf(preferred!)),
        });
        disk.devices = [stablePath(chosen)];
      }
    }
  }
  if (disk.data === undefined) {
    const system = new Set(disk.devices ?? []);
    const preferred = preferredSystemDisk(facts);
    const others = installableDisks(facts).filter(
      (d) => !system.has(stablePath(d)) && !system.has(d.path) && (system.size > 0 || d !== preferred),
    );
    if (others.length > 0) {
      const data = await prompter.select<Disk | null>({
        message: "A separate data disk (e.g. for the blockchain) that reinstalls never reformat?",
        choices: [{ title: "no data disk", value: null }, ...others.map((d) => ({ title: describeDisk(d), value: d }))],
      });
      if (data) {
        const mountpoint = await prompter.text({
          message: "Mount the data disk at",
          initial: "/data",
          validate: validateWith((v) => parseConfig({ disk: { data: { device: data.path, mountpoint: v } } })),
        });
        disk.data = { device: stablePath(data), mountpoint, filesystem: "ext4" };
      } else disk.data = null;
    }
  }
  return disk;
}
