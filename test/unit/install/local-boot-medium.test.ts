// The boot stick is recognised by its device number (MAJ:MIN), whatever name lsblk, udev or a
// /dev/disk link gives it; names are only the fallback. lsblk shapes from the shared real-machine
// captures, and the named-disk check run through a real shell.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import {
  BOOT_MEDIUM_SCRIPT,
  bootDiskPath,
  findBootMedium,
  isBootMedium,
  parseDiskId,
  refuseBootMedium,
} from "../../../src/install/local/boot-medium";
import { CORPUS, itWithCorpus } from "../../helpers/corpus";

const corpus = (f: string): unknown => JSON.parse(readFileSync(`${CORPUS}lsblk-json/${f}`, "utf8"));
const AZURE = "azure-vm-sda-resource-disk_suse-azuremetadata.json"; // sda 8:0, sdb 8:16, sr0 11:0
const XEN = "xen-cloud-vm-xvda-lsblk-2.37_suse-azuremetadata.json"; // xvda 202:0

/** The installer stand-in's lsblk: a loop device shown under a disk-like name, its real number kept. */
const STANDIN = {
  blockdevices: [
    { name: "vdw", kname: "vdw", "maj:min": "7:4", path: "/dev/vdw", type: "disk" },
    { name: "vdv", kname: "vdv", "maj:min": "7:3", path: "/dev/vdv", type: "disk" },
  ],
};

