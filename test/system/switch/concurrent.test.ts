// Two `switch` runs against one node (the built CLI, twice, at the same time): the second, started
// while the first is in its confirmation window, is refused with exit 3, naming the supervisor, when
// it started, when its window ends and the time left, and changes nothing: the first one's window
// and record are untouched and the first still confirms. The first tool is paused (SIGSTOP) from
// the moment its switch starts until the second is done, so its window stays open however slow
// the machine is (a plain change: sshd stays on 2222 for the second operator).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, type Lab } from "../lockdown/fixture";
import { tryLogin } from "../lockdown/login";
import { editHost, lockedDownLab } from "./fixture";
import { spawnCli, switchArgs, waitForSwitch } from "./switch-watch";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(`concurrent switches${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await lockedDownLab();
  }, 180_000);
  afterAll(() => lab?.stop());

  it("a second switch inside the first one's window is refused with what runs and the time left; the first still confirms", async () => {
    const before = await nixosState(lab.t);
    editHost(lab, (h) => (h.timezone = "America/Chicago"));
    const first = spawnCli(lab, switchArgs(lab, NEW_PORT, "--confirm-timeout", "120"));
    const firstCode = new Promise<number | null>((r) => first.child.on("close", (c) => r(c)));
    try {
      await waitForSwitch(lab.t, before.boot, "switching");
      first.child.kill("SIGSTOP"); // before it can see the switch end: its supervisor keeps the window open
      const state = await waitForSwitch(lab.t, before.boot, "switched");
      const deadline = Number(/^\d+ switched (\d+)$/m.exec(state)![1]);
      const clock = new Date(deadline * 1000).toISOString().slice(11, 19);
      const running = await nixosState(lab.t);
      expect(running.current).not.toBe(before.boot);

      const second = await runCli(switchArgs(lab, NEW_PORT, "--confirm-timeout", "120", "--connect-timeout", "60"), {
        env: { HOME: lab.work },
        timeoutMs: 90_000,
      });
      expect(second.code, second.stdout + second.stderr).toBe(3);
      const m = new RegExp(
        `another switch is in its confirmation window on the target \\(supervisor final, waiting, started at \\d\\d:\\d\\d:\\d\\d UTC; its window ends at ${clock} UTC \\((\\d+)s left\\)\\); nothing was changed`,
      ).exec(second.stderr);
      expect(m, second.stderr).not.toBeNull();
      const left = Number(m![1]);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(120);
      expect(second.stderr).toMatch(/wait about \d+s .* then run switch again/);
      expect(second.stdout).not.toMatch(/uploading and building/);
      // nothing changed: the first one's supervisor record and the running system are as they were
      const stateAfter = (await lab.t.exec("cat /run/nixnode-lockdown/final/state")).stdout;
      expect(stateAfter).toBe(state);
      expect(await nixosState(lab.t)).toEqual(running);
    } finally {
      if (first.child.exitCode === null) first.child.kill("SIGCONT");
    }
    // resumed, the first run confirms its own switch and makes it the boot default
    expect(await firstCode, first.output()).toBe(0);
    expect(first.output()).toMatch(/confirmed on port 2222 and made the boot default/);
    const after = await nixosState(lab.t);
    expect(after.boot).toBe(after.current);
    expect(after.profileLink).not.toBe(before.profileLink);
    expect(await tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: lab.key.privatePath })).toMatchObject({
      ok: true,
    });
  }, 240_000);
});
