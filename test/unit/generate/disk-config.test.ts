// The pure parts of src/generate/disk-config.ts: the swap rule, the operator's summary, the boot
// module's choices, and refusals of plans that would render a dangerous layout.
import { describe, expect, it } from "vitest";
import { isNixnodeError } from "../../../src/errors";
import {
  bootLoaderFor,
  checkDataDiskFacts,
  describeDiskLayout,
  renderDiskConfig,
  swapMiBForRam,
} from "../../../src/generate/disk-config";
import type { Disk } from "../../../src/facts/types";
import type { DiskPlan } from "../../../src/plan/types";
import { nvme0, nvme1, sda, vda } from "./disk-plans";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe("swapMiBForRam", () => {
  // what the kernel reports (MemTotal) for common machine sizes, and the swap chosen
  it.each([
    ["512 MB VPS", 483 * MiB, 2048],
    ["1 GB VPS", 961 * MiB, 2048],
    ["2 GB VPS", 1967 * MiB, 4096],
    ["3 GB VPS", 2.9 * GiB, 4096],
    ["4 GB", 3.8 * GiB, 4096],
    ["6 GB", 5.8 * GiB, 6144],
    ["8 GB", 7.7 * GiB, 8192],
    ["16 GB", 15.6 * GiB, 8192],
    ["32 GB", 31.3 * GiB, 8192],
    ["64 GB", 62.8 * GiB, 0],
    ["128 GB", 125.7 * GiB, 0],
  ])("%s (%d bytes) -> %d MiB", (_name, ram, swap) => {
    expect(swapMiBForRam(ram)).toBe(swap);
  });

  it("never gives a bigger machine less swap, until the cut-off", () => {
    let last = 0;
    for (let mib = 256; mib < 59 * 1024; mib += 64) {
      const s = swapMiBForRam(mib * MiB);
      expect(s, `${mib} MiB RAM`).toBeGreaterThanOrEqual(last);
      expect(s % 1024).toBe(0);
      last = s;
    }
  });

  it("caps swap at a tenth of a small system disk, at least 1 GiB", () => {
    expect(swapMiBForRam(7.7 * GiB, 20e9)).toBe(1024);
    expect(swapMiBForRam(7.7 * GiB, 40e9)).toBe(3072);
    expect(swapMiBForRam(7.7 * GiB, 1e12)).toBe(8192);
    expect(swapMiBForRam(1967 * MiB, 5e9)).toBe(1024);
  });

  it("refuses a RAM size that is not a positive number", () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => swapMiBForRam(bad)).toThrow(/RAM size/);
  });
});

describe("describeDiskLayout", () => {
  it("shows each disk by its by-id path and size, its partitions, and what the operator knows it as", () => {
    expect(
      describeDiskLayout({ layout: "ext4", system: [nvme0], swapMiB: 4096, data: null, bootMode: "uefi" }),
    ).toEqual([
      `${nvme0.path} 953.9G: [1M bios][512M ESP /boot][4G swap][rest ext4 /]  (nvme0n1, SAMSUNG MZVL21T0HCLR-00B00)`,
    ]);
  });

  it("shows both mirror disks and the data disk that is kept", () => {
    const lines = describeDiskLayout({
      layout: "mirror-zfs",
      system: [nvme0, nvme1],
      swapMiB: 0,
      data: { ...sda, mountpoint: "/data", filesystem: "xfs" },
      bootMode: "bios",
    });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain("[512M ESP /boot][rest zfs mirror rpool: / /nix /home]");
    expect(lines[1]).toContain("[512M ESP /boot-fallback]");
    expect(lines[2]).toBe(
      `${sda.path} 14.6T: [whole disk xfs /data, formatted only if blank, kept on reinstall]  (sda, ST16000NM001G-2KK103)`,
    );
  });

  it("mentions no swap when there is none, and the swapfile for btrfs", () => {
    expect(describeDiskLayout({ layout: "ext4", system: [vda], swapMiB: 0, data: null, bootMode: "bios" })[0]).toBe(
      "/dev/vda 37.3G: [1M bios][512M ESP /boot][rest ext4 /]  (vda)",
    );
    expect(
      describeDiskLayout({ layout: "btrfs", system: [vda], swapMiB: 1536, data: null, bootMode: "bios" })[0],
    ).toContain("@swap 1536M swapfile");
  });
});

