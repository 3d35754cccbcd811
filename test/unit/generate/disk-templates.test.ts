// The layout templates in disko/ are real Nix: they parse, and (in the nix lab) real disko
// evaluates each on its own with its default devices and with the arguments disko's CLI passes.
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DISK_LAYOUTS } from "../../../src/plan/types";
import { NO_LAB, NO_NIX, diskoScripts, evalDisko, lab, nixInstantiate, nixParseError } from "./nix";

const DISKO_DIR = fileURLToPath(new URL("../../../disko/", import.meta.url));
const templates = readdirSync(DISKO_DIR)
  .filter((f) => f.endsWith(".nix"))
  .sort();
const file = (t: string) => `${DISKO_DIR}${t}`;

/** What disko must report for each template with its defaults. */
const EXPECTED: Record<string, { disks: string[]; mountpoints: string[]; efiDisks: string[]; swap: string[] }> = {
  "ext4.nix": {
    disks: ["main"],
    mountpoints: ["/", "/boot"],
    efiDisks: ["/dev/vda"],
    swap: ["/dev/disk/by-partlabel/disk-main-swap"],
  },
  "btrfs.nix": {
    disks: ["main"],
    mountpoints: ["/", "/.swapvol", "/boot", "/home", "/nix"],
    efiDisks: ["/dev/vda"],
    swap: ["/.swapvol/swapfile"],
  },
  "mirror-mdadm.nix": {
    disks: ["a", "b"],
    mountpoints: ["/", "/boot"],
    efiDisks: ["/dev/vda", "/dev/vdb"],
    swap: ["/dev/md/swap"],
  },
  "mirror-zfs.nix": {
    disks: ["a", "b"],
    mountpoints: ["/", "/boot", "/boot-fallback", "/home", "/nix"],
    efiDisks: ["/dev/vda", "/dev/vdb"],
    swap: ["/dev/md/swap"],
  },
};

/** The sgdisk call that creates partition `index` on `device` with `typecode`. */
function createsPartition(script: string, device: string, index: number, typecode: string): boolean {
  const calls = script.split("if ! sgdisk ").slice(1);
  return calls.some(
    (c) => c.includes(`--new=${index}:`) && c.includes(`--typecode=${index}:${typecode}`) && c.includes(`"${device}"`),
  );
}

describe("disko/ templates", () => {
  it("there is one template per layout the plan offers", () => {
    expect(templates).toEqual(DISK_LAYOUTS.map((l) => `${l}.nix`).sort());
  });

  it.skipIf(!nixInstantiate)(
    `every template parses as Nix${nixInstantiate ? "" : ` (skipped: ${NO_NIX})`}`,
    async () => {
      for (const t of templates) expect(await nixParseError(file(t)), t).toBeNull();
    },
  );

  it("every template carries the same data-disk block (the part a reinstall must not get wrong)", () => {
    const blocks = templates.map((t) => {
      const m = /# nixnode:data-disk:begin\n[\s\S]*?# nixnode:data-disk:end\n/.exec(readFileSync(file(t), "utf8"));
      expect(m, `${t} has no data-disk block`).not.toBeNull();
      return m![0];
    });
    for (const b of blocks) expect(b).toBe(blocks[0]);
    expect(blocks[0]).toContain("destroy = false;");
    expect(blocks[0]).toContain('"nofail"');
  });

  describe.skipIf(!lab)(`with real disko${lab ? "" : ` (skipped: ${NO_LAB})`}`, () => {
    for (const t of Object.keys(EXPECTED)) {
      const want = EXPECTED[t]!;
      it(`${t} evaluates on its own: disks, mountpoints, hybrid EF02 + ESP on every disk, swap`, async () => {
        expect(await evalDisko(file(t))).toEqual({ ok: true, disks: want.disks, mountpoints: want.mountpoints });
        const create = (await evalDisko(file(t), "create")) as string;
        for (const dev of want.efiDisks) {
          expect(createsPartition(create, dev, 1, "EF02"), `${t}: EF02 on ${dev}`).toBe(true);
          expect(createsPartition(create, dev, 2, "EF00"), `${t}: ESP on ${dev}`).toBe(true);
        }
        expect(create).toMatch(/mkfs\.vfat/);
        const s = await diskoScripts(file(t));
        expect(s.swap).toEqual(want.swap);
        expect(s.grubDevices.sort()).toEqual(want.efiDisks);
      });

      it(`${t} takes disko CLI arguments: by-id disks, no swap, a data disk`, async () => {
        const disks = want.disks.map((_, i) => `/dev/disk/by-id/nvme-TEST_DISK_${i}`);
        const s = await diskoScripts(file(t), {
          disks,
          swapSize: null,
          data: { device: "/dev/disk/by-id/ata-DATA", mountpoint: "/data", filesystem: "xfs" },
        });
        expect(Object.fromEntries(Object.entries(s.disks).map(([n, d]) => [n, d.device]))).toEqual({
          ...Object.fromEntries(want.disks.map((n, i) => [n, disks[i]])),
          data: "/dev/disk/by-id/ata-DATA",
        });
        expect(s.swap).toEqual([]);
        expect(s.mountpoints).toContain("/data");
        expect(s.mountpoints).not.toContain("/.swapvol");
        expect(s.disks.data!.destroy).toBe(false);
      });

      it(`${t} is not meant to be imported as a NixOS module (defaults do not apply there; the rendered copy is)`, async () => {
        // the module system passes every named argument from _module.args, so `data ? null` is
        // missing instead of null: this is why renderDiskConfig turns the defaults into let bindings
        await expect(diskoScripts(file(t), {}, { asModule: true })).rejects.toThrow(
          /attribute '(disks|swapSize|data)' missing/,
        );
      });
    }
  });
});
