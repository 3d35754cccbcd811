// The disk-layout registry is the one place a layout is described: every entry has its template in
// disko/ (and every template an entry), the planner asks for as many disks as the entry says, the
// summary draws one line per disk from the entry, and boot.nix follows the entry's boot settings.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bootLoaderFor, describeDiskLayout, renderDiskConfig } from "../../../src/generate/disk-config";
import { DISK_LAYOUTS, DISK_LAYOUT_REGISTRY, layoutsFor } from "../../../src/generate/disk-layouts";
import { planFromFacts } from "../../../src/plan/index";
import type { DiskPlan } from "../../../src/plan/types";
import { KEY_ED25519, disk, makeFacts } from "../plan/fixtures";

const DISKO = new URL("../../../disko/", import.meta.url);
const facts = makeFacts({ disks: [disk("nvme0n1", 512), disk("nvme1n1", 512)] });
const plan = (layout: string, devices?: string[]) =>
  planFromFacts({
    facts,
    config: {
      disk: { layout: layout as never, ...(devices ? { devices } : {}) },
      ssh: { authorizedKeys: [KEY_ED25519] },
    },
    interactive: false,
  });

describe("disk layout registry", () => {
  it("one entry per template in disko/, and the entry names its own file", () => {
    const templates = readdirSync(DISKO)
      .filter((f) => f.endsWith(".nix"))
      .sort();
    expect(DISK_LAYOUTS.map((l) => `${l}.nix`).sort()).toEqual(templates);
    for (const l of DISK_LAYOUTS) expect(DISK_LAYOUT_REGISTRY[l].template.file).toBe(`disko/${l}.nix`);
  });

  it.each(DISK_LAYOUTS)("%s: the planner takes as many disks as the entry says, and refuses another count", (l) => {
    const n = DISK_LAYOUT_REGISTRY[l].disks;
    const p = plan(l);
    expect(p.disk.system).toHaveLength(n);
    const wrong = n === 1 ? ["/dev/nvme0n1", "/dev/nvme1n1"] : ["/dev/nvme0n1"];
    expect(() => plan(l, wrong)).toThrow(/disk\.devices/);
    // the summary: one line per system disk, drawn from the entry
    const lines = describeDiskLayout(p.disk);
    expect(lines).toHaveLength(n);
    const swap = p.disk.swapMiB > 0 ? `${p.disk.swapMiB / 1024}G` : null;
    expect(lines[0]).toContain(DISK_LAYOUT_REGISTRY[l].parts(0, swap).at(-1)!);
    expect(renderDiskConfig(p.disk)).toContain(`from disko/${l}.nix (${l})`);
  });

  it("the refusal for a wrong disk count names the layouts that take that count", () => {
    let hint = "";
    try {
      plan(layoutsFor(1)[0]!, ["/dev/nvme0n1", "/dev/nvme1n1"]);
    } catch (e) {
      hint = (e as { hint?: string }).hint ?? "";
    }
    expect(hint).toContain(
      layoutsFor(2)
        .map((l) => `"${l}"`)
        .join(" or "),
    );
  });

  it.each(DISK_LAYOUTS)("%s: boot.nix follows the entry's boot settings", (l) => {
    const d: DiskPlan = { ...plan(l).disk, swapMiB: 4096 };
    const boot = bootLoaderFor(d);
    const b = DISK_LAYOUT_REGISTRY[l].boot;
    expect(boot.includes("mirroredBoots")).toBe(b.mirroredBoots);
    expect(boot.includes("networking.hostId")).toBe(b.zfsHostId);
    expect(boot.includes("boot.swraid.mdadmConf")).toBe(b.md !== "never");
    if (b.md === "with-swap") expect(bootLoaderFor({ ...d, swapMiB: 0 })).not.toContain("mdadmConf");
  });
});