describe("bootLoaderFor", () => {
  const zfs: DiskPlan = { layout: "mirror-zfs", system: [nvme0, nvme1], swapMiB: 0, data: null, bootMode: "uefi" };

  it("installs GRUB for BIOS and UEFI (removable path) and leaves the BIOS devices to disko", () => {
    const m = bootLoaderFor({ layout: "ext4", system: [vda], swapMiB: 0, data: null, bootMode: "bios" });
    expect(m).toContain("efiSupport = true;");
    expect(m).toContain("efiInstallAsRemovable = true;");
    expect(m).toContain("boot.loader.efi.canTouchEfiVariables = false;");
    // listing the disk here as well would fail GRUB's duplicate-device assertion
    expect(m).not.toMatch(/devices\s*=|\/dev\/vda/);
  });

  it("is EFI-only on aarch64", () => {
    expect(
      bootLoaderFor({ layout: "btrfs", system: [vda], swapMiB: 0, data: null, bootMode: "uefi" }, "aarch64-linux"),
    ).toContain('devices = lib.mkForce [ "nodev" ];');
  });

  it("gives each ZFS mirror disk its own ESP and GRUB, and a host id that is stable for the same disks", () => {
    const m = bootLoaderFor(zfs);
    expect(m).toContain(`{ path = "/boot"; efiSysMountPoint = "/boot"; devices = [ "${nvme0.path}" ]; }`);
    expect(m).toContain(
      `{ path = "/boot-fallback"; efiSysMountPoint = "/boot-fallback"; devices = [ "${nvme1.path}" ]; }`,
    );
    const id = /networking\.hostId = "([0-9a-f]{8})";/.exec(m)?.[1];
    expect(id).toBeDefined();
    expect(id).not.toBe("00000000");
    expect(bootLoaderFor({ ...zfs })).toContain(`"${id}"`);
    expect(bootLoaderFor({ ...zfs, system: [nvme1, { ...nvme0, path: `${nvme0.path}X` }] })).not.toContain(`"${id}"`);
  });
});

