// hosts/<host>/disk-config.nix and the boot module rendered from plans: golden files (UPDATE_GOLDEN=1
// rewrites them), Nix that parses, and (in the nix lab) real disko reporting the plan's disks,
// mountpoints, swap, GRUB devices, and a data disk that no wipe step touches and no mkfs runs on
// unless it is blank.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { bootLoaderFor, describeDiskLayout, renderDiskConfig } from "../../../src/generate/disk-config";
import { DISK_CASES, type DiskCase } from "./disk-plans";
import { NO_LAB, NO_NIX, diskoScripts, evalBootModule, evalDisko, lab, nixInstantiate, nixParseError } from "./nix";

interface BootModule {
  boot: {
    loader: { grub: Record<string, unknown>; efi: { canTouchEfiVariables: boolean } };
    swraid?: { mdadmConf: string };
  };
  networking?: { hostId: string };
}

const GOLDEN = fileURLToPath(new URL("../../golden/disko/", import.meta.url));
const update = process.env.UPDATE_GOLDEN === "1";
const work = mkdtempSync(join(tmpdir(), "nixnode-disko-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function rendered(c: DiskCase): { "disk-config.nix": string; "boot.nix": string; "summary.txt": string } {
  return {
    "disk-config.nix": renderDiskConfig(c.plan),
    "boot.nix": bootLoaderFor(c.plan, c.system),
    "summary.txt": describeDiskLayout(c.plan).join("\n") + "\n",
  };
}

/** Writes the case's files to the scratch dir (Nix reads files) and returns their paths. */
function written(c: DiskCase): Record<"disk-config.nix" | "boot.nix", string> {
  const dir = join(work, c.name);
  mkdirSync(dir, { recursive: true });
  const files = rendered(c);
  writeFileSync(join(dir, "disk-config.nix"), files["disk-config.nix"]);
  writeFileSync(join(dir, "boot.nix"), files["boot.nix"]);
  return { "disk-config.nix": join(dir, "disk-config.nix"), "boot.nix": join(dir, "boot.nix") };
}

describe("rendered disk layouts", () => {
  for (const c of DISK_CASES) {
    it(`${c.name}: matches test/golden/disko/${c.name}/`, () => {
      for (const [name, text] of Object.entries(rendered(c))) {
        const path = join(GOLDEN, c.name, name);
        if (update) {
          mkdirSync(join(GOLDEN, c.name), { recursive: true });
          writeFileSync(path, text);
        }
        expect(text, `${path} (UPDATE_GOLDEN=1 to accept a deliberate change)`).toBe(readFileSync(path, "utf8"));
      }
    });
  }

  it.skipIf(!nixInstantiate)(
    `every rendered disk-config.nix and boot.nix parses as Nix${nixInstantiate ? "" : ` (skipped: ${NO_NIX})`}`,
    async () => {
      for (const c of DISK_CASES) {
        const f = written(c);
        expect(await nixParseError(f["disk-config.nix"]), `${c.name}/disk-config.nix`).toBeNull();
        expect(await nixParseError(f["boot.nix"]), `${c.name}/boot.nix`).toBeNull();
      }
    },
  );

  describe.skipIf(!lab)(`with real disko${lab ? "" : ` (skipped: ${NO_LAB})`}`, () => {
    for (const c of DISK_CASES) {
      it(`${c.name}: disko reports the plan's disks, mountpoints, swap and GRUB devices`, async () => {
        const file = written(c)["disk-config.nix"];
        expect(await evalDisko(file)).toEqual({
          ok: true,
          disks: Object.keys(c.disks).sort(),
          mountpoints: c.mountpoints,
        });
        const s = await diskoScripts(file);
        expect(Object.fromEntries(Object.entries(s.disks).map(([n, d]) => [n, d.device]))).toEqual(c.disks);
        // the flake imports the file as a module: the same disks and mountpoints that way
        const m = await diskoScripts(file, {}, { asModule: true });
        expect(m.disks).toEqual(s.disks);
        expect(m.mountpoints).toEqual(c.mountpoints);
        const system = c.plan.system.map((d) => d.path);
        // every system disk gets the hybrid table: EF02 (BIOS GRUB) first, then the ESP
        for (const dev of system) {
          expect(s.create).toContain(`--typecode=1:EF02`);
          expect(sgdiskCall(s.create, dev, 1)).toContain("--typecode=1:EF02");
          expect(sgdiskCall(s.create, dev, 2)).toContain("--typecode=2:EF00");
        }
        expect([...s.grubDevices].sort()).toEqual([...system].sort());
        const swap =
          c.plan.swapMiB === 0
            ? []
            : {
                ext4: ["/dev/disk/by-partlabel/disk-main-swap"],
                btrfs: ["/.swapvol/swapfile"],
                "mirror-mdadm": ["/dev/md/swap"],
                "mirror-zfs": ["/dev/md/swap"],
              }[c.plan.layout];
        expect(s.swap).toEqual(swap);
        if (c.plan.swapMiB > 0 && c.plan.layout !== "btrfs") expect(s.create).toContain(`:+${c.plan.swapMiB / 1024}G`);
        if (c.plan.swapMiB > 0 && c.plan.layout === "btrfs")
          expect(s.create).toContain(`mkswapfile --size ${c.plan.swapMiB / 1024}G`);
        // md arrays: all of mirror-mdadm; in mirror-zfs only the mirrored swap
        expect(s.swraid).toBe(
          c.plan.layout === "mirror-mdadm" || (c.plan.layout === "mirror-zfs" && c.plan.swapMiB > 0),
        );
        // a reinstall wipes the system disks, and only those
        for (const dev of system) expect(wipedDevices(s.destroy)).toContain(dev);
      });
    }

    for (const c of DISK_CASES) {
      it(`${c.name}: boot.nix evaluates to the GRUB settings that pair with the layout`, async () => {
        const m = (await evalBootModule(written(c)["boot.nix"])) as BootModule;
        const grub = m.boot.loader.grub;
        expect(grub).toMatchObject({
          enable: true,
          efiSupport: true,
          efiInstallAsRemovable: true,
          configurationLimit: 10,
        });
        expect(m.boot.loader.efi.canTouchEfiVariables).toBe(false);
        const arm = c.system === "aarch64-linux";
        if (c.plan.layout === "mirror-zfs") {
          expect(grub.devices).toEqual({ _type: "override", content: [], priority: 50 });
          expect(grub.mirroredBoots).toEqual([
            { path: "/boot", efiSysMountPoint: "/boot", devices: [arm ? "nodev" : c.plan.system[0]!.path] },
            {
              path: "/boot-fallback",
              efiSysMountPoint: "/boot-fallback",
              devices: [arm ? "nodev" : c.plan.system[1]!.path],
            },
          ]);
          expect(m.networking?.hostId).toMatch(/^[0-9a-f]{8}$/);
        } else {
          expect(grub.devices).toEqual(arm ? { _type: "override", content: ["nodev"], priority: 50 } : undefined);
        }
        const md = c.plan.layout === "mirror-mdadm" || (c.plan.layout === "mirror-zfs" && c.plan.swapMiB > 0);
        if (md)
          expect(m.boot.swraid?.mdadmConf).toMatch(
            /^PROGRAM \/nix\/store\/\w+-mdadm-event <<exec \/nix\/store\/\w+-util-linux\/bin\/logger -t mdadm -p daemon.warning -- "\$@"\n>>$/,
          );
        else expect(m.boot.swraid).toBeUndefined();
      });
    }

    for (const c of DISK_CASES.filter((x) => x.plan.data)) {
      it(`${c.name}: a reinstall neither wipes nor reformats the data disk ${c.plan.data!.path}`, async () => {
        const data = c.plan.data!;
        const s = await diskoScripts(written(c)["disk-config.nix"]);
        expect(s.disks.data).toEqual({ device: data.path, destroy: false });
        // nixos-anywhere's default mode runs `destroy` (then create, mount); disko's
        // destroy,format,mount mode runs `destroyStrict`: neither lists the data disk
        expect(wipedDevices(s.destroy)).toEqual(c.plan.system.map((d) => d.path));
        expect(s.destroy).not.toContain(data.path);
        expect(s.destroyStrict).not.toContain(data.path);
        // create: no partition table, and mkfs only behind the "no signature at all" guard
        const block = diskBlock(s.create, "data");
        expect(block).not.toMatch(/sgdisk|wipefs|--zap|dd |blkdiscard/);
        const guard = `if ! (blkid "${data.path}" | grep -q 'TYPE='); then`;
        expect(block).toMatch(new RegExp(`${escapeRe(guard)}\\s*mkfs\\.${data.filesystem} `));
        expect(block.split("mkfs.")).toHaveLength(2);
        expect(block.indexOf(guard)).toBeLessThan(block.indexOf("mkfs."));
        // mount: the existing filesystem at the chosen place, and the system still boots without it
        expect(s.mountpoints).toContain(data.mountpoint);
        expect(s.mount).toContain(`mount "${data.path}" "/mnt${data.mountpoint}"`);
        expect(s.mount).toContain("-o nofail");
      });
    }
  });
});

/** The sgdisk call creating partition `index` on `device` in a create script. */
function sgdiskCall(script: string, device: string, index: number): string {
  const call = script
    .split("if ! sgdisk ")
    .find((c) => c.includes(`--new=${index}:`) && c.slice(0, c.indexOf("then")).includes(`"${device}"`));
  if (!call) throw new Error(`no sgdisk call creates partition ${index} on ${device}`);
  return call.slice(0, call.indexOf("then"));
}

/** Devices the wipe step runs disk-deactivate on: `for dev in A B; do ... disk-deactivate "$dev"`. */
function wipedDevices(destroy: string): string[] {
  const m = /for dev in ([^;\n]*);/.exec(destroy);
  if (!m) throw new Error(`no wipe loop in:\n${destroy}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}

/** The top-level `( # disk NAME ...` block of a create script. */
function diskBlock(create: string, name: string): string {
  const start = create.indexOf(`( # disk ${name} `);
  if (start < 0) throw new Error(`no disk ${name} in the create script`);
  const end = create.indexOf("\n)\n", start);
  return create.slice(start, end + 2);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
