// TEST-ONLY `lsblk` of the stand-in NixOS installer: the machine's own disks as the probe sees them on
// real hardware. A target's disks are loop devices over sparse files (this kernel offers no nbd, ublk or
// scsi_debug), which the probe rightly leaves out; so each device registered in
// /root/.nixnode-standin-disks (disks.mjs) is shown as TYPE disk under a disk-like kernel name (vdw), its
// partitions renamed the same way (vdw1), with the model, serial and transport of the registry. Its
// stable name is the /dev/disk/by-id link disks.mjs made (by-id/virtio-SERIAL -> ../vdw, and
// /dev/disk/vdw -> /dev/loopN, inside the target only): what the plan names resolves to the loop device.
// The boot stick is registered too (TYPE disk, e.g. vdy): nothing but its device number, MAJ:MIN, which
// is kept as the kernel reports it, ties it to what is mounted at /iso, as on a real installer
// (src/install/local/boot-medium.ts). The host's own disks and every other device are left out.
// Without the registry, or for anything but `-J`, the real lsblk runs unchanged.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const REGISTRY = "/root/.nixnode-standin-disks";
const REAL = ["/usr/bin/lsblk", "/bin/lsblk"].find((p) => existsSync(p)) ?? "lsblk";
const args = process.argv.slice(2);
const real = spawnSync(REAL, args, { encoding: "utf8" });
if (!args.includes("-J") || !existsSync(REGISTRY) || real.status !== 0) {
  process.stdout.write(real.stdout ?? "");
  process.stderr.write(real.stderr ?? "");
  process.exit(real.status ?? 1);
}
const disks = JSON.parse(readFileSync(REGISTRY, "utf8"));
const json = JSON.parse(real.stdout);

/** loop3 -> vdw, loop3p2 -> vdw2, in every name-like field of a node and its children. */
function renamed(node, from, to) {
  const re = (v) => (typeof v === "string" ? v.replace(new RegExp(`(^|/)${from}(?:p(?=\\d)|$)`), `$1${to}`) : v);
  const out = { ...node };
  for (const k of ["name", "kname", "path", "pkname"]) if (k in out) out[k] = re(out[k]);
  if (Array.isArray(node.children)) out.children = node.children.map((c) => renamed(c, from, to));
  return out;
}

const shown = [];
for (const d of disks) {
  const kname = d.device.replace(/^\/dev\//, "");
  const dev = (json.blockdevices ?? []).find((b) => (b.kname ?? b.name) === kname || b.path === d.device);
  if (!dev) continue;
  shown.push({
    ...renamed(dev, kname, d.name),
    type: "disk",
    model: d.model ?? null,
    serial: d.serial ?? null,
    tran: d.tran ?? null,
    rm: d.removable === true,
    rota: false,
  });
}
process.stdout.write(JSON.stringify({ blockdevices: shown }, null, 2) + "\n");
