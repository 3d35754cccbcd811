// The target reboots inside a switch's window (the built CLI against a locked-down lab): it comes
// back on the previous generation (the boot default), the old port works, the tool says the target
// rebooted (exit 3), and the next switch reads what the node runs from the record a reboot keeps.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, type Lab } from "../lockdown/fixture";
import { tryLogin } from "../lockdown/login";
import { editHost, lockedDownLab } from "./fixture";
import { supervisorsGone, switchArgs, waitForSwitch } from "./switch-watch";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(`switch and a reboot${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await lockedDownLab();
  }, 180_000);
  afterAll(() => lab?.stop());

  it("the target reboots inside the window: back on the boot default, 2222 works, exit 3 says it rebooted; the next switch works", async () => {
    const before = await nixosState(lab.t);
    const generation = /system-(\d+)-link/.exec(before.profileLink)![1];
    const bootBefore = await lab.t.bootId();
    editHost(lab, (h) => {
      h.ssh.ports = [2200];
      h.firewall.allowedTCPPorts = [...h.firewall.allowedTCPPorts.filter((p) => p !== NEW_PORT), 2200];
    });
    // new connections to 2200 are held back until the reboot has happened, so it lands inside the window
    await lab.t.faults.blockPort(2200);
    const reboot = waitForSwitch(lab.t, before.boot, "switched").then(async () => {
      await lab.t.simulateReboot();
      await lab.t.faults.unblockPort(2200);
    });
    const r = await runCli(switchArgs(lab, NEW_PORT, "--confirm-timeout", "8"), {
      env: { HOME: lab.work },
      timeoutMs: 150_000,
    });
    await reboot;
    expect(await lab.t.bootId()).not.toBe(bootBefore);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(
        `rebooted during the confirmation window and came back with the boot default \\(generation ${generation}\\); port ${NEW_PORT} works with your key`,
      ),
    );
    const after = await nixosState(lab.t);
    expect(after.profileLink).toBe(before.profileLink);
    expect(after.current).toBe(before.boot);
    expect(after.boot).toBe(before.boot);
    expect(await tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: lab.key.privatePath })).toMatchObject({
      ok: true,
    });
    expect(
      await tryLogin({ host: lab.t.address, port: 2200, privateKeyPath: lab.key.privatePath, timeoutMs: 3000 }),
    ).toMatchObject({ ok: false });

    // /run is empty after the reboot: the next switch reads the node from the record on disk
    await supervisorsGone(lab.t);
    const again = await runCli(switchArgs(lab, NEW_PORT, "--confirm-timeout", "30"), {
      env: { HOME: lab.work },
      timeoutMs: 150_000,
    });
    expect(again.stderr).not.toMatch(/error:/);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/confirmed on port 2200/);
    expect(await tryLogin({ host: lab.t.address, port: 2200, privateKeyPath: lab.key.privatePath })).toMatchObject({
      ok: true,
    });
  }, 300_000);
});
