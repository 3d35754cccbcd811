// TEST-ONLY: gives a stand-in NixOS installer (becomeInstaller) its own disks. Each is a loop device
// (losetup -P over a sparse file in the target's folder), registered in the target's
// /root/.nixnode-standin-disks and shown by the installer's lsblk (lsblk.mjs) as a real disk: a
// disk-like kernel name, its real MAJ:MIN and a /dev/disk/by-id link (the boot stick under /iso too). /dev/disk is a tmpfs private to the target (its own
// mount namespace); only the empty mount point /dev/disk is created on the host when it has none
// (a machine without udev). The stand-in disko (nix.mjs) partitions a device the flake's layout names
// ONLY when it resolves to a registered loop device, so nothing outside the target's files is written.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ENTER = join(HERE, "../../enter.sh");
export const DISK_REGISTRY = ".nixnode-standin-disks";

/** The by-id name a registered disk gets, as udev names a virtio disk with a serial. */
export const byIdOf = (d) => `virtio-${d.serial}`;

/**
 * `t`: { dir, shimDir } of a started target. `disks`: [{ device: "/dev/loopN", name: "vdw", serial,
 * model, tran, removable }] (name: the disk-like kernel name lsblk shows; device: the real path).
 */
export function presentDisks(t, disks) {
  for (const d of disks) {
    if (!/^\/dev\/loop\d+$/.test(d.device)) throw new Error(`presentDisks: ${d.device} is not a loop device`);
    if (!/^[a-z]+$/.test(d.name) || !/^[A-Za-z0-9_-]+$/.test(d.serial ?? ""))
      throw new Error(`presentDisks: name ${d.name} / serial ${d.serial} not usable`);
  }
  writeFileSync(join(t.dir, "root", DISK_REGISTRY), JSON.stringify(disks, null, 2) + "\n");
  mkdirSync("/dev/disk", { recursive: true });
  const links = disks
    .map((d) => `ln -sfn ${d.device} /dev/disk/${d.name} && ln -sfn ../${d.name} /dev/disk/by-id/${byIdOf(d)}`)
    .join(" && ");
  execFileSync(ENTER, [
    t.dir,
    "sh",
    "-c",
    `mountpoint -q /dev/disk || mount -t tmpfs -o mode=755,size=1m nnt-dev-disk /dev/disk; mkdir -p /dev/disk/by-id && ${links}`,
  ]);
  const shim = join(t.shimDir, "lsblk");
  writeFileSync(
    shim,
    `#!/bin/sh\n# nixnode-standin-installer: the installer's lsblk (see test/targets/standins/installer)\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(HERE, "lsblk.mjs"))} "$@"\n`,
  );
  chmodSync(shim, 0o755);
}
