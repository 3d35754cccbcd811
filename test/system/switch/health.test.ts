// Health beyond SSH on a locked-down NixOS-personality target: a switch whose SSH confirmation
// succeeds is still rolled back when it broke a unit or a declared check fails, and kept when the
// only failure predates it or --keep-on-failed-checks says so. Each test proves the outcome: the
// generation the target runs and boots, and a new key login on the port.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseHostJson } from "../../../src/flake/host-file";
import type { HealthCheckSpec } from "../../../src/plan/types";
import { healthCheckFor } from "../../../src/switch/health";
import { targetsSupported } from "../../targets";
import { nixosState, unitsAfterSwitch } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, type Lab } from "../lockdown/fixture";
import { tryLogin } from "../lockdown/login";
import { editHost, lockedDownLab, runSwitchOn } from "./fixture";

const supported = targetsSupported();
// the health check gets 40% of the window: 12 s here, room for a 3 s check
const WINDOW_SEC = 30;

describe.skipIf(!supported.ok)(`switch health checks${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let lab: Lab;
  let tz = 0;
  beforeAll(async () => {
    lab = await lockedDownLab();
  }, 180_000);
  afterAll(() => lab?.stop());

  /** The previous test's supervisor exits shortly after its rollback: a new switch rightly refuses until then. */
  async function supervisorsGone() {
    const alive = `for f in /run/nixnode-lockdown/*/supervisor.pid; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && echo alive; done; true`;
    for (let i = 0; i < 120; i++) {
      if (!(await lab.t.exec(alive)).stdout.includes("alive")) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error("the previous switch's supervisor was still running after 60 s");
  }

  /** A real change (a new toplevel), with these checks declared; then the switch as the CLI wires it. */
  async function switchWith(checks: HealthCheckSpec[] | undefined, keepOnFailedChecks = false, windowSec = WINDOW_SEC) {
    const zones = ["Europe/Paris", "Europe/Rome", "Asia/Tokyo", "America/Lima", "Africa/Cairo", "Europe/Oslo"];
    editHost(lab, (h) => {
      h.timezone = zones[tz++ % zones.length]!;
      if (checks) h.health = { checks };
      else delete h.health;
    });
    await supervisorsGone();
    const host = parseHostJson(readFileSync(lab.hostJsonPath, "utf8"), "host.json");
    return runSwitchOn(lab, {
      confirmTimeoutSec: windowSec,
      healthCheck: healthCheckFor(host, { keepOnFailedChecks, log: () => undefined }),
    });
  }

  async function loginOn2222() {
    return tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: lab.key.privatePath });
  }

  it("a unit the switch breaks (fine before): rolled back naming it, exit 3, still the old generation, 2222 logs in", async () => {
    const before = await nixosState(lab.t);
    await unitsAfterSwitch(lab.t, { active: ["nats.service"], failAfterSwitch: ["nats.service"] });
    const r = await switchWith(undefined);
    expect(r.error?.exitCode, r.error?.message).toBe(3);
    expect(r.error?.message).toMatch(/units failed after the switch \(fine before it\): nats\.service/);
    const after = await nixosState(lab.t);
    expect(after.profileLink).toBe(before.profileLink);
    expect(after.current).toBe(before.current);
    expect(after.current).toBe(after.boot);
    expect(await loginOn2222()).toMatchObject({ ok: true });
    // rolled back, the node is healthy again: the unit is active
    expect((await lab.t.exec("systemctl is-active nats.service")).stdout.trim()).toBe("active");
  }, 150_000);

  it("a unit failed BEFORE the switch: confirmed, the warning names it; checks that pass (sshd's port, lo, active units) pass", async () => {
    const before = await nixosState(lab.t);
    await unitsAfterSwitch(lab.t, { active: ["nats.service"], failed: ["old-backup.service"] });
    const r = await switchWith([
      { kind: "tcp", name: "sshd", address: "127.0.0.1", port: NEW_PORT, timeoutSec: 3 },
      { kind: "interface", interface: "lo", timeoutSec: 3 },
      { kind: "unit", unit: "nats", timeoutSec: 3 },
      // a unit the toplevel itself starts (its multi-user.target.wants)
      { kind: "unit", unit: "sshd", timeoutSec: 3 },
    ]);
    expect(r.error?.message).toBeUndefined();
    expect(r.output).toMatch(/failed before the switch and still failed \(not blamed on it\): old-backup\.service/);
    const after = await nixosState(lab.t);
    expect(after.profileLink).not.toBe(before.profileLink);
    expect(after.current).toBe(after.boot);
    expect(await loginOn2222()).toMatchObject({ ok: true });
  }, 150_000);

  it("a declared tcp check whose port does not listen: rolled back naming the check, still the old generation", async () => {
    await unitsAfterSwitch(lab.t, {});
    const before = await nixosState(lab.t);
    const r = await switchWith([{ kind: "tcp", name: "NATS", address: "127.0.0.1", port: 4222, timeoutSec: 3 }]);
    expect(r.error?.exitCode, r.error?.message).toBe(3);
    expect(r.error?.message).toMatch(
      /check "NATS" \(tcp\) failed within its 3 s timeout: expected something listening on 127\.0\.0\.1:4222, saw: nothing listens on port 4222/,
    );
    const after = await nixosState(lab.t);
    expect(after.profileLink).toBe(before.profileLink);
    expect(after.current).toBe(before.current);
    expect(await loginOn2222()).toMatchObject({ ok: true });
  }, 150_000);

  it("the same with --keep-on-failed-checks: confirmed and made the boot default, with a warning naming the check", async () => {
    const before = await nixosState(lab.t);
    const r = await switchWith([{ kind: "tcp", name: "NATS", address: "127.0.0.1", port: 4222, timeoutSec: 3 }], true);
    expect(r.error?.message).toBeUndefined();
    expect(r.output).toMatch(/check "NATS" \(tcp\) failed .*\(kept: --keep-on-failed-checks\)/);
    const after = await nixosState(lab.t);
    expect(after.profileLink).not.toBe(before.profileLink);
    expect(after.current).toBe(after.boot);
    expect(await loginOn2222()).toMatchObject({ ok: true });
  }, 150_000);

  it('"starting" longer than the 20 s bound after the switch: the check waits, then judges (confirmed, with a warning)', async () => {
    const before = await nixosState(lab.t);
    await unitsAfterSwitch(lab.t, { startingSecAfterSwitch: 40 });
    // the check's share of a 70 s window (28 s) holds the 20 s wait
    const t0 = Date.now();
    const r = await switchWith(undefined, false, 70);
    expect(r.error?.message).toBeUndefined();
    expect(r.output).toMatch(/systemd still reports "starting" after 2\d s/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(20_000);
    const after = await nixosState(lab.t);
    expect(after.profileLink).not.toBe(before.profileLink);
    expect(after.current).toBe(after.boot);
    expect(await loginOn2222()).toMatchObject({ ok: true });
  }, 180_000);
});
