// What the machine says about its disks: lsblk's JSON, /sys/block/<dev>/removable, /dev/disk/by-id and
// the running system's root (findmnt /). Everything is read through UsbDeps so that tests can present a
// real loop device as removable (loop devices never are) while the write still goes to the real device.
import { execFile } from "node:child_process";
import { readFileSync, readdirSync, realpathSync } from "node:fs";
import { basename, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface LsblkNode {
  name: string;
  path: string;
  type: string;
  rm?: boolean | string | null;
  hotplug?: boolean | string | null;
  size: number | string | null;
  model?: string | null;
  serial?: string | null;
  tran?: string | null;
  mountpoints?: Array<string | null> | null;
  children?: LsblkNode[];
}

export interface UsbDeps {
  /** lsblk -J -b for one device (or all when `path` is absent): { blockdevices: [...] }. */
  lsblk(path?: string): Promise<{ blockdevices: LsblkNode[] }>;
  /** The source of the filesystem mounted at / (findmnt -n -o SOURCE /). */
  rootSource(): Promise<string>;
  /** Normally "/sys": <sysfsRoot>/block/<name>/removable holds "1" for removable media. */
  sysfsRoot: string;
  /** Normally "/dev/disk/by-id". */
  byIdDir: string;
}

const COLUMNS = "NAME,PATH,TYPE,RM,HOTPLUG,SIZE,MODEL,SERIAL,TRAN,MOUNTPOINTS";

export function systemDeps(): UsbDeps {
  return {
    async lsblk(path) {
      const { stdout } = await run("lsblk", ["-J", "-b", "-o", COLUMNS, ...(path ? [path] : [])]);
      return JSON.parse(stdout) as { blockdevices: LsblkNode[] };
    },
    async rootSource() {
      const { stdout } = await run("findmnt", ["-n", "-o", "SOURCE", "/"]);
      return stdout.trim();
    },
    sysfsRoot: "/sys",
    byIdDir: "/dev/disk/by-id",
  };
}

/** The facts every decision about one whole disk is made from. */
export interface DiskFacts {
  path: string;
  name: string;
  type: string;
  sizeBytes: number;
  model: string;
  transport: string;
  byId: string[];
  removable: boolean;
  /** Where the disk or any of its partitions is mounted (swap shows as [SWAP]). */
  mountpoints: string[];
  /** Why the disk holds the running system, or null. */
  runningSystem: string | null;
}

// The installer booted from a stick has tmpfs at / and the stick at /iso (the squashfs under
// /nix/.ro-store): those mounts, like / and /boot of an installed system, mean "this is what runs".
const SYSTEM_MOUNTS = ["/", "/boot", "/boot/efi", "/efi", "/nix", "/nix/store", "/nix/.ro-store", "/iso", "[SWAP]"];

const truthy = (v: unknown) => v === true || v === "1" || v === 1;

function flatten(n: LsblkNode): LsblkNode[] {
  return [n, ...(n.children ?? []).flatMap(flatten)];
}

function byIdLinks(dir: string, devPath: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => !/-part\d+$/.test(f))
      .filter((f) => {
        try {
          return realpathSync(join(dir, f)) === devPath;
        } catch {
          return false;
        }
      })
      .map((f) => join(dir, f))
      .sort();
  } catch {
    return []; // no /dev/disk/by-id (containers, minimal systems): the path alone names the disk
  }
}

function sysfsRemovable(root: string, name: string): boolean {
  try {
    return readFileSync(join(root, "block", name, "removable"), "utf8").trim() === "1";
  } catch {
    return false;
  }
}

export function diskFacts(node: LsblkNode, root: string, deps: UsbDeps): DiskFacts {
  const all = flatten(node);
  const mountpoints = all.flatMap((n) => (n.mountpoints ?? []).filter((m): m is string => !!m));
  const rootReal = safeRealpath(root);
  const holdsRoot = all.find((n) => n.path === rootReal || n.path === root);
  const systemMount = mountpoints.find((m) => SYSTEM_MOUNTS.includes(m));
  return {
    path: node.path,
    name: node.name,
    type: node.type,
    sizeBytes: Number(node.size ?? 0),
    model: (node.model ?? "").trim(),
    transport: node.tran ?? "",
    byId: byIdLinks(deps.byIdDir, node.path),
    removable:
      sysfsRemovable(deps.sysfsRoot, basename(node.path)) ||
      truthy(node.rm) ||
      truthy(node.hotplug) ||
      node.tran === "usb",
    mountpoints,
    runningSystem: holdsRoot
      ? `${holdsRoot.path} is the running system's root filesystem`
      : systemMount
        ? `it is mounted at ${systemMount}, part of the running system`
        : null,
  };
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Facts of the whole disk at `path` (already a block device, symlinks resolved). */
export async function readDisk(path: string, deps: UsbDeps): Promise<DiskFacts> {
  const [tree, root] = await Promise.all([deps.lsblk(path), deps.rootSource()]);
  const node = tree.blockdevices[0];
  if (!node) throw new Error(`lsblk knows no device ${path}`);
  return diskFacts(node, root, deps);
}

/** Disks a stick could be written to: removable, whole disks, not the running system. */
export async function candidateDisks(deps: UsbDeps): Promise<DiskFacts[]> {
  const [tree, root] = await Promise.all([deps.lsblk(), deps.rootSource()]);
  return tree.blockdevices
    .filter((n) => n.type === "disk")
    .map((n) => diskFacts(n, root, deps))
    .filter((d) => d.removable && !d.runningSystem && d.sizeBytes > 0);
}
