export interface StandinDisk {
  /** The real device (/dev/loopN), as /sys/dev/block and every later step name it. */
  device: string;
  /** The disk-like kernel name the installer's lsblk shows (vdw). */
  name: string;
  /** The serial: also the by-id name, virtio-SERIAL. */
  serial: string;
  model?: string;
  tran?: string;
  removable?: boolean;
}
export const DISK_REGISTRY: string;
export function byIdOf(d: Pick<StandinDisk, "serial">): string;
export function presentDisks(t: { dir: string; shimDir: string }, disks: StandinDisk[]): void;