describe("renderDiskConfig refuses plans that would render a dangerous layout", () => {
  const ok: DiskPlan = {
    layout: "ext4",
    system: [nvme0],
    swapMiB: 0,
    data: { ...sda, mountpoint: "/data", filesystem: "ext4" },
    bootMode: "uefi",
  };
  const cases: Array<[string, DiskPlan, string, RegExp]> = [
    ["a mirror with one disk", { ...ok, layout: "mirror-mdadm" }, "disk.devices", /needs exactly 2 disks, got 1/],
    [
      "a single-disk layout with two disks",
      { ...ok, system: [nvme0, nvme1] },
      "disk.devices",
      /needs exactly 1 disk, got 2/,
    ],
    [
      "the same disk twice in a mirror",
      { ...ok, layout: "mirror-zfs", system: [nvme0, nvme0] },
      "disk.devices",
      /listed twice/,
    ],
    [
      "the data disk is a system disk",
      { ...ok, data: { ...nvme0, mountpoint: "/data", filesystem: "ext4" } },
      "disk.data.device",
      /also a system disk/,
    ],
    [
      "data mounted over /nix",
      { ...ok, data: { ...sda, mountpoint: "/nix", filesystem: "ext4" } },
      "disk.data.mountpoint",
      /belongs to the system/,
    ],
    [
      "swap that leaves too little for /",
      { ...ok, system: [vda], swapMiB: 34 * 1024 },
      "disk.swap",
      /34G of swap leaves 2G for \/ on a 37.3G disk \(at least 4G needed\)/,
    ],
    [
      "data mounted inside /nix",
      { ...ok, data: { ...sda, mountpoint: "/nix/store", filesystem: "ext4" } },
      "disk.data.mountpoint",
      /belongs to the system/,
    ],
    [
      "data mounted over /var/lib",
      { ...ok, data: { ...sda, mountpoint: "/var/lib", filesystem: "ext4" } },
      "disk.data.mountpoint",
      /belongs to the system/,
    ],
    [
      "data mounted over /",
      { ...ok, data: { ...sda, mountpoint: "/", filesystem: "ext4" } },
      "disk.data.mountpoint",
      /belongs to the system/,
    ],
    [
      "a relative data mountpoint",
      { ...ok, data: { ...sda, mountpoint: "data", filesystem: "ext4" } },
      "disk.data.mountpoint",
      /not an absolute path/,
    ],
    [
      "a data mountpoint with ..",
      { ...ok, data: { ...sda, mountpoint: "/data/../nix", filesystem: "ext4" } },
      "disk.data.mountpoint",
      /not an absolute path/,
    ],
    [
      "a data mountpoint with a quote",
      { ...ok, data: { ...sda, mountpoint: '/da"ta', filesystem: "ext4" } },
      "disk.data.mountpoint",
      /not an absolute path/,
    ],
    [
      "a device path that would inject Nix",
      { ...ok, system: [{ ...nvme0, path: "/dev/disk/by-id/x${builtins.abort 1}" }] },
      "disk.devices[0]",
      /not a device path/,
    ],
    [
      "a device outside /dev",
      { ...ok, system: [{ ...nvme0, path: "/tmp/disk.img" }] },
      "disk.devices[0]",
      /not a device path/,
    ],
    [
      "an unknown data filesystem",
      { ...ok, data: { ...sda, mountpoint: "/data", filesystem: "zfs" as "ext4" } },
      "disk.data.filesystem",
      /not one of/,
    ],
  ];
  it.each(cases)("%s", (_name, plan, field, message) => {
    let err: unknown;
    try {
      renderDiskConfig(plan);
    } catch (e) {
      err = e;
    }
    expect(isNixnodeError(err) && err.kind).toBe("user");
    expect((err as { field?: string }).field).toBe(field);
    expect((err as Error).message).toMatch(message);
  });

  it("renders the auto swap of a 2 GB VPS with a 10 GB disk", () => {
    const swapMiB = swapMiBForRam(1967 * MiB, 10e9);
    expect(renderDiskConfig({ ...ok, system: [{ ...vda, sizeBytes: 10e9 }], swapMiB, data: null })).toContain(
      'swapSize = "1G";',
    );
  });

  it("renders the plan the refusals were derived from, and data inside /var/lib or /home", () => {
    expect(renderDiskConfig(ok)).toContain(`device = "${sda.path}";`);
    for (const mountpoint of ["/var/lib/bitcoind", "/home/bitcoin", "/srv/blocks", "/data"]) {
      expect(renderDiskConfig({ ...ok, data: { ...sda, mountpoint, filesystem: "xfs" } })).toContain(
        `mountpoint = "${mountpoint}";`,
      );
    }
  });
});

describe("checkDataDiskFacts", () => {
  const disk: Disk = {
    name: "sda",
    path: "/dev/sda",
    sizeBytes: 16e12,
    model: "ST16000NM001G",
    serial: "ZL2F8ABC",
    byId: [sda.path],
    byPath: [],
    transport: "sata",
    rotational: true,
    removable: false,
    readOnly: false,
    partitions: [],
    mountpoints: [],
    holdsRoot: false,
  };

  it("accepts a disk without partitions (blank: formatted once; a whole-disk filesystem: kept)", () => {
    expect(() => checkDataDiskFacts(disk)).not.toThrow();
  });

  it("refuses a used disk with partitions, naming them and how to wipe it knowingly", () => {
    const used = {
      ...disk,
      partitions: [
        {
          name: "sda1",
          path: "/dev/sda1",
          sizeBytes: 16e12,
          fstype: "ext4",
          label: "bitcoin",
          uuid: null,
          mountpoints: [],
        },
      ],
    };
    let err: unknown;
    try {
      checkDataDiskFacts(used);
    } catch (e) {
      err = e;
    }
    expect(isNixnodeError(err) && err.kind).toBe("user");
    expect((err as { field?: string }).field).toBe("disk.data.device");
    expect((err as Error).message).toContain('/dev/sda has partitions (/dev/sda1 (ext4 "bitcoin"))');
    expect((err as { hint?: string }).hint).toContain(`wipefs -a ${sda.path}`);
  });
});
