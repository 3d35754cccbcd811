// Harness overrides for the probe (RAM, virtualisation, extra files), several targets at once, and
// the sweep that removes what a killed run left behind.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { claimSlot, STATE_ROOT } from "../../targets/address-slots";
import { cleanupStale } from "../../targets/cleanup-stale";
import { startTarget, targetsSupported } from "../../targets/index";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(`harness extras${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  it("memoryMiB, virt and extraFiles change what the target reports, and nothing on the host", async () => {
    const t = await startTarget({
      memoryMiB: 1536,
      virt: "kvm",
      extraFiles: { "/etc/nixnode-test/knob": "on\n", "/proc/cmdline": "BOOT_IMAGE=/vmlinuz root=/dev/vda1\n" },
    });
    try {
      const r = await t.exec(
        "grep MemTotal /proc/meminfo; systemd-detect-virt; cat /etc/nixnode-test/knob; cat /proc/cmdline",
      );
      expect(r.stdout).toBe("MemTotal:       1572864 kB\nkvm\non\nBOOT_IMAGE=/vmlinuz root=/dev/vda1\n");
      expect(existsSync("/etc/nixnode-test/knob")).toBe(false);
      expect(execFileSync("grep", ["MemTotal", "/proc/meminfo"], { encoding: "utf8" })).not.toContain("1572864 kB");
    } finally {
      await t.stop();
    }
  });

  it("several targets run at once, each with its own address, hostname and host key", async () => {
    const ts = await Promise.all([startTarget(), startTarget(), startTarget()]);
    try {
      expect(new Set(ts.map((t) => t.address)).size).toBe(3);
      const names = await Promise.all(ts.map(async (t) => (await t.exec("hostname")).stdout.trim()));
      expect(names).toEqual(ts.map((t) => t.name));
      const fps = await Promise.all(ts.map((t) => t.hostKeyFingerprint()));
      expect(new Set(fps).size).toBe(3);
    } finally {
      await Promise.all(ts.map((t) => t.stop()));
    }
  });

  it("cleanupStale removes the namespace, veth, processes and folder of a run whose process is gone", async () => {
    // a pid that surely is not running: a child that already exited
    const dead = spawn("true");
    await new Promise((r) => dead.on("exit", r));
    const slot = claimSlot(); // freed again by the sweep, like the stale run's own slot
    const ns = `nnt-${dead.pid}-${slot.index}`;
    const dir = join(STATE_ROOT, ns);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "marker"), "");
    execFileSync("ip", ["netns", "add", ns]);
    execFileSync("ip", ["link", "add", slot.hostIf, "type", "veth", "peer", "name", slot.peerIf, "netns", ns]);
    const holder = spawn("ip", ["netns", "exec", ns, "sleep", "infinity"], { stdio: "ignore", detached: true });
    holder.unref();
    await new Promise((r) => setTimeout(r, 200));
    const removed = cleanupStale();
    // In a full run another worker's first target sweeps stale runs too, and may get there first:
    // what matters is that the run is gone, whoever removed it.
    if (!removed.includes(ns)) expect(existsSync(dir)).toBe(false);
    expect(execFileSync("ip", ["netns", "list"], { encoding: "utf8" })).not.toContain(ns);
    expect(() => execFileSync("ip", ["link", "show", slot.hostIf], { stdio: "ignore" })).toThrow();
    expect(existsSync(dir)).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(holder.exitCode !== null || holder.signalCode !== null).toBe(true);
  });
});
