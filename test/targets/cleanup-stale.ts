// Removes what a killed earlier run left behind: namespaces named nnt-<pid>-<slot> whose pid is
// gone (their processes, the namespace, its veths), dead slots and folders. Live runs are untouched.
// startTarget() runs it once per process; it is safe while other runs are live (their pids are alive).
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pidAlive, releaseSlot, slotAddresses, STATE_ROOT, staleSlots } from "./address-slots";
import { destroySync } from "./live-targets";
import { runSync } from "./run-command";

export function cleanupStale(): string[] {
  const removed: string[] = [];
  const names = runSync("ip", ["netns", "list"])
    .stdout.split("\n")
    .map((l) => l.split(" ")[0] ?? "");
  for (const ns of names) {
    const m = /^nnt-(\d+)-(\d+)$/.exec(ns);
    if (!m || pidAlive(Number(m[1]))) continue;
    destroySync({
      ns,
      dir: join(STATE_ROOT, ns),
      hostIfs: [slotAddresses(Number(m[2])).hostIf],
      slots: [Number(m[2])],
    });
    removed.push(ns);
  }
  for (const index of staleSlots()) {
    runSync("ip", ["link", "del", slotAddresses(index).hostIf]);
    releaseSlot(index);
  }
  let dirs: string[] = [];
  try {
    dirs = readdirSync(STATE_ROOT);
  } catch {
    return removed;
  }
  for (const d of dirs) {
    const m = /^nnt-(\d+)-\d+$/.exec(d);
    if (m && !pidAlive(Number(m[1]))) {
      rmSync(join(STATE_ROOT, d), { recursive: true, force: true });
      if (!removed.includes(d)) removed.push(d);
    }
  }
  return removed;
}
