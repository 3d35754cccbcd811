// Stand-in USB sticks for the usb tests: real loop devices on sparse files (the writes really go to a
// block device), an HTTP server on 127.0.0.1 that publishes an "ISO" and its .sha256 in
// channels.nixos.org's layout, and a fake sysfs tree that reports a loop device as removable (the
// kernel never does). Everything made here is undone by cleanup(), loop devices first.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { systemDeps, type UsbDeps } from "../../../src/usb/block-devices";

export const HAVE_LOOP = (() => {
  try {
    return process.getuid?.() === 0 && !!execFileSync("losetup", ["--version"]).length;
  } catch {
    return false;
  }
})();

export function sha256(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}

/** The first `bytes` bytes of a device or file. */
export function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(bytes);
    let off = 0;
    while (off < bytes) {
      const n = readSync(fd, b, off, bytes - off, off);
      if (n === 0) break;
      off += n;
    }
    return b.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

export class Bench {
  readonly dir = mkdtempSync(join(tmpdir(), "nixnode-usb-test-"));
  private loops: string[] = [];
  private mounts: string[] = [];
  private servers: Server[] = [];

  /** A loop device on a sparse file of `bytes`; `backingDir` puts the file elsewhere (a tiny tmpfs). */
  loop(bytes: number, backingDir = this.dir): string {
    const file = join(backingDir, `stick-${this.loops.length}-${Date.now()}.img`);
    writeFileSync(file, "");
    execFileSync("truncate", ["-s", String(bytes), file]);
    const dev = execFileSync("losetup", ["-f", "--show", file], { encoding: "utf8" }).trim();
    this.loops.push(dev);
    return dev;
  }

  mount(args: string[], where: string): void {
    mkdirSync(where, { recursive: true });
    execFileSync("mount", [...args, where]);
    this.mounts.push(where);
  }

  image(bytes: number, name = "image.iso"): { path: string; data: Buffer; sha256: string } {
    const data = randomBytes(bytes);
    const path = join(this.dir, name);
    writeFileSync(path, data);
    return { path, data, sha256: sha256(data) };
  }

  /** Serves `iso` as nixos-<release>/latest-nixos-minimal-<arch>-linux.iso with `published` as its hash. */
  async server(iso: Buffer, published: string, release = "26.05", arch = "x86_64"): Promise<string> {
    const name = `nixos-minimal-${release}.4242.abcdef-${arch}-linux.iso`;
    const base = `/nixos-${release}/latest-nixos-minimal-${arch}-linux.iso`;
    const srv = createServer((req, res) => {
      if (req.url === base) {
        res.writeHead(200, { "content-length": iso.length, "content-type": "application/octet-stream" });
        res.end(iso);
      } else if (req.url === `${base}.sha256`) {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(`${published}  ${name}`);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    this.servers.push(srv);
    return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  }

  /** The real machine's facts, except that `removable` devices are reported removable (fake sysfs). */
  deps(removable: string[]): UsbDeps {
    const sys = mkdtempSync(join(this.dir, "sys-"));
    for (const dev of removable) {
      mkdirSync(join(sys, "block", basename(dev)), { recursive: true });
      writeFileSync(join(sys, "block", basename(dev), "removable"), "1\n");
    }
    return { ...systemDeps(), sysfsRoot: sys };
  }

  async cleanup(): Promise<void> {
    for (const s of this.servers) await new Promise((r) => s.close(r));
    // a filesystem on a loop device is unmounted before the loop goes; a tmpfs holding a loop's
    // backing file only after it
    const mounts = [...this.mounts].reverse();
    for (const m of mounts) tryRun("umount", [m]);
    for (const l of this.loops) tryRun("losetup", ["-d", l]);
    for (const m of mounts) tryRun("umount", [m]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function tryRun(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
  } catch {
    // already gone; cleanup must not hide the test's own failure
  }
}
