// Which disks the stick may be written to, decided from lsblk JSON as real machines print it: the
// running system is never offered or written (also when booted from the installer stick itself),
// --force lifts only "not removable" and "mounted", a partition is not a disk.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isNixnodeError } from "../../../src/errors";
import { candidateDisks, type LsblkNode, type UsbDeps } from "../../../src/usb/block-devices";
import { blocking, refusals } from "../../../src/usb/device-refusals";
import { diskFacts } from "../../../src/usb/block-devices";
import { createOutput } from "../../../src/ui/output";
import { noPrompter } from "../../../src/ui/prompter";
import { runUsb } from "../../../src/usb/run-usb";
import { Writable } from "node:stream";

const GiB = 1 << 30;
const sys = mkdtempSync(join(tmpdir(), "usb-sysfs-"));
afterAll(() => rmSync(sys, { recursive: true, force: true }));

function deps(nodes: LsblkNode[], root: string, removable: string[] = []): UsbDeps {
  for (const n of removable) {
    mkdirSync(join(sys, "block", n), { recursive: true });
    writeFileSync(join(sys, "block", n, "removable"), "1");
  }
  return {
    lsblk: async () => ({ blockdevices: nodes }),
    rootSource: async () => root,
    sysfsRoot: sys,
    byIdDir: join(sys, "no-by-id"),
  };
}

const nvme: LsblkNode = {
  name: "nvme0n1",
  path: "/dev/nvme0n1",
  type: "disk",
  rm: false,
  hotplug: false,
  size: 512 * GiB,
  model: "Samsung SSD 980",
  tran: "nvme",
  mountpoints: [null],
  children: [
    { name: "nvme0n1p1", path: "/dev/nvme0n1p1", type: "part", size: GiB, mountpoints: ["/boot"] },
    { name: "nvme0n1p2", path: "/dev/nvme0n1p2", type: "part", size: 511 * GiB, mountpoints: ["/"] },
  ],
};
const stick: LsblkNode = {
  name: "sdb",
  path: "/dev/sdb",
  type: "disk",
  rm: true,
  hotplug: true,
  size: 16 * GiB,
  model: "Ultra Fit",
  tran: "usb",
  mountpoints: [null],
  children: [{ name: "sdb1", path: "/dev/sdb1", type: "part", size: 16 * GiB, mountpoints: ["/media/alice/OLD"] }],
};
const sata: LsblkNode = {
  name: "sda",
  path: "/dev/sda",
  type: "disk",
  rm: false,
  size: 2000 * GiB,
  tran: "sata",
  mountpoints: [null],
};

describe("disk facts and refusals", () => {
  it("lists only removable disks that do not hold the running system", async () => {
    const list = await candidateDisks(deps([nvme, stick, sata], "/dev/nvme0n1p2"));
    expect(list.map((d) => d.path)).toEqual(["/dev/sdb"]);
  });

  it("a card reader that only sysfs calls removable is a candidate", async () => {
    const reader: LsblkNode = {
      name: "mmcblk0",
      path: "/dev/mmcblk0",
      type: "disk",
      rm: false,
      size: 32 * GiB,
      mountpoints: [null],
    };
    const list = await candidateDisks(deps([reader], "/dev/vda", ["mmcblk0"]));
    expect(list.map((d) => d.path)).toEqual(["/dev/mmcblk0"]);
  });

  it("booted from the installer stick (root on tmpfs, the stick at /iso): the stick is the running system", async () => {
    const installer: LsblkNode = {
      ...stick,
      children: [{ name: "sdb1", path: "/dev/sdb1", type: "part", size: GiB, mountpoints: ["/iso"] }],
    };
    const d = diskFacts(installer, "tmpfs", deps([], "tmpfs"));
    expect(d.runningSystem).toBe("it is mounted at /iso, part of the running system");
    expect(await candidateDisks(deps([installer], "tmpfs"))).toEqual([]);
  });

  it("the running system and a too-small disk stay refused with --force; not-removable and mounted do not", () => {
    const root = diskFacts(nvme, "/dev/nvme0n1p2", deps([], ""));
    expect(blocking(refusals(root, GiB), true).map((r) => r.reason)).toEqual([
      "it holds the running system (/dev/nvme0n1p2 is the running system's root filesystem)",
    ]);
    const mounted = diskFacts(stick, "/dev/nvme0n1p2", deps([], ""));
    expect(refusals(mounted, GiB).map((r) => r.reason)).toEqual([
      "it holds a mounted filesystem (/media/alice/OLD); unmount it first",
    ]);
    expect(blocking(refusals(mounted, GiB), true)).toEqual([]);
    expect(blocking(refusals(mounted, 17 * GiB), true).map((r) => r.reason)).toEqual([
      "it is smaller than the image (16.0 GiB < 17.0 GiB)",
    ]);
    const disk = diskFacts(sata, "/dev/nvme0n1p2", deps([], ""));
    expect(blocking(refusals(disk, GiB), false).map((r) => r.forceable)).toEqual([true]);
    expect(blocking(refusals(disk, GiB), true)).toEqual([]);
  });
});

describe("usb without DEVICE lists the candidates (--json)", () => {
  it("gives path, size, model and transport of each removable disk, and exits 0", async () => {
    let text = "";
    const stdout = new Writable({
      write(c, _e, cb) {
        text += String(c);
        cb();
      },
    });
    const out = createOutput({ stdout, stderr: stdout, json: true, env: {}, stdinIsTTY: false });
    const code = await runUsb(
      { yes: false, force: false },
      { out, prompter: noPrompter(), signal: new AbortController().signal, cwd: "/" },
      deps([nvme, stick, sata], "/dev/nvme0n1p2"),
    );
    expect(code).toBe(0);
    expect(JSON.parse(text.trim()).data).toEqual({
      candidates: [{ path: "/dev/sdb", sizeBytes: 16 * GiB, model: "Ultra Fit", transport: "usb", byId: [] }],
    });
  });

  it("a bad flag is refused before the disks are listed", async () => {
    const out = createOutput({
      stdout: new Writable({ write: (_c, _e, cb) => cb() }),
      stderr: process.stderr,
      json: true,
      env: {},
      stdinIsTTY: false,
    });
    const err = await runUsb(
      { yes: false, force: false, arch: "sparc" },
      { out, prompter: noPrompter(), signal: new AbortController().signal, cwd: "/" },
      deps([stick], "/dev/vda"),
    ).catch((e: unknown) => e);
    expect(isNixnodeError(err) && err.exitCode === 2 && err.field === "--arch").toBe(true);
  });
});
