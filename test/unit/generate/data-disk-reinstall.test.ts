// The data disk survives a reinstall, shown by RUNNING disko's own create step for it (taken from
// real disko's script for a layout with a data disk) twice against a disk image: the first run
// formats the blank disk, the second finds the filesystem, keeps its UUID and the file written in
// between. A used disk (a partition table, no filesystem) is never formatted. Only the data disk's
// part of the script runs, against an image file: the system disk's part is never executed.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, openSync, closeSync, ftruncateSync, writeFileSync, writeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { NO_LAB, diskoScripts, lab } from "./nix";

const run = promisify(execFile);
const PATH = `/usr/sbin:/sbin:${process.env.PATH ?? "/usr/bin:/bin"}`;
const TOOLS = ["blkid", "mkfs.ext4", "debugfs"];
const missing = TOOLS.filter((t) => {
  try {
    execFileSync("sh", ["-c", `command -v ${t}`], { env: { ...process.env, PATH }, stdio: "ignore" });
    return false;
  } catch {
    return true; // reported in the skip reason below
  }
});
const skip = !lab ? NO_LAB : missing.length ? `${missing.join(", ")} not installed (e2fsprogs, util-linux)` : null;

const EXT4 = fileURLToPath(new URL("../../../disko/ext4.nix", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "nixnode-datadisk-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function blankImage(name: string, mib: number): string {
  const path = join(work, name);
  const fd = openSync(path, "w");
  ftruncateSync(fd, mib * 1024 * 1024);
  closeSync(fd);
  return path;
}

/** disko's create step for the disk named `data`, for a layout whose data disk is `image`. */
async function dataDiskCreateStep(image: string): Promise<string> {
  const s = await diskoScripts(EXT4, {
    disks: ["/dev/vda"],
    data: { device: image, mountpoint: "/data", filesystem: "ext4" },
  });
  const start = s.create.indexOf("( # disk data ");
  const end = s.create.indexOf("\n)\n", start);
  expect(start, "the create script has a step for the data disk").toBeGreaterThanOrEqual(0);
  const step = s.create.slice(start, end + 2);
  // the step must only ever touch the image: no other device path appears in it
  expect(step.match(/\/dev\/[A-Za-z0-9/_-]+/g) ?? []).toEqual([]);
  return step;
}

/** Runs the step like disko does (set -efux), with no input to answer any prompt. */
async function runStep(step: string): Promise<string> {
  const { stderr } = await run("bash", ["-c", `set -efux\n${step}`], {
    env: { ...process.env, PATH },
    timeout: 60_000,
  });
  return stderr;
}

async function blkid(image: string): Promise<Record<string, string>> {
  try {
    const { stdout } = await run("blkid", ["-p", "-o", "export", image], { env: { ...process.env, PATH } });
    return Object.fromEntries(
      stdout
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
  } catch (e) {
    if ((e as { code?: number }).code === 2) return {}; // blkid: nothing found
    throw e;
  }
}

describe.skipIf(!!skip)(
  `the data disk on reinstall, running disko's create step${skip ? ` (skipped: ${skip})` : ""}`,
  () => {
    it("formats a blank disk once, then keeps the filesystem and its files on every reinstall", async () => {
      const image = blankImage("data.img", 64);
      const step = await dataDiskCreateStep(image);

      const first = await runStep(step);
      expect(first).toContain("mkfs.ext4");
      const made = await blkid(image);
      expect(made.TYPE).toBe("ext4");
      expect(made.UUID).toMatch(/^[0-9a-f-]{36}$/);

      // the node writes its data
      const payload = join(work, "blk00000.dat");
      writeFileSync(payload, "block 0: the times 03/Jan/2009\n");
      await run("debugfs", ["-w", "-R", `write ${payload} blk00000.dat`, image], { env: { ...process.env, PATH } });

      // the reinstall: the same step runs again
      const second = await runStep(step);
      expect(second).not.toContain("mkfs.ext4");
      expect((await blkid(image)).UUID).toBe(made.UUID);
      const { stdout } = await run("debugfs", ["-R", "cat blk00000.dat", image], { env: { ...process.env, PATH } });
      expect(stdout).toBe("block 0: the times 03/Jan/2009\n");
    });

    it("never formats a used disk that has a partition table but no filesystem on it", async () => {
      const image = blankImage("used.img", 64);
      // an MBR with one Linux partition (type 0x83 from sector 2048), as an old install leaves it
      const mbr = Buffer.alloc(512);
      mbr[446 + 4] = 0x83;
      mbr.writeUInt32LE(2048, 446 + 8);
      mbr.writeUInt32LE(64 * 2048 - 2048, 446 + 12);
      mbr[510] = 0x55;
      mbr[511] = 0xaa;
      const fd = openSync(image, "r+");
      writeSync(fd, mbr, 0, 512, 0);
      closeSync(fd);
      expect(await blkid(image)).toMatchObject({ PTTYPE: "dos" });

      const out = await runStep(await dataDiskCreateStep(image));
      expect(out).not.toContain("mkfs.ext4");
      const after = await blkid(image);
      expect(after.PTTYPE).toBe("dos");
      expect(after.TYPE).toBeUndefined();
    });
  },
);
