// LOCKDOWN.md failures between the operator and the target: the new port blocked upstream, the
// operator's link down inside the window, a reboot inside the window. After each one the operator
// logs in again (a real login), the target runs generation 1 again, the flake says so, and the
// error says what was observed and what is active.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, lockdown, startLab, type Lab } from "./fixture";
import { tryLogin } from "./login";
import { waitForSupervisor } from "./watch";

const supported = targetsSupported();

async function expectBackToGeneration1(lab: Lab) {
  const s = await nixosState(lab.t);
  expect(s.profileLink).toBe("system-1-link");
  expect(s.current).toBe(s.boot);
  expect(await tryLogin({ host: lab.t.address, port: 22, password: lab.t.rootPassword })).toMatchObject({ ok: true });
  expect(await tryLogin({ host: lab.t.address, port: 22, privateKeyPath: lab.key.privatePath })).toMatchObject({
    ok: true,
  });
  expect(JSON.parse(readFileSync(lab.hostJsonPath, "utf8")).lockdown.stage).toBe("none");
}

describe.skipIf(!supported.ok)(
  `lockdown network failures${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let lab: Lab | undefined;
    afterEach(async () => {
      await lab?.stop();
      lab = undefined;
    });

    it("port P blocked by the provider's firewall: rolled back, says the port never answered", async () => {
      lab = await startLab();
      await lab.t.faults.blockPort(NEW_PORT);
      const run = await lockdown(lab);
      expect(run.error?.exitCode).toBe(3);
      expect(run.error?.message).toMatch(
        new RegExp(`port ${NEW_PORT} never answered from here.*provider's firewall probably blocks it`),
      );
      expect(run.error?.message).toMatch(/previous configuration \(generation 1\) is active again; port 22 works/);
      expect(run.error?.message).not.toContain("\n");
      await expectBackToGeneration1(lab);
    });

    it("the operator's link drops inside the window: the target rolls back by itself", async () => {
      lab = await startLab();
      const l = lab;
      const cut = waitForSupervisor(l.t, "dual-port", "switched").then(async () => {
        await l.t.faults.linkDown();
        // longer than the 8 s window: the rollback happens while we cannot reach the target
        await waitForSupervisor(l.t, "dual-port", "rolled-back");
        await new Promise((r) => setTimeout(r, 1000));
        await l.t.faults.linkUp();
      });
      const run = await lockdown(lab);
      await cut;
      if (run.error?.exitCode !== 3) console.log(run.output);
      expect(run.error?.exitCode).toBe(3);
      // Which the tool sees first depends on the machine's load: its own attempts on 2222 timing out
      // while the link is down, or the target's record that it rolled back. Both are true; either way
      // the message must say what is active now.
      expect(run.error?.message).toMatch(/was rolled back: (.*port 2222|the target rolled back by itself)/);
      expect(run.error?.message).toMatch(/previous configuration \(generation 1\) is active again; port 22 works/);
      const state = (await l.t.exec("cat /run/nixnode-lockdown/dual-port/state")).stdout;
      // the link came back only after this line was written: the target's own timer did it
      expect(state).toMatch(/rolled-back no acknowledgement within 8s/);
      await expectBackToGeneration1(lab);
    });

    it("the target reboots inside the window: it comes back with the boot default", async () => {
      lab = await startLab();
      const l = lab;
      const bootBefore = await l.t.bootId();
      // Hold new connections to P back until the reboot has happened, so that it lands inside the
      // window (the tool would otherwise confirm within a second); the reboot itself is the event.
      await l.t.faults.blockPort(NEW_PORT);
      const reboot = waitForSupervisor(l.t, "dual-port", "switched").then(async () => {
        await l.t.simulateReboot();
        await l.t.faults.unblockPort(NEW_PORT);
      });
      const run = await lockdown(lab);
      await reboot;
      expect(await l.t.bootId()).not.toBe(bootBefore);
      expect(run.error?.exitCode).toBe(3);
      expect(run.error?.message).toMatch(
        /rebooted during the confirmation window and came back with the boot default \(generation 1\); port 22 works/,
      );
      await expectBackToGeneration1(lab);
    });
  },
);
