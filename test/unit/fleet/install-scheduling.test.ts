// The scheduler of `fleet install` with in-process hosts (the real per-host work is proven against
// five targets in test/system/fleet/fleet-install.test.ts): never more than N hosts at once, every
// question before the first install, a failing host reported while the others finish.
import { describe, expect, it } from "vitest";
import {
  fleetExitCode,
  installFleet,
  type FleetHostResult,
  type FleetHostWork,
} from "../../../src/fleet/install-fleet";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fakeFleet(o: { failPrepare?: string[]; failInstall?: string[]; done?: string[]; refuse?: boolean } = {}) {
  const log: string[] = [];
  let running = 0;
  let peak = 0;
  const row = (host: string, status: FleetHostResult["status"], message: string): FleetHostResult => ({
    host,
    status,
    fingerprint: null,
    sshPort: null,
    message,
    fix: null,
    exitCode: status === "failed" ? 3 : null,
  });
  const work: FleetHostWork<string> = {
    async prepare(h) {
      log.push(`prepare ${h}`);
      await sleep(5);
      if (o.failPrepare?.includes(h)) throw new Error(`${h} unreachable`);
      return h;
    },
    done: (h) => (o.done?.includes(h) ? row(h, "skipped", "already installed and locked down") : null),
    async confirm(hosts) {
      log.push(`confirm ${hosts.map((x) => x.host).join(",")}`);
      if (o.refuse) throw new Error("declined");
    },
    async install(h) {
      running++;
      peak = Math.max(peak, running);
      log.push(`install ${h}`);
      try {
        await sleep(20 + (h.length % 3) * 5);
        if (o.failInstall?.includes(h)) throw new Error(`${h}: lockdown rolled back`);
        return row(h, "installed", "installed and locked down");
      } finally {
        running--;
      }
    },
    failed: (h, e) => row(h, "failed", (e as Error).message),
  };
  return { work, log, peak: () => peak };
}

const HOSTS = ["a", "b", "c", "d", "e", "f", "g"];

describe("fleet install scheduling", () => {
  it("runs at most N hosts at a time and every host once", async () => {
    for (const n of [1, 2, 4]) {
      const f = fakeFleet();
      const results = await installFleet(HOSTS, n, f.work);
      expect(f.peak()).toBe(n);
      expect(f.log.filter((l) => l.startsWith("install")).sort()).toEqual(HOSTS.map((h) => `install ${h}`));
      expect(results.map((r) => r.status)).toEqual(HOSTS.map(() => "installed"));
      expect(fleetExitCode(results)).toBe(0);
    }
  });

  it("asks every question once, after every host was looked at and before the first install", async () => {
    const f = fakeFleet({ done: ["b"] });
    await installFleet(HOSTS, 3, f.work);
    const confirm = f.log.findIndex((l) => l.startsWith("confirm"));
    expect(f.log.slice(0, confirm).every((l) => l.startsWith("prepare"))).toBe(true);
    expect(f.log.slice(0, confirm)).toHaveLength(HOSTS.length);
    // the finished host is not asked about and not installed
    expect(f.log[confirm]).toBe("confirm a,c,d,e,f,g");
    expect(f.log.filter((l) => l.startsWith("confirm"))).toHaveLength(1);
    expect(f.log).not.toContain("install b");
  });

  it("a declined question ends the run before any host is installed", async () => {
    const f = fakeFleet({ refuse: true });
    await expect(installFleet(HOSTS, 4, f.work)).rejects.toThrow("declined");
    expect(f.log.some((l) => l.startsWith("install"))).toBe(false);
  });

  it("a host failing (unreachable, or its lockdown rolled back) is reported; the others finish; exit 3", async () => {
    const f = fakeFleet({ failPrepare: ["c"], failInstall: ["e"] });
    const results = await installFleet(HOSTS, 2, f.work);
    expect(results.map((r) => [r.host, r.status])).toEqual([
      ["a", "installed"],
      ["b", "installed"],
      ["c", "failed"],
      ["d", "installed"],
      ["e", "failed"],
      ["f", "installed"],
      ["g", "installed"],
    ]);
    expect(results.find((r) => r.host === "e")!.message).toBe("e: lockdown rolled back");
    expect(f.log).not.toContain("install c");
    expect(fleetExitCode(results)).toBe(3);
    expect(fleetExitCode(results.filter((r) => r.status !== "failed"))).toBe(0);
  });
});