describe("the boot disk's path, from the boot medium's MAJ:MIN and lsblk -J", () => {
  itWithCorpus("finds the disk by number in real lsblk output (old and 2.37 dialects)", () => {
    expect(bootDiskPath(corpus(AZURE), { majMin: "8:16", kname: "sdb" })).toBe("/dev/sdb");
    expect(bootDiskPath(corpus(XEN), { majMin: "202:0", kname: "xvda" })).toBe("/dev/xvda");
    // the number wins over a kernel name lsblk does not use (names differ, numbers do not)
    expect(bootDiskPath(corpus(AZURE), { majMin: "8:0", kname: "some-other-name" })).toBe("/dev/sda");
  });

  itWithCorpus("a number that is a partition's names its whole disk", () => {
    expect(bootDiskPath(corpus(AZURE), { majMin: "8:17", kname: "x" })).toBe("/dev/sdb");
    expect(bootDiskPath(corpus(XEN), { majMin: "202:3", kname: "x" })).toBe("/dev/xvda");
  });

  itWithCorpus("without a MAJ:MIN column, the kernel's name; with neither, /dev/KNAME", () => {
    const noNumbers = JSON.parse(JSON.stringify(corpus(AZURE)).replace(/"maj:min":\s*"[^"]*",?/g, ""));
    expect(JSON.stringify(noNumbers)).not.toContain("maj:min");
    expect(bootDiskPath(noNumbers, { majMin: "8:16", kname: "sdb" })).toBe("/dev/sdb");
    expect(bootDiskPath(noNumbers, { majMin: "8:16", kname: "sdc" })).toBe("/dev/sdc");
    expect(bootDiskPath(null, { majMin: "8:16", kname: "sdb" })).toBe("/dev/sdb");
    expect(bootDiskPath({ blockdevices: "nope" }, { majMin: "8:16", kname: "sdb" })).toBe("/dev/sdb");
  });

  it("the stand-in's renamed loop device is found by its number, not its kernel name loopN", () => {
    expect(bootDiskPath(STANDIN, { majMin: "7:3", kname: "loop3" })).toBe("/dev/vdv");
    expect(bootDiskPath(STANDIN, { majMin: "7:4", kname: "loop4" })).toBe("/dev/vdw");
  });

  it("reads only well-formed lines of the target's answer", () => {
    expect(parseDiskId("boot 8:16 sdb", "boot")).toEqual({ majMin: "8:16", kname: "sdb" });
    expect(parseDiskId("boot ", "boot")).toBeNull();
    expect(parseDiskId("named 8:16 sdb", "boot")).toBeNull();
    expect(parseDiskId("boot 8:16 sd$(x)", "boot")).toBeNull();
    expect(parseDiskId("boot 8-16 sdb", "boot")).toBeNull();
  });
});

describe("a disk the operator names is the boot medium", () => {
  const boot = { majMin: "7:3", kname: "loop3", path: "/dev/vdv" };
  it("by number when the named path is a block device here, by name otherwise", () => {
    expect(isBootMedium({ path: "/dev/disk/by-id/usb-X", id: { majMin: "7:3", kname: "loop3" } }, boot)).toBe(true);
    // a different device, even under a name that looks like the stick's
    expect(isBootMedium({ path: "/dev/vdv", id: { majMin: "7:4", kname: "loop4" } }, boot)).toBe(false);
    expect(isBootMedium({ path: "/dev/vdv", id: null }, boot)).toBe(true);
    expect(isBootMedium({ path: "/dev/loop3", id: null }, boot)).toBe(true);
    expect(isBootMedium({ path: "/dev/vdw", id: null }, boot)).toBe(false);
  });
});

// A target whose /iso is on /dev/loop0 (its answer to the boot script is given; every other command
// runs in a real shell on this machine, where /dev/loop0 and /dev/loop1 are real block devices).
const loops = ["/dev/loop0", "/dev/loop1"].every((p) => existsSync(p) && statSync(p).isBlockDevice());
const majMin = (p: string) => {
  const r = statSync(p).rdev;
  return `${Math.floor(r / 256) & 0xfff}:${(r & 0xff) | ((r >> 12) & 0xfff00)}`;
};

describe.skipIf(!loops)("refusing the named stick, through a real shell", () => {
  const target = (answer: string) => ({
    async run(command: string) {
      if (command === BOOT_MEDIUM_SCRIPT) return { code: 0, stdout: answer, stderr: "" };
      const r = spawnSync("sh", ["-c", command], { encoding: "utf8" });
      return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
    },
  });
  const lsblk = JSON.stringify({
    blockdevices: [{ name: "sdz", kname: "sdz", "maj:min": majMin("/dev/loop0"), path: "/dev/sdz", type: "disk" }],
  });
  const stick = target(`boot ${majMin("/dev/loop0")} loop0\n${lsblk}\n`);

  it("the boot disk is the path lsblk gives the number under /iso", async () => {
    expect(await findBootMedium(stick)).toBe("/dev/sdz");
    expect(await findBootMedium(target(""))).toBeNull();
  });

  it("refuses a by-id link to the stick (exit 2, names the field), by its number", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-bootmedium-"));
    try {
      symlinkSync("/dev/loop0", join(dir, "usb-Stick_123"));
      const err = await refuseBootMedium(
        stick,
        [{ field: "disk.devices[0]", path: join(dir, "usb-Stick_123") }],
        "/dev/sdz",
      )
        .then(() => null)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect((err as UserError).field).toBe("disk.devices[0]");
      expect((err as UserError).message).toBe(
        `disk.devices[0]: ${join(dir, "usb-Stick_123")} is the USB stick this installer runs from (/dev/sdz)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses lsblk's name for the stick even where no such /dev node exists (name fallback)", async () => {
    await expect(
      refuseBootMedium(stick, [{ field: "disk.data.device", path: "/dev/sdz" }], "/dev/sdz"),
    ).rejects.toThrow("disk.data.device: /dev/sdz is the USB stick this installer runs from (/dev/sdz)");
  });

  it("lets another real disk through, and a hostile path is data, never shell", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-bootmedium-"));
    try {
      const hostile = `/dev/x'; touch ${join(dir, "pwned")}; echo '$(touch ${join(dir, "pwned2")})`;
      await expect(
        refuseBootMedium(
          stick,
          [
            { field: "disk.devices[0]", path: "/dev/loop1" },
            { field: "disk.devices[1]", path: hostile },
          ],
          "/dev/sdz",
        ),
      ).resolves.toBeUndefined();
      expect(execFileSync("ls", ["-A", dir], { encoding: "utf8" })).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
