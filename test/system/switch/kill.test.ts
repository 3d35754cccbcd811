// `switch` as users run it (the built CLI in a child process) killed with SIGKILL: inside the window
// the target reverts by itself (boot default unchanged, the old port works, the new one is closed)
// and the next run says so and goes ahead; killed between the acknowledgement and the persist, the
// next run re-confirms and finishes that switch without building again.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, type Lab } from "../lockdown/fixture";
import { tryLogin } from "../lockdown/login";
import { editHost, lockedDownLab } from "./fixture";
import { spawnCli, supervisorsGone, switchArgs, waitForSwitch } from "./switch-watch";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(`switch killed${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await lockedDownLab();
  }, 180_000);
  afterAll(() => lab?.stop());

  it("SIGKILLed inside the window: the target reverts by itself, 2222 works, 2200 closed; the next run says so and goes ahead", async () => {
    const before = await nixosState(lab.t);
    editHost(lab, (h) => {
      h.ssh.ports = [2200];
      h.firewall.allowedTCPPorts = [...h.firewall.allowedTCPPorts.filter((p) => p !== NEW_PORT), 2200];
    });
    await lab.t.faults.blockPort(2200); // keeps the window open until the kill lands
    const run = spawnCli(lab, switchArgs(lab, NEW_PORT, "--confirm-timeout", "8"));
    await waitForSwitch(lab.t, before.boot, "switched");
    run.child.kill("SIGKILL");
    expect(await run.exited).toBe("SIGKILL");
    await lab.t.faults.unblockPort(2200);
    const state = await waitForSwitch(lab.t, before.boot, "rolled-back");
    expect(state).toMatch(/rolled-back no acknowledgement within 8s/);
    expect(run.output()).toMatch(/activating under a supervisor/);
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
    // the record of what the node runs still says 2222 (a rolled-back switch is never recorded)
    const record = JSON.parse((await lab.t.exec("cat /var/lib/nixnode-install/confirmed-host.json")).stdout);
    expect(record.ssh.ports).toEqual([NEW_PORT]);
    const kh = join(lab.work, "known_hosts");
    expect(existsSync(kh) ? readFileSync(kh, "utf8") : "").not.toContain(":2200");

    // the next run reads that record, says so, and switches for real
    await supervisorsGone(lab.t);
    const again = await runCli(switchArgs(lab, NEW_PORT, "--confirm-timeout", "30"), {
      env: { HOME: lab.work },
      timeoutMs: 110_000,
    });
    expect(again.stderr).not.toMatch(/error:/);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /the last switch was rolled back at \d\d:\d\d:\d\d UTC \(no acknowledgement within 8s\); going ahead with this one/,
    );
    expect(again.stdout).toMatch(/confirmed on port 2200/);
    expect(await tryLogin({ host: lab.t.address, port: 2200, privateKeyPath: lab.key.privatePath })).toMatchObject({
      ok: true,
    });
  }, 180_000);

  it("SIGKILLed between the acknowledgement and the persist: the next run re-confirms and finishes it without a build", async () => {
    await supervisorsGone(lab.t);
    const before = await nixosState(lab.t);
    // where sshd answers now (2200 after the first test, 2222 if it failed): this test keeps that port
    const port = JSON.parse((await lab.t.exec("cat /var/lib/nixnode-install/confirmed-host.json")).stdout).ssh.ports[0];
    editHost(lab, (h) => {
      h.timezone = "Europe/Lisbon";
      h.ssh.ports = [port];
      h.firewall.allowedTCPPorts = [
        ...new Set([...h.firewall.allowedTCPPorts.filter((p) => p !== 2200 && p !== NEW_PORT), port]),
      ];
    });
    // the persist (nix-env --set) hangs while /run/nn-test-hold exists, and never completes for the killed run
    const shim = "/usr/local/sbin/nix-env";
    await lab.t.exec(
      `[ -e ${shim}.real ] || mv ${shim} ${shim}.real; printf '%s\\n' '#!/bin/sh' ` +
        `'if [ -e /run/nn-test-hold ]; then touch /run/nn-test-held; while [ -e /run/nn-test-hold ]; do sleep 0.2; done; exit 1; fi' ` +
        `'exec ${shim}.real "$@"' > ${shim} && chmod 755 ${shim} && touch /run/nn-test-hold`,
    );
    try {
      const run = spawnCli(lab, switchArgs(lab, port, "--confirm-timeout", "30"));
      for (let i = 0; i < 600 && !(await lab.t.exec("ls /run/nn-test-held 2>/dev/null")).stdout.trim(); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(await waitForSwitch(lab.t, before.boot, "acknowledged", 1000)).toMatch(/acknowledged/);
      run.child.kill("SIGKILL");
      expect(await run.exited).toBe("SIGKILL");
    } finally {
      await lab.t.exec("rm -f /run/nn-test-hold /run/nn-test-held");
    }
    const mid = await nixosState(lab.t);
    expect(mid.boot).toBe(before.boot); // acknowledged and running, but not the boot default
    expect(mid.current).not.toBe(before.boot);

    const again = await runCli(switchArgs(lab, port, "--confirm-timeout", "30"), {
      env: { HOME: lab.work },
      timeoutMs: 110_000,
    });
    expect(again.stderr).not.toMatch(/error:/);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /the last switch was confirmed and acknowledged at \d\d:\d\d:\d\d UTC but never made the boot default; re-confirming it instead of building again/,
    );
    expect(again.stdout).toMatch(/finished the last switch: generation \d+ is the boot default/);
    expect(again.stdout).not.toMatch(/uploading and building/);
    const after = await nixosState(lab.t);
    expect(after.boot).toBe(mid.current);
    expect(after.current).toBe(mid.current);
    expect(after.profileLink).not.toBe(before.profileLink);
    // its reboot timer (armed with the killed run's supervisor) is cancelled: no reboot into the old system later
    expect((await lab.t.exec("systemctl is-active nixnode-lockdown-reboot.timer")).stdout.trim()).not.toBe("active");
    expect((await lab.t.exec("cat /var/lib/nixnode-install/confirmed-host.json")).stdout).toContain("Europe/Lisbon");
  }, 240_000);
});
