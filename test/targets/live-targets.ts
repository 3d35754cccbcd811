// Every target this process started, so that they are torn down even when a test fails or the
// process is interrupted: stop() for the normal path, a synchronous sweep at exit / SIGINT / SIGTERM.
import { rmSync } from "node:fs";
import { releaseSlot } from "./address-slots";
import { runSync } from "./run-command";

export interface LiveTarget {
  ns: string;
  dir: string;
  hostIfs: string[];
  slots: number[];
}

const live = new Map<string, LiveTarget>();
let hooked = false;

export function registerLive(t: LiveTarget): void {
  live.set(t.ns, t);
  if (!hooked) hookProcess();
}

export function unregisterLive(ns: string): void {
  live.delete(ns);
}

/** Kill everything inside the namespace, delete it and its veths, free the slots, remove the folder. */
export function destroySync(t: LiveTarget): void {
  const pids = runSync("ip", ["netns", "pids", t.ns]).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone: exactly what we want
    }
  }
  runSync("ip", ["netns", "del", t.ns]);
  for (const ifname of t.hostIfs) runSync("ip", ["link", "del", ifname]);
  for (const s of t.slots) releaseSlot(s);
  if (!process.env.NNT_KEEP) rmSync(t.dir, { recursive: true, force: true });
  live.delete(t.ns);
}

function sweep(): void {
  for (const t of [...live.values()]) destroySync(t);
}

function hookProcess(): void {
  hooked = true;
  process.once("exit", sweep);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      sweep();
      process.removeListener(sig, onSignal);
      // keep the default behaviour (die by the signal) unless someone else handles it
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}
