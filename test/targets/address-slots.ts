// Each target gets a private /30 out of 10.231.0.0/16 (16384 slots). Slots are claimed across
// processes (vitest runs test files in parallel workers) with an atomic mkdir, and name their owner
// pid so that a slot left by a killed run can be reclaimed.
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

export const STATE_ROOT = "/tmp/nnt-targets";
const SLOT_DIR = join(STATE_ROOT, "slots");
const SLOT_COUNT = 16384;

export interface Slot {
  index: number;
  /** The host-side (operator) address: .1 of the /30. */
  hostAddress: string;
  /** The target-side address: .2 of the /30. */
  targetAddress: string;
  /** Host-side veth name (<= 15 chars). */
  hostIf: string;
  /** Target-side veth name before it is moved and renamed inside the namespace. */
  peerIf: string;
  /** IPv6 (opt-in per target): a ULA /64 per slot, host ::1, target ::2 */
  hostAddress6: string;
  targetAddress6: string;
}

export function slotAddresses(index: number): Slot {
  const base = index * 4;
  const third = base >> 8;
  const fourth = base & 255;
  return {
    index,
    hostAddress: `10.231.${third}.${fourth + 1}`,
    targetAddress: `10.231.${third}.${fourth + 2}`,
    hostIf: `nnt${index}h`,
    peerIf: `nnt${index}t`,
    hostAddress6: `fd4e:6e74:0:${index.toString(16)}::1`,
    targetAddress6: `fd4e:6e74:0:${index.toString(16)}::2`,
  };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function claimSlot(): Slot {
  mkdirSync(SLOT_DIR, { recursive: true, mode: 0o700 });
  const start = (process.pid * 37) % SLOT_COUNT;
  for (let i = 0; i < SLOT_COUNT; i++) {
    const index = (start + i) % SLOT_COUNT;
    const path = join(SLOT_DIR, String(index));
    try {
      mkdirSync(path);
    } catch {
      if (!reclaimIfStale(path)) continue;
      try {
        mkdirSync(path);
      } catch {
        continue;
      }
    }
    writeFileSync(join(path, "owner"), String(process.pid));
    return slotAddresses(index);
  }
  throw new Error("no free address slot in 10.231.0.0/16 (run test/targets/cleanup-stale.ts)");
}

export function releaseSlot(index: number): void {
  rmSync(join(SLOT_DIR, String(index)), { recursive: true, force: true });
}

/** A slot whose owner process is gone can be taken again. */
function reclaimIfStale(path: string): boolean {
  let owner = 0;
  try {
    owner = Number(readFileSync(join(path, "owner"), "utf8"));
  } catch {
    return false; // being claimed right now (owner not written yet)
  }
  if (owner > 0 && pidAlive(owner)) return false;
  rmSync(path, { recursive: true, force: true });
  return true;
}

/** Slots whose owner is dead (for cleanup-stale). */
export function staleSlots(): number[] {
  let names: string[] = [];
  try {
    names = readdirSync(SLOT_DIR);
  } catch {
    return [];
  }
  return names
    .filter((n) => {
      try {
        const owner = Number(readFileSync(join(SLOT_DIR, n, "owner"), "utf8"));
        return !(owner > 0 && pidAlive(owner));
      } catch {
        return false;
      }
    })
    .map(Number);
}
