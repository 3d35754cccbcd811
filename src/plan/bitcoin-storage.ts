// Where a Bitcoin profile keeps its chain, and whether it must prune. Pure: decided from the disk
// plan alone. A full mainnet node needs room for the whole block chain; nix-bitcoin's prune default
// is 0 (keep everything), so a 40 GB system disk would simply fill up. And a chain on a data disk
// that is mounted `nofail` (so that the machine still boots without it) must never silently
// restart from zero on the root filesystem when that disk is missing: bitcoind then requires its
// mount (systemd RequiresMountsFor) and stays down instead.
import type { DiskPlan, Profile } from "./types";

/**
 * Room a full (unpruned) mainnet node needs: 1 TB (10^12 bytes, what "1 TB" disks hold). The chain
 * (blocks + chainstate) was about 760 GB in late 2026 and grows by roughly 80 GB a year, so 1 TB
 * leaves two to three years of growth; a smaller disk prunes.
 */
export const FULL_CHAIN_MIN_BYTES = 1_000_000_000_000;

/**
 * The prune target on a disk too small for the chain: 4000 MiB of block files (peer-observer
 * infra-library's own default), plus the ~12 GB chainstate bitcoind always keeps: about 16 GB,
 * which fits next to NixOS on the smallest (38-40 GB) cloud disks.
 */
export const PRUNE_TARGET_MIB = 4000;

export interface BitcoinStorage {
  /** The bitcoind data directory on the data disk, or null for the profile's default on the system disk. */
  dataDir: string | null;
  /** A mount point bitcoind must not start without (RequiresMountsFor), or null. */
  requiresMount: string | null;
  /** bitcoind prune target in MiB; 0 keeps the full chain. */
  pruneMiB: number;
  /** One line for the plan summary. */
  summary: string;
}

const BITCOIN_PROFILES: readonly Profile[] = ["nix-bitcoin", "peer-observer"];

export function planBitcoinStorage(profile: Profile, disk: DiskPlan): BitcoinStorage | null {
  if (!BITCOIN_PROFILES.includes(profile)) return null;
  const need = `${FULL_CHAIN_MIN_BYTES / 1e12} TB`;
  if (disk.data) {
    const dataDir = `${disk.data.mountpoint.replace(/\/+$/, "")}/bitcoind`;
    const full = disk.data.sizeBytes >= FULL_CHAIN_MIN_BYTES;
    return {
      dataDir,
      requiresMount: dataDir,
      pruneMiB: full ? 0 : PRUNE_TARGET_MIB,
      summary: `${full ? "full chain" : `pruned to ${PRUNE_TARGET_MIB} MiB of blocks (the data disk is smaller than ${need})`} in ${dataDir} on the data disk (${gb(disk.data.sizeBytes)}); bitcoind does not start without that disk mounted`,
    };
  }
  // The system disk holds the chain next to swap and the Nix store; mirrors give the smallest disk's room.
  const room = Math.min(...disk.system.map((d) => d.sizeBytes)) - disk.swapMiB * 1024 ** 2;
  const full = room >= FULL_CHAIN_MIN_BYTES;
  return {
    dataDir: null,
    requiresMount: null,
    pruneMiB: full ? 0 : PRUNE_TARGET_MIB,
    summary: full
      ? `full chain on the system disk (${gb(room)} free for it)`
      : `pruned to ${PRUNE_TARGET_MIB} MiB of blocks: no data disk, and the system disk (${gb(room)} after swap) is smaller than the ${need} a full chain needs`,
  };
}

function gb(bytes: number): string {
  return bytes >= 1e12 ? `${(bytes / 1e12).toFixed(1)} TB` : `${Math.round(bytes / 1e9)} GB`;
}
