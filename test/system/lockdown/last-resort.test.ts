// The last resort (LOCKDOWN.md step 3): if the supervisor itself dies inside the window, nothing
// would switch back, so the reboot timer armed with it reboots the target into the boot default.
import { afterAll, describe, expect, it } from "vitest";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, lockdown, startLab, type Lab } from "./fixture";
import { tryLogin } from "./login";
import { waitForSupervisor } from "./watch";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(`lockdown last resort${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let lab: Lab | undefined;
  afterAll(() => lab?.stop());

  it("the supervisor is killed inside the window: the reboot timer fires and the target comes back as before", async () => {
    lab = await startLab();
    const l = lab;
    const bootBefore = await l.t.bootId();
    await l.t.faults.blockPort(NEW_PORT); // the confirmation cannot succeed: the window stays open
    const kill = waitForSupervisor(l.t, "dual-port", "switched").then(() =>
      l.t.exec("kill -9 $(cat /run/nixnode-lockdown/dual-port/supervisor.pid)"),
    );
    const run = await lockdown(lab, { confirmTimeoutSec: 10, rebootAfterSec: 15 });
    expect((await kill).code).toBe(0);
    expect(await l.t.bootId()).not.toBe(bootBefore);
    expect(run.error?.exitCode).toBe(3);
    expect(run.error?.message).toMatch(
      /rebooted during the confirmation window and came back with the boot default \(generation 1\); port 22 works/,
    );
    const s = await nixosState(l.t);
    expect(s.profileLink).toBe("system-1-link");
    expect(s.current).toBe(s.boot);
    expect(await tryLogin({ host: l.t.address, port: 22, password: l.t.rootPassword })).toMatchObject({ ok: true });
  });
});
